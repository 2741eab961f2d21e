//! Pieces shared by the server and client connection tasks.

use std::time::{Duration, Instant};

use tokio::time::{interval_at, Interval, MissedTickBehavior};

/// Initial capacity of a connection's read and write buffers.
pub(crate) const READ_CAPACITY: usize = 64 * 1024;

/// Stop reading new frames (and queueing responses) while this much is waiting to be written:
/// a peer that does not read its responses must not make us buffer without bound.
pub(crate) const WRITE_HIGH_WATER: usize = 1024 * 1024;

/// Tracks the last read or write and fires once the connection has been idle for the
/// configured time. Checking on a coarse periodic tick avoids re-arming a timer on every read.
pub(crate) struct IdleTimer {
    timeout: Duration,
    last: Instant,
    tick: Option<Interval>,
}

impl IdleTimer {
    /// A timer for `timeout`; `Duration::ZERO` never fires.
    pub(crate) fn new(timeout: Duration) -> Self {
        let tick = (!timeout.is_zero()).then(|| {
            let period = (timeout / 8).max(Duration::from_millis(10));
            let mut tick = interval_at(tokio::time::Instant::now() + period, period);
            tick.set_missed_tick_behavior(MissedTickBehavior::Delay);
            tick
        });
        IdleTimer {
            timeout,
            last: Instant::now(),
            tick,
        }
    }

    /// Records activity.
    pub(crate) fn touch(&mut self) {
        self.last = Instant::now();
    }

    /// How long since the last activity.
    pub(crate) fn idle_for(&self) -> Duration {
        self.last.elapsed()
    }

    /// Completes once the connection has been idle for the timeout.
    pub(crate) async fn expired(&mut self) {
        let Some(tick) = self.tick.as_mut() else {
            return std::future::pending().await;
        };
        loop {
            tick.tick().await;
            if self.last.elapsed() >= self.timeout {
                return;
            }
        }
    }
}
