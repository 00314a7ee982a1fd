//! One movie prepared for HLS: its index, the segments cut at sync samples where a decoder can
//! start, the init segment and each fragment's header, all from frameseek-core. The server
//! and `frameseek pack` share it; only their playlists' URIs differ.

use crate::storage::Object;
use anyhow::{bail, Result};
use bytes::Bytes;
use frameseek_core::hls::{segment_movie_where, Segment, VariantInfo};
use frameseek_core::mp4::{write_fragment, write_init, Fragment};
use frameseek_core::{is_decoder_start, read_movie, Movie, TrackKind};

/// Approximate memory of one indexed sample (offset, size, times, flags, orders).
const BYTES_PER_SAMPLE: u64 = 48;

/// How much of a sync sample is read first to tell whether a decoder can start there: enough
/// for the access unit delimiter, parameter sets and SEI that precede the first slice. When
/// those bytes hold no IDR, the whole sample is read before the answer is no.
const START_PROBE_BYTES: u64 = 8 * 1024;

/// A movie cut into HLS segments, with its init segment.
pub struct Package {
    /// The source's index (sample offsets point into the source).
    pub movie: Movie,
    /// Segments, in order; `runs` index `movie.tracks`.
    pub segments: Vec<Segment>,
    /// The init segment (ftyp + moov with mvex) for the audio and video tracks.
    pub init: Bytes,
    /// BANDWIDTH, CODECS, RESOLUTION and FRAME-RATE of the one variant.
    pub variant: VariantInfo,
}

impl Package {
    /// Cuts `movie` into segments of about `target` seconds, starting only at sync samples
    /// that `is_start` (the movie, a decode-order sample of its main video track) does not
    /// reject. Fails if the movie has no audio or video samples to stream.
    pub fn new(
        movie: Movie,
        target: f64,
        is_start: &dyn Fn(&Movie, usize) -> Option<bool>,
    ) -> Result<Self> {
        let tracks: Vec<_> = movie
            .tracks
            .iter()
            .filter(|t| t.kind != TrackKind::Other && t.index.sample_count() > 0)
            .collect();
        if tracks.is_empty() {
            bail!("no audio or video samples to stream");
        }
        let segments = segment_movie_where(&movie, target, &|i| is_start(&movie, i));
        if segments.is_empty() {
            bail!("no segments could be cut");
        }
        let init = Bytes::from(write_init(movie.timescale, &tracks));
        let variant = VariantInfo::of(&movie, &segments);
        Ok(Package {
            movie,
            segments,
            init,
            variant,
        })
    }

    /// Reads the movie in `object` with positioned reads (blocking) and cuts it.
    pub fn read(object: &dyn Object, target: f64) -> Result<Self> {
        let size = object.len();
        let movie = read_movie(size, |start, end| -> Result<Vec<u8>> {
            if start > end || end > size {
                bail!("read {start}..{end} outside the object ({size} bytes)");
            }
            let len = usize::try_from(end - start)?;
            Ok(Vec::from(object.read_at(start, len)?))
        })?;
        // One read of a sync sample's first bytes per candidate segment start (H.264 and
        // HEVC only: other codecs have no open-GOP sync samples to tell apart).
        let is_start = |movie: &Movie, i: usize| -> Option<bool> {
            let video = movie.video_track()?;
            let codec = video.codec.as_ref().ok()?;
            codec.description.as_ref()?;
            let sample = video.index.sample(i)?;
            let read = |len: u64| {
                object
                    .read_at(sample.offset, usize::try_from(len).ok()?)
                    .ok()
            };
            let head = u64::from(sample.size).min(START_PROBE_BYTES);
            match is_decoder_start(codec, &read(head)?) {
                // No IDR in the first bytes: look at the whole sample before refusing it.
                Some(false) if head < u64::from(sample.size) => {
                    is_decoder_start(codec, &read(u64::from(sample.size))?)
                }
                answer => answer,
            }
        };
        Package::new(movie, target, &is_start)
    }

    /// Fragment `n` (0-based): the moof + mdat header and the source ranges of its payload.
    pub fn fragment(&self, n: usize) -> Option<Fragment> {
        let segment = self.segments.get(n)?;
        let sequence = u32::try_from(n + 1).ok()?;
        Some(write_fragment(
            sequence,
            &segment.fragment_runs(&self.movie),
        ))
    }

    /// Approximate bytes this package holds in memory (for the cache's budget).
    pub fn cost(&self) -> u64 {
        let samples: u64 = self
            .movie
            .tracks
            .iter()
            .map(|t| t.index.sample_count() as u64)
            .sum();
        let segments = self.segments.len() as u64 * (64 + 16 * self.movie.tracks.len() as u64);
        samples * BYTES_PER_SAMPLE + segments + self.init.len() as u64
    }
}
