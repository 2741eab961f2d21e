//! The server's shutdown as a connection loop sees it: checked on every turn of the loop, so it
//! must cost next to nothing while nothing happened.

use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, Ordering};
use std::task::{Context, Poll, Waker};

use tokio_util::sync::{CancellationToken, WaitForCancellationFutureOwned};

/// Whether the server began shutting down, readable without a lock.
///
/// A `CancellationToken` answers that question by taking its tree's mutex, and its
/// `cancelled()` future locks the waiter list on every poll; a connection loop turns once per
/// read or answer. The flag is set before the token is cancelled, so a loop woken by the token
/// finds it set.
#[derive(Debug, Default)]
pub(super) struct StopFlag {
    stopped: AtomicBool,
}

impl StopFlag {
    /// Marks the server as shutting down, then wakes everything waiting on `token`.
    pub(super) fn stop(&self, token: &CancellationToken) {
        self.stopped.store(true, Ordering::Release);
        token.cancel();
    }

    pub(super) fn is_stopped(&self) -> bool {
        self.stopped.load(Ordering::Acquire)
    }
}

/// Completes once the server shuts down. Polling it again while the task's waker is the one
/// already registered with the token is one atomic load and one pointer comparison: the token's
/// future is polled only to register a waker it does not hold yet.
pub(super) struct Stopping<'a> {
    flag: &'a StopFlag,
    wait: Pin<Box<WaitForCancellationFutureOwned>>,
    /// The waker the token will wake, once registered.
    registered: Option<Waker>,
}

impl<'a> Stopping<'a> {
    pub(super) fn new(flag: &'a StopFlag, token: CancellationToken) -> Self {
        Stopping {
            flag,
            wait: Box::pin(token.cancelled_owned()),
            registered: None,
        }
    }
}

impl Future for Stopping<'_> {
    type Output = ();

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        if self.flag.is_stopped() {
            return Poll::Ready(());
        }
        if let Some(waker) = &self.registered {
            if waker.will_wake(cx.waker()) {
                return Poll::Pending;
            }
        }
        match self.wait.as_mut().poll(cx) {
            Poll::Ready(()) => Poll::Ready(()),
            Poll::Pending => {
                self.registered = Some(cx.waker().clone());
                Poll::Pending
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[tokio::test]
    async fn completes_when_stopped_after_being_polled_pending() {
        let flag = StopFlag::default();
        let token = CancellationToken::new();
        let mut stopping = Stopping::new(&flag, token.child_token());
        // Polled pending several times, as a busy loop does, then stopped while it sleeps.
        for _ in 0..3 {
            let pending = futures::poll!(&mut stopping);
            assert!(pending.is_pending());
        }
        let waited = tokio::time::timeout(Duration::from_secs(5), async {
            tokio::join!(&mut stopping, async {
                tokio::task::yield_now().await;
                flag.stop(&token);
            })
        })
        .await;
        assert!(waited.is_ok(), "not woken by the stop");
    }

    #[tokio::test]
    async fn a_token_cancelled_before_the_first_poll_completes_it() {
        let flag = StopFlag::default();
        let token = CancellationToken::new();
        token.cancel();
        let done = tokio::time::timeout(Duration::from_secs(5), Stopping::new(&flag, token)).await;
        assert!(done.is_ok());
    }
}
