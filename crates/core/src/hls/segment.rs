//! One HLS media segment as a small in-memory movie: an MPEG-TS segment demuxed, or an fMP4
//! segment read after its EXT-X-MAP initialization section, becomes a [`Movie`] whose sample
//! offsets point into one buffer. The browser module then plans and decodes a segment's frames
//! exactly as it does an MP4 file's.

use super::ts::{demux_ts_with, looks_like_ts, TsOptions, TsTrack, TS_TIMESCALE};
use crate::codec::{CodecConfig, TrackKind};
use crate::error::{Error, Result};
use crate::index::TrackIndex;
use crate::mp4::tables::SampleTable;
use crate::mp4::{Container, Movie, Mp4Reader, Need, Track};

/// How a segment was packaged.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SegmentFormat {
    /// MPEG-2 transport stream.
    Ts,
    /// Fragmented MP4 (moof + mdat after an initialization section), or a whole MP4.
    Fmp4,
}

/// A demuxed segment: its tracks, with sample offsets into `data`.
#[derive(Debug, Clone)]
pub struct SegmentMedia {
    /// How the segment was packaged.
    pub format: SegmentFormat,
    /// The tracks; the sample offsets are positions in `data`.
    pub movie: Movie,
    /// The sample bytes (for fMP4: the initialization section followed by the segment).
    pub data: Vec<u8>,
}

impl SegmentMedia {
    /// Gives a transport stream's video track whose segment carries no parameter sets (SPS/PPS
    /// sent once, at the start of the stream) the configuration of an earlier segment of the
    /// stream. Returns whether it did; a track with its own configuration keeps it.
    pub fn inherit_video_codec(&mut self, earlier: &CodecConfig) -> bool {
        if self.format != SegmentFormat::Ts {
            return false;
        }
        match self
            .movie
            .tracks
            .iter_mut()
            .find(|t| t.kind == TrackKind::Video)
        {
            Some(t) if t.codec.is_err() => {
                t.codec = Ok(earlier.clone());
                true
            }
            _ => false,
        }
    }
}

/// Reads one segment. `init` is the EXT-X-MAP initialization section when the playlist has
/// one; a transport stream is recognised by its sync bytes whatever `init` says.
pub fn read_segment(init: Option<&[u8]>, segment: &[u8], ts: &TsOptions) -> Result<SegmentMedia> {
    if looks_like_ts(segment) {
        return ts_segment(segment, ts);
    }
    let mut data = Vec::with_capacity(init.map_or(0, <[u8]>::len) + segment.len());
    data.extend_from_slice(init.unwrap_or_default());
    data.extend_from_slice(segment);
    let movie = read_buffer(&data)?;
    Ok(SegmentMedia {
        format: SegmentFormat::Fmp4,
        movie,
        data,
    })
}

/// How many of the segments before one whose first frames continue a GOP a join should ask
/// for at once, nearest first. `known_start` tells, for each of them nearest first, whether
/// it is known (read already) to hold a frame a decoder can start at. The one right before is
/// needed whatever it holds; so are those back to the nearest known start, when that is at
/// most `max` back (one of them may turn out to hold a start too: the ones before it are then
/// fetched for nothing). Past `max`, or with none known, the join reads on one at a time.
pub fn join_prefetch(known_start: impl IntoIterator<Item = bool>, max: usize) -> usize {
    known_start
        .into_iter()
        .take(max + 1)
        .position(|known| known)
        .unwrap_or(1)
        .max(1)
}

/// A video track joined from consecutive segments (see [`join_video`]).
#[derive(Debug, Clone)]
pub struct JoinedVideo {
    /// One video track over the joined samples, their offsets counted in the joined bytes.
    pub movie: Movie,
    /// Where the joined bytes come from, in order: (part, offset in that part's sample
    /// bytes, size), one per sample.
    pub copies: Vec<(usize, u64, u32)>,
}

/// The video samples of `parts` (demuxed segments of one stream, in order) from decode-order
/// sample `from` of the first part on, as one track, so that a GOP that runs across segments
/// (segments cut by time, or at open-GOP I-frames) decodes as one run. Timestamps stay as each
/// part has them: segments of one stream share a clock. Errors: no video track in the first
/// part, or decode times that go back (a clock that restarts: a discontinuity).
pub fn join_video(parts: &[&Movie], from: usize) -> Result<JoinedVideo> {
    let first = parts
        .first()
        .and_then(|m| m.video_track())
        .ok_or_else(|| Error::invalid("joined segments", "no video track", 0))?;
    let mut table = SampleTable::default();
    let mut copies = Vec::new();
    let mut size = 0u64;
    let mut last_dts = i64::MIN;
    for (p, movie) in parts.iter().enumerate() {
        let Some(track) = movie.video_track() else {
            continue;
        };
        for s in track.index.samples().skip(if p == 0 { from } else { 0 }) {
            if s.dts < last_dts || track.timescale != first.timescale {
                return Err(Error::invalid(
                    "joined segments",
                    format!("segment {p} of the join does not continue the clock"),
                    0,
                ));
            }
            last_dts = s.dts;
            let cto = i32::try_from(s.pts - s.dts)
                .map_err(|_| Error::invalid("joined segments", "PTS too far from DTS", 0))?;
            table.push(size, s.size, s.dts, s.duration, cto, s.sync);
            copies.push((p, s.offset, s.size));
            size += u64::from(s.size);
        }
    }
    let index = TrackIndex::build(table, first.timescale, first.timescale, &[], size)?;
    let duration = index.duration_seconds();
    let track = Track {
        id: first.id,
        kind: first.kind,
        timescale: first.timescale,
        codec: first.codec.clone(),
        rotation: first.rotation,
        tkhd_size: first.tkhd_size,
        language: first.language.clone(),
        sample_entry: first.sample_entry.clone(),
        edits: Vec::new(),
        index,
    };
    let head = parts[0];
    Ok(JoinedVideo {
        movie: Movie {
            container: head.container,
            major_brand: head.major_brand,
            fragmented: head.fragmented,
            timescale: head.timescale,
            duration,
            file_size: size,
            tracks: vec![track],
        },
        copies,
    })
}

/// Runs the incremental MP4 reader over a buffer that holds the whole (virtual) file.
fn read_buffer(data: &[u8]) -> Result<Movie> {
    let mut reader = Mp4Reader::new(data.len() as u64);
    while let Need::Bytes { range, .. } = reader.need() {
        let start = usize::try_from(range.start).unwrap_or(usize::MAX);
        let Some(bytes) = data.get(start..) else {
            return Err(Error::truncated("segment", range.start));
        };
        reader.push(range.start, bytes)?;
    }
    reader.finish()
}

fn ts_segment(segment: &[u8], opts: &TsOptions) -> Result<SegmentMedia> {
    let demuxed = demux_ts_with(segment, opts)?;
    let mut data = Vec::new();
    let mut tracks = Vec::new();
    let streams = [
        (1u32, TrackKind::Video, demuxed.video),
        (2, TrackKind::Audio, demuxed.audio),
    ];
    for (id, kind, track) in streams {
        let Some(track) = track else { continue };
        tracks.push(ts_track(id, kind, track, &mut data)?);
    }
    let duration = tracks
        .iter()
        .map(|t| t.index.duration_seconds())
        .fold(0.0, f64::max);
    let size = data.len() as u64;
    for t in &mut tracks {
        t.index.set_file_size(size);
    }
    Ok(SegmentMedia {
        format: SegmentFormat::Ts,
        movie: Movie {
            container: Container::Mp4,
            major_brand: None,
            fragmented: false,
            timescale: TS_TIMESCALE,
            duration,
            file_size: size,
            tracks,
        },
        data,
    })
}

/// One demuxed elementary stream as a track whose samples lie in `data` (appended to).
fn ts_track(id: u32, kind: TrackKind, track: TsTrack, data: &mut Vec<u8>) -> Result<Track> {
    let base = data.len() as u64;
    let mut table = SampleTable::default();
    for s in &track.samples {
        let size = s.data.end.saturating_sub(s.data.start);
        let cto = i32::try_from(s.pts.saturating_sub(s.dts))
            .map_err(|_| Error::invalid("PES timestamps", "PTS too far from DTS", 0))?;
        table.push(
            base + s.data.start as u64,
            u32::try_from(size).unwrap_or(u32::MAX),
            s.dts,
            s.duration,
            cto,
            s.sync,
        );
    }
    data.extend_from_slice(&track.data);
    let index = TrackIndex::build(table, track.timescale, track.timescale, &[], 0)?;
    let tkhd_size = track
        .codec
        .as_ref()
        .and_then(|c| c.video.as_ref())
        .map_or((0, 0), |v| (v.display_width, v.display_height));
    let codec = track.codec.ok_or_else(|| {
        Error::unsupported(
            format!(
                "stream type 0x{:02x} without a readable configuration",
                track.stream_type
            ),
            0,
        )
    });
    Ok(Track {
        id,
        kind,
        timescale: track.timescale,
        codec,
        rotation: 0,
        tkhd_size,
        language: None,
        sample_entry: Vec::new(),
        edits: Vec::new(),
        index,
    })
}

#[cfg(test)]
mod tests {
    use super::join_prefetch;

    #[test]
    fn join_prefetch_reaches_back_to_a_known_start() {
        // Segment 0 read (an IDR), the frame in segment 3: segments 2 and 1 at once.
        assert_eq!(join_prefetch([false, false, true], 4), 2);
        // The one right before holds the start: it alone (already cached).
        assert_eq!(join_prefetch([true, false], 4), 1);
        // Nothing known, or a known start too far back: the one right before.
        assert_eq!(join_prefetch([false; 8], 4), 1);
        assert_eq!(
            join_prefetch([false, false, false, false, false, true], 4),
            1
        );
        assert_eq!(join_prefetch([false, false, false, false, true], 4), 4);
        assert_eq!(join_prefetch([], 4), 1);
    }
}
