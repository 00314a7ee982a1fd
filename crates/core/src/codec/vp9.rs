//! VP9: the `vpcC` VPCodecConfigurationBox (VP Codec ISO Media File Format Binding §2.2) gives
//! the codec string `vp09.PP.LL.DD.CC.cp.tc.mc.FF`. WebCodecs takes no `description` for VP9.

use crate::error::Result;
use crate::mp4::cursor::Cursor;
use crate::text;
use crate::text::zeros;

/// Parses a `vpcC` payload (a full box: version and flags first) at file offset `base` and
/// returns the codec string suffix after `vp09.`. Version 1 gives the full form; the draft
/// version 0 record gives the short form `PP.LL.DD`.
pub fn parse_vpcc(data: &[u8], base: u64) -> Result<String> {
    let mut c = Cursor::new(data, base, "vpcC");
    let (version, _flags) = c.version_flags();
    let (profile, level, packed) = (c.u8(), c.u8(), c.u8());
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
            parse_vpcc(&hex(VPCC_P0_8BIT), 0).unwrap(),
            "00.20.08.01.02.02.02.00"
        );
        assert_eq!(
            parse_vpcc(&hex(VPCC_P2_10BIT), 0).unwrap(),
            "02.20.10.01.02.02.02.00"
        );
        // Version 0 (draft) record: short form.
        assert_eq!(
            parse_vpcc(&hex("00000000001e8000000000"), 0).unwrap(),
            "00.30.08"
        );
        assert!(parse_vpcc(&hex("0100000002"), 7).is_err());
    }

    #[test]
    fn never_panics() {
        fuzz_slices(&hex(VPCC_P2_10BIT), |d| {
            let _ = parse_vpcc(d, 0);
        });
    }
}
