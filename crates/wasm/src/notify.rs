//! A single-threaded change notifier: tasks await "something changed" and re-check their
//! condition. It carries the reader's byte progress and the decoder's outputs to waiters.

use std::cell::{Cell, RefCell};
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll, Waker};

/// Wakes every task waiting on [`Notify::changed`] when [`Notify::notify`] is called.
#[derive(Default)]
pub struct Notify {
    generation: Cell<u64>,
    wakers: RefCell<Vec<Waker>>,
}

impl Notify {
    /// Signals a change to every current waiter.
    pub fn notify(&self) {
        self.generation.set(self.generation.get().wrapping_add(1));
        for w in self.wakers.take() {
            w.wake();
        }
    }

    /// A future that completes at the next [`Notify::notify`] after this call. Create it
    /// before checking the condition so that no change is missed.
    pub fn changed(&self) -> Changed<'_> {
        Changed {
            notify: self,
            generation: self.generation.get(),
        }
    }
}

/// The future returned by [`Notify::changed`].
pub struct Changed<'a> {
    notify: &'a Notify,
    generation: u64,
}

impl Future for Changed<'_> {
    type Output = ();

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        if self.notify.generation.get() != self.generation {
            Poll::Ready(())
        } else {
            self.notify.wakers.borrow_mut().push(cx.waker().clone());
            Poll::Pending
        }
    }
}
