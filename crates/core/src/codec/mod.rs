//! Codec configuration for WebCodecs, read from a track's sample entry (`stsd` child):
//! the codec string, the decoder `description` bytes, and coded/display geometry.
//!
//! One file per codec family: [`h264`], [`hevc`], [`vp9`], [`av1`], [`aac`].

use crate::error::Result;
use crate::mp4::boxes::{BoxHeader, FourCC};
use serde::Serialize;

/// The kind of media a track carries, from its `hdlr` handler type.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum TrackKind {
    /// `vide`
    Video,
    /// `soun`
    Audio,
    /// Anything else (subtitles, timed metadata, hint tracks...).
    Other,
}

/// Video geometry from the sample entry and its `pasp`/`clap` boxes (or the codec's own
/// parameter sets when the container has no `pasp`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct VideoParams {
    /// Coded width in pixels (sample entry `width`).
    pub coded_width: u32,
    /// Coded height in pixels (sample entry `height`).
    pub coded_height: u32,
    /// Sample (pixel) aspect ratio as (h_spacing, v_spacing); (1, 1) for square pixels.
    pub sar: (u32, u32),
    /// Width to display at, after the clean aperture and SAR (before rotation).
    pub display_width: u32,
    /// Height to display at, after the clean aperture (before rotation).
    pub display_height: u32,
}

/// Audio parameters from the sample entry (and the codec's own config where it overrides).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct AudioParams {
    /// Samples per second.
    pub sample_rate: u32,
    /// Channel count.
    pub channels: u16,
}

/// What a WebCodecs `VideoDecoder`/`AudioDecoder` needs to be configured for a track.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CodecConfig {
    /// The sample entry type (`avc1`, `hvc1`, `vp09`, `av01`, `mp4a`, ...).
    pub fourcc: FourCC,
    /// The codec string per the WebCodecs codec registry (`avc1.64001f`, `hev1.1.6.L93.B0`,
    /// `vp09.00.10.08`, `av01.0.04M.08`, `mp4a.40.2`); for unknown entries, the fourcc.
    pub codec: String,
    /// The `description` for the decoder config: the avcC/hvcC payload (AVC/HEVC in
    /// length-prefixed form), the AudioSpecificConfig for AAC; `None` where the codec needs none.
    pub description: Option<Vec<u8>>,
    /// Present for visual sample entries.
    pub video: Option<VideoParams>,
    /// Present for audio sample entries.
    pub audio: Option<AudioParams>,
}

pub mod aac;
pub mod av1;
pub(crate) mod bits;
pub mod entry;
pub mod h264;
pub mod h264_skip;
pub mod hevc;
pub mod vp9;

/// Parses one sample entry (a child of `stsd`): `header` is its box header and `payload` the
/// bytes after the header. `kind` is the track's handler kind, which decides whether the entry
/// is read as a visual or an audio sample entry.
pub fn parse_sample_entry(
    header: &BoxHeader,
    payload: &[u8],
    kind: TrackKind,
) -> Result<CodecConfig> {
    entry::parse(header, payload, kind)
}

/// Whether a decoder can start at `sample` (a sync sample's bytes): for AVC, whether it holds
/// an IDR slice; for HEVC, an IRAP picture (BLA, IDR or CRA). Muxers such as ffmpeg's mark
/// open-GOP I-frames (recovery points) as sync samples, but WebCodecs decoders accept only
/// these as the first chunk. `None` when the codec has no such distinction or the bytes
/// cannot tell.
pub fn is_decoder_start(config: &CodecConfig, sample: &[u8]) -> Option<bool> {
    let desc = config.description.as_deref()?;
    let (length_size, is_start): (usize, fn(u8) -> bool) = match &config.fourcc.0 {
        b"avc1" | b"avc2" | b"avc3" | b"avc4" => {
            (usize::from(*desc.get(4)? & 3) + 1, |h| h & 0x1f == 5)
        }
        b"hvc1" | b"hev1" => (usize::from(*desc.get(21)? & 3) + 1, |h| {
            (16..=21).contains(&((h >> 1) & 0x3f))
        }),
        _ => return None,
    };
    let mut pos = 0usize;
    while pos + length_size < sample.len() {
        let len = sample[pos..pos + length_size]
            .iter()
            .fold(0usize, |a, &b| (a << 8) | usize::from(b));
        let header = sample[pos + length_size];
        if is_start(header) {
            return Some(true);
        }
        pos = pos.checked_add(length_size)?.checked_add(len)?;
    }
    Some(false)
}
