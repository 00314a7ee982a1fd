//! The block cache: spans of the file's bytes, complete or still arriving, under a byte budget
//! with least-recently-used eviction. Spans never overlap, so every byte is fetched once and
//! every reader of it waits on the same request. Pure bookkeeping: [`crate::reader`] moves bytes.
//! Spans live in a vector sorted by offset (a few dozen at most; smaller code than a tree).

use crate::error::Failure;
use frameseek_core::ByteRange;

/// Bytes `[start, end)` of the file, filled from the front.
#[derive(Debug)]
struct Span {
    start: u64,
    /// Identifies the fetch that fills the span (a new span at the same offset gets a new id).
    id: u64,
    /// One past the last byte; equals `start + data.len()` once the span is not loading.
    end: u64,
    data: Vec<u8>,
    loading: bool,
    failed: Option<Failure>,
    used: u64,
}

impl Span {
    fn received(&self) -> u64 {
        self.start + self.data.len() as u64
    }
}

/// Whether a byte range can be read now.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Cover {
    /// Every byte is present.
    Ready,
    /// Every byte is present or on its way.
    Waiting,
    /// A fetch the range depends on failed.
    Failed(Failure),
    /// These parts are neither present nor being fetched.
    Missing(Vec<ByteRange>),
}

/// A loading span, as [`Cache::loading`] lists it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Loading {
    /// First byte of the span.
    pub start: u64,
    /// Its fetch.
    pub id: u64,
    /// One past the last byte received so far.
    pub received: u64,
    /// One past the last byte asked for.
    pub end: u64,
}

/// Spans of one file under a byte budget.
#[derive(Debug)]
pub struct Cache {
    /// Sorted by `start`, non-overlapping.
    spans: Vec<Span>,
    budget: u64,
    held: u64,
    clock: u64,
    next_id: u64,
}

impl Cache {
    /// An empty cache that evicts complete spans beyond `budget` bytes.
    pub fn new(budget: u64) -> Self {
        Self {
            spans: Vec::new(),
            budget,
            held: 0,
            clock: 0,
            next_id: 1,
        }
    }

    /// Bytes held (complete and partial spans).
    pub fn held(&self) -> u64 {
        self.held
    }

    /// Index of the first span that ends after `a`.
    fn first_after(&self, a: u64) -> usize {
        self.spans.partition_point(|s| s.end <= a)
    }

    /// Spans that overlap `[a, b)`, ascending.
    fn overlapping(&self, a: u64, b: u64) -> impl Iterator<Item = &Span> {
        self.spans[self.first_after(a)..]
            .iter()
            .take_while(move |s| s.start < b)
    }

    /// Whether `[a, b)` can be read, is on its way, failed, or which parts nobody fetches.
    pub fn cover(&self, a: u64, b: u64) -> Cover {
        let mut gaps = Vec::new();
        let mut waiting = false;
        let mut pos = a;
        for span in self.overlapping(a, b) {
            if span.start > pos {
                gaps.push(ByteRange::new(pos, span.start));
            }
            if let Some(f) = &span.failed {
                return Cover::Failed(f.clone());
            }
            if span.received() < span.end.min(b) {
                waiting = true;
            }
            pos = span.end;
        }
        if pos < b {
            gaps.push(ByteRange::new(pos, b));
        }
        if !gaps.is_empty() {
            Cover::Missing(gaps)
        } else if waiting {
            Cover::Waiting
        } else {
            Cover::Ready
        }
    }

    /// The first span start at or after `pos` (to keep a new fetch from overlapping it).
    pub fn next_start(&self, pos: u64) -> Option<u64> {
        self.spans.iter().map(|s| s.start).find(|&s| s >= pos)
    }

    /// Registers a fetch of `[start, end)` (cut short at the next span); `None` when `start`
    /// already lies in a span or the range is empty.
    pub fn insert(&mut self, start: u64, end: u64) -> Option<u64> {
        let at = self.first_after(start);
        let end = match self.spans.get(at) {
            Some(next) if next.start <= start => return None,
            Some(next) => end.min(next.start),
            None => end,
        };
        if end <= start {
            return None;
        }
        let id = self.next_id;
        self.next_id += 1;
        self.clock += 1;
        let span = Span {
            start,
            id,
            end,
            data: Vec::new(),
            loading: true,
            failed: None,
            used: self.clock,
        };
        self.spans.insert(at, span);
        Some(id)
    }

    fn find(&self, start: u64, id: u64) -> Option<usize> {
        let i = self.spans.binary_search_by_key(&start, |s| s.start).ok()?;
        (self.spans[i].id == id && self.spans[i].loading).then_some(i)
    }

    /// `(received, end)` of a loading span, `None` when it is complete, aborted or gone.
    pub fn pending(&self, start: u64, id: u64) -> Option<(u64, u64)> {
        let s = &self.spans[self.find(start, id)?];
        Some((s.received(), s.end))
    }

    /// Appends up to `n` bytes to a loading span (never past its end) and returns the slice to
    /// fill, or `None` when the span is no longer loading.
    pub fn append(&mut self, start: u64, id: u64, n: usize) -> Option<&mut [u8]> {
        let i = self.find(start, id)?;
        let span = &mut self.spans[i];
        let room = usize::try_from(span.end - span.received()).unwrap_or(usize::MAX);
        let n = n.min(room);
        let old = span.data.len();
        span.data.resize(old + n, 0);
        self.held += n as u64;
        Some(&mut span.data[old..])
    }

    /// Lowers the end a loading span asks for (never below what arrived).
    pub fn shrink(&mut self, start: u64, id: u64, end: u64) {
        if let Some(i) = self.find(start, id) {
            let span = &mut self.spans[i];
            span.end = span.end.min(end).max(span.received());
        }
    }

    /// Ends a fetch: the span keeps what arrived (and is dropped if nothing did).
    pub fn complete(&mut self, start: u64, id: u64) {
        let Some(i) = self.find(start, id) else {
            return;
        };
        let span = &mut self.spans[i];
        span.loading = false;
        span.end = span.received();
        if span.data.is_empty() {
            self.spans.remove(i);
        }
    }

    /// Marks a fetch as failed: readers of any of its bytes get `failure` (once; see
    /// [`Cache::clear_failed`]).
    pub fn fail(&mut self, start: u64, id: u64, failure: Failure) {
        if let Some(i) = self.find(start, id) {
            let span = &mut self.spans[i];
            span.loading = false;
            span.end = span.end.max(start + 1);
            span.failed = Some(failure);
        }
    }

    /// Drops failed spans overlapping `[a, b)` so that a later read fetches again.
    pub fn clear_failed(&mut self, a: u64, b: u64) {
        let mut held = self.held;
        self.spans.retain(|s| {
            let drop = s.failed.is_some() && s.start < b && s.end > a;
            if drop {
                held -= s.data.len() as u64;
            }
            !drop
        });
        self.held = held;
    }

    /// Spans still loading.
    pub fn loading(&self) -> Vec<Loading> {
        self.spans
            .iter()
            .filter(|s| s.loading)
            .map(|s| Loading {
                start: s.start,
                id: s.id,
                received: s.received(),
                end: s.end,
            })
            .collect()
    }

    /// The file is `size` bytes: nothing past it can arrive.
    pub fn clamp(&mut self, size: u64) {
        let mut held = self.held;
        self.spans.retain(|s| {
            if s.start >= size {
                held -= s.data.len() as u64;
            }
            s.start < size
        });
        self.held = held;
        for span in &mut self.spans {
            span.end = span.end.min(size).max(span.received());
        }
    }

    /// One past the last byte readable contiguously from `a` (`a` if none is).
    pub fn available_end(&self, a: u64) -> u64 {
        let mut pos = a;
        for span in self.overlapping(a, u64::MAX) {
            if span.start > pos || span.failed.is_some() || span.received() <= pos {
                break;
            }
            pos = span.received();
            if pos < span.end {
                break;
            }
        }
        pos
    }

    /// Calls `f` with bytes `[a, b)` (borrowed from one span, or copied when they straddle
    /// several) and marks them used; `None` when some are not present.
    pub fn with_bytes<R>(&mut self, a: u64, b: u64, f: impl FnOnce(&[u8]) -> R) -> Option<R> {
        let (mut f, mut out) = (Some(f), None);
        self.visit(a, b, &mut |bytes| out = f.take().map(|f| f(bytes)));
        out
    }

    /// [`Cache::with_bytes`] without its type parameters, so that its body is compiled once
    /// (it is called with five different closures).
    #[inline(never)]
    fn visit(&mut self, a: u64, b: u64, f: &mut dyn FnMut(&[u8])) {
        if self.available_end(a) < b {
            return;
        }
        self.clock += 1;
        let from = self.first_after(a);
        let mut to = from;
        while to < self.spans.len() && self.spans[to].start < b {
            self.spans[to].used = self.clock;
            to += 1;
        }
        let spans = &self.spans[from..to];
        let slice = |s: &Span| -> Option<(usize, usize)> {
            let lo = usize::try_from(a.max(s.start) - s.start).ok()?;
            let hi = usize::try_from(b.min(s.received()) - s.start).ok()?;
            Some((lo, hi))
        };
        if let [one] = spans {
            if let Some((lo, hi)) = slice(one) {
                f(&one.data[lo..hi]);
            }
            return;
        }
        let Ok(len) = usize::try_from(b - a) else {
            return;
        };
        let mut out = Vec::with_capacity(len);
        for s in spans {
            let Some((lo, hi)) = slice(s) else {
                return;
            };
            out.extend_from_slice(&s.data[lo..hi]);
        }
        f(&out);
    }

    /// Evicts least recently used complete spans until the held bytes fit the budget.
    pub fn evict(&mut self) {
        while self.held > self.budget {
            let victim = (0..self.spans.len())
                .filter(|&i| !self.spans[i].loading)
                .min_by_key(|&i| self.spans[i].used);
            match victim {
                Some(i) => {
                    let s = self.spans.remove(i);
                    self.held -= s.data.len() as u64;
                }
                None => break,
            }
        }
    }

    /// Replaces everything with the whole file (a server that ignores `Range`).
    pub fn replace_with_whole(&mut self, data: Vec<u8>) {
        self.spans.clear();
        self.held = data.len() as u64;
        self.clock += 1;
        let id = self.next_id;
        self.next_id += 1;
        let end = data.len() as u64;
        if end > 0 {
            self.spans.push(Span {
                start: 0,
                id,
                end,
                data,
                loading: false,
                failed: None,
                used: self.clock,
            });
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fill(c: &mut Cache, start: u64, id: u64, bytes: &[u8]) {
        let buf = c.append(start, id, bytes.len()).expect("loading");
        let n = buf.len();
        buf.copy_from_slice(&bytes[..n]);
    }

    #[test]
    fn cover_reports_gaps_waiting_and_ready() {
        let mut c = Cache::new(1 << 20);
        assert_eq!(c.cover(0, 10), Cover::Missing(vec![ByteRange::new(0, 10)]));
        let id = c.insert(0, 10).unwrap();
        assert_eq!(c.cover(0, 10), Cover::Waiting);
        assert_eq!(c.cover(5, 20), Cover::Missing(vec![ByteRange::new(10, 20)]));
        fill(&mut c, 0, id, &[1, 2, 3, 4]);
        assert_eq!(c.cover(0, 4), Cover::Ready);
        assert_eq!(c.cover(2, 6), Cover::Waiting);
        assert_eq!(c.available_end(0), 4);
        fill(&mut c, 0, id, &[5, 6, 7, 8, 9, 10, 11, 12]);
        assert_eq!(c.pending(0, id), Some((10, 10)));
        c.complete(0, id);
        assert_eq!(c.cover(0, 10), Cover::Ready);
        assert_eq!(c.with_bytes(8, 10, |b| b.to_vec()), Some(vec![9, 10]));
        assert_eq!(c.held(), 10);
    }

    #[test]
    fn spans_do_not_overlap_and_reads_straddle() {
        let mut c = Cache::new(1 << 20);
        let b = c.insert(10, 20).unwrap();
        assert_eq!(c.insert(15, 30), None);
        let a = c.insert(0, 50).unwrap();
        assert_eq!(c.pending(0, a), Some((0, 10)));
        fill(&mut c, 0, a, &[0; 10]);
        fill(&mut c, 10, b, &[1; 10]);
        c.complete(0, a);
        c.complete(10, b);
        assert_eq!(c.available_end(0), 20);
        let got = c.with_bytes(5, 15, |b| b.to_vec()).unwrap();
        assert_eq!(got, vec![0, 0, 0, 0, 0, 1, 1, 1, 1, 1]);
        assert_eq!(c.with_bytes(5, 25, |b| b.len()), None);
    }

    #[test]
    fn aborted_spans_keep_what_arrived_and_failures_are_reported_once() {
        let mut c = Cache::new(1 << 20);
        let id = c.insert(0, 100).unwrap();
        fill(&mut c, 0, id, &[7; 30]);
        c.complete(0, id);
        assert_eq!(c.cover(0, 40), Cover::Missing(vec![ByteRange::new(30, 40)]));
        let id2 = c.insert(30, 40).unwrap();
        c.fail(30, id2, Failure::new("http", "HTTP 404"));
        assert!(matches!(c.cover(0, 40), Cover::Failed(_)));
        c.clear_failed(0, 40);
        assert_eq!(c.cover(0, 40), Cover::Missing(vec![ByteRange::new(30, 40)]));
    }

    #[test]
    fn eviction_is_lru_over_complete_spans() {
        let mut c = Cache::new(25);
        for start in [0u64, 100, 200] {
            let id = c.insert(start, start + 10).unwrap();
            fill(&mut c, start, id, &[0; 10]);
            c.complete(start, id);
        }
        c.with_bytes(0, 10, |_| ()).unwrap();
        c.evict();
        assert_eq!(c.held(), 20);
        assert_eq!(
            c.cover(100, 110),
            Cover::Missing(vec![ByteRange::new(100, 110)])
        );
        assert_eq!(c.cover(0, 10), Cover::Ready);
    }

    #[test]
    fn shrink_keeps_what_arrived() {
        let mut c = Cache::new(1 << 20);
        let id = c.insert(0, 1000).unwrap();
        fill(&mut c, 0, id, &[1; 100]);
        c.shrink(0, id, 50);
        assert_eq!(c.pending(0, id), Some((100, 100)));
        let id2 = c.insert(1000, 2000).unwrap();
        c.shrink(1000, id2, 1500);
        assert_eq!(c.pending(1000, id2), Some((1000, 1500)));
    }

    #[test]
    fn clamp_and_whole_file() {
        let mut c = Cache::new(1 << 20);
        let id = c.insert(0, 1000).unwrap();
        c.clamp(64);
        assert_eq!(c.pending(0, id), Some((0, 64)));
        c.replace_with_whole(vec![3; 64]);
        assert_eq!(c.cover(0, 64), Cover::Ready);
        assert!(c.loading().is_empty());
    }
}
