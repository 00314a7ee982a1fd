//! A transcoded rendition's plan, known before any encoding: the source's key frames (from
//! core's index for MP4/MOV, from one ffprobe packet scan for other containers) grouped into
//! segments of about the target duration, each with its exact start and frame count.

use super::encoder::{codecs, max_bitrate, AUDIO_BITRATE};
use bytes::Bytes;
use frameseek_core::hls::{media_playlist, MediaPlaylistOptions, Segment, SegmentUri};
use frameseek_core::{Movie, TrackKind};
use serde::{Deserialize, Serialize};

/// The media playlist's name, relative to the master playlist.
pub const MEDIA_PLAYLIST: &str = crate::hls::MEDIA_PLAYLIST;

/// One group of pictures: a key frame's presentation time and the frames shown from it up to
/// the next key frame.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Gop {
    /// Presentation time in `Source::timescale` ticks.
    pub pts: i64,
    /// Frames whose presentation time lies in [pts, next key frame's pts).
    pub frames: u64,
}

/// What planning needs to know about a source (cached on disk for ffprobe scans).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Source {
    /// Ticks per second of `Gop::pts` and `end`.
    pub timescale: u32,
    /// Groups of pictures in presentation order.
    pub gops: Vec<Gop>,
    /// Presentation end in ticks.
    pub end: i64,
    /// Display width (after rotation).
    pub width: u32,
    /// Display height.
    pub height: u32,
    /// Average frames per second.
    pub fps: f64,
    /// Whether there is an audio stream to carry.
    pub audio: bool,
    /// The source's video codec (for the status JSON).
    pub codec: String,
    /// ffmpeg's start time of the file in seconds (the earliest stream start): `-ss` counts
    /// from it, and with `-copyts` so does its accurate-seek trim.
    #[serde(default)]
    pub start_time: f64,
}

impl Source {
    /// Reads the key frames of `movie`'s main video track from core's index.
    pub fn from_movie(movie: &Movie) -> Result<Source, String> {
        let track = movie
            .video_track()
            .ok_or_else(|| "the file has no video track".to_string())?;
        let index = &track.index;
        let frames = index.frame_count();
        if frames == 0 {
            return Err("the video track has no frames".into());
        }
        // Key frame presentation times, ascending (open-GOP leading pictures belong to the
        // group before in presentation order, which is how ffmpeg seeking sees them too).
        let mut keys: Vec<i64> = index
            .sync_samples()
            .iter()
            .filter_map(|&s| index.sample(s as usize))
            .filter(|s| !s.discard)
            .map(|s| s.pts)
            .collect();
        keys.sort_unstable();
        keys.dedup();
        let first = index.frame_pts(0).unwrap_or(0);
        keys.retain(|&k| k > first);
        keys.insert(0, first);
        let frames_before = |ticks: i64| -> u64 {
            // Frames are sorted by presentation time: binary search.
            let (mut lo, mut hi) = (0usize, frames);
            while lo < hi {
                let mid = (lo + hi) / 2;
                if index.frame_pts(mid).unwrap_or(i64::MAX) < ticks {
                    lo = mid + 1;
                } else {
                    hi = mid;
                }
            }
            lo as u64
        };
        let mut gops = Vec::with_capacity(keys.len());
        for (i, &pts) in keys.iter().enumerate() {
            let start = frames_before(pts);
            let end = keys
                .get(i + 1)
                .map_or(frames as u64, |&next| frames_before(next));
            if end > start {
                gops.push(Gop {
                    pts,
                    frames: end - start,
                });
            }
        }
        let (w, h) = track
            .codec
            .as_ref()
            .ok()
            .and_then(|c| c.video.as_ref())
            .map(|v| (v.coded_width, v.coded_height))
            .unwrap_or((0, 0));
        let (width, height) = if track.rotation % 180 == 90 {
            (h, w)
        } else {
            (w, h)
        };
        Ok(Source {
            timescale: track.timescale.max(1),
            gops,
            end: index.duration_ticks(),
            width,
            height,
            fps: index.fps(),
            audio: movie
                .tracks
                .iter()
                .any(|t| t.kind == TrackKind::Audio && t.index.sample_count() > 0),
            codec: track
                .codec
                .as_ref()
                .map(|c| c.codec.clone())
                .unwrap_or_else(|_| "unknown".into()),
            start_time: 0.0,
        })
    }
}

/// One segment of the rendition.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct PlanSegment {
    /// Start on the playlist timeline in source ticks (the key frame's presentation time;
    /// 0 for the first segment).
    pub start_ticks: i64,
    /// Presentation time of its first frame in source ticks (its key frame's).
    pub first_pts: i64,
    /// Start in seconds.
    pub start: f64,
    /// Duration in seconds (EXTINF).
    pub duration: f64,
    /// Frames it carries.
    pub frames: u64,
}

/// A rendition: its segments and playlists.
#[derive(Debug)]
pub struct Plan {
    /// The URL version token (names the source bytes, segmenting and encoder).
    pub version: String,
    /// How ffmpeg opens the source.
    pub input: String,
    /// The source summary.
    pub source: Source,
    /// Segments in order.
    pub segments: Vec<PlanSegment>,
    /// The output video track's timescale (the source's, doubled up to at least 10000).
    pub timescale: u32,
    /// Output picture size (even).
    pub width: u32,
    /// Output picture height (even).
    pub height: u32,
    /// The master playlist.
    pub master: Bytes,
}

impl crate::hls::cache::Weigh for Plan {
    fn cost(&self) -> u64 {
        (self.segments.len() * 40 + self.source.gops.len() * 16 + self.master.len()) as u64 + 256
    }
}

impl Plan {
    /// Groups the source's GOPs into segments of about `target` seconds.
    pub fn new(
        version: String,
        input: String,
        source: Source,
        target: f64,
    ) -> Result<Plan, String> {
        if source.gops.is_empty() {
            return Err("no key frames to start segments at".into());
        }
        let ts = f64::from(source.timescale.max(1));
        let mut segments: Vec<PlanSegment> = Vec::new();
        for (i, gop) in source.gops.iter().enumerate() {
            match segments.last_mut() {
                Some(seg) if (gop.pts - seg.start_ticks) as f64 / ts < target * 0.999 => {
                    seg.frames += gop.frames;
                }
                _ => segments.push(PlanSegment {
                    start_ticks: if i == 0 { 0 } else { gop.pts },
                    first_pts: gop.pts,
                    start: 0.0,
                    duration: 0.0,
                    frames: gop.frames,
                }),
            }
        }
        let end = source
            .end
            .max(segments.last().map_or(0, |s| s.start_ticks + 1));
        for i in 0..segments.len() {
            let next = segments.get(i + 1).map_or(end, |s| s.start_ticks);
            let seg = &mut segments[i];
            seg.start = seg.start_ticks as f64 / ts;
            seg.duration = (next - seg.start_ticks).max(0) as f64 / ts;
        }
        let mut timescale = source.timescale.max(1);
        while timescale < 10_000 {
            timescale *= 2;
        }
        let width = (source.width.max(2)) & !1;
        let height = (source.height.max(2)) & !1;
        let video_rate = max_bitrate(width, height, source.fps);
        let audio_rate = if source.audio { AUDIO_BITRATE } else { 0 };
        let master = format!(
            "#EXTM3U\n#EXT-X-VERSION:6\n#EXT-X-INDEPENDENT-SEGMENTS\n\
             #EXT-X-STREAM-INF:BANDWIDTH={},AVERAGE-BANDWIDTH={},CODECS=\"{}\",RESOLUTION={}x{}{}\n{}\n",
            (video_rate + audio_rate) * 11 / 10,
            (video_rate / 2 + audio_rate),
            codecs(width, height, source.fps, source.audio),
            width,
            height,
            if source.fps > 0.0 {
                format!(",FRAME-RATE={:.3}", source.fps)
            } else {
                String::new()
            },
            MEDIA_PLAYLIST,
        );
        Ok(Plan {
            version,
            input,
            source,
            segments,
            timescale,
            width,
            height,
            master: Bytes::from(master),
        })
    }

    /// Seconds of the whole rendition.
    pub fn duration(&self) -> f64 {
        self.segments.iter().map(|s| s.duration).sum()
    }

    /// The media playlist with `extra_tags` (markers) before the first segment.
    pub fn media_playlist(&self, extra_tags: Vec<String>) -> String {
        let segments: Vec<Segment> = self
            .segments
            .iter()
            .map(|s| Segment {
                runs: Vec::new(),
                start: s.start,
                duration: s.duration,
                bytes: 0,
            })
            .collect();
        media_playlist(
            &segments,
            &MediaPlaylistOptions {
                init_uri: format!("{}/init.mp4", self.version),
                segments: SegmentUri::Numbered {
                    prefix: format!("{}/seg-", self.version),
                    suffix: ".m4s".into(),
                },
                extra_tags,
            },
        )
    }

    /// The decode time (output video ticks) of segment `n`'s first frame: its tfdt.
    pub fn output_start(&self, n: usize) -> Option<u64> {
        let seg = self.segments.get(n)?;
        let mult = u64::from(self.timescale / self.source.timescale.max(1));
        Some(u64::try_from(seg.first_pts.max(0)).unwrap_or(0) * mult.max(1))
    }

    /// Where ffmpeg seeks for segment `n` (`-ss`, seconds from the file's start time): just
    /// before its first frame, so float rounding cannot drop that frame or keep the one
    /// before it.
    pub fn seek(&self, n: usize) -> Option<f64> {
        let seg = self.segments.get(n)?;
        let ts = f64::from(self.source.timescale.max(1));
        let first = seg.first_pts as f64 / ts;
        let frame = if self.source.fps > 0.0 {
            1.0 / self.source.fps
        } else {
            0.04
        };
        Some((first - self.source.start_time - (frame / 4.0).min(0.001)).max(0.0))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn source(gops: &[(i64, u64)], end: i64) -> Source {
        Source {
            timescale: 30,
            gops: gops
                .iter()
                .map(|&(pts, frames)| Gop { pts, frames })
                .collect(),
            end,
            width: 321,
            height: 240,
            fps: 30.0,
            audio: false,
            codec: "hevc".into(),
            start_time: 0.0,
        }
    }

    #[test]
    fn groups_gops_into_segments() {
        // Key frames every second; 2-second segments.
        let src = source(&[(0, 30), (30, 30), (60, 30), (90, 15)], 105);
        let plan = Plan::new("v".into(), "in".into(), src, 2.0).expect("plan");
        let got: Vec<(i64, u64)> = plan
            .segments
            .iter()
            .map(|s| (s.start_ticks, s.frames))
            .collect();
        assert_eq!(got, vec![(0, 60), (60, 45)]);
        assert!((plan.segments[1].duration - 1.5).abs() < 1e-9);
        assert_eq!(plan.timescale, 15_360);
        assert_eq!(plan.output_start(1), Some(60 * 512));
        assert_eq!(plan.width, 320);
        let text = String::from_utf8(plan.master.to_vec()).expect("utf-8");
        assert!(text.contains("CODECS=\"avc1.64001e\""), "{text}");
        let media = plan.media_playlist(Vec::new());
        assert!(media.contains("v/seg-1.m4s"));
        assert!(media.contains("#EXT-X-ENDLIST"));
    }
}
