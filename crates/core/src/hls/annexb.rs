//! H.264 and HEVC in Annex B form (ITU-T H.264 Annex B, H.265 Annex B), as MPEG-TS carries
//! them: start-code framing, the parameter sets that become an `avcC`/`hvcC` record
//! (ISO/IEC 14496-15 §5.3.3.1 and §8.3.3.1), and conversion of access units to
//! length-prefixed samples, so that a TS stream gets the same codec string and WebCodecs
//! `description` as the same stream in MP4.
//!
//! Rule for parameter sets: the decoder configuration holds the distinct SPS/PPS (and VPS)
//! seen before the first picture that has a complete set; their repeats are stripped from
//! the samples (with access unit delimiters and filler data). A parameter set that differs
//! from all of them later in the stream (a mid-segment change) stays in-band in its sample.

pub use crate::codec::bits::unescape;
use crate::codec::bits::Bits;
use crate::codec::{h264, hevc, CodecConfig, VideoParams};
use crate::mp4::boxes::FourCC;

/// The video codecs TS demuxing handles.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum VideoCodec {
    /// H.264/AVC (stream type 0x1B).
    H264,
    /// H.265/HEVC (stream type 0x24).
    Hevc,
}

/// How a NAL unit is treated.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum NalRole {
    /// AUD, filler: dropped.
    Drop,
    /// VPS (0), SPS (1), PPS (2).
    ParamSet(usize),
    /// A slice; `true` for IDR/IRAP pictures.
    Picture(bool),
    /// SEI and anything else: kept.
    Other,
}

impl VideoCodec {
    fn role(self, nal: &[u8]) -> NalRole {
        match self {
            VideoCodec::H264 => match nal[0] & 0x1f {
                9 | 12 => NalRole::Drop,
                7 => NalRole::ParamSet(1),
                8 => NalRole::ParamSet(2),
                5 => NalRole::Picture(true),
                1..=4 => NalRole::Picture(false),
                _ => NalRole::Other,
            },
            VideoCodec::Hevc => match (nal[0] >> 1) & 0x3f {
                35 | 38 => NalRole::Drop,
                32 => NalRole::ParamSet(0),
                33 => NalRole::ParamSet(1),
                34 => NalRole::ParamSet(2),
                t @ 0..=31 => NalRole::Picture((16..=21).contains(&t)),
                _ => NalRole::Other,
            },
        }
    }

    /// Bytes of the NAL unit header.
    fn header_len(self) -> usize {
        match self {
            VideoCodec::H264 => 1,
            VideoCodec::Hevc => 2,
        }
    }
}

/// The NAL units of an Annex B byte stream, without start codes or trailing zero bytes
/// (a NAL unit never ends in 0x00, H.264 §7.4.1). Bytes before the first start code are
/// skipped.
pub fn nal_units(data: &[u8]) -> impl Iterator<Item = &[u8]> {
    let mut pos = next_start(data, 0).map(|(_, end)| end);
    std::iter::from_fn(move || loop {
        let start = pos?;
        let (nal_end, next) = match next_start(data, start) {
            Some((s, e)) => (s, Some(e)),
            None => (data.len(), None),
        };
        pos = next;
        let mut nal = &data[start..nal_end];
        while let [rest @ .., 0] = nal {
            nal = rest;
        }
        if !nal.is_empty() {
            return Some(nal);
        }
    })
}

/// The next start code `00 00 01` at or after `from`: (its first byte, the byte after it).
fn next_start(data: &[u8], from: usize) -> Option<(usize, usize)> {
    let mut i = from + 2;
    while i < data.len() {
        match data[i] {
            1 if data[i - 1] == 0 && data[i - 2] == 0 => return Some((i - 2, i + 1)),
            0 => i += 1,
            1 => i += 3,
            _ => i += 3,
        }
    }
    None
}

/// Parameter sets of one stream and the access-unit converter.
#[derive(Debug, Clone)]
pub struct AnnexBConverter {
    codec: VideoCodec,
    /// VPS, SPS, PPS for the configuration.
    sets: [Vec<Vec<u8>>; 3],
    sealed: bool,
}

/// At most this many distinct parameter sets of one kind go into the configuration
/// (H.264 allows 32 SPS and 256 PPS, HEVC 16 VPS, 16 SPS, 64 PPS).
const MAX_SETS: [usize; 3] = [16, 32, 256];

impl AnnexBConverter {
    /// A converter for `codec`.
    pub fn new(codec: VideoCodec) -> Self {
        Self {
            codec,
            sets: Default::default(),
            sealed: false,
        }
    }

    /// Whether the configuration has all the parameter sets a decoder needs.
    fn complete(&self) -> bool {
        let [vps, sps, pps] = &self.sets;
        !sps.is_empty() && !pps.is_empty() && (self.codec == VideoCodec::H264 || !vps.is_empty())
    }

    /// Converts one access unit from Annex B to 4-byte length-prefixed NAL units appended to
    /// `out`; returns whether it holds an IDR (H.264) or IRAP (HEVC) picture and whether it
    /// holds a picture at all.
    pub fn convert(&mut self, au: &[u8], out: &mut Vec<u8>) -> (bool, bool) {
        let mut sync = false;
        let mut picture = false;
        for nal in nal_units(au) {
            if nal.len() < self.codec.header_len() {
                continue;
            }
            match self.codec.role(nal) {
                NalRole::Drop => continue,
                NalRole::ParamSet(k) => {
                    let known = self.sets[k].iter().any(|s| s == nal);
                    if known {
                        continue;
                    }
                    if !self.sealed && self.sets[k].len() < MAX_SETS[k] {
                        self.sets[k].push(nal.to_vec());
                        continue;
                    }
                }
                NalRole::Picture(idr) => {
                    picture = true;
                    sync |= idr;
                    if !self.sealed && self.complete() {
                        self.sealed = true;
                    }
                }
                NalRole::Other => {}
            }
            out.extend_from_slice(&(nal.len() as u32).to_be_bytes());
            out.extend_from_slice(nal);
        }
        (sync, picture)
    }

    /// The decoder configuration from the collected parameter sets, if they are complete and
    /// readable.
    pub fn config(&self) -> Option<CodecConfig> {
        if !self.complete() {
            return None;
        }
        match self.codec {
            VideoCodec::H264 => avc_config(&self.sets[1], &self.sets[2]),
            VideoCodec::Hevc => hevc_config(&self.sets),
        }
    }
}

fn gcd(a: u32, b: u32) -> u32 {
    if b == 0 {
        a
    } else {
        gcd(b, a % b)
    }
}

fn video_params(width: u32, height: u32, sar: Option<(u32, u32)>) -> VideoParams {
    let sar = match sar {
        Some((h, v)) if h > 0 && v > 0 => {
            let g = gcd(h, v);
            (h / g, v / g)
        }
        _ => (1, 1),
    };
    let display = (u64::from(width) * u64::from(sar.0) + u64::from(sar.1) / 2) / u64::from(sar.1);
    VideoParams {
        coded_width: width,
        coded_height: height,
        sar,
        display_width: u32::try_from(display).unwrap_or(u32::MAX),
        display_height: height,
    }
}

fn push_u16_len(out: &mut Vec<u8>, nal: &[u8]) -> Option<()> {
    out.extend_from_slice(&u16::try_from(nal.len()).ok()?.to_be_bytes());
    out.extend_from_slice(nal);
    Some(())
}

/// Builds an `avcC` record (4-byte lengths) the way ffmpeg's MP4 muxer does, including the
/// chroma/bit-depth extension for profiles other than Baseline, Main and Extended, and
/// reads it back with [`h264::parse_avcc`] for the codec string and SAR.
pub fn build_avcc(sps: &[Vec<u8>], pps: &[Vec<u8>]) -> Option<Vec<u8>> {
    let first = sps.first()?;
    if first.len() < 4 || pps.is_empty() || sps.len() > 31 || pps.len() > 255 {
        return None;
    }
    let mut out = vec![
        1,
        first[1],
        first[2],
        first[3],
        0xff,
        0xe0 | sps.len() as u8,
    ];
    for s in sps {
        push_u16_len(&mut out, s)?;
    }
    out.push(pps.len() as u8);
    for p in pps {
        push_u16_len(&mut out, p)?;
    }
    if !matches!(first[1], 66 | 77 | 88) {
        if let Some(s) = h264::parse_sps(first) {
            out.push(0xfc | (s.chroma_format_idc & 3));
            out.push(0xf8 | (s.bit_depth_luma_minus8 & 7));
            out.push(0xf8 | (s.bit_depth_chroma_minus8 & 7));
            out.push(0); // numOfSequenceParameterSetExt
        }
    }
    Some(out)
}

fn avc_config(sps: &[Vec<u8>], pps: &[Vec<u8>]) -> Option<CodecConfig> {
    let avcc = build_avcc(sps, pps)?;
    let avc = h264::parse_avcc(&avcc, 0).ok()?;
    let parsed = h264::parse_sps(&sps[0])?;
    let (w, h) = (parsed.width, parsed.height);
    Some(CodecConfig {
        fourcc: FourCC(*b"avc1"),
        codec: format!("avc1.{}", avc.profile_level),
        description: Some(avcc),
        video: Some(video_params(w, h, avc.sar)),
        audio: None,
    })
}

/// What an HEVC SPS says that the `hvcC` record and the picture size need.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HevcSps {
    /// general_profile_space .. general_level_idc: the 12 bytes of profile_tier_level.
    pub ptl: [u8; 12],
    /// sps_max_sub_layers_minus1 + 1.
    pub sub_layers: u8,
    /// sps_temporal_id_nesting_flag.
    pub temporal_id_nesting: bool,
    /// chroma_format_idc.
    pub chroma_format_idc: u8,
    /// bit_depth_luma_minus8.
    pub bit_depth_luma_minus8: u8,
    /// bit_depth_chroma_minus8.
    pub bit_depth_chroma_minus8: u8,
    /// Picture size after the conformance window.
    pub width: u32,
    /// Picture height after the conformance window.
    pub height: u32,
}

/// Parses the start of an HEVC SPS NAL unit (H.265 §7.3.2.2), header included.
pub fn parse_hevc_sps(nal: &[u8]) -> Option<HevcSps> {
    let rbsp = unescape(nal);
    let mut r = Bits {
        data: rbsp.get(2..)?,
        pos: 0,
    };
    r.bits(4); // sps_video_parameter_set_id
    let max_sub_layers_minus1 = r.bits(3) as usize;
    let temporal_id_nesting = r.bit() == 1;
    let mut ptl = [0u8; 12];
    for b in &mut ptl {
        *b = r.bits(8) as u8;
    }
    let mut present = Vec::with_capacity(max_sub_layers_minus1);
    for _ in 0..max_sub_layers_minus1 {
        present.push((r.bit() == 1, r.bit() == 1));
    }
    if max_sub_layers_minus1 > 0 {
        r.skip(2 * (8 - max_sub_layers_minus1));
    }
    for (profile, level) in present {
        if profile {
            r.skip(88);
        }
        if level {
            r.skip(8);
        }
    }
    r.ue(); // sps_seq_parameter_set_id
    let chroma_format_idc = r.ue();
    let separate_planes = chroma_format_idc == 3 && r.bit() == 1;
    let pic_width = r.ue();
    let pic_height = r.ue();
    let (mut left, mut right, mut top, mut bottom) = (0, 0, 0, 0);
    if r.bit() == 1 {
        (left, right, top, bottom) = (r.ue(), r.ue(), r.ue(), r.ue());
    }
    let bit_depth_luma_minus8 = r.ue();
    let bit_depth_chroma_minus8 = r.ue();
    let (sub_w, sub_h): (u64, u64) = match (chroma_format_idc, separate_planes) {
        (1, false) => (2, 2),
        (2, false) => (2, 1),
        _ => (1, 1),
    };
    let crop_w = sub_w * (u64::from(left) + u64::from(right));
    let crop_h = sub_h * (u64::from(top) + u64::from(bottom));
    r.ok()?;
    if chroma_format_idc > 3 || bit_depth_luma_minus8 > 8 || bit_depth_chroma_minus8 > 8 {
        return None;
    }
    Some(HevcSps {
        ptl,
        sub_layers: max_sub_layers_minus1 as u8 + 1,
        temporal_id_nesting,
        chroma_format_idc: chroma_format_idc as u8,
        bit_depth_luma_minus8: bit_depth_luma_minus8 as u8,
        bit_depth_chroma_minus8: bit_depth_chroma_minus8 as u8,
        width: u32::try_from(u64::from(pic_width).checked_sub(crop_w)?).ok()?,
        height: u32::try_from(u64::from(pic_height).checked_sub(crop_h)?).ok()?,
    })
}

/// Builds an `hvcC` record (4-byte lengths, arrays VPS, SPS, PPS marked complete) as
/// ffmpeg's MP4 muxer writes it for a stream without VUI segmentation hints.
pub fn build_hvcc(sets: &[Vec<Vec<u8>>; 3]) -> Option<(Vec<u8>, HevcSps)> {
    let sps = parse_hevc_sps(sets[1].first()?)?;
    let mut out = Vec::with_capacity(64);
    out.push(1);
    out.extend_from_slice(&sps.ptl);
    out.extend_from_slice(&[0xf0, 0x00]); // min_spatial_segmentation_idc 0
    out.push(0xfc); // parallelismType 0
    out.push(0xfc | sps.chroma_format_idc);
    out.push(0xf8 | sps.bit_depth_luma_minus8);
    out.push(0xf8 | sps.bit_depth_chroma_minus8);
    out.extend_from_slice(&[0, 0]); // avgFrameRate
    out.push(((sps.sub_layers & 7) << 3) | (u8::from(sps.temporal_id_nesting) << 2) | 3);
    out.push(3);
    for (k, nal_type) in [(0usize, 32u8), (1, 33), (2, 34)] {
        out.push(0x80 | nal_type);
        out.extend_from_slice(&u16::try_from(sets[k].len()).ok()?.to_be_bytes());
        for nal in &sets[k] {
            push_u16_len(&mut out, nal)?;
        }
    }
    Some((out, sps))
}

fn hevc_config(sets: &[Vec<Vec<u8>>; 3]) -> Option<CodecConfig> {
    let (hvcc, sps) = build_hvcc(sets)?;
    let suffix = hevc::parse_hvcc(&hvcc, 0).ok()?;
    Some(CodecConfig {
        fourcc: FourCC(*b"hvc1"),
        codec: format!("hvc1.{suffix}"),
        description: Some(hvcc),
        video: Some(video_params(sps.width, sps.height, None)),
        audio: None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::codec::entry::tests::hex;
    use crate::codec::h264::tests::AVCC_HIGH_13;
    use crate::codec::hevc::tests::HVCC_MAIN_L60;

    /// The SPS and PPS inside an avcC/hvcC test record, by walking it.
    fn avcc_sets(d: &[u8]) -> (Vec<Vec<u8>>, Vec<Vec<u8>>) {
        let mut pos = 6;
        let mut sps = Vec::new();
        for _ in 0..d[5] & 31 {
            let n = usize::from(u16::from_be_bytes([d[pos], d[pos + 1]]));
            sps.push(d[pos + 2..pos + 2 + n].to_vec());
            pos += 2 + n;
        }
        let mut pps = Vec::new();
        let count = d[pos];
        pos += 1;
        for _ in 0..count {
            let n = usize::from(u16::from_be_bytes([d[pos], d[pos + 1]]));
            pps.push(d[pos + 2..pos + 2 + n].to_vec());
            pos += 2 + n;
        }
        (sps, pps)
    }

    fn annex_b(nals: &[&[u8]]) -> Vec<u8> {
        let mut out = Vec::new();
        for (i, n) in nals.iter().enumerate() {
            out.extend_from_slice(if i % 2 == 0 {
                &[0, 0, 0, 1]
            } else {
                &[0, 0, 1]
            });
            out.extend_from_slice(n);
        }
        out
    }

    #[test]
    fn splits_start_codes_and_trims_trailing_zeros() {
        let data = [
            9, 9, 0, 0, 1, 0x67, 1, 2, 0, 0, 0, 0, 1, 0x68, 3, 0, 0, 1, 0x65, 0, 0,
        ];
        let nals: Vec<&[u8]> = nal_units(&data).collect();
        assert_eq!(nals, vec![&[0x67, 1, 2][..], &[0x68, 3], &[0x65]]);
        assert_eq!(nal_units(&[0, 0, 1]).count(), 0);
        assert_eq!(nal_units(&[1, 2, 3]).count(), 0);
        assert_eq!(unescape(&[0, 0, 3, 1, 0, 0, 3]), vec![0, 0, 1, 0, 0]);
    }

    #[test]
    fn avcc_rebuilt_from_annex_b_equals_ffmpeg_record() {
        let record = hex(AVCC_HIGH_13);
        let (sps, pps) = avcc_sets(&record);
        let mut conv = AnnexBConverter::new(VideoCodec::H264);
        let au = annex_b(&[
            &[0x09, 0xf0],
            &sps[0],
            &pps[0],
            &[0x06, 5, 1, 0x80],
            &[0x65, 0x88, 0x84],
        ]);
        let mut out = Vec::new();
        assert_eq!(conv.convert(&au, &mut out), (true, true));
        // AUD, SPS and PPS stripped; SEI and the slice kept, 4-byte lengths.
        assert_eq!(
            out,
            [0, 0, 0, 4, 0x06, 5, 1, 0x80, 0, 0, 0, 3, 0x65, 0x88, 0x84]
        );
        let cfg = conv.config().unwrap();
        assert_eq!(cfg.description.as_deref(), Some(&record[..]));
        assert_eq!(cfg.codec, "avc1.64000d");
        let v = cfg.video.unwrap();
        assert_eq!((v.coded_width, v.coded_height, v.sar), (320, 240, (1, 1)));
        // A repeat is stripped; a different SPS after the first picture stays in-band.
        let mut other = sps[0].clone();
        other[3] = 0x1f;
        let au = annex_b(&[&sps[0], &other, &[0x41, 0x9a]]);
        out.clear();
        assert_eq!(conv.convert(&au, &mut out), (false, true));
        assert_eq!(&out[4..4 + other.len()], &other[..]);
        assert_eq!(
            conv.config().unwrap().description.as_deref(),
            Some(&record[..])
        );
    }

    #[test]
    fn hvcc_rebuilt_from_annex_b_equals_ffmpeg_record() {
        let record = hex(HVCC_MAIN_L60);
        // Arrays start at byte 23: type, count, (len, nal)...
        let mut sets: [Vec<Vec<u8>>; 3] = Default::default();
        let mut pos = 23;
        for _ in 0..record[22] {
            let kind = usize::from(record[pos] & 0x3f) - 32;
            let n = u16::from_be_bytes([record[pos + 1], record[pos + 2]]);
            pos += 3;
            for _ in 0..n {
                let len = usize::from(u16::from_be_bytes([record[pos], record[pos + 1]]));
                sets[kind].push(record[pos + 2..pos + 2 + len].to_vec());
                pos += 2 + len;
            }
        }
        let mut conv = AnnexBConverter::new(VideoCodec::Hevc);
        let au = annex_b(&[
            &[0x46, 0x01, 0x50],
            &sets[0][0],
            &sets[1][0],
            &sets[2][0],
            &[0x26, 0x01, 0xaf],
        ]);
        let mut out = Vec::new();
        assert_eq!(conv.convert(&au, &mut out), (true, true));
        assert_eq!(out, [0, 0, 0, 3, 0x26, 0x01, 0xaf]);
        let cfg = conv.config().unwrap();
        assert_eq!(cfg.codec, "hvc1.1.6.L60.90");
        assert_eq!(cfg.description.as_deref(), Some(&record[..]));
        let v = cfg.video.unwrap();
        assert_eq!((v.coded_width, v.coded_height), (320, 240));
    }

    #[test]
    fn hostile_bytes_never_panic() {
        let mut seed = 0x1234_5678u32;
        for len in 0..300 {
            let data: Vec<u8> = (0..len)
                .map(|_| {
                    seed ^= seed << 13;
                    seed ^= seed >> 17;
                    seed ^= seed << 5;
                    // Many zeros and ones so that start codes occur.
                    [0, 0, 1, (seed >> 8) as u8][(seed & 3) as usize]
                })
                .collect();
            for codec in [VideoCodec::H264, VideoCodec::Hevc] {
                let mut conv = AnnexBConverter::new(codec);
                let mut out = Vec::new();
                conv.convert(&data, &mut out);
                let _ = conv.config();
                assert!(out.len() <= data.len() * 2 + 8);
            }
            let _ = parse_hevc_sps(&data);
        }
    }
}
