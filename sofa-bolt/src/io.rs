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

/// A periodic tick that a connection loop may poll on every turn.
///
/// Between ticks such a poll is one atomic load and one pointer comparison: the sleep is polled
/// (which registers the task's waker with the timer, and costs more) only once it has fired or
/// when the waker it holds is not the polling task's. The next tick is counted from the time a
/// tick is taken, so a late look is not followed by a burst of catching up.
pub(crate) struct Ticker {
    period: Duration,
    sleep: Pin<Box<Sleep>>,
    /// The waker the armed sleep will wake.
    registered: Option<Waker>,
}

impl Ticker {
    /// Ticks every `period`, the first one a period from now.
    pub(crate) fn new(period: Duration) -> Self {
        Ticker {
            period,
            sleep: Box::pin(sleep_until(Instant::now() + period)),
            registered: None,
        }
    }

    /// Completes with the time of the next tick.
    pub(crate) fn poll_tick(&mut self, cx: &mut Context<'_>) -> Poll<Instant> {
        if let Some(waker) = &self.registered {
            if waker.will_wake(cx.waker()) && !self.sleep.is_elapsed() {
                return Poll::Pending;
            }
        }
        match self.sleep.as_mut().poll(cx) {
            Poll::Pending => {
                self.registered = Some(cx.waker().clone());
                Poll::Pending
            }
            Poll::Ready(()) => {
                self.registered = None;
                let now = Instant::now();
                self.sleep.as_mut().reset(now + self.period);
                Poll::Ready(now)
            }
        }
    }
}

/// Fires once the connection has been quiet for the configured time, checked on a coarse
/// periodic [`Ticker`] rather than a timer re-armed on every read.
pub(crate) struct IdleTimer {
    timeout: Duration,
    activity: Activity,
    /// `None` for a timer that never fires.
    tick: Option<Ticker>,
}

impl IdleTimer {
    /// A timer for `timeout`; `Duration::ZERO` never fires.
    pub(crate) fn new(timeout: Duration) -> Self {
        let tick =
            (!timeout.is_zero()).then(|| Ticker::new((timeout / 8).max(Duration::from_millis(10))));
        IdleTimer {
            timeout,
            activity: Activity::new(),
            tick,
        }
    }

    /// Records activity.
    pub(crate) fn touch(&mut self) {
        self.activity.touch();
    }

    /// Completes once the connection has been quiet for the timeout.
    pub(crate) fn expired(&mut self) -> impl Future<Output = ()> + '_ {
        std::future::poll_fn(move |cx| {
            let Some(tick) = self.tick.as_mut() else {
                return Poll::Pending;
            };
            while let Poll::Ready(now) = tick.poll_tick(cx) {
                if self.activity.quiet_for(now) >= self.timeout {
                    return Poll::Ready(());
                }
            }
            Poll::Pending
        })
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
