//! H.264/AVC: the `avcC` AVCDecoderConfigurationRecord (ISO/IEC 14496-15 §5.3.3.1) gives the
//! `avc1.PPCCLL` codec string and the WebCodecs `description`; the first SPS's VUI gives the
//! sample aspect ratio when the container has no `pasp`.

use crate::error::{Error, Result};
use crate::mp4::cursor::Cursor;
use h264_reader::nal::sps::SeqParameterSet;
use h264_reader::rbsp::{BitReader, ByteReader};

/// What the `avcC` record says about a stream.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AvcConfig {
    /// `PPCCLL`: profile, constraint flags and level as lowercase hex (the codec string without
    /// the `avc1.` prefix).
    pub profile_level: String,
    /// Sample aspect ratio from the first SPS's VUI, if it parses and signals one.
    pub sar: Option<(u32, u32)>,
}

/// Parses an `avcC` payload at file offset `base`. The record itself must be well formed (every
/// parameter set inside the payload); an SPS that h264-reader cannot parse only loses the SAR.
pub fn parse_avcc(data: &[u8], base: u64) -> Result<AvcConfig> {
    let mut c = Cursor::new(data, base, "avcC");
    let version_at = c.offset();
    let version = c.u8()?;
    if version != 1 {
        return Err(Error::invalid(
            "avcC",
            format!("configurationVersion {version}"),
            version_at,
        ));
    }
    let (profile, compat, level) = (c.u8()?, c.u8()?, c.u8()?);
    c.skip(1)?; // reserved(6) lengthSizeMinusOne(2)
    let num_sps = c.u8()? & 0x1f;
    let mut first_sps = None;
    for _ in 0..num_sps {
        let len = usize::from(c.u16()?);
        let nal = c.bytes(len)?;
        first_sps.get_or_insert(nal);
    }
    let num_pps = c.u8()?;
    for _ in 0..num_pps {
        let len = usize::from(c.u16()?);
        c.skip(len)?;
    }
    // Trailing fields (chroma format, bit depths, SPS extensions for high profiles) are optional
    // and not needed here; the decoder gets the whole record as `description`.
    Ok(AvcConfig {
        profile_level: format!("{profile:02x}{compat:02x}{level:02x}"),
        sar: first_sps.and_then(sps_sar),
    })
}

/// The VUI sample aspect ratio of an SPS NAL unit (with its 1-byte NAL header), if any.
fn sps_sar(nal: &[u8]) -> Option<(u32, u32)> {
    let header = *nal.first()?;
    if header & 0x1f != 7 {
        return None;
    }
    let sps =
        SeqParameterSet::from_bits(BitReader::new(ByteReader::skipping_h264_header(nal))).ok()?;
    let (w, h) = sps.vui_parameters?.aspect_ratio_info?.get()?;
    Some((u32::from(w), u32::from(h)))
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::codec::entry::tests::{fuzz_slices, hex};

    /// x264 high profile level 1.3, 320x240 (`ffprobe`: profile High, level 13).
    pub const AVCC_HIGH_13: &str = "0164000dffe100196764000dacd94141fb011000000300100000030320f142996001000668ebe3cb22c0fdf8f800";
    /// The same encode with `-x264-params sar=4/3`: VUI aspect_ratio_idc 14 (4:3).
    pub const AVCC_VUI_4_3: &str = "0164000dffe100196764000dacd94141fb0e1000000300100000030320f142996001000668ebe3cb22c0fdf8f800";
    /// x264 constrained baseline level 1.3 (`ffprobe`: Constrained Baseline, level 13).
    pub const AVCC_CBP_13: &str =
        "0142c00dffe100186742c00dd90141fb0e1000000300100000030320f142a48001000568cb83cb20";

    #[test]
    fn codec_strings_from_x264() {
        let a = parse_avcc(&hex(AVCC_HIGH_13), 0).unwrap();
        assert_eq!(a.profile_level, "64000d");
        assert_eq!(a.sar, Some((1, 1)));
        let b = parse_avcc(&hex(AVCC_CBP_13), 0).unwrap();
        assert_eq!(b.profile_level, "42c00d");
        assert_eq!(b.sar, Some((4, 3)));
        assert_eq!(parse_avcc(&hex(AVCC_VUI_4_3), 0).unwrap().sar, Some((4, 3)));
    }

    #[test]
    fn bad_records_are_errors_bad_sps_is_not() {
        let mut data = hex(AVCC_HIGH_13);
        data[0] = 0;
        assert!(parse_avcc(&data, 0).is_err());
        let mut data = hex(AVCC_HIGH_13);
        data[9] = 0xff; // garbage inside the SPS: record still valid, SAR unknown
        assert!(parse_avcc(&data, 0).is_ok());
        let err = parse_avcc(&hex(AVCC_HIGH_13)[..20], 500).unwrap_err();
        assert_eq!(err.offset, 508);
    }

    #[test]
    fn never_panics() {
        fuzz_slices(&hex(AVCC_HIGH_13), |d| {
            let _ = parse_avcc(d, 0);
        });
    }
}
