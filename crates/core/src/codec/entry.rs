//! Sample entries (the children of `stsd`, ISO/IEC 14496-12 §12.1.3 and §12.2.3, and QuickTime
//! sound descriptions versions 0-2): reads the visual or audio fields, hands the codec's
//! configuration box to its module, and applies `pasp`/`clap` geometry.

use super::{aac, av1, h264, hevc, vp9, AudioParams, CodecConfig, TrackKind, VideoParams};
use crate::error::{Error, ErrorKind, Result};
use crate::mp4::boxes::{find_child, BoxHeader, Children, FourCC};
use crate::mp4::cursor::Cursor;
use crate::text;

/// Bytes of a VisualSampleEntry before its child boxes.
const VISUAL_FIELDS: usize = 78;

/// Parses one sample entry: `header` is its box header, `payload` the bytes after it (at file
/// offset `header.payload_offset()`), and `kind` the track's handler kind. See
/// [`super::parse_sample_entry`].
pub fn parse(header: &BoxHeader, payload: &[u8], kind: TrackKind) -> Result<CodecConfig> {
    let fourcc = header.kind;
    let base = header.payload_offset();
    if matches!(&fourcc.0, b"encv" | b"enca") {
        return Err(Error::unsupported(
            text!["encrypted track (", fourcc, ")"],
            base,
        ));
    }
    match kind {
        TrackKind::Video => visual(fourcc, payload, base),
        TrackKind::Audio => audio(fourcc, payload, base),
        TrackKind::Other => Ok(CodecConfig {
            fourcc,
            codec: fourcc.as_string(),
            description: None,
            video: None,
            audio: None,
        }),
    }
}

/// Checks that the child boxes in `data` (at file offset `at`) all parse and fit.
fn check_children(data: &[u8], at: u64) -> Result<()> {
    Children::new(data, at).try_for_each(|c| c.map(|_| ()))
}

/// The payload and its file offset of the first child `kind`, which must be present.
fn required<'a>(
    data: &'a [u8],
    at: u64,
    kind: &'static [u8; 4],
    name: &'static str,
) -> Result<(&'a [u8], u64)> {
    match find_child(data, at, kind)? {
        Some((h, p)) => Ok((p, h.payload_offset())),
        None => Err(Error::new(ErrorKind::Missing { what: name }, at)),
    }
}

fn gcd(a: u32, b: u32) -> u32 {
    if b == 0 {
        a
    } else {
        gcd(b, a % b)
    }
}

/// A sample aspect ratio in lowest terms; zero terms mean "unspecified", i.e. square pixels.
fn reduce_sar((h, v): (u32, u32)) -> (u32, u32) {
    if h == 0 || v == 0 {
        return (1, 1);
    }
    let g = gcd(h, v);
    (h / g, v / g)
}

/// The clean aperture size from a `clap` payload, if it is well formed and lies inside the coded
/// picture; `None` means "use the coded size".
fn clean_aperture(data: &[u8], width: u32, height: u32) -> Option<(u32, u32)> {
    let mut c = Cursor::new(data, 0, "clap");
    let mut f = [0u32; 8];
    for v in &mut f {
        *v = c.u32();
    }
    c.check().ok()?;
    let [wn, wd, hn, hd, xn, xd, yn, yd] = f;
    // A size must be positive and fit; the centre offset (signed, per QuickTime) must keep the
    // aperture inside the picture: 2 * |offset| <= coded - aperture.
    let axis = |n: u32, d: u32, on: u32, od: u32, coded: u32| -> Option<u32> {
        if d == 0 || od == 0 {
            return None;
        }
        let size = (u64::from(n) + u64::from(d) / 2) / u64::from(d);
        let size = u32::try_from(size).ok().filter(|&s| s > 0 && s <= coded)?;
        // |offset| * 2 <= 2^32 and (coded - size) * |od| < 2^63: both fit u64.
        let off = u64::from((on as i32).unsigned_abs()) * 2;
        let room = u64::from(coded - size) * u64::from((od as i32).unsigned_abs());
        (off <= room).then_some(size)
    };
    Some((axis(wn, wd, xn, xd, width)?, axis(hn, hd, yn, yd, height)?))
}

/// Reads a VisualSampleEntry (78 bytes of fields, then boxes).
fn visual(fourcc: FourCC, payload: &[u8], base: u64) -> Result<CodecConfig> {
    let mut c = Cursor::new(payload, base, "visual sample entry");
    c.skip(24); // reserved, data_reference_index, pre_defined/reserved (QuickTime: version...)
    let coded_width = u32::from(c.u16());
    let coded_height = u32::from(c.u16());
    c.skip(VISUAL_FIELDS - 28); // resolutions, frame_count, compressorname, depth, pre_defined
    c.check()?;
    let (kids, at) = (c.rest(), c.offset());
    check_children(kids, at)?;

    let (codec, description, codec_sar) = match &fourcc.0 {
        b"avc1" | b"avc2" | b"avc3" | b"avc4" => {
            let (p, off) = required(kids, at, b"avcC", "avcC")?;
            let avc = h264::parse_avcc(p, off)?;
            (
                text![fourcc, ".", avc.profile_level],
                Some(p.to_vec()),
                avc.sar,
            )
        }
        b"hvc1" | b"hev1" => {
            let (p, off) = required(kids, at, b"hvcC", "hvcC")?;
            (
                text![fourcc, ".", hevc::parse_hvcc(p, off)?],
                Some(p.to_vec()),
                None,
            )
        }
        b"vp09" => {
            let (p, off) = required(kids, at, b"vpcC", "vpcC")?;
            let size = coded_width.saturating_mul(coded_height);
            (text!["vp09.", vp9::parse_vpcc(p, off, size)?], None, None)
        }
        b"av01" => {
            let (p, off) = required(kids, at, b"av1C", "av1C")?;
            (text!["av01.", av1::parse_av1c(p, off)?], None, None)
        }
        b"vp08" => ("vp8".to_string(), None, None),
        _ => (fourcc.as_string(), None, None),
    };

    let sar = match find_child(kids, at, b"pasp")? {
        Some((h, p)) => {
            let mut pc = Cursor::new(p, h.payload_offset(), "pasp");
            let sar = (pc.u32(), pc.u32());
            pc.check()?;
            sar
        }
        None => codec_sar.unwrap_or((1, 1)),
    };
    let sar = reduce_sar(sar);
    let (aperture_w, aperture_h) = find_child(kids, at, b"clap")?
        .and_then(|(_, p)| clean_aperture(p, coded_width, coded_height))
        .unwrap_or((coded_width, coded_height));
    let display =
        (u64::from(aperture_w) * u64::from(sar.0) + u64::from(sar.1) / 2) / u64::from(sar.1);
    Ok(CodecConfig {
        fourcc,
        codec,
        description,
        video: Some(VideoParams {
            coded_width,
            coded_height,
            sar,
            display_width: u32::try_from(display).unwrap_or(u32::MAX),
            display_height: aperture_h,
        }),
        audio: None,
    })
}

/// Whether `data` looks like ISO child boxes: all parse, with printable types. Tells an ISO
/// AudioSampleEntryV1 (boxes right after 28 bytes) from a QuickTime version 1 sound description
/// (16 more bytes of fields, which do not read as a box).
fn looks_like_boxes(data: &[u8], at: u64) -> bool {
    Children::new(data, at).all(
        |c| matches!(c, Ok((h, _)) if h.kind.0.iter().all(|b| b.is_ascii_graphic() || *b == b' ')),
    )
}

/// Reads an AudioSampleEntry (28 bytes of fields; QuickTime version 1 adds 16, version 2 adds
/// 36 with a 64-bit float rate), then the codec's boxes.
fn audio(fourcc: FourCC, payload: &[u8], base: u64) -> Result<CodecConfig> {
    let mut c = Cursor::new(payload, base, "audio sample entry");
    c.skip(8); // reserved, data_reference_index
    let version = c.u16();
    c.skip(6); // revision, vendor
    let mut channels = c.u16();
    c.skip(6); // samplesize, pre_defined (compression id), reserved (packet size)
    let mut sample_rate = c.u32() >> 16;
    match version {
        1 if !looks_like_boxes(c.rest(), c.offset()) => c.skip(16),
        2 => {
            c.skip(4); // sizeOfStructOnly
            let rate = f64::from_bits(c.u64());
            let ch = c.u32();
            c.skip(20); // always 0x7F000000, bits per channel, flags, bytes and frames per packet
                        // Float-to-int `as` saturates and maps NaN to 0.
            sample_rate = if rate.is_finite() && rate > 0.0 {
                rate.round() as u32
            } else {
                0
            };
            channels = u16::try_from(ch).unwrap_or(u16::MAX);
        }
        _ => {}
    }
    c.check()?;
    let (kids, at) = (c.rest(), c.offset());
    check_children(kids, at)?;
    // ISO AudioSampleEntryV1 carries rates above 65535 Hz in a SamplingRateBox.
    if let Some((h, p)) = find_child(kids, at, b"srat")? {
        let mut s = Cursor::new(p, h.payload_offset(), "srat");
        s.version_flags();
        sample_rate = s.u32();
        s.check()?;
    }

    let (codec, description) = match &fourcc.0 {
        b"mp4a" => {
            let esds = match find_child(kids, at, b"esds")? {
                Some((h, p)) => Some((p, h.payload_offset())),
                // QuickTime nests it in a `wave` box.
                None => match find_child(kids, at, b"wave")? {
                    Some((h, p)) => find_child(p, h.payload_offset(), b"esds")?
                        .map(|(h, p)| (p, h.payload_offset())),
                    None => None,
                },
            };
            let (p, off) =
                esds.ok_or_else(|| Error::new(ErrorKind::Missing { what: "esds" }, at))?;
            let m = aac::parse_mp4a(p, off)?;
            sample_rate = m.sample_rate.unwrap_or(sample_rate);
            channels = m.channels.unwrap_or(channels);
            (m.codec, m.description)
        }
        b"Opus" => match find_child(kids, at, b"dOps")? {
            Some((h, p)) => {
                let (head, ch) = opus_head(p, h.payload_offset())?;
                channels = ch;
                ("opus".to_string(), Some(head))
            }
            None => ("opus".to_string(), None),
        },
        b"fLaC" => match find_child(kids, at, b"dfLa")? {
            Some((h, p)) => {
                let (desc, rate, ch) = flac_description(p, h.payload_offset())?;
                (sample_rate, channels) = (rate, ch);
                ("flac".to_string(), Some(desc))
            }
            None => ("flac".to_string(), None),
        },
        b"ac-3" => {
            if let Some((_, p)) = find_child(kids, at, b"dac3")? {
                // fscod(2) bsid(5) bsmod(3) acmod(3) lfeon(1): channels from acmod, plus LFE.
                if let Some(&b) = p.get(1) {
                    let acmod = usize::from((b >> 3) & 0x07);
                    let lfe = u16::from((b >> 2) & 0x01);
                    channels = [2, 1, 2, 3, 3, 4, 4, 5].get(acmod).copied().unwrap_or(2) + lfe;
                }
            }
            ("ac-3".to_string(), None)
        }
        b".mp3" => ("mp3".to_string(), None),
        _ => (fourcc.as_string(), None),
    };
    Ok(CodecConfig {
        fourcc,
        codec,
        description,
        video: None,
        audio: Some(AudioParams {
            sample_rate,
            channels,
        }),
    })
}

/// Builds the Ogg `OpusHead` identification header (RFC 7845 §5.1) that WebCodecs takes as the
/// Opus `description` from a `dOps` payload (big-endian, Opus in ISOBMFF §4.3.2); returns it
/// and the output channel count.
fn opus_head(data: &[u8], base: u64) -> Result<(Vec<u8>, u16)> {
    let mut c = Cursor::new(data, base, "dOps");
    c.skip(1); // Version
    let channels = c.u8();
    let pre_skip = c.u16();
    let input_rate = c.u32();
    let gain = c.u16();
    let family = c.u8();
    c.check()?;
    let mut head = Vec::with_capacity(21 + usize::from(channels));
    head.extend_from_slice(b"OpusHead");
    head.extend_from_slice(&[1, channels]);
    head.extend_from_slice(&pre_skip.to_le_bytes());
    head.extend_from_slice(&input_rate.to_le_bytes());
    head.extend_from_slice(&gain.to_le_bytes());
    head.push(family);
    if family != 0 {
        head.extend_from_slice(c.bytes(2 + usize::from(channels))?); // stream/coupled counts, map
    }
    Ok((head, u16::from(channels)))
}

/// Builds the FLAC `description` (the `fLaC` marker and the metadata blocks) from a `dfLa`
/// payload (FLAC in ISOBMFF §3.3.2) and reads rate and channels from its STREAMINFO.
fn flac_description(data: &[u8], base: u64) -> Result<(Vec<u8>, u32, u16)> {
    let mut c = Cursor::new(data, base, "dfLa");
    c.version_flags();
    let blocks = c.rest();
    let at = c.offset();
    let first = c.u32();
    c.check()?;
    if first & 0x7f00_0000 != 0 || first & 0x00ff_ffff < 34 {
        return Err(Error::invalid(
            "dfLa",
            "first metadata block is not STREAMINFO",
            at,
        ));
    }
    let mut info = Cursor::new(c.bytes(34)?, at.saturating_add(4), "STREAMINFO");
    info.skip(10); // block and frame sizes
    let packed = info.u24(); // sample rate (20), channels - 1 (3), bits per sample - 1 (1 of 5)
    let (rate, channels) = (packed >> 4, ((packed >> 1) & 0x07) as u16 + 1);
    // The remaining blocks must fit as well.
    c.skip(((first & 0x00ff_ffff) - 34) as usize);
    let mut last = first & 0x8000_0000 != 0;
    while !last && c.remaining() > 0 {
        let h = c.u32();
        c.skip((h & 0x00ff_ffff) as usize);
        // (A short read does not advance: stop at it.)
        c.check()?;
        last = h & 0x8000_0000 != 0;
    }
    c.check()?;
    let mut desc = Vec::with_capacity(4 + blocks.len());
    desc.extend_from_slice(b"fLaC");
    desc.extend_from_slice(blocks);
    Ok((desc, rate, channels))
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::codec::{
        aac::tests as aac_t, av1::tests as av1_t, h264::tests as h264_t, hevc::tests as hevc_t,
    };

    /// Decodes a hex string (test data only).
    pub(crate) fn hex(s: &str) -> Vec<u8> {
        assert!(s.len() % 2 == 0, "odd hex length");
        (0..s.len())
            .step_by(2)
            .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
            .collect()
    }

    /// Calls `f` on every prefix of `valid`, on single-byte and random multi-byte corruptions of
    /// it, and on random byte strings: the parser under test must return, never panic.
    pub(crate) fn fuzz_slices(valid: &[u8], mut f: impl FnMut(&[u8])) {
        for n in 0..=valid.len() {
            f(&valid[..n]);
        }
        let mut buf = valid.to_vec();
        for (i, &orig) in valid.iter().enumerate() {
            for v in [
                0x00,
                0xff,
                0x7f,
                0x80,
                orig ^ 0x80,
                orig.wrapping_add(1),
                orig.wrapping_sub(1),
            ] {
                buf[i] = v;
                f(&buf);
            }
            buf[i] = orig;
        }
        let mut seed = 0x9e37_79b9_7f4a_7c15u64;
        let mut next = move || {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            seed
        };
        for _ in 0..2000 {
            let len = (next() % 300) as usize;
            let random: Vec<u8> = (0..len).map(|_| next() as u8).collect();
            f(&random);
            let mut m = valid.to_vec();
            for _ in 0..1 + next() % 6 {
                if let Some(len) = std::num::NonZeroUsize::new(m.len()) {
                    let i = (next() as usize) % len;
                    m[i] = next() as u8;
                }
            }
            f(&m);
        }
    }

    /// A box of type `kind` around `payload`.
    fn boxed(kind: &[u8; 4], payload: &[u8]) -> Vec<u8> {
        let mut b = ((payload.len() + 8) as u32).to_be_bytes().to_vec();
        b.extend_from_slice(kind);
        b.extend_from_slice(payload);
        b
    }

    fn header(kind: &[u8; 4], len: usize) -> BoxHeader {
        BoxHeader {
            kind: FourCC(*kind),
            offset: 1000,
            header_len: 8,
            size: Some(len as u64 + 8),
        }
    }

    fn run(kind: &[u8; 4], entry: &str, track: TrackKind) -> Result<CodecConfig> {
        let p = hex(entry);
        parse(&header(kind, p.len()), &p, track)
    }

    fn video(c: &CodecConfig) -> (u32, u32, (u32, u32), u32, u32) {
        let v = c.video.as_ref().unwrap();
        (
            v.coded_width,
            v.coded_height,
            v.sar,
            v.display_width,
            v.display_height,
        )
    }

    fn audio(c: &CodecConfig) -> (u32, u16) {
        let a = c.audio.as_ref().unwrap();
        (a.sample_rate, a.channels)
    }

    // Whole sample entry payloads, as ffmpeg 5.1 wrote them (see each codec module for the
    // configuration records alone).
    /// x264 high@1.3 320x240 in MP4: avcC, pasp 1:1, btrt.
    const AVC1_MP4: &str = "000000000000000100000000000000000000000000000000014000f00048000000480000000000000001154c61766335392e33372e313030206c696278323634000000000000000000000018ffff00000036617663430164000dffe100196764000dacd94141fb011000000300100000030320f142996001000668ebe3cb22c0fdf8f800000000107061737000000001000000010000001462747274000000000001754800017548";
    /// x264 main@1.3 with `setsar=4/3` in a QuickTime .mov (vendor `FFMP`): avcC, pasp 4:3.
    const AVC1_MOV_SAR: &str = "00000000000000010000000046464d500000020000000200014000f00048000000480000000000000001154c61766335392e33372e313030206c696278323634000000000000000000000018ffff0000003061766343014d400dffe10018674d400deca0a0fd87080000030008000003019078a14cb001000568ebe3cb2000000010706173700000000400000003";
    /// x265 Main10 high tier 1280x720 (scaled from 4:3, so pasp 3:4) as `hev1`.
    const HEV1_MP4: &str = "000000000000000100000000000000000000000000000000050002d00048000000480000000000000001154c61766335392e33372e313030206c696278323635000000000000000000000018ffff0000007c687663430122200000009000000000007bf000fcfdfafa00000f03200001001840010c01ffff22200000030090000003000003007b959809210001002f42010122200000030090000003000003007ba00280802d1365959a4932bffc000c0011a0200000030020000003032122000100074401c172b462400000000a6669656c0100000000107061737000000003000000040000001462747274000000000002f65c0002f65c";
    /// libvpx-vp9 profile 0, 320x240: vpcC, fiel, pasp, btrt.
    const VP09_MP4: &str = "000000000000000100000000000000000000000000000000014000f00048000000480000000000000001184c61766335392e33372e313030206c69627670782d767039000000000000000018ffff00000014767063430100000000148202020200000000000a6669656c0100000000107061737000000001000000010000001462747274000000000001686400016864";
    /// libaom-av1 320x240: av1C, fiel, pasp, btrt.
    const AV01_MP4: &str = "000000000000000100000000000000000000000000000000014000f00048000000480000000000000001184c61766335392e33372e313030206c6962616f6d2d617631000000000000000018ffff000000196176314381000c000a0b000000043cffbcdaf900400000000a6669656c0100000000107061737000000001000000010000001462747274000000000000ef600000ef60";
    /// ffmpeg aac stereo 44.1 kHz in MP4: esds, btrt.
    const MP4A_MP4: &str = "000000000000000100000000000000000002001000000000ac4400000000003665736473000000000380808025000100048080801740150000000001fa5c0001fa5c0580808005121056e5000680808001020000001462747274000000000001fa5c0001fa5c";
    /// ffmpeg aac 5.1 48 kHz in MP4: the entry says 2 channels, the AudioSpecificConfig 6.
    const MP4A_MP4_51: &str = "000000000000000100000000000000000002001000000000bb8000000000003665736473000000000380808025000100048080801740150000000005340800050625058080800511b056e5000680808001020000001462747274000000000005340800050625";
    /// ffmpeg aac stereo 44.1 kHz in .mov: QuickTime sound description v1, esds inside `wave`.
    const MP4A_MOV: &str = "0000000000000001000100000000000000020010fffe0000ac440000000004000000000000000000000000020000005e776176650000000c66726d616d7034610000000c6d703461000000000000003665736473000000000380808025000100048080801740150000000001fa5c0001fa5c0580808005121056e5000680808001020000000800000000000000186368616e00000000006500020000000000000000";
    /// pcm_s24le mono 96 kHz in .mov: QuickTime sound description v2 (`lpcm`).
    const LPCM_MOV_V2: &str = "0000000000000001000200000000000000030010fffe0000000100000000004840f7700000000000000000017f000000000000180000000c0000000300000001000000186368616e00000000006400010000000000000000";
    /// pcm_s16le mono 22.05 kHz in .mov: version 0 (`sowt`).
    const SOWT_MOV: &str = "00000000000000010000000000000000000100100000000056220000000000186368616e00000000006400010000000000000000";
    /// libopus mono 48 kHz in MP4: dOps (pre-skip 312).
    const OPUS_MP4: &str = "000000000000000100000000000000000001001000000000bb80000000000013644f7073000101380000bb800000000000001462747274000000000001329300013293";
    /// ffmpeg flac mono 96 kHz in MP4: the entry's 16.16 rate is 0, STREAMINFO says 96000.
    const FLAC_MP4: &str = "000000000000000100000000000000000001001000000000000000000000003264664c6100000000800000222000200000077c000894177000f00000bb80f267c731cdb21110bf8913a1dd140277000000146274727400000000000324e0000324e0";
    /// ffmpeg ac3 mono 48 kHz in MP4: dac3, btrt.
    const AC3_MP4: &str = "000000000000000100000000000000000002001000000000bb8000000000000b646163331008c00000001462747274000000000001770000017700";
    /// libmp3lame mono 44.1 kHz in MP4 (`mp4a`, objectTypeIndication 0x6B).
    const MP3_MP4: &str = "000000000000000100000000000000000002001000000000ac4400000000002c6573647300000000038080801b000100048080800d6b1500000000010529000105290680808001020000001462747274000000000001052900010529";

    /// The 78 bytes of visual fields of `AVC1_MP4` (320x240).
    fn visual_fields() -> Vec<u8> {
        hex(AVC1_MP4)[..VISUAL_FIELDS].to_vec()
    }

    #[test]
    fn h264_entries() {
        let c = run(b"avc1", AVC1_MP4, TrackKind::Video).unwrap();
        assert_eq!(c.codec, "avc1.64000d");
        assert_eq!(c.description, Some(hex(h264_t::AVCC_HIGH_13)));
        assert_eq!(video(&c), (320, 240, (1, 1), 320, 240));
        assert!(c.audio.is_none());

        let c = run(b"avc1", AVC1_MOV_SAR, TrackKind::Video).unwrap();
        assert_eq!(c.codec, "avc1.4d400d");
        assert_eq!(video(&c), (320, 240, (4, 3), 427, 240));

        // No pasp: the SPS VUI (aspect_ratio_idc 4:3) decides; avc3 keeps its prefix.
        let mut e = visual_fields();
        e.extend(boxed(b"avcC", &hex(h264_t::AVCC_VUI_4_3)));
        let c = parse(&header(b"avc3", e.len()), &e, TrackKind::Video).unwrap();
        assert_eq!(c.codec, "avc3.64000d");
        assert_eq!(video(&c), (320, 240, (4, 3), 427, 240));

        // An SPS that does not parse falls back to square pixels.
        let mut avcc = hex(h264_t::AVCC_VUI_4_3);
        avcc[8] = 0x68; // NAL type 8: not an SPS
        let mut e = visual_fields();
        e.extend(boxed(b"avcC", &avcc));
        let c = parse(&header(b"avc1", e.len()), &e, TrackKind::Video).unwrap();
        assert_eq!(video(&c).2, (1, 1));
    }

    #[test]
    fn other_video_entries() {
        let c = run(b"hev1", HEV1_MP4, TrackKind::Video).unwrap();
        assert_eq!(c.codec, "hev1.2.4.H123.90");
        assert_eq!(c.description, Some(hex(hevc_t::HVCC_MAIN10_H123)));
        assert_eq!(video(&c), (1280, 720, (3, 4), 960, 720));

        let mut e = visual_fields();
        e.extend(boxed(b"hvcC", &hex(hevc_t::HVCC_MAIN_L60)));
        let c = parse(&header(b"hvc1", e.len()), &e, TrackKind::Video).unwrap();
        assert_eq!(c.codec, "hvc1.1.6.L60.90");

        let c = run(b"vp09", VP09_MP4, TrackKind::Video).unwrap();
        assert_eq!(
            (c.codec.as_str(), c.description.is_none()),
            ("vp09.00.20.08.01.02.02.02.00", true)
        );
        assert_eq!(video(&c), (320, 240, (1, 1), 320, 240));

        let c = run(b"av01", AV01_MP4, TrackKind::Video).unwrap();
        assert_eq!(
            (c.codec.as_str(), c.description.is_none()),
            ("av01.0.00M.08", true)
        );
        assert!(hex(AV01_MP4)
            .windows(17)
            .any(|w| w == hex(av1_t::AV1C_MAIN_8BIT)));

        // Unknown video: the fourcc, with geometry still read.
        let c = parse(
            &header(b"mp4v", VISUAL_FIELDS),
            &visual_fields(),
            TrackKind::Video,
        )
        .unwrap();
        assert_eq!((c.codec.as_str(), video(&c).0), ("mp4v", 320));
    }

    #[test]
    fn pasp_and_clap() {
        let geometry = |extra: Vec<u8>| {
            let mut e = visual_fields();
            e.extend(boxed(b"avcC", &hex(h264_t::AVCC_HIGH_13)));
            e.extend(extra);
            video(&parse(&header(b"avc1", e.len()), &e, TrackKind::Video).unwrap())
        };
        let pasp = |h: u32, v: u32| boxed(b"pasp", &[h.to_be_bytes(), v.to_be_bytes()].concat());
        let clap = |f: [i32; 8]| {
            boxed(
                b"clap",
                &f.iter().flat_map(|v| v.to_be_bytes()).collect::<Vec<_>>(),
            )
        };
        assert_eq!(geometry(pasp(0, 0)), (320, 240, (1, 1), 320, 240));
        assert_eq!(geometry(pasp(64, 45)), (320, 240, (64, 45), 455, 240));
        assert_eq!(geometry(pasp(32, 30)), (320, 240, (16, 15), 341, 240));
        // 300x200 aperture, centred; then off-centre by 10 px (fits); then by 11 (does not).
        let mut kids = pasp(2, 1);
        kids.extend(clap([600, 2, 200, 1, 0, 1, 0, 1]));
        assert_eq!(geometry(kids), (320, 240, (2, 1), 600, 200));
        assert_eq!(
            geometry(clap([300, 1, 200, 1, -10, 1, 20, 1])),
            (320, 240, (1, 1), 300, 200)
        );
        assert_eq!(
            geometry(clap([300, 1, 200, 1, 11, 1, 0, 1])),
            (320, 240, (1, 1), 320, 240)
        );
        assert_eq!(
            geometry(clap([300, 0, 200, 1, 0, 1, 0, 1])),
            (320, 240, (1, 1), 320, 240)
        );
        assert_eq!(
            geometry(clap([400, 1, 200, 1, 0, 1, 0, 1])),
            (320, 240, (1, 1), 320, 240)
        );
        assert_eq!(
            geometry(boxed(b"clap", &[0; 12])),
            (320, 240, (1, 1), 320, 240)
        );
    }

    #[test]
    fn audio_entries() {
        let c = run(b"mp4a", MP4A_MP4, TrackKind::Audio).unwrap();
        assert_eq!(c.codec, "mp4a.40.2");
        assert_eq!(c.description, Some(hex("121056e500")));
        assert_eq!(audio(&c), (44100, 2));
        assert!(c.video.is_none());
        let c = run(b"mp4a", MP4A_MP4_51, TrackKind::Audio).unwrap();
        assert_eq!((c.codec.as_str(), audio(&c)), ("mp4a.40.2", (48000, 6)));
        let c = run(b"mp4a", MP4A_MOV, TrackKind::Audio).unwrap();
        assert_eq!((c.codec.as_str(), audio(&c)), ("mp4a.40.2", (44100, 2)));
        assert_eq!(c.description, Some(hex("121056e500")));
        let c = run(b"mp4a", MP3_MP4, TrackKind::Audio).unwrap();
        // ffmpeg writes channelcount 2 in MP4 entries; without a decoder config that is all
        // there is to go on.
        assert_eq!(
            (c.codec.as_str(), audio(&c), c.description),
            ("mp3", (44100, 2), None)
        );

        let c = run(b"lpcm", LPCM_MOV_V2, TrackKind::Audio).unwrap();
        assert_eq!((c.codec.as_str(), audio(&c)), ("lpcm", (96000, 1)));
        let c = run(b"sowt", SOWT_MOV, TrackKind::Audio).unwrap();
        assert_eq!((c.codec.as_str(), audio(&c)), ("sowt", (22050, 1)));
        let c = run(b"ac-3", AC3_MP4, TrackKind::Audio).unwrap();
        assert_eq!(
            (c.codec.as_str(), audio(&c), c.description),
            ("ac-3", (48000, 1), None)
        );

        let c = run(b"Opus", OPUS_MP4, TrackKind::Audio).unwrap();
        assert_eq!((c.codec.as_str(), audio(&c)), ("opus", (48000, 1)));
        assert_eq!(
            c.description,
            Some([&b"OpusHead"[..], &hex("0101380180bb0000000000")].concat())
        );

        let c = run(b"fLaC", FLAC_MP4, TrackKind::Audio).unwrap();
        assert_eq!((c.codec.as_str(), audio(&c)), ("flac", (96000, 1)));
        let desc = c.description.unwrap();
        assert_eq!(&desc[..8], b"fLaC\x80\0\0\x22");
        assert_eq!(desc.len(), 4 + 38);
    }

    #[test]
    fn iso_v1_audio_entry_with_srat() {
        let mut e = hex(&MP4A_MP4[..56]);
        e[8..10].copy_from_slice(&1u16.to_be_bytes()); // entry_version 1, boxes follow directly
        e.extend(boxed(b"srat", &hex("0000000000017700")));
        e.extend(boxed(b"esds", &hex(aac_t::ESDS_AAC_LC_STEREO)));
        let c = parse(&header(b"mp4a", e.len()), &e, TrackKind::Audio).unwrap();
        // The AudioSpecificConfig's 44.1 kHz wins over srat's 96 kHz.
        assert_eq!((c.codec.as_str(), audio(&c)), ("mp4a.40.2", (44100, 2)));
        let mut e = hex(&SOWT_MOV[..56]);
        e[8..10].copy_from_slice(&1u16.to_be_bytes());
        e.extend(boxed(b"srat", &hex("0000000000017700")));
        let c = parse(&header(b"sowt", e.len()), &e, TrackKind::Audio).unwrap();
        assert_eq!(audio(&c), (96000, 1));
    }

    #[test]
    fn errors_carry_offsets() {
        // Encrypted entries are refused.
        let err = run(b"encv", AVC1_MP4, TrackKind::Video).unwrap_err();
        assert!(
            matches!(err.kind, ErrorKind::Unsupported { ref what } if what == "encrypted track (encv)")
        );
        assert_eq!(err.offset, 1008);
        // avc1 without avcC.
        let err = parse(
            &header(b"avc1", VISUAL_FIELDS),
            &visual_fields(),
            TrackKind::Video,
        )
        .unwrap_err();
        assert_eq!(
            (&err.kind, err.offset),
            (
                &ErrorKind::Missing { what: "avcC" },
                1008 + VISUAL_FIELDS as u64
            )
        );
        // Truncated entry fields.
        let err = run(b"avc1", &AVC1_MP4[..50], TrackKind::Video).unwrap_err();
        assert_eq!(err.offset, 1008 + 24);
        // A child box that overruns the entry.
        let mut e = hex(AVC1_MP4);
        e.truncate(e.len() - 1);
        assert!(parse(&header(b"avc1", e.len()), &e, TrackKind::Video).is_err());
        // mp4a without esds.
        let err = run(b"mp4a", &MP4A_MP4[..56], TrackKind::Audio).unwrap_err();
        assert_eq!(err.kind, ErrorKind::Missing { what: "esds" });
    }

    #[test]
    fn other_tracks_get_the_fourcc() {
        let c = parse(&header(b"tx3g", 3), &[1, 2, 3], TrackKind::Other).unwrap();
        assert_eq!(
            (c.codec.as_str(), c.video, c.audio, c.description),
            ("tx3g", None, None, None)
        );
    }

    #[test]
    fn never_panics() {
        let entries: [(&[u8; 4], &str); 14] = [
            (b"avc1", AVC1_MP4),
            (b"avc1", AVC1_MOV_SAR),
            (b"hev1", HEV1_MP4),
            (b"vp09", VP09_MP4),
            (b"av01", AV01_MP4),
            (b"mp4a", MP4A_MP4),
            (b"mp4a", MP4A_MP4_51),
            (b"mp4a", MP4A_MOV),
            (b"lpcm", LPCM_MOV_V2),
            (b"sowt", SOWT_MOV),
            (b"Opus", OPUS_MP4),
            (b"fLaC", FLAC_MP4),
            (b"ac-3", AC3_MP4),
            (b"mp4a", MP3_MP4),
        ];
        for (kind, entry) in entries {
            fuzz_slices(&hex(entry), |d| {
                for track in [TrackKind::Video, TrackKind::Audio, TrackKind::Other] {
                    let _ = parse(&header(kind, d.len()), d, track);
                }
            });
        }
    }
}
