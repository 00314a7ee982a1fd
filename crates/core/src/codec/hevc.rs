//! H.265/HEVC: the `hvcC` HEVCDecoderConfigurationRecord (ISO/IEC 14496-15 §8.3.3.1) gives the
//! codec string of ISO/IEC 14496-15 Annex E (`hvc1.1.6.L93.B0`); the whole record is the
//! WebCodecs `description`.

use crate::error::Result;
use crate::mp4::cursor::Cursor;
use crate::text;
use crate::text::hex;

/// Parses an `hvcC` payload at file offset `base` and returns the codec string suffix (after
/// `hvc1.`/`hev1.`), e.g. `1.6.L93.B0`. Every NAL unit array must fit in the payload.
pub fn parse_hvcc(data: &[u8], base: u64) -> Result<String> {
    let mut c = Cursor::new(data, base, "hvcC");
    c.skip(1); // configurationVersion (0 in some early files, 1 by the standard)
    let ptl = c.u8();
    let compat = c.u32();
    let constraints = c.bytes(6)?;
    let level = c.u8();
    // min_spatial_segmentation u16, parallelismType, chroma, luma/chroma bit depth,
    // avgFrameRate u16, constantFrameRate|numTemporalLayers|lengthSizeMinusOne.
    c.skip(9);
    let num_arrays = c.u8();
    for _ in 0..num_arrays {
        c.skip(1); // array_completeness | NAL unit type
        let num_nalus = c.u16();
        for _ in 0..num_nalus {
            let len = usize::from(c.u16());
            c.skip(len);
        }
        c.check()?;
    }
    c.check()?;

    let space = ["", "A", "B", "C"]
        .get(usize::from(ptl >> 6))
        .copied()
        .unwrap_or("");
    let tier = if ptl & 0x20 != 0 { 'H' } else { 'L' };
    let mut s = text![
        space,
        ptl & 0x1f,
        ".",
        hex(compat.reverse_bits(), 1).upper(),
        ".",
        tier,
        level
    ];
    let used = constraints
        .iter()
        .rposition(|&b| b != 0)
        .map_or(0, |i| i + 1);
    for b in constraints.iter().take(used) {
        s += &text![".", hex(*b, 2).upper()];
    }
    Ok(s)
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::codec::entry::tests::{fuzz_slices, hex};

    /// x265 Main, 320x240, `-x265-params info=0` (`ffprobe`: profile Main, level 60).
    pub const HVCC_MAIN_L60: &str = "0101600000009000000000003cf000fcfdf8f800000f03a00001001840010c01ffff01600000030090000003000003003c959809a10001002a42010101600000030090000003000003003ca00a080f165959a4932bc05a020000030002000003003210a2000100074401c172b46240";
    /// x265 Main 10, high tier, level 4.1, 1280x720 (`ffprobe`: Main 10, level 123).
    pub const HVCC_MAIN10_H123: &str = "0122200000009000000000007bf000fcfdfafa00000f03200001001840010c01ffff22200000030090000003000003007b959809210001002f42010122200000030090000003000003007ba00280802d1365959a4932bffc000c0011a0200000030020000003032122000100074401c172b46240";

    #[test]
    fn codec_strings_from_x265() {
        assert_eq!(parse_hvcc(&hex(HVCC_MAIN_L60), 0).unwrap(), "1.6.L60.90");
        assert_eq!(
            parse_hvcc(&hex(HVCC_MAIN10_H123), 0).unwrap(),
            "2.4.H123.90"
        );
    }

    #[test]
    fn annex_e_example() {
        // Main profile, level 3.1 (93), progressive source flag only, profile space 0: the
        // Annex E example `hvc1.1.6.L93.B0`; with profile space 1 and all-zero constraints.
        let mut d = hex("01016000000090000000000000f000fcfdf8f800000f00");
        d[6] = 0xb0;
        d[12] = 93;
        assert_eq!(parse_hvcc(&d, 0).unwrap(), "1.6.L93.B0");
        d[1] = 0x41;
        d[6] = 0;
        assert_eq!(parse_hvcc(&d, 0).unwrap(), "A1.6.L93");
    }

    #[test]
    fn truncated_arrays_are_errors() {
        let d = hex(HVCC_MAIN_L60);
        let err = parse_hvcc(&d[..d.len() - 1], 1000).unwrap_err();
        assert!(err.offset > 1000);
    }

    #[test]
    fn never_panics() {
        fuzz_slices(&hex(HVCC_MAIN10_H123), |d| {
            let _ = parse_hvcc(d, 0);
        });
    }
}
