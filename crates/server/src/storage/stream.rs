//! A body stream over positioned reads. Bytes already in memory (the page cache) are read
//! right on the async worker, as nginx does; a read that would wait for the disk goes to
//! tokio's blocking pool, with one chunk read ahead while the previous one is written out.
//! Memory per stream stays at two chunks.

use super::{Object, CHUNK};
use bytes::Bytes;
use futures_util::Stream;
use std::future::Future;
use std::io;
use std::ops::Range;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use tokio::task::JoinHandle;

/// A boxed stream of body chunks.
pub type ByteStream = Pin<Box<dyn Stream<Item = io::Result<Bytes>> + Send + Sync>>;

/// Streams `range` of an object in chunks of at most [`CHUNK`] bytes.
pub struct ReadAtStream {
    object: Arc<dyn Object>,
    /// Offset of the next read to start.
    next: u64,
    end: u64,
    pending: Option<JoinHandle<io::Result<Bytes>>>,
    failed: bool,
    /// Bytes read inline since this stream last let other tasks run.
    since_yield: usize,
}

/// After this many bytes read inline, the stream yields once so that one fast connection
/// does not keep its worker from the others (nginx's `sendfile_max_chunk`, in spirit).
const YIELD_EVERY: usize = 1024 * 1024;

impl ReadAtStream {
    /// A stream of `range` of `object`.
    pub fn new(object: Arc<dyn Object>, range: Range<u64>) -> Self {
        ReadAtStream {
            object,
            next: range.start,
            end: range.end.max(range.start),
            pending: None,
            failed: false,
            since_yield: 0,
        }
    }

    /// Size of the next read (0 at the end).
    fn next_len(&self) -> usize {
        (self.end - self.next).min(CHUNK as u64) as usize
    }

    /// Starts the next read on the blocking pool.
    fn start_read(&mut self) {
        let n = self.next_len();
        if n == 0 {
            return;
        }
        let offset = self.next;
        self.next += n as u64;
        let object = Arc::clone(&self.object);
        self.pending = Some(tokio::task::spawn_blocking(move || {
            object.read_at(offset, n)
        }));
    }
}

impl Stream for ReadAtStream {
    type Item = io::Result<Bytes>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        if self.failed {
            return Poll::Ready(None);
        }
        if self.pending.is_none() {
            let n = self.next_len();
            if n == 0 {
                return Poll::Ready(None);
            }
            if self.since_yield >= YIELD_EVERY {
                self.since_yield = 0;
                cx.waker().wake_by_ref();
                return Poll::Pending;
            }
            match self.object.read_cached(self.next, n) {
                Some(Ok(bytes)) if !bytes.is_empty() => {
                    self.next += bytes.len() as u64;
                    self.since_yield += bytes.len();
                    return Poll::Ready(Some(Ok(bytes)));
                }
                Some(Err(e)) => {
                    self.failed = true;
                    return Poll::Ready(Some(Err(e)));
                }
                _ => self.start_read(),
            }
        }
        let Some(handle) = self.pending.as_mut() else {
            return Poll::Ready(None);
        };
        let result = match Pin::new(handle).poll(cx) {
            Poll::Pending => return Poll::Pending,
            Poll::Ready(r) => r,
        };
        self.pending = None;
        match result {
            Ok(Ok(bytes)) => {
                // Read ahead while this chunk is written out.
                self.start_read();
                Poll::Ready(Some(Ok(bytes)))
            }
            Ok(Err(e)) => {
                self.failed = true;
                Poll::Ready(Some(Err(e)))
            }
            Err(join) => {
                self.failed = true;
                Poll::Ready(Some(Err(io::Error::other(join))))
            }
        }
    }
}
