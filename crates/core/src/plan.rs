//! The range planner: which samples a decoder must see to show a frame (from the sync sample
//! through the frame in decode order, reaching back one GOP for open-GOP leading pictures),
//! and the fewest bounded byte ranges that carry them.

use crate::error::{Error, Result};
use crate::index::TrackIndex;
use serde::Serialize;

/// A half-open byte range `[start, end)`. As an HTTP header it is `bytes=start-(end-1)`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
pub struct ByteRange {
    /// First byte.
    pub start: u64,
    /// One past the last byte.
    pub end: u64,
}

impl ByteRange {
    /// `[start, end)`.
    pub fn new(start: u64, end: u64) -> Self {
        Self { start, end }
    }

    /// Length in bytes.
    pub fn len(&self) -> u64 {
        self.end.saturating_sub(self.start)
    }

    /// True when the range holds no bytes.
    pub fn is_empty(&self) -> bool {
        self.end <= self.start
    }

    /// The `Range` header value, `bytes=a-b` (inclusive end). Never open-ended.
    pub fn header_value(&self) -> String {
        crate::text!["bytes=", self.start, "-", self.end.saturating_sub(1)]
    }
}

/// Planner tunables.
#[derive(Debug, Clone, Copy)]
pub struct PlanOptions {
    /// Neighbouring ranges at most this far apart are fetched as one (the gap is read and dropped):
    /// a round trip costs more than a few KB at any realistic bandwidth.
    pub max_gap: u64,
}

impl Default for PlanOptions {
    fn default() -> Self {
        Self { max_gap: 16 * 1024 }
    }
}

/// Decode-order samples `first..=last` that a decoder must be fed, starting at a sync sample.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct DecodeRun {
    /// The sync sample that starts the run.
    pub first: usize,
    /// The last sample to feed (inclusive).
    pub last: usize,
}

impl DecodeRun {
    /// Number of samples in the run.
    pub fn len(&self) -> usize {
        self.last + 1 - self.first
    }

    /// Never true: a run holds at least its sync sample.
    pub fn is_empty(&self) -> bool {
        false
    }

    /// Whether the last sample is shown after every other sample of the run, as an I or P
    /// picture is (a B picture is shown before the picture decoded ahead of it). For such a
    /// frame the B pictures before it may be left out (`codec::h264_skip`).
    pub fn ends_on_anchor(&self, index: &TrackIndex) -> bool {
        let pts = |i| index.sample(i).map(|s| s.pts);
        (self.first..self.last).all(|i| pts(i) < pts(self.last))
    }
}

/// What to fetch and decode to show one frame.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FramePlan {
    /// The presentation-order frame.
    pub frame: usize,
    /// Its decode-order sample.
    pub sample: usize,
    /// Its presentation time in ticks.
    pub pts: i64,
    /// Samples to decode.
    pub run: DecodeRun,
    /// Coalesced byte ranges holding every sample of `run`, ascending.
    pub ranges: Vec<ByteRange>,
}

/// A group of wanted frames decoded in one pass (see [`plan_frames`]).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct GopPlan {
    /// Samples to decode.
    pub run: DecodeRun,
    /// The wanted frames this pass yields, ascending presentation order.
    pub frames: Vec<usize>,
    /// Coalesced byte ranges for `run`.
    pub ranges: Vec<ByteRange>,
}

/// Decode-order samples fetched past the last one that a soft end needs (see [`soft_feed`]):
/// decoders hold pictures back for reordering until later pictures arrive (two for common
/// B-frame streams, plus what frame threading keeps), so the samples after the end follow
/// in the same request.
pub const SOFT_EXTRA: usize = 3;

/// What a decode pass does with decode-order sample `i` when its wanted frames stop, for now,
/// at a soft end (a `frames()` stream that a later call may continue from that end without
/// decoding the GOP again); `pending` are the wanted frames before the end that have not
/// come out of the decoder yet.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SoftFeed {
    /// A pending frame's own sample is `i` or later: feed `i`, and fetch through the sample
    /// given (the last pending one's, plus [`SOFT_EXTRA`]).
    Feed(usize),
    /// Every pending frame's sample has been fed, and the decoder holds them back for
    /// reordering: feed `i` once the decoder has taken what it was given, so that no more
    /// pictures are decoded past the end than the decoder needs to let them out; fetch
    /// through the sample given.
    Drain(usize),
    /// No frame before the end is pending: feed nothing until the end moves.
    Hold,
}

/// See [`SoftFeed`]; sample numbers beyond the run are the caller's to cap.
pub fn soft_feed(index: &TrackIndex, pending: impl Iterator<Item = usize>, i: usize) -> SoftFeed {
    match pending.filter_map(|k| index.frame_sample(k)).max() {
        None => SoftFeed::Hold,
        Some(last) if last >= i => SoftFeed::Feed(last + SOFT_EXTRA),
        Some(_) => SoftFeed::Drain(i + SOFT_EXTRA),
    }
}

/// Where a fetch of decode-order sample `first` can end to carry samples `first..=last` in
/// the same request: the end of `last`'s bytes when the samples lie together, in ascending
/// order with other tracks' chunks between them at most doubling the span (interleaved media
/// data); else 0 (fetch `first` alone).
pub fn span_end(index: &TrackIndex, first: usize, last: usize) -> u64 {
    let (Some(a), Some(b)) = (index.sample(first), index.sample(last)) else {
        return 0;
    };
    let bytes: u64 = (first..=last)
        .filter_map(|j| index.sample(j))
        .map(|s| u64::from(s.size))
        .sum();
    let end = b.offset.saturating_add(u64::from(b.size));
    if b.offset >= a.offset && end - a.offset <= 2 * bytes + (64 << 10) {
        end
    } else {
        0
    }
}

impl GopPlan {
    /// The part of the run that the pass's frames before `end` need, with [`SOFT_EXTRA`]
    /// samples after it (within the run): what a pass with a soft end fetches at its start.
    /// `None` when no frame of the pass lies before `end`.
    pub fn soft_run(&self, index: &TrackIndex, end: usize) -> Option<DecodeRun> {
        let below = self.frames.iter().copied().filter(|&k| k < end);
        match soft_feed(index, below, self.run.first) {
            SoftFeed::Feed(last) => Some(DecodeRun {
                first: self.run.first,
                last: last.min(self.run.last),
            }),
            _ => None,
        }
    }
}

/// The decode run for decode-order sample `i`: from its sync sample through `i`; when `i` is
/// shown before that sync sample (a leading picture of an open GOP), from the sync sample
/// before, since it may reference the previous GOP.
pub fn decode_run(index: &TrackIndex, i: usize) -> DecodeRun {
    let mut first = index.sync_at_or_before(i);
    let pts = |j: usize| index.sample(j).map(|s| s.pts).unwrap_or(0);
    if first > 0 && pts(i) < pts(first) {
        first = index.sync_at_or_before(first - 1);
    }
    DecodeRun { first, last: i }
}

/// Like [`decode_run`], but also walks back past sync samples that `is_start` rejects (see
/// [`crate::codec::is_decoder_start`]); `is_start` answers `None` for samples whose bytes the
/// caller has not seen yet, which are taken as valid starts.
pub fn decode_run_where(
    index: &TrackIndex,
    i: usize,
    is_start: &dyn Fn(usize) -> Option<bool>,
) -> DecodeRun {
    let mut run = decode_run(index, i);
    while run.first > 0 && is_start(run.first) == Some(false) {
        run.first = index.sync_at_or_before(run.first - 1);
    }
    run
}

/// Plans presentation frame `frame`.
pub fn plan_frame(index: &TrackIndex, frame: usize, opts: &PlanOptions) -> Result<FramePlan> {
    plan_frame_where(index, frame, opts, &|_| None)
}

/// Plans the frame on screen at `seconds` (see [`TrackIndex::frame_at_time`]).
pub fn plan_time(index: &TrackIndex, seconds: f64, opts: &PlanOptions) -> Result<FramePlan> {
    let frame = index.frame_at_time(seconds).ok_or_else(|| {
        Error::new(
            crate::error::ErrorKind::FrameOutOfRange { frame: 0, count: 0 },
            0,
        )
    })?;
    plan_frame(index, frame, opts)
}

/// Plans presentation frame `frame`, starting only at sync samples `is_start` accepts.
pub fn plan_frame_where(
    index: &TrackIndex,
    frame: usize,
    opts: &PlanOptions,
    is_start: &dyn Fn(usize) -> Option<bool>,
) -> Result<FramePlan> {
    let sample = index.frame_sample_checked(frame)?;
    let run = decode_run_where(index, sample, is_start);
    let ranges = run_ranges(index, run, opts)?;
    let pts = index.frame_pts(frame).unwrap_or(0);
    Ok(FramePlan {
        frame,
        sample,
        pts,
        run,
        ranges,
    })
}

/// Plans a set of frames (ascending presentation order, as `frames({start, end, step})`
/// yields them) as decode passes: frames whose runs overlap share one pass, and GOPs with no
/// wanted frame are skipped.
pub fn plan_frames(
    index: &TrackIndex,
    frames: &[usize],
    opts: &PlanOptions,
) -> Result<Vec<GopPlan>> {
    plan_frames_where(index, frames, opts, &|_| None)
}

/// [`plan_frames`], starting only at sync samples `is_start` accepts.
pub fn plan_frames_where(
    index: &TrackIndex,
    frames: &[usize],
    opts: &PlanOptions,
    is_start: &dyn Fn(usize) -> Option<bool>,
) -> Result<Vec<GopPlan>> {
    let mut plans: Vec<GopPlan> = Vec::new();
    for &k in frames {
        let i = index.frame_sample_checked(k)?;
        let run = decode_run_where(index, i, is_start);
        match plans.last_mut() {
            Some(p) if run.first >= p.run.first && run.first <= p.run.last => {
                p.run.last = p.run.last.max(run.last);
                p.frames.push(k);
            }
            _ => plans.push(GopPlan {
                run,
                frames: vec![k],
                ranges: Vec::new(),
            }),
        }
    }
    for p in &mut plans {
        p.ranges = run_ranges(index, p.run, opts)?;
    }
    Ok(plans)
}

/// Byte ranges of the samples in `run`, coalesced; an error if any lies past the end of
/// the file (a truncated file).
pub fn run_ranges(
    index: &TrackIndex,
    run: DecodeRun,
    opts: &PlanOptions,
) -> Result<Vec<ByteRange>> {
    let mut ranges = Vec::with_capacity(run.len());
    for i in run.first..=run.last {
        let Some(s) = index.sample(i) else { break };
        let end = s.offset.saturating_add(u64::from(s.size));
        if end > index.file_size() {
            return Err(Error::truncated(
                "sample data (the file ends before it)",
                s.offset,
            ));
        }
        ranges.push(ByteRange::new(s.offset, end));
    }
    Ok(coalesce(ranges, opts.max_gap))
}

/// Sorts ranges and merges those that overlap or lie at most `max_gap` bytes apart.
pub fn coalesce(mut ranges: Vec<ByteRange>, max_gap: u64) -> Vec<ByteRange> {
    ranges.retain(|r| !r.is_empty());
    crate::sort::sort_by_key(&mut ranges, &|r| r.start);
    let mut out: Vec<ByteRange> = Vec::with_capacity(ranges.len());
    for r in ranges {
        match out.last_mut() {
            Some(last) if r.start <= last.end.saturating_add(max_gap) => {
                last.end = last.end.max(r.end)
            }
            _ => out.push(r),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn coalesces_near_and_overlapping_ranges() {
        let r = coalesce(
            vec![
                ByteRange::new(100, 200),
                ByteRange::new(0, 50),
                ByteRange::new(60, 80),
                ByteRange::new(150, 300),
                ByteRange::new(1000, 1001),
            ],
            10,
        );
        assert_eq!(
            r,
            vec![
                ByteRange::new(0, 80),
                ByteRange::new(100, 300),
                ByteRange::new(1000, 1001)
            ]
        );
        assert_eq!(ByteRange::new(0, 64).header_value(), "bytes=0-63");
    }
}
