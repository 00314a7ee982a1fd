//! VOD playlists from an MP4's sample tables: segments start at video sync samples near a
//! target duration, EXTINF comes from the sample times, TARGETDURATION follows RFC 8216's
//! rounding rule, and the master playlist's BANDWIDTH/CODECS/RESOLUTION come from the index.

use crate::codec::TrackKind;
use crate::mp4::{FragmentRun, Movie};
use std::fmt::Write;

/// One segment: for each track, the decode-order samples `[first, end)` it carries.
#[derive(Debug, Clone, PartialEq)]
pub struct Segment {
    /// Per track (in `movie.tracks` order): the samples `[first, end)`.
    pub runs: Vec<(usize, usize)>,
    /// Presentation start in seconds.
    pub start: f64,
    /// EXTINF duration in seconds.
    pub duration: f64,
    /// Media bytes in the segment (sample data, without the moof).
    pub bytes: u64,
}

impl Segment {
    /// The fragment runs to pass to [`crate::mp4::write_fragment`].
    pub fn fragment_runs<'a>(&self, movie: &'a Movie) -> Vec<FragmentRun<'a>> {
        movie
            .tracks
            .iter()
            .zip(&self.runs)
            .filter(|(_, &(first, end))| end > first)
            .map(|(track, &(first, end))| FragmentRun { track, first, end })
            .collect()
    }
}

/// Cuts the movie into segments of about `target` seconds, each starting at a sync sample of
/// the main video track (the first track for audio-only files). Other tracks' samples go to
/// the segment during which they start.
pub fn segment_movie(movie: &Movie, target: f64) -> Vec<Segment> {
    segment_movie_where(movie, target, &|_| None)
}

/// [`segment_movie`], starting segments only at sync samples (decode order) that `is_start`
/// does not reject: pass [`crate::codec::is_decoder_start`] on the sample's bytes, so that
/// open-GOP I-frames (sync samples in ffmpeg's MP4, but no IDR) start no segment and every
/// segment decodes on its own, as EXT-X-INDEPENDENT-SEGMENTS promises. `None` accepts.
pub fn segment_movie_where(
    movie: &Movie,
    target: f64,
    is_start: &dyn Fn(usize) -> Option<bool>,
) -> Vec<Segment> {
    let Some(main) = movie.video_track().or_else(|| movie.tracks.first()) else {
        return Vec::new();
    };
    let index = &main.index;
    let ts = f64::from(main.timescale.max(1));
    let n = index.sample_count();
    // Segment starts: sync samples whose presentation time reaches the next boundary.
    let mut starts = vec![0usize];
    let mut seg_pts = index.sample(0).map(|s| s.pts).unwrap_or(0);
    for &s in index.sync_samples().iter().skip(1) {
        let Some(sample) = index.sample(s as usize) else {
            continue;
        };
        if (sample.pts - seg_pts) as f64 / ts >= target * 0.999
            && is_start(s as usize) != Some(false)
        {
            starts.push(s as usize);
            seg_pts = sample.pts;
        }
    }
    let end_time = index.duration_seconds();
    let start_time = |i: usize| -> f64 {
        // A segment's presentation starts at its earliest shown frame.
        index
            .sample(i)
            .map(|s| s.pts.max(0) as f64 / ts)
            .unwrap_or(end_time)
    };
    let mut segments = Vec::with_capacity(starts.len());
    let mut cursors = vec![0usize; movie.tracks.len()];
    for (g, &first) in starts.iter().enumerate() {
        let end = starts.get(g + 1).copied().unwrap_or(n);
        let start = start_time(first);
        let next = if end < n { start_time(end) } else { end_time };
        // Decode time (seconds) where the next segment begins, for the other tracks.
        let until = index.sample(end).map(|s| s.dts as f64 / ts);
        let mut runs = Vec::with_capacity(movie.tracks.len());
        let mut bytes = 0u64;
        for (ti, t) in movie.tracks.iter().enumerate() {
            let (a, b) = if std::ptr::eq(t, main) {
                (first, end)
            } else if t.kind == TrackKind::Other {
                (0, 0)
            } else {
                let a = cursors[ti];
                let tts = f64::from(t.timescale.max(1));
                let mut b = a;
                while let Some(s) = t.index.sample(b) {
                    if until.is_some_and(|u| s.dts as f64 / tts >= u) {
                        break;
                    }
                    b += 1;
                }
                (a, b)
            };
            cursors[ti] = b;
            bytes += (a..b)
                .filter_map(|i| t.index.sample(i))
                .map(|s| u64::from(s.size))
                .sum::<u64>();
            runs.push((a, b));
        }
        segments.push(Segment {
            runs,
            start,
            duration: (next - start).max(0.0),
            bytes,
        });
    }
    segments
}

/// Where a media playlist's segments live.
#[derive(Debug, Clone)]
pub enum SegmentUri {
    /// One URI per segment: `{prefix}{n}{suffix}` with n from 0 (e.g. `seg-` + `.m4s`).
    Numbered {
        /// Before the number.
        prefix: String,
        /// After the number.
        suffix: String,
    },
    /// Every segment is a byte range of one file (EXT-X-BYTERANGE); `ranges[n]` is
    /// (offset, length) of segment n, and the init segment is `init` (offset, length).
    ByteRanges {
        /// The file's URI.
        uri: String,
        /// The init segment's (offset, length).
        init: (u64, u64),
        /// Each segment's (offset, length).
        ranges: Vec<(u64, u64)>,
    },
}

/// Options of [`media_playlist`].
#[derive(Debug, Clone)]
pub struct MediaPlaylistOptions {
    /// The init segment's URI (ignored for [`SegmentUri::ByteRanges`], which uses its file).
    pub init_uri: String,
    /// Segment URIs.
    pub segments: SegmentUri,
    /// Extra tag lines placed before the first segment (e.g. EXT-X-PROGRAM-DATE-TIME and
    /// EXT-X-DATERANGE for markers).
    pub extra_tags: Vec<String>,
}

/// The EXT-X-TARGETDURATION for these segments: the largest EXTINF rounded to the nearest
/// integer (RFC 8216 §4.3.3.1), at least 1.
pub fn target_duration(segments: &[Segment]) -> u64 {
    segments
        .iter()
        .map(|s| s.duration.round() as u64)
        .max()
        .unwrap_or(1)
        .max(1)
}

/// Writes a VOD media playlist.
pub fn media_playlist(segments: &[Segment], opts: &MediaPlaylistOptions) -> String {
    let mut out = String::new();
    let byteranges = matches!(opts.segments, SegmentUri::ByteRanges { .. });
    let _ = writeln!(out, "#EXTM3U");
    let _ = writeln!(out, "#EXT-X-VERSION:{}", if byteranges { 7 } else { 6 });
    let _ = writeln!(out, "#EXT-X-TARGETDURATION:{}", target_duration(segments));
    let _ = writeln!(out, "#EXT-X-MEDIA-SEQUENCE:0");
    let _ = writeln!(out, "#EXT-X-PLAYLIST-TYPE:VOD");
    let _ = writeln!(out, "#EXT-X-INDEPENDENT-SEGMENTS");
    match &opts.segments {
        SegmentUri::ByteRanges { uri, init, .. } => {
            let _ = writeln!(
                out,
                "#EXT-X-MAP:URI=\"{}\",BYTERANGE=\"{}@{}\"",
                uri, init.1, init.0
            );
        }
        SegmentUri::Numbered { .. } => {
            let _ = writeln!(out, "#EXT-X-MAP:URI=\"{}\"", opts.init_uri);
        }
    }
    for tag in &opts.extra_tags {
        let _ = writeln!(out, "{tag}");
    }
    for (n, s) in segments.iter().enumerate() {
        let _ = writeln!(out, "#EXTINF:{:.6},", s.duration);
        match &opts.segments {
            SegmentUri::Numbered { prefix, suffix } => {
                let _ = writeln!(out, "{prefix}{n}{suffix}");
            }
            SegmentUri::ByteRanges { uri, ranges, .. } => {
                if let Some((offset, len)) = ranges.get(n) {
                    let _ = writeln!(out, "#EXT-X-BYTERANGE:{len}@{offset}");
                }
                let _ = writeln!(out, "{uri}");
            }
        }
    }
    let _ = writeln!(out, "#EXT-X-ENDLIST");
    out
}

/// What the master playlist says of the one variant.
#[derive(Debug, Clone, PartialEq)]
pub struct VariantInfo {
    /// Peak segment bit rate (bits/s), moof overhead included approximately.
    pub bandwidth: u64,
    /// Average bit rate over the whole presentation.
    pub average_bandwidth: u64,
    /// CODECS: every track's codec string, comma-separated.
    pub codecs: String,
    /// Display resolution of the video, after rotation.
    pub resolution: Option<(u32, u32)>,
    /// Video frame rate.
    pub frame_rate: Option<f64>,
}

impl VariantInfo {
    /// Computes the variant attributes of `movie` cut into `segments`.
    pub fn of(movie: &Movie, segments: &[Segment]) -> Self {
        // Each fragment adds a moof of roughly 16 bytes per sample plus ~100.
        let bits = |s: &Segment| {
            let samples: usize = s.runs.iter().map(|(a, b)| b - a).sum();
            (s.bytes + 16 * samples as u64 + 100) * 8
        };
        let bandwidth = segments
            .iter()
            .filter(|s| s.duration > 0.0)
            .map(|s| (bits(s) as f64 / s.duration.max(0.5)).ceil() as u64)
            .max()
            .unwrap_or(0);
        let total: f64 = segments.iter().map(|s| s.duration).sum();
        let average_bandwidth = if total > 0.0 {
            (segments.iter().map(bits).sum::<u64>() as f64 / total).ceil() as u64
        } else {
            0
        };
        let codecs = movie
            .tracks
            .iter()
            .filter(|t| t.kind != TrackKind::Other)
            .filter_map(|t| t.codec.as_ref().ok().map(|c| c.codec.clone()))
            .collect::<Vec<_>>()
            .join(",");
        let video = movie.video_track();
        let resolution = video.and_then(|t| {
            let v = t.codec.as_ref().ok()?.video.as_ref()?;
            let (w, h) = (v.display_width, v.display_height);
            Some(if t.rotation % 180 == 90 {
                (h, w)
            } else {
                (w, h)
            })
        });
        let frame_rate = video
            .map(|t| (t.index.fps() * 1000.0).round() / 1000.0)
            .filter(|f| *f > 0.0);
        Self {
            bandwidth: bandwidth.max(average_bandwidth),
            average_bandwidth,
            codecs,
            resolution,
            frame_rate,
        }
    }
}

/// Writes a master playlist with one variant at `media_uri`.
pub fn master_playlist(variant: &VariantInfo, media_uri: &str) -> String {
    let mut out = String::from("#EXTM3U\n#EXT-X-VERSION:6\n#EXT-X-INDEPENDENT-SEGMENTS\n");
    let _ = write!(
        out,
        "#EXT-X-STREAM-INF:BANDWIDTH={},AVERAGE-BANDWIDTH={},CODECS=\"{}\"",
        variant.bandwidth, variant.average_bandwidth, variant.codecs
    );
    if let Some((w, h)) = variant.resolution {
        let _ = write!(out, ",RESOLUTION={w}x{h}");
    }
    if let Some(f) = variant.frame_rate {
        let _ = write!(out, ",FRAME-RATE={f:.3}");
    }
    let _ = writeln!(out, "\n{media_uri}");
    out
}
