//! The range reader: one remote file's bytes through the block cache ([`crate::cache`]).
//! Missing bytes are fetched with bounded ranged GETs whose bodies stream into the cache, and
//! readers wait only for the bytes they need, so decoding starts before a request has finished.
//! Network errors and 5xx are retried with backoff, resuming after the bytes already received.

use crate::cache::{Cache, Cover, Loading};
use crate::error::{Failure, Result};
use crate::fetch::{self, Body, FetchError, Target};
use crate::notify::Notify;
use frameseek_core::text;
use frameseek_core::ByteRange;
use std::cell::{Cell, RefCell};
use std::rc::Rc;
use web_sys::AbortController;

/// Reader tunables (from `open()`'s options).
#[derive(Debug, Clone, Copy)]
pub struct ReaderOptions {
    /// Byte budget of the block cache.
    pub cache_bytes: u64,
    /// Retries of a failed request (network error, 5xx, 408, 429, a body cut short).
    pub retries: u32,
    /// When the server ignores `Range` (200), read the file whole if it is at most this big;
    /// otherwise fail with code `range-ignored`.
    pub whole_file_max: u64,
}

impl Default for ReaderOptions {
    fn default() -> Self {
        Self {
            cache_bytes: 64 << 20,
            retries: 4,
            whole_file_max: 0,
        }
    }
}

/// Counters since the reader was created (reported as `video.stats`).
#[derive(Debug, Clone, Copy, Default)]
pub struct Stats {
    /// HTTP requests sent (retries included).
    pub requests: u64,
    /// Response body bytes received.
    pub bytes_fetched: u64,
    /// Byte ranges served without a request.
    pub cache_hits: u64,
    /// Requests that were repeats of failed ones.
    pub retries: u64,
}

/// Bytes of one file over HTTP ranges, cached.
pub struct Reader {
    target: Target,
    opts: ReaderOptions,
    cache: RefCell<Cache>,
    aborts: RefCell<Vec<(u64, AbortController)>>,
    size: Cell<Option<u64>>,
    stats: Cell<Stats>,
    closed: Cell<bool>,
    notify: Rc<Notify>,
}

impl Reader {
    /// A reader of `target`; `notify` is signalled whenever bytes arrive or a fetch ends.
    pub fn new(target: Target, opts: ReaderOptions, notify: Rc<Notify>) -> Rc<Self> {
        Rc::new(Self {
            target,
            opts,
            cache: RefCell::new(Cache::new(opts.cache_bytes)),
            aborts: RefCell::new(Vec::new()),
            size: Cell::new(None),
            stats: Cell::new(Stats::default()),
            closed: Cell::new(false),
            notify,
        })
    }

    /// A reader over bytes already in memory (a demuxed HLS segment): nothing is fetched and
    /// nothing evicted.
    pub fn from_bytes(data: Vec<u8>, notify: Rc<Notify>) -> Rc<Self> {
        let size = data.len() as u64;
        let mut cache = Cache::new(u64::MAX);
        cache.replace_with_whole(data);
        Rc::new(Self {
            target: Target::default(),
            opts: ReaderOptions::default(),
            cache: RefCell::new(cache),
            aborts: RefCell::new(Vec::new()),
            size: Cell::new(Some(size)),
            stats: Cell::new(Stats::default()),
            closed: Cell::new(false),
            notify,
        })
    }

    /// The file size, once a response has told it.
    pub fn size(&self) -> Option<u64> {
        self.size.get()
    }

    /// Counters so far.
    pub fn stats(&self) -> Stats {
        self.stats.get()
    }

    /// Bytes held by the cache.
    pub fn cached_bytes(&self) -> u64 {
        self.cache.borrow().held()
    }

    fn count(&self, f: impl FnOnce(&mut Stats)) {
        let mut s = self.stats.get();
        f(&mut s);
        self.stats.set(s);
    }

    /// Starts fetching whatever part of `[start, end)` is neither cached nor on its way.
    pub fn fetch(self: &Rc<Self>, start: u64, end: u64) {
        if self.closed.get() {
            return;
        }
        let gaps = match self.cache.borrow().cover(start, end) {
            Cover::Missing(gaps) => gaps,
            _ => return,
        };
        for g in gaps {
            self.spawn_fetch(g.start, g.end);
        }
    }

    /// Starts fetching every byte of `ranges` that is missing; ranges already cached count
    /// as cache hits.
    pub fn prefetch(self: &Rc<Self>, ranges: &[ByteRange]) {
        for r in ranges {
            if self.cache.borrow().cover(r.start, r.end) == Cover::Ready {
                self.count(|s| s.cache_hits += 1);
            } else {
                self.fetch(r.start, r.end);
            }
        }
    }

    fn spawn_fetch(self: &Rc<Self>, start: u64, end: u64) {
        let end = match self.size.get() {
            Some(size) => end.min(size),
            None => end,
        };
        let Some(id) = self.cache.borrow_mut().insert(start, end) else {
            return;
        };
        let this = Rc::clone(self);
        crate::task::spawn(async move { this.run_fetch(start, id).await });
    }

    /// Fills span `(start, id)`, retrying transient failures and resuming after the bytes
    /// already received.
    async fn run_fetch(self: Rc<Self>, start: u64, id: u64) {
        let mut attempt = 0u32;
        loop {
            let Some((from, to)) = self.cache.borrow().pending(start, id) else {
                break;
            };
            if from >= to || self.closed.get() {
                self.cache.borrow_mut().complete(start, id);
                break;
            }
            self.count(|s| s.requests += 1);
            let before = from;
            let outcome = self.stream(start, id, from, to).await;
            let Some((now, to)) = self.cache.borrow().pending(start, id) else {
                break;
            };
            if now >= to {
                self.cache.borrow_mut().complete(start, id);
                break;
            }
            let err = match outcome {
                Ok(()) => FetchError {
                    transient: true,
                    failure: Failure::new(
                        "network",
                        text!["the response ended at byte ", now, " of ", from, "..", to],
                    ),
                },
                Err(e) => e,
            };
            if now > before {
                attempt = 0;
            }
            if !err.transient || attempt >= self.opts.retries {
                self.cache.borrow_mut().fail(start, id, err.failure);
                break;
            }
            attempt += 1;
            self.count(|s| s.retries += 1);
            fetch::sleep(100 << attempt.min(6)).await;
        }
        self.take_abort(id);
        self.notify.notify();
    }

    /// One request for `[from, to)` of span `(start, id)`, streamed into the cache.
    async fn stream(&self, start: u64, id: u64, from: u64, to: u64) -> Result<(), FetchError> {
        let body = fetch::get_range(&self.target, from, to).await?;
        if body.whole {
            if let Some(total) = body.total {
                self.set_size(total);
            }
            return self.read_whole(body).await;
        }
        self.aborts.borrow_mut().push((id, body.abort_controller()));
        match body.total {
            Some(total) => self.set_size(total),
            // A cross-origin server that hides Content-Range: ask for the size before reading
            // on, so that a body cut short by the end of the file is not taken for a failure.
            None if self.size.get().is_none() => {
                self.count(|s| s.requests += 1);
                let size = fetch::head_size(&self.target, &body.abort_controller()).await;
                match size {
                    Ok(total) => self.set_size(total),
                    Err(e) => {
                        body.abort_controller().abort();
                        return Err(e);
                    }
                }
            }
            None => {}
        }
        let mut received = 0u64;
        while let Some(chunk) = body.next().await? {
            let n = chunk.length() as usize;
            received += n as u64;
            self.count(|s| s.bytes_fetched += n as u64);
            let mut cache = self.cache.borrow_mut();
            let Some(buf) = cache.append(start, id, n) else {
                // Aborted, or the cache was replaced: stop this request.
                body.abort_controller().abort();
                return Ok(());
            };
            let fits = buf.len();
            chunk.subarray(0, fits as u32).copy_to(buf);
            cache.evict();
            let got = cache
                .pending(start, id)
                .and_then(|(got, end)| (got < end).then_some(got));
            drop(cache);
            self.notify.notify();
            if got.is_none() && (fits < n || from + received < to) {
                // The span is complete before the response is: it was shortened (see `trim`)
                // or the server sends more than asked for.
                body.abort_controller().abort();
                return Ok(());
            }
        }
        Ok(())
    }

    /// A 200 to a ranged request: the body is the whole file.
    async fn read_whole(&self, body: Body) -> Result<(), FetchError> {
        let ignored = |why: String| FetchError {
            transient: false,
            failure: Failure::new(
                "range-ignored",
                text![
                    self.target.url,
                    " answered a ranged request with the whole file (HTTP 200, not 206); ",
                    why
                ],
            ),
        };
        let max = self.opts.whole_file_max;
        let Some(total) = body.total.filter(|&t| t <= max) else {
            body.abort_controller().abort();
            return Err(ignored(if max == 0 {
                "frameseek needs a server that honours Range (or pass { wholeFileMax } to read small files whole)".into()
            } else {
                text![
                    "the file is larger than wholeFileMax (",
                    max,
                    " bytes) or of unknown length"
                ]
            }));
        };
        let mut data = Vec::new();
        while let Some(chunk) = body.next().await? {
            let n = chunk.length() as usize;
            self.count(|s| s.bytes_fetched += n as u64);
            if (data.len() + n) as u64 > total {
                body.abort_controller().abort();
                return Err(ignored("the body is longer than its Content-Length".into()));
            }
            let old = data.len();
            data.resize(old + n, 0);
            chunk.copy_to(&mut data[old..]);
        }
        if (data.len() as u64) < total {
            return Err(FetchError {
                transient: true,
                failure: Failure::new("network", "the whole-file response ended early"),
            });
        }
        self.abort_all();
        self.cache.borrow_mut().replace_with_whole(data);
        Ok(())
    }

    fn set_size(&self, total: u64) {
        if self.size.get().is_none() {
            self.size.set(Some(total));
            self.cache.borrow_mut().clamp(total);
        }
    }

    /// Waits until the file size is known (the first response's `Content-Range`, or a `HEAD`
    /// when CORS hides it).
    pub async fn wait_size(self: &Rc<Self>) -> Result<u64> {
        loop {
            let changed = self.notify.changed();
            if let Some(s) = self.size.get() {
                return Ok(s);
            }
            match self.cache.borrow().cover(0, 1) {
                Cover::Failed(f) => return Err(f),
                Cover::Missing(_) => {
                    return Err(Failure::new(
                        "http",
                        text!["no response told the size of ", self.target.url],
                    ))
                }
                _ => {}
            }
            changed.await;
        }
    }

    /// Waits until bytes `[a, b)` are cached, fetching what is missing; a fetch started here
    /// reads on to `fetch_end` (for a reader that is likely to want the following bytes).
    pub async fn wait(self: &Rc<Self>, a: u64, b: u64, fetch_end: u64) -> Result<()> {
        loop {
            let changed = self.notify.changed();
            let cover = self.cache.borrow().cover(a, b);
            match cover {
                Cover::Ready => return Ok(()),
                Cover::Waiting => {}
                Cover::Failed(f) => {
                    self.cache.borrow_mut().clear_failed(a, b);
                    return Err(f);
                }
                Cover::Missing(gaps) => {
                    if self.closed.get() {
                        return Err(Failure::new("closed", "the video was closed"));
                    }
                    for g in gaps {
                        let end = if g.end == b {
                            let next = self.cache.borrow().next_start(b).unwrap_or(u64::MAX);
                            fetch_end.max(b).min(next)
                        } else {
                            g.end
                        };
                        self.spawn_fetch(g.start, end);
                    }
                }
            }
            changed.await;
        }
    }

    /// One past the last byte readable contiguously from `a`.
    pub fn available_end(&self, a: u64) -> u64 {
        self.cache.borrow().available_end(a)
    }

    /// Calls `f` with bytes `[a, b)` if they are cached.
    pub fn with_bytes<R>(&self, a: u64, b: u64, f: impl FnOnce(&[u8]) -> R) -> Option<R> {
        self.cache.borrow_mut().with_bytes(a, b, f)
    }

    /// Fetches still loading.
    pub fn loading(&self) -> Vec<Loading> {
        self.cache.borrow().loading()
    }

    /// Keeps a loading fetch only for the bytes of `keep` it has yet to deliver: it is cut
    /// after the last of them, or cancelled now if it holds none.
    pub fn trim(&self, l: &Loading, keep: &[ByteRange]) {
        let last = keep
            .iter()
            .filter(|r| r.end > l.received && r.start < l.end)
            .map(|r| r.end.min(l.end))
            .max();
        match last {
            Some(end) => self.cache.borrow_mut().shrink(l.start, l.id, end),
            None => self.abort(l),
        }
    }

    fn take_abort(&self, id: u64) -> Option<AbortController> {
        let mut aborts = self.aborts.borrow_mut();
        let at = aborts.iter().position(|(i, _)| *i == id)?;
        Some(aborts.swap_remove(at).1)
    }

    /// Cancels a loading fetch; the bytes it received stay cached.
    pub fn abort(&self, l: &Loading) {
        if let Some(c) = self.take_abort(l.id) {
            c.abort();
        }
        self.cache.borrow_mut().complete(l.start, l.id);
        self.notify.notify();
    }

    fn abort_all(&self) {
        for l in self.loading() {
            self.abort(&l);
        }
    }

    /// Cancels every fetch; later reads fail with code `closed`.
    pub fn close(&self) {
        self.closed.set(true);
        self.abort_all();
    }
}
