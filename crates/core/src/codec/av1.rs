//! AV1: the `av1C` AV1CodecConfigurationRecord (AV1 ISOBMFF binding §2.3) gives the codec
//! string `av01.P.LLT.DD` (binding §5). The WebCodecs AV1 registration takes no `description`.

use crate::error::{Error, Result};
use crate::mp4::cursor::Cursor;
use crate::text;
use crate::text::{hex, zeros};

/// Parses an `av1C` payload at file offset `base` and returns the codec string suffix after
/// `av01.`, e.g. `0.04M.08`.
pub fn parse_av1c(data: &[u8], base: u64) -> Result<String> {
    let mut c = Cursor::new(data, base, "av1C");
    let at = c.offset();
    let marker = c.u8();
    c.check()?;
    if marker != 0x81 {
        return Err(Error::invalid(
            "av1C",
            text!["marker/version byte 0x", hex(marker, 2), ", expected 0x81"],
            at,
        ));
    }
    let b1 = c.u8();
    let b2 = c.u8();
    c.skip(1); // reserved(3) initial_presentation_delay(1+4); configOBUs follow
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
        assert!(parse_av1c(&hex("01000c00"), 0).is_err());
    }

    #[test]
    fn never_panics() {
        fuzz_slices(&hex(AV1C_MAIN_8BIT), |d| {
            let _ = parse_av1c(d, 0);
        });
    }
}
