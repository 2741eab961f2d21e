//! Pieces shared by the server and client connection tasks.

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll, Waker};
use std::time::Duration;

use bytes::BytesMut;
use tokio::io::{AsyncWrite, AsyncWriteExt};
use tokio::time::{sleep_until, Instant, Sleep};

/// Initial capacity of a connection's read and write buffers.
pub(crate) const READ_CAPACITY: usize = 64 * 1024;

/// Stop reading new frames (and queueing responses) while this much is waiting to be written:
/// a peer that does not read its responses must not make us buffer without bound.
pub(crate) const WRITE_HIGH_WATER: usize = 1024 * 1024;

/// Whether a connection read or wrote since the last look, without reading the clock on
/// every read and write (in a VM the clock can cost a system call).
pub(crate) struct Activity {
    active: bool,
    quiet_since: Instant,
}

impl Activity {
    pub(crate) fn new() -> Self {
        Activity {
            active: false,
            quiet_since: Instant::now(),
        }
    }

    /// Records a read or write.
    pub(crate) fn touch(&mut self) {
        self.active = true;
    }

    /// How long the connection has been quiet as of `now`, a periodic tick: activity since the
    /// previous look restarts the count from `now`, so the answer is late by at most a period.
    pub(crate) fn quiet_for(&mut self, now: Instant) -> Duration {
        if std::mem::take(&mut self.active) {
            self.quiet_since = now;
        }
        now.saturating_duration_since(self.quiet_since)
    }
}

/// Fires once the connection has been quiet for the configured time, checked on a coarse
/// periodic tick rather than a timer re-armed on every read.
///
/// The connection loop polls it on every turn. Between ticks such a poll is one atomic load and
/// one pointer comparison: the sleep is polled (which registers the waker with the timer) only
/// when it has fired or the waker it holds is not this task's.
pub(crate) struct IdleTimer {
    timeout: Duration,
    period: Duration,
    activity: Activity,
    /// The next look; `None` for a timer that never fires.
    tick: Option<Pin<Box<Sleep>>>,
    /// The waker the armed sleep will wake.
    registered: Option<Waker>,
}

impl IdleTimer {
    /// A timer for `timeout`; `Duration::ZERO` never fires.
    pub(crate) fn new(timeout: Duration) -> Self {
        let period = (timeout / 8).max(Duration::from_millis(10));
        let tick = (!timeout.is_zero()).then(|| Box::pin(sleep_until(Instant::now() + period)));
        IdleTimer {
            timeout,
            period,
            activity: Activity::new(),
            tick,
            registered: None,
        }
    }

    /// Records activity.
    pub(crate) fn touch(&mut self) {
        self.activity.touch();
    }

    /// Completes once the connection has been quiet for the timeout.
    pub(crate) fn expired(&mut self) -> impl Future<Output = ()> + '_ {
        std::future::poll_fn(move |cx| self.poll_expired(cx))
    }

    fn poll_expired(&mut self, cx: &mut Context<'_>) -> Poll<()> {
        let Some(tick) = self.tick.as_mut() else {
            return Poll::Pending;
        };
        loop {
            if let Some(waker) = &self.registered {
                if waker.will_wake(cx.waker()) && !tick.is_elapsed() {
                    return Poll::Pending;
                }
            }
            match tick.as_mut().poll(cx) {
                Poll::Pending => {
                    self.registered = Some(cx.waker().clone());
                    return Poll::Pending;
                }
                Poll::Ready(()) => {
                    self.registered = None;
                    let now = Instant::now();
                    if self.activity.quiet_for(now) >= self.timeout {
                        return Poll::Ready(());
                    }
                    // Counted from now, not from the missed deadline: a late look is not
                    // followed by a burst of catching up.
                    tick.as_mut().reset(now + self.period);
                }
            }
        }
    }
}

/// Steps aside once so that every task already woken runs first, then resumes.
///
/// A connection task woken by one caller's frame waits here while the other callers woken in
/// the same round queue theirs, so that one write carries them all. The task wakes itself, which
/// puts it at the back of the run queue: unlike `tokio::task::yield_now`, it does not wait for
/// the worker to poll the I/O driver first.
pub(crate) fn let_woken_tasks_run() -> impl Future<Output = ()> {
    StepAside { stepped: false }
}

struct StepAside {
    stepped: bool,
}

impl Future for StepAside {
    type Output = ();

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        if self.stepped {
            return Poll::Ready(());
        }
        self.stepped = true;
        cx.waker().wake_by_ref();
        Poll::Pending
    }
}

/// What [`write_or_flush`] did.
pub(crate) enum Wrote {
    /// Wrote this many bytes of the buffer.
    Bytes(usize),
    /// The buffer was empty: flushed what the stream held.
    Flushed,
}

/// Writes from `wbuf`, or flushes the stream when `wbuf` is empty. One future for both, so
/// that a connection loop selects on one use of its write half.
pub(crate) async fn write_or_flush<W: AsyncWrite + Unpin>(
    wr: &mut W,
    wbuf: &mut BytesMut,
) -> std::io::Result<Wrote> {
    if wbuf.is_empty() {
        wr.flush().await.map(|()| Wrote::Flushed)
    } else {
        wr.write_buf(wbuf).await.map(Wrote::Bytes)
    }
}
