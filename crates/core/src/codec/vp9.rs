//! VP9: the `vpcC` VPCodecConfigurationBox (VP Codec ISO Media File Format Binding §2.2) gives
//! the codec string `vp09.PP.LL.DD.CC.cp.tc.mc.FF`. WebCodecs takes no `description` for VP9.
//! A level that VP9 does not define (Chromium's MediaRecorder writes 0) is replaced by the
//! lowest level whose picture size holds the coded size, as browsers reject unknown levels.

use crate::error::Result;
use crate::mp4::cursor::Cursor;
use crate::text;
use crate::text::zeros;

/// VP9 levels (VP9 Bitstream & Decoding Process Specification, Annex A) with their largest
/// picture size in luma samples.
const LEVELS: [(u8, u32); 14] = [
    (10, 36_864),
    (11, 73_728),
    (20, 122_880),
    (21, 245_760),
    (30, 552_960),
    (31, 983_040),
    (40, 2_228_224),
    (41, 2_228_224),
    (50, 8_912_896),
    (51, 8_912_896),
    (52, 8_912_896),
    (60, 35_651_584),
    (61, 35_651_584),
    (62, 35_651_584),
];

/// `level` if VP9 defines it, else the lowest level for a picture of `picture_size` samples.
fn valid_level(level: u8, picture_size: u32) -> u8 {
    if LEVELS.iter().any(|&(l, _)| l == level) {
        return level;
    }
    LEVELS
        .iter()
        .find(|&&(_, max)| picture_size <= max)
        .map_or(62, |&(l, _)| l)
}

/// Parses a `vpcC` payload (a full box: version and flags first) at file offset `base` and
/// returns the codec string suffix after `vp09.`. Version 1 gives the full form; the draft
/// version 0 record gives the short form `PP.LL.DD`. `picture_size` (coded width × height)
/// chooses the level when the record's is not a VP9 level.
pub fn parse_vpcc(data: &[u8], base: u64, picture_size: u32) -> Result<String> {
    let mut c = Cursor::new(data, base, "vpcC");
    let (version, _flags) = c.version_flags();
    let (profile, level, packed) = (c.u8(), c.u8(), c.u8());
    let level = valid_level(level, picture_size);
    let bit_depth = packed >> 4;
    if version == 0 {
        // bitDepth(4) colorSpace(4), chromaSubsampling(4) transferFunction(4), fullRange(1)...
        c.skip(2);
        skip_init_data(&mut c)?;
        return Ok(text![
            zeros(profile, 2),
            ".",
            zeros(level, 2),
            ".",
            zeros(bit_depth, 2)
        ]);
    }
    let chroma = (packed >> 1) & 0x07;
    let full_range = packed & 0x01;
    let (primaries, transfer, matrix) = (c.u8(), c.u8(), c.u8());
    skip_init_data(&mut c)?;
    Ok(text![
        zeros(profile, 2),
        ".",
        zeros(level, 2),
        ".",
        zeros(bit_depth, 2),
        ".",
        zeros(chroma, 2),
        ".",
        zeros(primaries, 2),
        ".",
        zeros(transfer, 2),
        ".",
        zeros(matrix, 2),
        ".",
        zeros(full_range, 2)
    ])
}

/// Skips `codecIntializationDataSize` and the data (always empty for VP9, but must fit).
fn skip_init_data(c: &mut Cursor<'_>) -> Result<()> {
    let len = usize::from(c.u16());
    c.skip(len);
    c.check()
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::codec::entry::tests::{fuzz_slices, hex};

    /// libvpx-vp9 8-bit 4:2:0, 320x240 (`ffprobe`: Profile 0, yuv420p).
    pub const VPCC_P0_8BIT: &str = "010000000014820202020000";
    /// libvpx-vp9 10-bit 4:2:0 (`ffprobe`: Profile 2, yuv420p10le).
    pub const VPCC_P2_10BIT: &str = "010000000214a20202020000";

    #[test]
    fn codec_strings_from_libvpx() {
        assert_eq!(
            parse_vpcc(&hex(VPCC_P0_8BIT), 0, 320 * 240).unwrap(),
            "00.20.08.01.02.02.02.00"
        );
        assert_eq!(
            parse_vpcc(&hex(VPCC_P2_10BIT), 0, 320 * 240).unwrap(),
            "02.20.10.01.02.02.02.00"
        );
        // Version 0 (draft) record: short form.
        assert_eq!(
            parse_vpcc(&hex("00000000001e8000000000"), 0, 0).unwrap(),
            "00.30.08"
        );
        assert!(parse_vpcc(&hex("0100000002"), 7, 0).is_err());
    }

    #[test]
    fn an_undefined_level_is_chosen_from_the_picture_size() {
        // Chromium's MediaRecorder (MP4, VP9): level 0, 8 bits, 4:2:0 vertical, BT.709, sRGB
        // transfer (13), full range.
        let recorder = "01000000000081010d010000";
        assert_eq!(
            parse_vpcc(&hex(recorder), 0, 320 * 240).unwrap(),
            "00.20.08.00.01.13.01.01"
        );
        assert_eq!(
            parse_vpcc(&hex(recorder), 0, 1920 * 1080).unwrap(),
            "00.40.08.00.01.13.01.01"
        );
        assert_eq!(
            parse_vpcc(&hex(recorder), 0, 8192 * 8192).unwrap(),
            "00.62.08.00.01.13.01.01"
        );
    }

    #[test]
    fn never_panics() {
        fuzz_slices(&hex(VPCC_P2_10BIT), |d| {
            let _ = parse_vpcc(d, 0, 0);
        });
    }
}
