//! The probe summary of a movie: the JSON that `frameseek probe --json`, the server's
//! `/api/videos/{id}` and the browser module's `video.info` all report, made in one place.

use crate::codec::TrackKind;
use crate::mp4::{Movie, Track};
use serde::Serialize;

/// One track's summary.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct TrackInfo {
    /// Track ID.
    pub id: u32,
    /// "video", "audio" or "other".
    pub kind: TrackKind,
    /// WebCodecs codec string (the sample entry fourcc when the entry could not be read).
    pub codec: String,
    /// Why the codec configuration could not be read, if it could not.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub codec_error: Option<String>,
    /// Coded width (video).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub width: Option<u32>,
    /// Coded height (video).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub height: Option<u32>,
    /// Display width after SAR and clean aperture, before rotation (video).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub display_width: Option<u32>,
    /// Display height (video).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub display_height: Option<u32>,
    /// Sample aspect ratio "h:v" (video).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sar: Option<String>,
    /// Frames shown (samples for audio).
    pub frame_count: usize,
    /// Average frames per second (video).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fps: Option<f64>,
    /// Number of sync samples.
    pub keyframes: usize,
    /// Clockwise rotation in degrees.
    pub rotation: u16,
    /// Track duration in seconds.
    pub duration: f64,
    /// Media timescale.
    pub timescale: u32,
    /// Sample rate (audio).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sample_rate: Option<u32>,
    /// Channels (audio).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub channels: Option<u16>,
    /// ISO 639-2 language.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub language: Option<String>,
}

/// A movie's summary. The top-level video fields describe the main video track (see
/// [`Movie::video_track`]) and are absent for audio-only files.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct MediaInfo {
    /// "mp4" or "mov".
    pub container: String,
    /// Whether the file is fragmented.
    pub fragmented: bool,
    /// Duration in seconds.
    pub duration: f64,
    /// File size in bytes.
    pub size: u64,
    /// Main video track's display width.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub width: Option<u32>,
    /// Main video track's display height.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub height: Option<u32>,
    /// Main video track's codec string.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub codec: Option<String>,
    /// Main video track's frame count.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub frame_count: Option<usize>,
    /// Main video track's average fps.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fps: Option<f64>,
    /// Main video track's rotation.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rotation: Option<u16>,
    /// Every track.
    pub tracks: Vec<TrackInfo>,
}

impl TrackInfo {
    /// Summarises one track.
    pub fn from_track(t: &Track) -> Self {
        let (codec, codec_error, video, audio) = match &t.codec {
            Ok(c) => (c.codec.clone(), None, c.video.clone(), c.audio.clone()),
            Err(e) => (String::from("unknown"), Some(e.message()), None, None),
        };
        let is_video = t.kind == TrackKind::Video;
        TrackInfo {
            id: t.id,
            kind: t.kind,
            codec,
            codec_error,
            width: video.as_ref().map(|v| v.coded_width),
            height: video.as_ref().map(|v| v.coded_height),
            display_width: video.as_ref().map(|v| v.display_width),
            display_height: video.as_ref().map(|v| v.display_height),
            sar: video.as_ref().map(|v| crate::text![v.sar.0, ":", v.sar.1]),
            frame_count: t.index.frame_count(),
            fps: is_video.then(|| round3(t.index.fps())),
            keyframes: t.index.sync_samples().len(),
            rotation: t.rotation,
            duration: round6(t.index.duration_seconds()),
            timescale: t.timescale,
            sample_rate: audio.as_ref().map(|a| a.sample_rate),
            channels: audio.as_ref().map(|a| a.channels),
            language: t.language.clone(),
        }
    }
}

impl MediaInfo {
    /// Summarises a movie.
    pub fn from_movie(movie: &Movie) -> Self {
        let tracks: Vec<TrackInfo> = movie.tracks.iter().map(TrackInfo::from_track).collect();
        let main = movie.video_track().map(TrackInfo::from_track);
        MediaInfo {
            container: movie.container.as_str().to_string(),
            fragmented: movie.fragmented,
            duration: round6(movie.duration),
            size: movie.file_size,
            width: main.as_ref().and_then(|t| t.display_width.or(t.width)),
            height: main.as_ref().and_then(|t| t.display_height.or(t.height)),
            codec: main.as_ref().map(|t| t.codec.clone()),
            frame_count: main.as_ref().map(|t| t.frame_count),
            fps: main.as_ref().and_then(|t| t.fps),
            rotation: main.as_ref().map(|t| t.rotation),
            tracks,
        }
    }
}

pub(crate) fn round3(x: f64) -> f64 {
    (x * 1000.0).round() / 1000.0
}

pub(crate) fn round6(x: f64) -> f64 {
    (x * 1e6).round() / 1e6
}
