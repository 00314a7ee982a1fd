//! HLS responses as storage objects, so `respond::serve` answers them exactly as it answers
//! files (ranges, conditionals, HEAD, validators): bytes held in memory (playlists, init
//! segments), and fMP4 segments made of a moof header followed by byte ranges of the source.

use crate::storage::{ByteStream, Object, CHUNK};
use bytes::{Bytes, BytesMut};
use frameseek_core::mp4::Fragment;
use futures_util::Stream;
use std::collections::VecDeque;
use std::io;
use std::ops::Range;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::SystemTime;

fn out_of_range() -> io::Error {
    io::Error::new(io::ErrorKind::UnexpectedEof, "read past the end")
}

/// Bytes in memory with the validators of what they were made from.
pub struct MemObject {
    bytes: Bytes,
    modified: SystemTime,
    version: String,
}

impl MemObject {
    /// `bytes`, last modified at `modified`, with ETag token `version`.
    pub fn new(bytes: Bytes, modified: SystemTime, version: String) -> Self {
        MemObject {
            bytes,
            modified,
            version,
        }
    }

    fn slice(&self, offset: u64, len: usize) -> io::Result<Bytes> {
        let start = usize::try_from(offset).map_err(|_| out_of_range())?;
        let end = start.checked_add(len).ok_or_else(out_of_range)?;
        if end > self.bytes.len() {
            return Err(out_of_range());
        }
        Ok(self.bytes.slice(start..end))
    }
}

impl Object for MemObject {
    fn len(&self) -> u64 {
        self.bytes.len() as u64
    }
    fn modified(&self) -> SystemTime {
        self.modified
    }
    fn version(&self) -> String {
        self.version.clone()
    }
    fn read_at(&self, offset: u64, len: usize) -> io::Result<Bytes> {
        self.slice(offset, len)
    }
    fn read_cached(&self, offset: u64, len: usize) -> Option<io::Result<Bytes>> {
        Some(self.slice(offset, len))
    }
    fn ffmpeg_input(&self) -> Option<String> {
        None
    }
    fn read_range(self: Arc<Self>, range: Range<u64>) -> ByteStream {
        let len = usize::try_from(range.end.saturating_sub(range.start)).unwrap_or(usize::MAX);
        let item = self.slice(range.start, len);
        Box::pin(futures_util::stream::iter([item]))
    }
}

/// One fMP4 segment: `header` (moof + mdat header) then the payload ranges of `source`.
pub struct SegmentObject {
    source: Arc<dyn Object>,
    header: Bytes,
    /// Payload ranges of the source, with the segment offset where each begins.
    payload: Vec<(u64, Range<u64>)>,
    len: u64,
    version: String,
}

/// A part of a segment: bytes of the header, or a range of the source.
enum Piece {
    Bytes(Bytes),
    Source(Range<u64>),
}

impl SegmentObject {
    /// The segment `fragment` over `source`, with ETag token `version`.
    pub fn new(source: Arc<dyn Object>, fragment: Fragment, version: String) -> Self {
        let header = Bytes::from(fragment.header);
        let mut at = header.len() as u64;
        let payload = fragment
            .payload
            .iter()
            .map(|r| {
                let start = at;
                at += r.end.saturating_sub(r.start);
                (start, r.start..r.end)
            })
            .collect();
        SegmentObject {
            source,
            header,
            payload,
            len: at,
            version,
        }
    }

    /// Whether every payload range lies inside the source.
    pub fn fits_source(&self) -> bool {
        let size = self.source.len();
        self.payload
            .iter()
            .all(|(_, r)| r.start <= r.end && r.end <= size)
    }

    /// The pieces that make up bytes `range` of the segment, in order.
    fn pieces(&self, range: Range<u64>) -> VecDeque<Piece> {
        let mut out = VecDeque::new();
        let end = range.end.min(self.len);
        let mut pos = range.start;
        let header_len = self.header.len() as u64;
        if pos < header_len && pos < end {
            let stop = end.min(header_len);
            out.push_back(Piece::Bytes(self.header.slice(pos as usize..stop as usize)));
            pos = stop;
        }
        // First payload range that ends after `pos`.
        let first = self
            .payload
            .partition_point(|(at, r)| at + (r.end - r.start) <= pos);
        for (at, r) in &self.payload[first..] {
            if pos >= end {
                break;
            }
            let skip = pos - at;
            let take = (r.end - r.start - skip).min(end - pos);
            out.push_back(Piece::Source(r.start + skip..r.start + skip + take));
            pos += take;
        }
        out
    }
}

impl Object for SegmentObject {
    fn len(&self) -> u64 {
        self.len
    }
    fn modified(&self) -> SystemTime {
        self.source.modified()
    }
    fn version(&self) -> String {
        self.version.clone()
    }
    fn read_at(&self, offset: u64, len: usize) -> io::Result<Bytes> {
        let end = offset.checked_add(len as u64).ok_or_else(out_of_range)?;
        if end > self.len {
            return Err(out_of_range());
        }
        let mut out = BytesMut::with_capacity(len);
        for piece in self.pieces(offset..end) {
            match piece {
                Piece::Bytes(b) => out.extend_from_slice(&b),
                Piece::Source(r) => {
                    let n = usize::try_from(r.end - r.start).map_err(|_| out_of_range())?;
                    out.extend_from_slice(&self.source.read_at(r.start, n)?);
                }
            }
        }
        Ok(out.freeze())
    }
    fn ffmpeg_input(&self) -> Option<String> {
        None
    }
    fn read_range(self: Arc<Self>, range: Range<u64>) -> ByteStream {
        let pieces = self.pieces(range);
        Box::pin(SegmentStream {
            source: Arc::clone(&self.source),
            pieces,
            current: None,
            batch: BytesMut::new(),
        })
    }
}

/// Payload ranges up to this size are read inline (when cached) and batched into one chunk,
/// so a segment of many small interleaved runs does not become many tiny body frames.
const SMALL: u64 = 64 * 1024;

/// Streams a segment's pieces in order; each source range streams through the source's own
/// ranged reader (page-cache reads inline, disk reads on the blocking pool).
struct SegmentStream {
    source: Arc<dyn Object>,
    pieces: VecDeque<Piece>,
    current: Option<ByteStream>,
    /// Small pieces gathered so far (flushed at [`CHUNK`] bytes or before a large piece).
    batch: BytesMut,
}

impl SegmentStream {
    /// The span of the source covering `first` and the small source pieces that follow it
    /// in order, as long as they move forward, the span stays within [`CHUNK`] and it is
    /// at most half gaps: returns how many queued pieces it covers and the span.
    fn span_from(&self, first: &Range<u64>) -> (usize, Range<u64>) {
        let (mut end, mut bytes, mut count) = (first.end, first.end - first.start, 0);
        for piece in &self.pieces {
            let Piece::Source(r) = piece else { break };
            let len = r.end - r.start;
            if r.start < end || len > SMALL || r.end - first.start > CHUNK as u64 {
                break;
            }
            let span = r.end - first.start;
            if span > 2 * (bytes + len) + 4096 {
                break;
            }
            end = r.end;
            bytes += len;
            count += 1;
        }
        (count, first.start..end)
    }

    /// Appends `first` and the next `count` queued pieces, sliced from `bytes` (the span).
    fn take_from_span(&mut self, first: Range<u64>, count: usize, span: &Range<u64>, bytes: &[u8]) {
        let slice = |r: &Range<u64>| (r.start - span.start) as usize..(r.end - span.start) as usize;
        self.batch.extend_from_slice(&bytes[slice(&first)]);
        for _ in 0..count {
            if let Some(Piece::Source(r)) = self.pieces.pop_front() {
                self.batch.extend_from_slice(&bytes[slice(&r)]);
            }
        }
    }

    fn flush(&mut self) -> Option<Poll<Option<io::Result<Bytes>>>> {
        (!self.batch.is_empty()).then(|| Poll::Ready(Some(Ok(self.batch.split().freeze()))))
    }
}

impl Stream for SegmentStream {
    type Item = io::Result<Bytes>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        loop {
            if let Some(current) = self.current.as_mut() {
                match current.as_mut().poll_next(cx) {
                    Poll::Ready(None) => self.current = None,
                    other => return other,
                }
            }
            if self.batch.len() >= CHUNK {
                if let Some(ready) = self.flush() {
                    return ready;
                }
            }
            match self.pieces.pop_front() {
                None => return self.flush().unwrap_or(Poll::Ready(None)),
                Some(Piece::Bytes(b)) => {
                    if b.len() as u64 <= SMALL {
                        self.batch.extend_from_slice(&b);
                        continue;
                    }
                    if !self.batch.is_empty() {
                        self.pieces.push_front(Piece::Bytes(b));
                        return self.flush().unwrap_or(Poll::Ready(None));
                    }
                    return Poll::Ready(Some(Ok(b)));
                }
                Some(Piece::Source(r)) => {
                    let n = r.end - r.start;
                    if n == 0 {
                        continue;
                    }
                    if n <= SMALL {
                        // Neighbouring small ranges (samples interleaved one by one) are
                        // read as one span and sliced: one read instead of hundreds.
                        let (count, span) = self.span_from(&r);
                        let len = (span.end - span.start) as usize;
                        match self.source.read_cached(span.start, len) {
                            Some(Ok(b)) if b.len() == len => {
                                self.take_from_span(r, count, &span, &b);
                                continue;
                            }
                            Some(Err(e)) => {
                                self.pieces.clear();
                                return Poll::Ready(Some(Err(e)));
                            }
                            // Not (all) in memory: stream it below.
                            _ => {}
                        }
                    }
                    if !self.batch.is_empty() {
                        self.pieces.push_front(Piece::Source(r));
                        return self.flush().unwrap_or(Poll::Ready(None));
                    }
                    let source = Arc::clone(&self.source);
                    self.current = Some(source.read_range(r));
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use frameseek_core::ByteRange;
    use futures_util::StreamExt;

    fn source() -> Arc<dyn Object> {
        let data: Vec<u8> = (0..=255u8).cycle().take(300_000).collect();
        Arc::new(MemObject::new(
            Bytes::from(data),
            SystemTime::UNIX_EPOCH,
            "src".into(),
        ))
    }

    fn segment() -> (SegmentObject, Vec<u8>) {
        let src = source();
        let mut ranges = vec![(1000u64, 1100u64), (5, 9), (100_000, 290_000), (20, 20_000)];
        // Samples interleaved one by one: every other 7-byte range, twice over.
        ranges.extend((0..200).map(|i| (30_000 + 14 * i, 30_000 + 14 * i + 7)));
        ranges.extend((0..200).map(|i| (30_007 + 14 * i, 30_007 + 14 * i + 7)));
        ranges.push((299_990, 300_000));
        let fragment = Fragment {
            header: b"HEADER--".to_vec(),
            payload: ranges.iter().map(|&(a, b)| ByteRange::new(a, b)).collect(),
            size: 0,
        };
        let all = src.read_at(0, 300_000).expect("read");
        let mut expected = b"HEADER--".to_vec();
        for (a, b) in ranges {
            expected.extend_from_slice(&all[a as usize..b as usize]);
        }
        (SegmentObject::new(src, fragment, "v".into()), expected)
    }

    async fn collect(s: ByteStream) -> Vec<u8> {
        let chunks: Vec<_> = s.collect().await;
        chunks
            .into_iter()
            .flat_map(|c| c.expect("chunk").to_vec())
            .collect()
    }

    #[tokio::test]
    async fn every_subrange_reads_the_same_bytes() {
        let (seg, expected) = segment();
        assert_eq!(seg.len(), expected.len() as u64);
        assert!(seg.fits_source());
        let seg = Arc::new(seg);
        assert_eq!(
            collect(Arc::clone(&seg).read_range(0..seg.len())).await,
            expected
        );
        let len = expected.len() as u64;
        for (a, b) in [
            (0, 3),
            (3, 8),
            (7, 9),
            (8, 120),
            (100, 200_000),
            (len - 5, len),
        ] {
            let got = collect(Arc::clone(&seg).read_range(a..b)).await;
            assert_eq!(got, &expected[a as usize..b as usize], "{a}..{b}");
            let at = seg.read_at(a, (b - a) as usize).expect("read_at");
            assert_eq!(&at[..], &expected[a as usize..b as usize]);
        }
        assert!(seg.read_at(len - 1, 2).is_err());
    }

    #[test]
    fn memory_objects_bound_reads() {
        let m = MemObject::new(
            Bytes::from_static(b"abc"),
            SystemTime::UNIX_EPOCH,
            "x".into(),
        );
        assert_eq!(&m.read_at(1, 2).expect("read")[..], b"bc");
        assert!(m.read_at(2, 2).is_err());
        assert!(m.read_at(u64::MAX, 2).is_err());
    }
}
