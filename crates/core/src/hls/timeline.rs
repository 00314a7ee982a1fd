//! Frame numbering across the segments of an HLS media playlist, so that frame `k` means on
//! HLS what it means on MP4 without reading every segment first: frame `k` is the frame shown
//! at `k × frame_duration` seconds after the first frame of the first segment. Segment times
//! come from the playlist (EXTINF), frame times from the segments' own timestamps once read.
//!
//! The numbering is exact for constant-frame-rate streams (what HLS encoders and packagers
//! write): a segment's timestamps are placed on the timeline through an anchor per
//! discontinuity sequence, taken from the first segment of that sequence that is read. Live
//! playlists keep one continuous timeline across reloads: segments are matched by media
//! sequence number, new ones are appended after the last, and those that slid out of the
//! window are dropped (their frame numbers are not reused).
//!
//! EXTINF durations are only as exact as the packager made them (one that counts the audio's
//! last frame, or rounds to whole seconds, adds or loses frames), so the frame count from the
//! playlist is an estimate until the last segment of an ended playlist is read: its frames
//! then fix the end ([`HlsTimeline::note_frames`]).

use super::playlist::{live_update, LiveUpdate, Marker, MediaPlaylist, SegmentInfo};
use super::segment::{SegmentFormat, SegmentMedia};
use crate::codec::TrackKind;
use crate::probe::{round3, round6, MediaInfo};
use std::ops::Range;

/// The segments of a media playlist on one continuous timeline, and the frame grid on it.
#[derive(Debug, Clone)]
pub struct HlsTimeline {
    /// The latest playlist load.
    playlist: MediaPlaylist,
    /// Its segments, with `start` on this timeline (seconds from the first segment seen).
    segments: Vec<SegmentInfo>,
    /// Where `playlist`'s first segment starts on this timeline.
    origin: f64,
    /// Seconds per frame; 0 until [`HlsTimeline::set_frame_duration`].
    frame_duration: f64,
    /// Discontinuity sequence → what to add to a media timestamp (seconds) to place it here.
    anchors: Vec<(u64, f64)>,
    /// Added to discontinuity sequence numbers after a restart, so anchors stay apart.
    epoch: u64,
    /// The newest segment read (highest media sequence number) and its last frame number.
    newest_read: Option<(u64, u64)>,
}

impl HlsTimeline {
    /// A timeline starting at `playlist`'s first segment.
    pub fn new(playlist: MediaPlaylist) -> Self {
        let segments = playlist.segments.clone();
        Self {
            playlist,
            segments,
            origin: 0.0,
            frame_duration: 0.0,
            anchors: Vec::new(),
            epoch: 0,
            newest_read: None,
        }
    }

    /// Applies a reload of a live playlist: appends the new segments after the last known
    /// one and drops those that left the window. A restarted stream (media sequence going
    /// backwards) continues after the old end with fresh anchors.
    pub fn update(&mut self, next: MediaPlaylist) -> LiveUpdate {
        let update = live_update(&self.playlist, &next);
        let end = self.end();
        if update.restarted || update.shift.is_none() {
            // No segment in common: the new window starts where the old one ended.
            self.epoch = self.epoch.saturating_add(1 << 32);
            self.origin = end;
            self.newest_read = None;
        } else if let Some(shift) = update.shift {
            self.origin += shift;
        }
        let mut segments = next.segments.clone();
        for s in &mut segments {
            s.start += self.origin;
            s.discontinuity_sequence = s.discontinuity_sequence.saturating_add(self.epoch);
        }
        // Keep the timeline positions of segments already known (EXTINF may be rewritten).
        for s in &mut segments {
            if let Some(old) = self.segments.iter().find(|o| o.sequence == s.sequence) {
                if self.epoch == 0 || old.discontinuity_sequence == s.discontinuity_sequence {
                    s.start = old.start;
                }
            }
        }
        self.segments = segments;
        self.playlist = next;
        update
    }

    /// The latest playlist.
    pub fn playlist(&self) -> &MediaPlaylist {
        &self.playlist
    }

    /// The segments with their starts on this timeline.
    pub fn segments(&self) -> &[SegmentInfo] {
        &self.segments
    }

    /// Sets the frame duration in seconds (from the first segment read).
    pub fn set_frame_duration(&mut self, seconds: f64) {
        if seconds.is_finite() && seconds > 0.0 {
            self.frame_duration = seconds;
        }
    }

    /// Seconds per frame (0 until set).
    pub fn frame_duration(&self) -> f64 {
        self.frame_duration
    }

    /// Start of the first segment in the window.
    pub fn start(&self) -> f64 {
        self.segments.first().map_or(self.origin, |s| s.start)
    }

    /// End of the last segment.
    pub fn end(&self) -> f64 {
        self.segments
            .last()
            .map_or(self.origin, |s| s.start + s.duration)
    }

    /// The frame numbers the window holds: from `start / fd` (rounded) to the end that the
    /// last segment's frames showed (see [`HlsTimeline::end_frame`]), or before that is
    /// known, to `end / fd` rounded up only from three quarters of a frame (`floor(x + 0.25)`):
    /// a packager that counts the audio's last frame into EXTINF (up to 23 ms) adds no frame
    /// at 30 fps or less.
    pub fn frame_range(&self) -> Range<u64> {
        if self.frame_duration <= 0.0 {
            return 0..0;
        }
        let start = (self.start() / self.frame_duration).round().max(0.0) as u64;
        let end = self.end_frame().unwrap_or_else(|| self.estimated_end());
        start..end.max(start)
    }

    /// The end of the frame range from the playlist's durations alone.
    fn estimated_end(&self) -> u64 {
        (self.end() / self.frame_duration + 0.25).floor().max(0.0) as u64
    }

    /// Records the greatest frame number of a segment read. Once the last segment of a
    /// playlist that has ended is read, that fixes the end of the frame range.
    pub fn note_frames(&mut self, sequence: u64, last_frame: u64) {
        if self.newest_read.is_none_or(|(seq, _)| sequence >= seq) {
            self.newest_read = Some((sequence, last_frame));
        }
    }

    /// One past the last frame number, when the last segment of an ended playlist was read and
    /// its frames end near where the playlist's durations say (within two target durations
    /// and 5 %: EXTINF rounded to whole seconds drifts, a bogus timestamp or one reset without
    /// EXT-X-DISCONTINUITY does not get to move the end).
    pub fn end_frame(&self) -> Option<u64> {
        let (seq, last) = self.newest_read?;
        let is_last = self.segments.last()?.sequence == seq;
        if !is_last || self.is_live() || self.frame_duration <= 0.0 {
            return None;
        }
        let end = last.saturating_add(1);
        let estimate = self.estimated_end() as f64;
        let slack =
            2.0 * self.playlist.target_duration as f64 / self.frame_duration + estimate / 20.0;
        ((end as f64 - estimate).abs() <= slack).then_some(end)
    }

    /// Seconds on this timeline of frame `k`.
    pub fn frame_time(&self, k: u64) -> f64 {
        k as f64 * self.frame_duration
    }

    /// The segment (index into [`HlsTimeline::segments`]) whose time span holds the middle of
    /// frame `k` (the last segment for frames the playlist's durations left out but the last
    /// segment holds); `None` outside the window.
    pub fn segment_for_frame(&self, k: u64) -> Option<usize> {
        let t = (k as f64 + 0.5) * self.frame_duration;
        if self.segments.is_empty() || t < self.start() {
            return None;
        }
        if t >= self.end() {
            let held = self.end_frame().is_some_and(|end| k < end);
            return held.then(|| self.segments.len() - 1);
        }
        let i = self.segments.partition_point(|s| s.start <= t);
        Some(i.saturating_sub(1))
    }

    /// The frame on screen at `seconds` on this timeline; `None` outside the window.
    pub fn frame_at_time(&self, seconds: f64) -> Option<u64> {
        let fd = self.frame_duration;
        if !(seconds.is_finite() && fd > 0.0) {
            return None;
        }
        let k = ((seconds + 1e-9) / fd).floor().max(0.0) as u64;
        self.frame_range().contains(&k).then_some(k)
    }

    /// The segments (indices into [`HlsTimeline::segments`]) whose spans overlap
    /// `[from, to]` seconds.
    pub fn segments_between(&self, from: f64, to: f64) -> Range<usize> {
        let a = self
            .segments
            .partition_point(|s| s.start + s.duration <= from);
        let b = self.segments.partition_point(|s| s.start <= to);
        a..b.max(a)
    }

    /// The frame number each segment starts at (ascending, without repeats): where a decode
    /// pass can begin, as HLS segments start with a key frame.
    pub fn segment_start_frames(&self) -> Vec<u64> {
        if self.frame_duration <= 0.0 {
            return Vec::new();
        }
        let mut v: Vec<u64> = self
            .segments
            .iter()
            .map(|s| (s.start / self.frame_duration).round() as u64)
            .collect();
        v.dedup();
        v
    }

    /// The segment with media sequence number `sequence`.
    pub fn position(&self, sequence: u64) -> Option<usize> {
        self.segments.iter().position(|s| s.sequence == sequence)
    }

    /// The offset that places segment `i`'s media timestamps on this timeline, fixed by the
    /// first segment of its discontinuity sequence that is read: its earliest presentation
    /// time `first_pts` (seconds) lands on the segment's start.
    pub fn anchor(&mut self, i: usize, first_pts: f64) -> Option<f64> {
        let s = self.segments.get(i)?;
        let d = s.discontinuity_sequence;
        if let Some(&(_, offset)) = self.anchors.iter().find(|a| a.0 == d) {
            return Some(offset);
        }
        let offset = s.start - first_pts;
        self.anchors.push((d, offset));
        Some(offset)
    }

    /// Like [`HlsTimeline::anchor`], for timestamps that wrap every `wrap` seconds (MPEG-TS:
    /// 2^33 ticks of 90 kHz, about 26.5 hours): the anchor is moved by whole wraps so that
    /// segment `i`'s first frame lands nearest its playlist start. Each segment is demuxed
    /// on its own, so a segment read after a wrap has small timestamps again.
    pub fn anchor_wrapping(&mut self, i: usize, first_pts: f64, wrap: f64) -> Option<f64> {
        let offset = self.anchor(i, first_pts)?;
        let start = self.segments.get(i)?.start;
        if !(wrap.is_finite() && wrap > 0.0) {
            return Some(offset);
        }
        let wraps = ((start - (first_pts + offset)) / wrap).round();
        Some(offset + wraps * wrap)
    }

    /// The frame number of a frame presented at `pts` seconds (media time) in a segment whose
    /// anchor is `offset`.
    pub fn frame_of(&self, offset: f64, pts: f64) -> i64 {
        if self.frame_duration <= 0.0 {
            return 0;
        }
        ((pts + offset) / self.frame_duration).round() as i64
    }

    /// The playlist's EXT-X-DATERANGE markers, with times on this timeline.
    pub fn markers(&self) -> Vec<Marker> {
        let mut markers = self.playlist.markers();
        for m in &mut markers {
            m.time += self.origin;
        }
        markers
    }

    /// Whether the playlist may still grow.
    pub fn is_live(&self) -> bool {
        self.playlist.is_live()
    }
}

/// The probe summary of an HLS stream: the first segment read describes the tracks; the
/// playlist gives the duration, and the frame grid the frame count (up to the live edge for
/// a live playlist). `container` is `"hls"`, `size` 0 (a playlist has none).
pub fn hls_media_info(first: &SegmentMedia, timeline: &HlsTimeline) -> MediaInfo {
    let mut info = MediaInfo::from_movie(&first.movie);
    info.container = "hls".into();
    info.fragmented = first.format == SegmentFormat::Fmp4;
    info.size = 0;
    let duration = round6(timeline.end() - timeline.start());
    info.duration = duration;
    let frames = timeline.frame_range().end as usize;
    let fps = (timeline.frame_duration() > 0.0).then(|| round3(1.0 / timeline.frame_duration()));
    if info.codec.is_some() {
        info.frame_count = Some(frames);
        info.fps = fps;
    }
    for t in &mut info.tracks {
        t.duration = duration;
        match t.kind {
            TrackKind::Video => {
                t.frame_count = frames;
                t.fps = fps;
                t.keyframes = t.keyframes.max(timeline.segments().len());
            }
            // AAC: 1024 samples a frame.
            _ => {
                if let Some(rate) = t.sample_rate {
                    t.frame_count = (duration * f64::from(rate) / 1024.0).round() as usize;
                }
            }
        }
    }
    info
}

/// The typical frame duration of a video track, in seconds. The median of its frames'
/// presentation durations picks the rate (robust against a short last frame or a dropped
/// frame); the durations within a tick (or 1 %) of it are then averaged, because a timescale
/// that the rate does not divide makes them alternate (1 kHz at 30 fps: 33, 33, 34 ms); and
/// the mean snaps to a standard rate (whole frames per second, or NTSC's n × 1000/1001) when
/// it lies within what rounding to ticks allows, so that frame numbers counted from it do
/// not drift over a long stream.
pub fn typical_frame_duration(index: &crate::TrackIndex) -> Option<f64> {
    let n = index.frame_count();
    let mut d: Vec<i64> = (0..n.saturating_sub(1))
        .filter_map(|k| index.frame_duration(k))
        .filter(|&d| d > 0)
        .collect();
    if d.is_empty() {
        d.extend(
            (0..n)
                .filter_map(|k| index.frame_duration(k))
                .filter(|&d| d > 0),
        );
    }
    if d.is_empty() || index.timescale() == 0 {
        return None;
    }
    d.sort_unstable();
    let median = d[d.len() / 2];
    let near = (median / 100).max(1);
    let (sum, count) = d
        .iter()
        .filter(|&&x| (x - median).abs() <= near)
        .fold((0i64, 0usize), |(s, c), &x| (s.saturating_add(x), c + 1));
    let ts = f64::from(index.timescale());
    let mean = sum as f64 / count as f64 / ts;
    // Consecutive durations rounded to ticks sum to within a tick of the truth; each one left
    // out breaks the sum once more.
    let left_out = d.len() - count;
    let slack = (1.5 + left_out as f64) / (ts * count as f64);
    Some(standard_frame_duration(mean, slack).unwrap_or(mean))
}

/// The standard frame duration nearest `seconds` if one lies within `slack`: 1/r for r in
/// 1..=240 frames per second, or 1001/(1000 r) for NTSC's 23.976, 29.97, 47.952, 59.94,
/// 119.88 and 239.76.
fn standard_frame_duration(seconds: f64, slack: f64) -> Option<f64> {
    let whole = (1..=240).map(|r| 1.0 / f64::from(r));
    let ntsc = [24, 30, 48, 60, 120, 240].map(|r| 1.001 / f64::from(r));
    whole
        .chain(ntsc)
        .filter(|c| (c - seconds).abs() <= slack)
        .min_by(|a, b| (a - seconds).abs().total_cmp(&(b - seconds).abs()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::hls::playlist::parse_media;

    fn live(seq: u64, n: usize) -> MediaPlaylist {
        let mut text = format!(
            "#EXTM3U\n#EXT-X-VERSION:7\n#EXT-X-TARGETDURATION:2\n#EXT-X-MEDIA-SEQUENCE:{seq}\n"
        );
        for i in 0..n {
            text.push_str(&format!("#EXTINF:2.0,\nseg{}.ts\n", seq + i as u64));
        }
        parse_media(text.as_bytes()).expect("playlist")
    }

    #[test]
    fn frames_map_to_segments_and_back() {
        let mut t = HlsTimeline::new(live(0, 3));
        t.set_frame_duration(1.0 / 25.0);
        assert_eq!(t.frame_range(), 0..150);
        assert_eq!(t.segment_for_frame(0), Some(0));
        assert_eq!(t.segment_for_frame(49), Some(0));
        assert_eq!(t.segment_for_frame(50), Some(1));
        assert_eq!(t.segment_for_frame(149), Some(2));
        assert_eq!(t.segment_for_frame(150), None);
        // The first segment's first frame at media time 1.4 s becomes frame 0.
        let off = t.anchor(0, 1.4).expect("anchor");
        assert_eq!(t.frame_of(off, 1.4), 0);
        assert_eq!(t.frame_of(off, 1.4 + 51.0 / 25.0), 51);
        assert_eq!(t.frame_at_time(0.0), Some(0));
        assert_eq!(t.frame_at_time(1.0), Some(25));
        assert_eq!(t.frame_at_time(5.999), Some(149));
        assert_eq!(t.frame_at_time(6.0), None);
        assert_eq!(t.segments_between(0.0, 0.5), 0..1);
        assert_eq!(t.segments_between(1.5, 4.0), 0..3);
        assert_eq!(t.segments_between(2.0, 2.0), 1..2);
        assert_eq!(t.segment_start_frames(), vec![0, 50, 100]);
        // Later segments of the same discontinuity sequence share the anchor.
        assert_eq!(t.anchor(2, 99.0), Some(off));
        // After a 33-bit wrap, a segment's timestamps start again near 0.
        let wrap = (1u64 << 33) as f64 / 90_000.0;
        let late = 1.4 + 4.0 - wrap;
        let off2 = t.anchor_wrapping(2, late, wrap).expect("anchor");
        assert_eq!(t.frame_of(off2, late), 100);
        assert_eq!(t.anchor_wrapping(1, 1.4 + 2.0, wrap), Some(off));
    }

    #[test]
    fn live_reload_keeps_frame_numbers() {
        let mut t = HlsTimeline::new(live(10, 3));
        t.set_frame_duration(0.5);
        let off = t.anchor(1, 102.0).expect("anchor");
        assert_eq!(t.frame_of(off, 102.0), 4);
        let u = t.update(live(12, 3));
        assert_eq!(u.new_segments, 1..3);
        assert_eq!(t.segments()[0].sequence, 12);
        assert_eq!(t.segments()[0].start, 4.0);
        assert_eq!(t.frame_range(), 8..20);
        assert_eq!(t.segment_for_frame(7), None);
        assert_eq!(t.segment_for_frame(8), Some(0));
        assert_eq!(t.position(14), Some(2));
        // A restart continues after the old end, on a fresh anchor.
        t.update(live(0, 2));
        assert_eq!(t.start(), 10.0);
        assert_eq!(t.frame_range(), 20..28);
        let off2 = t.anchor(0, 0.0).expect("anchor");
        assert_eq!(t.frame_of(off2, 0.0), 20);
    }

    fn vod(extinf: &[&str]) -> MediaPlaylist {
        let mut text = String::from("#EXTM3U\n#EXT-X-VERSION:7\n#EXT-X-TARGETDURATION:2\n");
        for (i, d) in extinf.iter().enumerate() {
            text.push_str(&format!("#EXTINF:{d},\nseg{i}.m4s\n"));
        }
        text.push_str("#EXT-X-ENDLIST\n");
        parse_media(text.as_bytes()).expect("playlist")
    }

    #[test]
    fn extinf_that_counts_the_audio_tail_adds_no_frame() {
        // mediabunny's CMAF output: the first EXTINF includes AAC's last 21.3 ms; 150 frames.
        let mut t = HlsTimeline::new(vod(&["1.021333", "1", "1", "1", "1"]));
        t.set_frame_duration(1.0 / 30.0);
        assert_eq!(t.frame_range(), 0..150);
        assert_eq!(t.end_frame(), None);
    }

    #[test]
    fn the_last_segment_read_fixes_the_end() {
        // Whole-second EXTINF over 2.4 s segments at 10 fps: the playlist says 60 frames.
        let mut t = HlsTimeline::new(vod(&["2", "2", "2"]));
        t.set_frame_duration(0.1);
        assert_eq!(t.frame_range(), 0..60);
        assert_eq!(t.segment_for_frame(65), None);
        // Reading a middle segment changes nothing; the last one holds frames up to 71.
        t.note_frames(1, 47);
        assert_eq!(t.frame_range(), 0..60);
        t.note_frames(2, 71);
        assert_eq!(t.end_frame(), Some(72));
        assert_eq!(t.frame_range(), 0..72);
        assert_eq!(t.segment_for_frame(65), Some(2));
        assert_eq!(t.segment_for_frame(71), Some(2));
        assert_eq!(t.segment_for_frame(72), None);
        // A last segment with fewer frames than the durations promise shortens the range.
        let mut t = HlsTimeline::new(vod(&["2", "2", "2"]));
        t.set_frame_duration(0.1);
        t.note_frames(2, 54);
        assert_eq!(t.frame_range(), 0..55);
    }

    #[test]
    fn a_last_segment_far_from_the_playlist_does_not_move_the_end() {
        let mut t = HlsTimeline::new(vod(&["2", "2", "2"]));
        t.set_frame_duration(0.1);
        // A timestamp 10 h ahead, or reset to 0 without EXT-X-DISCONTINUITY.
        t.note_frames(2, 360_000);
        assert_eq!(t.end_frame(), None);
        assert_eq!(t.frame_range(), 0..60);
        t.note_frames(2, 9);
        assert_eq!(t.end_frame(), None);
        assert_eq!(t.frame_range(), 0..60);
    }

    #[test]
    fn a_live_playlist_has_no_exact_end() {
        let mut t = HlsTimeline::new(live(0, 3));
        t.set_frame_duration(0.5);
        t.note_frames(2, 13);
        assert_eq!(t.end_frame(), None);
        assert_eq!(t.frame_range(), 0..12);
    }

    #[test]
    fn frame_durations_snap_to_the_rate_that_ticks_round() {
        // 30 fps in a 1 kHz timescale: 33, 33, 34 ms.
        assert_eq!(
            standard_frame_duration(1.0 / 30.0 + 2e-6, 1.5 / 29_000.0),
            Some(1.0 / 30.0)
        );
        // 29.97 fps in a 1 kHz timescale lands on 1001/30000, not 1/30.
        assert_eq!(
            standard_frame_duration(0.033_367, 1.5 / 29_000.0),
            Some(1.001 / 30.0)
        );
        // Nothing standard near 33.8 ms: the mean stays.
        assert_eq!(standard_frame_duration(0.0338, 1.5 / 29_000.0), None);
    }
}
