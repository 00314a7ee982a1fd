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
pub mod entry;
pub mod h264;
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
