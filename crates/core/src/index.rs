//! The track index: every sample with offset, size, decode and presentation time and sync
//! flag in decode order, plus the presentation order after the edit list, so that frame `k`
//! is the k-th frame a decoder shows (ffmpeg's frame k). Times stay integer ticks.

use crate::error::{Error, ErrorKind, Result};
use crate::mp4::tables::SampleTable;

/// One `elst` entry (ISO/IEC 14496-12 §8.6.6).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Edit {
    /// Segment duration in the movie timescale (0: to the end of the media).
    pub duration: u64,
    /// Start in media time, or -1 for an empty edit (a gap).
    pub media_time: i64,
    /// Playback rate, 16.16 fixed point (0x10000 = normal).
    pub rate: i32,
}

/// One sample, with its presentation time after the edit list.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Sample {
    /// Decode-order index.
    pub index: usize,
    /// File offset.
    pub offset: u64,
    /// Size in bytes.
    pub size: u32,
    /// Decode timestamp (media timescale, shifted by the edit list like `pts`).
    pub dts: i64,
    /// Presentation timestamp (media timescale, 0 = start of the presentation).
    pub pts: i64,
    /// Sample duration in decode order (media timescale).
    pub duration: u32,
    /// A sync (random access) sample.
    pub sync: bool,
    /// Decoded but not shown: outside the edit list's range.
    pub discard: bool,
}

/// All samples of a track, in decode order and in presentation order.
#[derive(Debug, Clone)]
pub struct TrackIndex {
    timescale: u32,
    samples: SampleTable,
    /// Presentation time per decode-order sample.
    pts: Vec<i64>,
    /// Frame k -> decode index (non-discarded samples by presentation time).
    order: Vec<u32>,
    /// Decode index -> frame k, or u32::MAX for discarded samples.
    frame_of: Vec<u32>,
    /// Decode indices of sync samples, ascending.
    syncs: Vec<u32>,
    /// Presentation duration in ticks.
    duration: i64,
    /// Added to media times to get presentation times (empty edits minus media_time).
    shift: i64,
    file_size: u64,
}

impl TrackIndex {
    /// Sets the size of the file the sample offsets point into (for indexes built before
    /// their buffer was complete).
    #[cfg(feature = "hls-input")]
    pub(crate) fn set_file_size(&mut self, size: u64) {
        self.file_size = size;
    }

    /// Builds the index from decode-order samples and the track's edit list.
    pub(crate) fn build(
        samples: SampleTable,
        timescale: u32,
        movie_timescale: u32,
        edits: &[Edit],
        file_size: u64,
    ) -> Result<Self> {
        let n = samples.len();
        if n > u32::MAX as usize - 1 {
            return Err(Error::too_large(
                "sample count",
                n as u64,
                u64::from(u32::MAX) - 1,
                0,
            ));
        }
        let to_media = |d: u64| -> i64 {
            let v = crate::time::rescale_u64(d, timescale, movie_timescale);
            i64::try_from(v).unwrap_or(i64::MAX)
        };
        // Leading empty edits delay the presentation; the first media edit selects the range.
        let mut empty = 0i64;
        let mut media: Option<(i64, Option<i64>)> = None;
        for e in edits {
            if e.media_time == -1 {
                if media.is_none() {
                    empty = empty.saturating_add(to_media(e.duration));
                }
                continue;
            }
            if media.is_none() {
                let len = (e.duration > 0).then(|| to_media(e.duration));
                media = Some((e.media_time.max(0), len));
            }
        }
        let (start, len) = media.unwrap_or((0, None));
        let shift = empty.saturating_sub(start);
        let mut pts = Vec::with_capacity(n);
        let mut shown = Vec::with_capacity(n);
        for i in 0..n {
            let cts = samples.dts[i].saturating_add(i64::from(samples.cto[i]));
            let visible = cts >= start && len.is_none_or(|l| cts < start.saturating_add(l));
            pts.push(cts.saturating_add(shift));
            if visible {
                shown.push(i as u32);
            }
        }
        // Stable: frames with equal times stay in decode order.
        crate::sort::sort_by_key(&mut shown, &|&i| crate::sort::signed_key(pts[i as usize]));
        let mut frame_of = vec![u32::MAX; n];
        for (k, &i) in shown.iter().enumerate() {
            frame_of[i as usize] = k as u32;
        }
        let mut syncs: Vec<u32> = (0..n as u32)
            .filter(|&i| samples.sync[i as usize])
            .collect();
        if syncs.first() != Some(&0) && n > 0 {
            // A decoder has to start somewhere: the first sample is the only candidate.
            syncs.insert(0, 0);
        }
        let duration = match len {
            Some(l) => empty.saturating_add(l),
            None => shown
                .iter()
                .map(|&i| pts[i as usize].saturating_add(i64::from(samples.duration[i as usize])))
                .max()
                .unwrap_or(0)
                .max(0),
        };
        let mut samples = samples;
        for d in &mut samples.dts {
            *d = d.saturating_add(shift);
        }
        Ok(Self {
            timescale,
            samples,
            pts,
            order: shown,
            frame_of,
            syncs,
            duration,
            shift,
            file_size,
        })
    }

    /// What the edit list adds to media times (decode times as stored in the file) to give
    /// presentation times: `sample.dts - shift` is the sample's decode time in the media, which
    /// a remuxer writes back (with the edit list) to keep the same timeline.
    pub fn shift(&self) -> i64 {
        self.shift
    }

    /// Composition offset (pts - dts) of decode-order sample `i`.
    pub fn composition_offset(&self, i: usize) -> Option<i32> {
        self.samples.cto.get(i).copied()
    }

    /// Ticks per second.
    pub fn timescale(&self) -> u32 {
        self.timescale
    }

    /// Size of the file the samples live in.
    pub fn file_size(&self) -> u64 {
        self.file_size
    }

    /// Number of samples in decode order (including ones the edit list hides).
    pub fn sample_count(&self) -> usize {
        self.samples.len()
    }

    /// Sample `i` in decode order.
    pub fn sample(&self, i: usize) -> Option<Sample> {
        Some(Sample {
            index: i,
            offset: *self.samples.offset.get(i)?,
            size: self.samples.size[i],
            dts: self.samples.dts[i],
            pts: self.pts[i],
            duration: self.samples.duration[i],
            sync: self.samples.sync[i],
            discard: self.frame_of[i] == u32::MAX,
        })
    }

    /// All samples in decode order.
    pub fn samples(&self) -> impl Iterator<Item = Sample> + '_ {
        (0..self.sample_count()).filter_map(|i| self.sample(i))
    }

    /// Number of frames shown (samples inside the edit list).
    pub fn frame_count(&self) -> usize {
        self.order.len()
    }

    /// Decode index of presentation frame `k`.
    pub fn frame_sample(&self, k: usize) -> Option<usize> {
        self.order.get(k).map(|&i| i as usize)
    }

    /// Presentation frame of decode-order sample `i`, if it is shown.
    pub fn sample_frame(&self, i: usize) -> Option<usize> {
        self.frame_of
            .get(i)
            .filter(|&&k| k != u32::MAX)
            .map(|&k| k as usize)
    }

    /// Decode index of frame `k`, or a typed error when `k` is past the end.
    pub fn frame_sample_checked(&self, k: usize) -> Result<usize> {
        self.frame_sample(k).ok_or_else(|| {
            Error::new(
                ErrorKind::FrameOutOfRange {
                    frame: k as u64,
                    count: self.frame_count() as u64,
                },
                0,
            )
        })
    }

    /// Presentation time of frame `k` in ticks.
    pub fn frame_pts(&self, k: usize) -> Option<i64> {
        self.frame_sample(k).map(|i| self.pts[i])
    }

    /// How long frame `k` stays on screen, in ticks (until the next frame; the sample
    /// duration for the last).
    pub fn frame_duration(&self, k: usize) -> Option<i64> {
        let pts = self.frame_pts(k)?;
        match self.frame_pts(k + 1) {
            Some(next) => Some(next - pts),
            None => self
                .frame_sample(k)
                .map(|i| i64::from(self.samples.duration[i])),
        }
    }

    /// The frame on screen at `ticks`: the last frame whose presentation time is not after it
    /// (frame 0 before the first frame). `None` for a track without frames.
    pub fn frame_at_ticks(&self, ticks: i64) -> Option<usize> {
        if self.order.is_empty() {
            return None;
        }
        let after = self
            .order
            .partition_point(|&i| self.pts[i as usize] <= ticks);
        Some(after.saturating_sub(1))
    }

    /// The frame on screen at `seconds` (see [`TrackIndex::frame_at_ticks`]). Tolerates float
    /// error of a tenth of a microsecond so that `k / fps` lands on frame k.
    pub fn frame_at_time(&self, seconds: f64) -> Option<usize> {
        if !seconds.is_finite() {
            return None;
        }
        let ts = f64::from(self.timescale);
        let ticks = (seconds * ts + 1e-7 * ts).floor();
        let ticks = ticks.clamp(i64::MIN as f64, i64::MAX as f64) as i64;
        self.frame_at_ticks(ticks)
    }

    /// The sync sample at or before decode index `i` (0 if none).
    pub fn sync_at_or_before(&self, i: usize) -> usize {
        let after = self.syncs.partition_point(|&s| s as usize <= i);
        self.syncs
            .get(after.saturating_sub(1))
            .map(|&s| s as usize)
            .unwrap_or(0)
    }

    /// Where the bytes of sample `i`'s GOP end: the furthest end of the samples from the sync
    /// sample at or before `i` up to the next sync sample, in decode order (0 when `i` is past
    /// the last sample). What a decoder playing on from `i` reads next.
    pub fn gop_end(&self, i: usize) -> u64 {
        if i >= self.sample_count() {
            return 0;
        }
        let next = self.syncs.partition_point(|&s| s as usize <= i);
        let end = self
            .syncs
            .get(next)
            .map_or(self.sample_count(), |&s| s as usize);
        (self.sync_at_or_before(i)..end)
            .filter_map(|j| self.sample(j))
            .map(|s| s.offset.saturating_add(u64::from(s.size)))
            .max()
            .unwrap_or(0)
    }

    /// Decode indices of the sync samples.
    pub fn sync_samples(&self) -> &[u32] {
        &self.syncs
    }

    /// Presentation duration in ticks.
    pub fn duration_ticks(&self) -> i64 {
        self.duration
    }

    /// Presentation time of the first frame in ticks (0 with an edit list that starts the
    /// media at its first frame; the B-frame delay in files without an edit list).
    pub fn start_ticks(&self) -> i64 {
        self.frame_pts(0).unwrap_or(0).min(self.duration)
    }

    /// Seconds from the first frame's presentation to the end, as ffprobe reports a stream's
    /// duration.
    pub fn span_seconds(&self) -> f64 {
        if self.timescale == 0 {
            return 0.0;
        }
        (self.duration - self.start_ticks()) as f64 / f64::from(self.timescale)
    }

    /// Presentation end in seconds (timeline starts at 0).
    pub fn duration_seconds(&self) -> f64 {
        if self.timescale == 0 {
            return 0.0;
        }
        self.duration as f64 / f64::from(self.timescale)
    }

    /// Average frames per second over the presentation (0 when unknown).
    pub fn fps(&self) -> f64 {
        let d = self.span_seconds();
        if d > 0.0 {
            self.frame_count() as f64 / d
        } else {
            0.0
        }
    }
}
