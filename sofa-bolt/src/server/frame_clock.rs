//! The deadline for completing a frame once its first byte arrived.

use std::time::Duration;

use std::task::Poll;

use tokio::time::Instant;

use crate::io::Ticker;

/// Watches how long the frame at the front of a connection's read buffer has been incomplete.
///
/// Checked on a coarse periodic tick, like the idle timer, instead of a timer re-armed for
/// every frame: a pipelining client starts thousands of frames a second. The connection polls
/// [`expired`](Self::expired) only while it holds a partial frame and is reading; whenever it
/// does not, it calls [`restart`](Self::restart), and so does every completed frame. The first
/// tick after a restart starts the count, which is therefore late by at most one period.
pub(super) struct FrameClock {
    timeout: Duration,
    tick: Option<Ticker>,
    started: Option<Instant>,
}

impl FrameClock {
    /// A clock for `timeout`; `Duration::ZERO` never expires.
    pub(super) fn new(timeout: Duration) -> Self {
        let tick =
            (!timeout.is_zero()).then(|| Ticker::new((timeout / 8).max(Duration::from_millis(10))));
        FrameClock {
            timeout,
            tick,
            started: None,
        }
    }

    /// A new frame began (or the wait was interrupted): count from the next tick.
    pub(super) fn restart(&mut self) {
        self.started = None;
    }

    /// Completes once one frame has been incomplete for the timeout.
    pub(super) fn expired(&mut self) -> impl std::future::Future<Output = ()> + '_ {
        std::future::poll_fn(move |cx| {
            let Some(tick) = self.tick.as_mut() else {
                return Poll::Pending;
            };
            while let Poll::Ready(now) = tick.poll_tick(cx) {
                match self.started {
                    None => self.started = Some(now),
                    Some(at) if now.saturating_duration_since(at) >= self.timeout => {
                        return Poll::Ready(())
                    }
                    Some(_) => {}
                }
            }
            Poll::Pending
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(start_paused = true)]
    async fn expires_one_timeout_after_a_frame_started_and_not_while_frames_complete() {
        let mut clock = FrameClock::new(Duration::from_millis(800));
        // Frames completing every 100 ms for 2 s: never expires.
        for _ in 0..20 {
            tokio::select! {
                _ = clock.expired() => panic!("expired while frames complete"),
                _ = tokio::time::sleep(Duration::from_millis(100)) => clock.restart(),
            }
        }
        // One frame that does not complete: expires after the timeout, late by at most two
        // periods (the count starts on the first tick after the restart).
        let started = Instant::now();
        clock.expired().await;
        let waited = started.elapsed();
        assert!(
            waited >= Duration::from_millis(800) && waited <= Duration::from_millis(1000),
            "{waited:?}"
        );
    }

    #[tokio::test(start_paused = true)]
    async fn zero_never_expires() {
        let mut clock = FrameClock::new(Duration::ZERO);
        tokio::select! {
            _ = clock.expired() => panic!("expired"),
            _ = tokio::time::sleep(Duration::from_secs(3600)) => {}
        }
    }
}
