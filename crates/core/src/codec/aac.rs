//! MPEG-4 audio in `mp4a` entries: the `esds` ES_Descriptor (ISO/IEC 14496-1 §7.2.6) gives the
//! objectTypeIndication and the AudioSpecificConfig (ISO/IEC 14496-3 §1.6.2.1), from which come
//! the codec string (`mp4a.40.2`, `mp4a.67`, `mp3`...), the `description`, rate and channels.

use crate::error::{Error, Result};
use crate::mp4::cursor::Cursor;
use crate::text;
use crate::text::hex;

/// What an `esds` box describes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EsdsConfig<'a> {
    /// DecoderConfigDescriptor objectTypeIndication (0x40 MPEG-4 audio, 0x67 MPEG-2 AAC LC...).
    pub object_type_indication: u8,
    /// DecoderSpecificInfo bytes (the AudioSpecificConfig for AAC), if present.
    pub decoder_specific_info: Option<&'a [u8]>,
    /// File offset of the DecoderSpecificInfo bytes.
    pub dsi_offset: u64,
}

/// The fields of an AudioSpecificConfig that configure a decoder.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AudioSpecificConfig {
    /// audioObjectType (2 AAC LC, 5 SBR, 29 PS...), escapes resolved.
    pub object_type: u8,
    /// Output sample rate (the SBR extension rate for explicit HE-AAC), if the config gives one.
    pub sample_rate: Option<u32>,
    /// Output channels, if the channel configuration gives them (0 means "in a PCE").
    pub channels: Option<u16>,
}

/// The codec parameters of an `mp4a` entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Mp4aConfig {
    /// WebCodecs codec string.
    pub codec: String,
    /// AudioSpecificConfig for AAC object types; `None` otherwise.
    pub description: Option<Vec<u8>>,
    /// Sample rate from the AudioSpecificConfig, if any.
    pub sample_rate: Option<u32>,
    /// Channels from the AudioSpecificConfig, if any.
    pub channels: Option<u16>,
}

const ES_DESCR_TAG: u8 = 0x03;
const DECODER_CONFIG_TAG: u8 = 0x04;
const DECODER_SPECIFIC_TAG: u8 = 0x05;

/// Reads a descriptor tag and its expandable size (1 to 4 bytes of 7 bits each) and returns the
/// tag and the descriptor's body, which must fit in what is left.
fn descriptor<'a>(c: &mut Cursor<'a>) -> Result<(u8, Cursor<'a>)> {
    let tag = c.u8();
    let mut size = 0usize;
    for _ in 0..4 {
        let b = c.u8();
        size = (size << 7) | usize::from(b & 0x7f);
        if b & 0x80 == 0 {
            break;
        }
    }
    c.check()?;
    let at = c.offset();
    let body = c
        .bytes(size)
        .map_err(|_| Error::truncated("esds descriptor", at))?;
    Ok((tag, Cursor::new(body, at, "esds descriptor")))
}

/// Parses an `esds` payload (full box) at file offset `base`.
pub fn parse_esds(data: &[u8], base: u64) -> Result<EsdsConfig<'_>> {
    let mut c = Cursor::new(data, base, "esds");
    c.version_flags();
    let at = c.offset();
    let (mut tag, mut body) = descriptor(&mut c)?;
    if tag == ES_DESCR_TAG {
        body.skip(2); // ES_ID
        let flags = body.u8();
        if flags & 0x80 != 0 {
            body.skip(2); // dependsOn_ES_ID
        }
        if flags & 0x40 != 0 {
            let len = usize::from(body.u8());
            body.skip(len); // URL
        }
        if flags & 0x20 != 0 {
            body.skip(2); // OCR_ES_Id
        }
        body.check()?;
        // The DecoderConfigDescriptor is the first sub-descriptor; skip anything else.
        loop {
            if body.remaining() == 0 {
                return Err(Error::new(
                    crate::error::ErrorKind::Missing {
                        what: "DecoderConfigDescriptor",
                    },
                    at,
                ));
            }
            let (t, b) = descriptor(&mut body)?;
            if t == DECODER_CONFIG_TAG {
                (tag, body) = (t, b);
                break;
            }
        }
    }
    if tag != DECODER_CONFIG_TAG {
        return Err(Error::invalid(
            "esds",
            text!["descriptor tag 0x", hex(tag, 2)],
            at,
        ));
    }
    let object_type_indication = body.u8();
    body.skip(12); // streamType etc., bufferSizeDB, maxBitrate, avgBitrate
    body.check()?;
    while body.remaining() > 0 {
        let (t, dsi) = descriptor(&mut body)?;
        if t == DECODER_SPECIFIC_TAG {
            return Ok(EsdsConfig {
                object_type_indication,
                decoder_specific_info: Some(dsi.rest()),
                dsi_offset: dsi.offset(),
            });
        }
    }
    Ok(EsdsConfig {
        object_type_indication,
        decoder_specific_info: None,
        dsi_offset: body.offset(),
    })
}

/// A big-endian bit reader over a byte slice for the AudioSpecificConfig.
struct Bits<'a> {
    data: &'a [u8],
    pos: usize,
    base: u64,
}

impl Bits<'_> {
    fn read(&mut self, n: u32) -> Result<u32> {
        let mut v = 0u32;
        for _ in 0..n {
            let byte = self.data.get(self.pos / 8).ok_or_else(|| {
                Error::truncated(
                    "AudioSpecificConfig",
                    self.base.saturating_add((self.pos / 8) as u64),
                )
            })?;
            v = (v << 1) | u32::from((byte >> (7 - self.pos % 8)) & 1);
            self.pos += 1;
        }
        Ok(v)
    }

    fn object_type(&mut self) -> Result<u8> {
        let t = self.read(5)?;
        let t = if t == 31 { 32 + self.read(6)? } else { t };
        Ok(t as u8) // at most 95
    }

    fn sample_rate(&mut self) -> Result<Option<u32>> {
        const RATES: [u32; 13] = [
            96000, 88200, 64000, 48000, 44100, 32000, 24000, 22050, 16000, 12000, 11025, 8000, 7350,
        ];
        let index = self.read(4)?;
        if index == 15 {
            return Ok(Some(self.read(24)?));
        }
        Ok(RATES.get(index as usize).copied())
    }
}

/// Parses the leading fields of an AudioSpecificConfig at file offset `base`.
pub fn parse_audio_specific_config(data: &[u8], base: u64) -> Result<AudioSpecificConfig> {
    let mut r = Bits { data, pos: 0, base };
    let object_type = r.object_type()?;
    let mut sample_rate = r.sample_rate()?;
    let config = r.read(4)?;
    let mut channels = match config {
        1..=6 => Some(config as u16),
        7 | 12 | 14 => Some(8),
        11 => Some(7),
        13 => Some(24),
        _ => None,
    };
    // Explicit (hierarchical) SBR/PS signalling: the output rate is the extension rate.
    if object_type == 5 || object_type == 29 {
        if let Some(rate) = r.sample_rate()? {
            sample_rate = Some(rate);
        }
        if object_type == 29 && channels == Some(1) {
            channels = Some(2);
        }
    }
    Ok(AudioSpecificConfig {
        object_type,
        sample_rate,
        channels,
    })
}

/// Parses an `esds` payload at file offset `base` into the WebCodecs parameters of an `mp4a`
/// entry. AAC object types need their AudioSpecificConfig to be readable.
pub fn parse_mp4a(esds: &[u8], base: u64) -> Result<Mp4aConfig> {
    let e = parse_esds(esds, base)?;
    let oti = e.object_type_indication;
    let aac = matches!(oti, 0x40 | 0x66..=0x68);
    let asc = match e.decoder_specific_info {
        Some(dsi) if aac => Some(parse_audio_specific_config(dsi, e.dsi_offset)?),
        _ => None,
    };
    let codec = match (oti, asc) {
        (0x40, Some(asc)) => text!["mp4a.40.", asc.object_type],
        (0x40, None) => "mp4a.40".to_string(),
        (0x69 | 0x6b, _) => "mp3".to_string(),
        (0xa5, _) => "ac-3".to_string(),
        (0xa6, _) => "ec-3".to_string(),
        (0xad, _) => "opus".to_string(),
        (0xdd, _) => "vorbis".to_string(),
        _ => text!["mp4a.", hex(oti, 2).upper()],
    };
    Ok(Mp4aConfig {
        codec,
        description: if aac {
            e.decoder_specific_info.map(<[u8]>::to_vec)
        } else {
            None
        },
        sample_rate: asc.and_then(|a| a.sample_rate),
        channels: asc.and_then(|a| a.channels),
    })
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::codec::entry::tests::{fuzz_slices, hex};

    /// ffmpeg `aac` encoder, stereo 44.1 kHz (`ffprobe`: profile LC). The ASC carries the
    /// backward-compatible SBR sync extension (0x2b7, SBR absent).
    pub const ESDS_AAC_LC_STEREO: &str = "000000000380808025000100048080801740150000000001fa5c0001fa5c0580808005121056e500068080800102";
    /// ffmpeg `aac`, 5.1 at 48 kHz (`ffprobe`: 6 channels).
    pub const ESDS_AAC_LC_51: &str = "000000000380808025000100048080801740150000000005340800050625058080800511b056e500068080800102";
    /// libmp3lame in MP4, objectTypeIndication 0x6B, no DecoderSpecificInfo.
    pub const ESDS_MP3: &str =
        "00000000038080801b000100048080800d6b150000000001052900010529068080800102";

    #[test]
    fn codec_strings_from_ffmpeg() {
        let a = parse_mp4a(&hex(ESDS_AAC_LC_STEREO), 0).unwrap();
        assert_eq!(a.codec, "mp4a.40.2");
        assert_eq!(a.description.as_deref(), Some(&hex("121056e500")[..]));
        assert_eq!((a.sample_rate, a.channels), (Some(44100), Some(2)));
        let b = parse_mp4a(&hex(ESDS_AAC_LC_51), 0).unwrap();
        assert_eq!(
            (b.codec.as_str(), b.sample_rate, b.channels),
            ("mp4a.40.2", Some(48000), Some(6))
        );
        let m = parse_mp4a(&hex(ESDS_MP3), 0).unwrap();
        assert_eq!((m.codec.as_str(), m.description), ("mp3", None));
    }

    #[test]
    fn object_types_and_rates() {
        // HE-AAC v1 explicit: AOT 5, 24 kHz core, stereo, 48 kHz extension, then AOT 2.
        let he = parse_audio_specific_config(&hex("2b118800"), 0).unwrap();
        assert_eq!(
            (he.object_type, he.sample_rate, he.channels),
            (5, Some(48000), Some(2))
        );
        // HE-AAC v2: AOT 29, mono core with PS -> stereo output.
        let ps = parse_audio_specific_config(&hex("eb098800"), 0).unwrap();
        assert_eq!(
            (ps.object_type, ps.sample_rate, ps.channels),
            (29, Some(48000), Some(2))
        );
        // Escaped object type 31 + 10 = 42 (USAC), explicit 24-bit rate 50000.
        let x = parse_audio_specific_config(&hex("f95e0186a020"), 0).unwrap();
        assert_eq!(
            (x.object_type, x.sample_rate, x.channels),
            (42, Some(50000), Some(1))
        );
        // MPEG-2 AAC LC OTI 0x67 keeps the hex OTI form.
        let mut e = hex(ESDS_AAC_LC_STEREO);
        e[17] = 0x67;
        assert_eq!(parse_mp4a(&e, 0).unwrap().codec, "mp4a.67");
    }

    #[test]
    fn truncations_are_errors_with_offsets() {
        let e = hex(ESDS_AAC_LC_STEREO);
        for n in 0..e.len() {
            let err = parse_mp4a(&e[..n], 100).unwrap_err();
            assert!(
                err.offset >= 100 && err.offset <= 100 + n as u64,
                "{n}: {err}"
            );
        }
    }

    #[test]
    fn never_panics() {
        fuzz_slices(&hex(ESDS_AAC_LC_STEREO), |d| {
            let _ = parse_mp4a(d, 0);
        });
    }
}
