//! AV1: the `av1C` AV1CodecConfigurationRecord (AV1 ISOBMFF binding §2.3) gives the codec
//! string `av01.P.LLT.DD` (binding §5). The WebCodecs AV1 registration takes no `description`.

use crate::error::Result;
use crate::mp4::cursor::Cursor;
use crate::text;
use crate::text::zeros;

/// Parses an `av1C` payload at file offset `base` and returns the codec string suffix after
/// `av01.`, e.g. `0.04M.08`. A payload that is not a configuration record (its marker and
/// version byte is not 0x81: GStreamer 1.22's mp4mux writes zero bytes) gives `0.31M.08`:
/// Main profile, level 31 (no level limit), 8-bit; the decoder takes the real parameters from
/// the sequence header every keyframe carries, as ffmpeg and Chromium's `<video>` do.
pub fn parse_av1c(data: &[u8], base: u64) -> Result<String> {
    let mut c = Cursor::new(data, base, "av1C");
    let (b1, b2) = if c.u8() == 0x81 {
        (c.u8(), c.u8())
    } else {
        (31, 0)
    };
    c.check()?;
    let profile = b1 >> 5;
    let level = b1 & 0x1f;
    let tier = if b2 & 0x80 != 0 { 'H' } else { 'M' };
    let high_bitdepth = b2 & 0x40 != 0;
    let twelve_bit = b2 & 0x20 != 0;
    let depth = match (high_bitdepth, twelve_bit && profile == 2) {
        (false, _) => 8u8,
        (true, false) => 10,
        (true, true) => 12,
    };
    Ok(text![
        profile,
        ".",
        zeros(level, 2),
        tier,
        ".",
        zeros(depth, 2)
    ])
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::codec::entry::tests::{fuzz_slices, hex};

    /// libaom-av1 8-bit 4:2:0, 320x240 (`ffprobe`: profile Main, level 0), with its sequence
    /// header OBU.
    pub const AV1C_MAIN_8BIT: &str = "81000c000a0b000000043cffbcdaf90040";

    #[test]
    fn codec_strings() {
        assert_eq!(parse_av1c(&hex(AV1C_MAIN_8BIT), 0).unwrap(), "0.00M.08");
        // Main profile, level 4.0 (8), main tier, 10-bit.
        assert_eq!(parse_av1c(&hex("81084c00"), 0).unwrap(), "0.08M.10");
        // Professional profile, level 5.1 (13), high tier, 12-bit.
        assert_eq!(parse_av1c(&hex("814de000"), 0).unwrap(), "2.13H.12");
        // Not a record: GStreamer 1.22's zero bytes, a wrong marker.
        for bad in ["0000000000", "01000c00"] {
            assert_eq!(parse_av1c(&hex(bad), 0).unwrap(), "0.31M.08");
        }
        // Nothing at all, a record cut after its marker byte.
        assert!(parse_av1c(&hex(""), 0).is_err());
        assert!(parse_av1c(&hex("8100"), 0).is_err());
    }

    #[test]
    fn never_panics() {
        fuzz_slices(&hex(AV1C_MAIN_8BIT), |d| {
            let _ = parse_av1c(d, 0);
        });
    }
}
