//! A body stream over positioned reads: each chunk is read on tokio's blocking pool while
//! the previous one is being written to the socket (one read ahead), so memory per stream
//! stays at two chunks and the disk and the network overlap.

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
}

impl ReadAtStream {
    /// A stream of `range` of `object`.
    pub fn new(object: Arc<dyn Object>, range: Range<u64>) -> Self {
        ReadAtStream {
            object,
            next: range.start,
            end: range.end.max(range.start),
            pending: None,
            failed: false,
        }
    }

    fn start_read(&mut self) {
        let remaining = self.end - self.next;
        if remaining == 0 {
            return;
        }
        let n = remaining.min(CHUNK as u64) as usize;
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
            self.start_read();
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
