//! ADTS (ISO/IEC 14496-3 §1.A.2): the framing of AAC in MPEG-TS. Each frame's 7- or 9-byte
//! header gives the object type, sample rate and channels, from which an AudioSpecificConfig
//! is built, so the raw frames decode exactly like AAC from MP4 (`mp4a.40.N` plus the ASC as
//! WebCodecs `description`).

use crate::error::{Error, Result};

/// Sample rates by `sampling_frequency_index`.
pub const SAMPLE_RATES: [u32; 13] = [
    96000, 88200, 64000, 48000, 44100, 32000, 24000, 22050, 16000, 12000, 11025, 8000, 7350,
];

/// The fields of one ADTS header.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AdtsHeader {
    /// MPEG-4 audioObjectType (`profile + 1`: 1 Main, 2 LC, 3 SSR, 4 LTP).
    pub object_type: u8,
    /// `sampling_frequency_index` (0-12).
    pub rate_index: u8,
    /// `channel_configuration` (0 means "in a PCE in the stream").
    pub channel_config: u8,
    /// Header bytes: 7, or 9 with a CRC.
    pub header_len: usize,
    /// The whole frame's length, header included.
    pub frame_len: usize,
    /// `number_of_raw_data_blocks_in_frame + 1`.
    pub blocks: u8,
}

impl AdtsHeader {
    /// Parses the header at the start of `data` (the file offset of `data` is `at`). Needs 7
    /// bytes; checks the sync word, layer, rate index and that the frame holds its header.
    pub fn parse(data: &[u8], at: u64) -> Result<Self> {
        let h = data
            .get(..7)
            .ok_or_else(|| Error::truncated("ADTS header", at))?;
        if h[0] != 0xff || h[1] & 0xf0 != 0xf0 {
            return Err(Error::invalid("ADTS header", "no sync word", at));
        }
        if h[1] & 0x06 != 0 {
            return Err(Error::invalid("ADTS header", "layer is not 0", at));
        }
        let protection_absent = h[1] & 1 == 1;
        let object_type = (h[2] >> 6) + 1;
        let rate_index = (h[2] >> 2) & 0x0f;
        if usize::from(rate_index) >= SAMPLE_RATES.len() {
            return Err(Error::invalid(
                "ADTS header",
                format!("sampling_frequency_index {rate_index}"),
                at,
            ));
        }
        let channel_config = ((h[2] & 1) << 2) | (h[3] >> 6);
        let frame_len =
            (usize::from(h[3] & 3) << 11) | (usize::from(h[4]) << 3) | usize::from(h[5] >> 5);
        let header_len = if protection_absent { 7 } else { 9 };
        if frame_len < header_len {
            return Err(Error::invalid(
                "ADTS header",
                format!("frame_length {frame_len}"),
                at,
            ));
        }
        Ok(Self {
            object_type,
            rate_index,
            channel_config,
            header_len,
            frame_len,
            blocks: (h[6] & 3) + 1,
        })
    }

    /// Samples per second.
    pub fn sample_rate(&self) -> u32 {
        SAMPLE_RATES[usize::from(self.rate_index)]
    }

    /// The 2-byte AudioSpecificConfig (ISO/IEC 14496-3 §1.6.2.1) for these parameters:
    /// objectType(5) samplingFrequencyIndex(4) channelConfiguration(4) and a GASpecificConfig
    /// of three zero bits (1024-sample frames, no core coder, no extension).
    pub fn audio_specific_config(&self) -> [u8; 2] {
        let v: u16 = (u16::from(self.object_type) << 11)
            | (u16::from(self.rate_index) << 7)
            | (u16::from(self.channel_config) << 3);
        v.to_be_bytes()
    }

    /// Whether two headers describe the same stream configuration.
    pub fn same_config(&self, other: &Self) -> bool {
        (self.object_type, self.rate_index, self.channel_config)
            == (other.object_type, other.rate_index, other.channel_config)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::codec::aac::parse_audio_specific_config;

    /// An ADTS header from ffmpeg's `aac` encoder: LC, 48 kHz, stereo, 186-byte frame.
    const HEADER: [u8; 7] = [0xff, 0xf1, 0x4c, 0x80, 0x17, 0x5f, 0xfc];

    #[test]
    fn reads_ffmpeg_header_and_builds_asc() {
        let h = AdtsHeader::parse(&HEADER, 0).unwrap();
        assert_eq!(
            (
                h.object_type,
                h.sample_rate(),
                h.channel_config,
                h.header_len
            ),
            (2, 48000, 2, 7)
        );
        assert_eq!(h.frame_len, 186);
        assert_eq!(h.blocks, 1);
        assert_eq!(h.audio_specific_config(), [0x11, 0x90]);
        let asc = parse_audio_specific_config(&h.audio_specific_config(), 0).unwrap();
        assert_eq!(
            (asc.object_type, asc.sample_rate, asc.channels),
            (2, Some(48000), Some(2))
        );
    }

    #[test]
    fn rejects_bad_headers_without_panicking() {
        assert!(AdtsHeader::parse(&HEADER[..6], 0).is_err());
        let mut bad = HEADER;
        bad[2] = 0x7c; // rate index 15
        assert!(AdtsHeader::parse(&bad, 0).is_err());
        let mut short = HEADER;
        short[3] &= 0xfc;
        short[4] = 0;
        short[5] = 0x1f; // frame_length 0
        assert!(AdtsHeader::parse(&short, 0).is_err());
        for b in 0..=255u8 {
            let mut h = HEADER;
            h[1] = b;
            let _ = AdtsHeader::parse(&h, 0);
        }
    }
}
