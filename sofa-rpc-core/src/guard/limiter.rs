//! Rate limiters, lock-free: a token bucket as a generic cell rate algorithm (one atomic
//! "theoretical arrival time"), and a leaky bucket that hands out departure slots.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use super::rules::Limiter;

/// A limiter's verdict on one call.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Admit {
    /// Go now.
    Now,
    /// Go after this wait (a leaky bucket's queue).
    After(Duration),
    /// Refused.
    Refused,
}

/// The live state of one rate limit; times are nanoseconds of the guard's clock.
#[derive(Debug)]
pub(crate) struct RateLimiter {
    /// Nanoseconds between two calls at the steady rate.
    interval: u64,
    kind: Kind,
    /// Token bucket: the theoretical arrival time. Leaky bucket: the next free slot.
    next: AtomicU64,
}

#[derive(Debug)]
enum Kind {
    /// Calls may run ahead of the steady schedule by this much (burst - 1 intervals).
    Token { tolerance: u64 },
    /// A call may wait at most this long.
    Leaky { max_wait: u64 },
}

impl RateLimiter {
    pub(crate) fn new(limiter: &Limiter) -> Self {
        let interval_of = |rate: f64| ((1e9 / rate) as u64).max(1);
        let (interval, kind) = match *limiter {
            Limiter::TokenBucket { rate, burst } => {
                let interval = interval_of(rate);
                let tolerance = interval.saturating_mul(u64::from(burst.max(1) - 1));
                (interval, Kind::Token { tolerance })
            }
            Limiter::LeakyBucket {
                rate,
                queue,
                max_wait_ms,
            } => {
                let interval = interval_of(rate);
                // A queue of `queue` calls ahead means a wait of `queue` intervals.
                let by_queue = interval.saturating_mul(u64::from(queue));
                let by_time = max_wait_ms.saturating_mul(1_000_000);
                (
                    interval,
                    Kind::Leaky {
                        max_wait: by_queue.min(by_time),
                    },
                )
            }
        };
        RateLimiter {
            interval,
            kind,
            next: AtomicU64::new(0),
        }
    }

    /// Admits (or not) one call at `now`.
    pub(crate) fn admit(&self, now: u64) -> Admit {
        let mut current = self.next.load(Ordering::Acquire);
        loop {
            let start = current.max(now);
            let ahead = start - now;
            let verdict = match self.kind {
                Kind::Token { tolerance } if ahead <= tolerance => Admit::Now,
                Kind::Leaky { max_wait } if ahead <= max_wait => match ahead {
                    0 => Admit::Now,
                    wait => Admit::After(Duration::from_nanos(wait)),
                },
                _ => return Admit::Refused,
            };
            match self.next.compare_exchange_weak(
                current,
                start.saturating_add(self.interval),
                Ordering::AcqRel,
                Ordering::Acquire,
            ) {
                Ok(_) => return verdict,
                Err(seen) => current = seen,
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MS: u64 = 1_000_000;

    #[test]
    fn token_bucket_allows_burst_then_rate() {
        let limiter = RateLimiter::new(&Limiter::TokenBucket {
            rate: 10.0,
            burst: 3,
        });
        let t = 1_000 * MS;
        assert_eq!(limiter.admit(t), Admit::Now);
        assert_eq!(limiter.admit(t), Admit::Now);
        assert_eq!(limiter.admit(t), Admit::Now);
        assert_eq!(limiter.admit(t), Admit::Refused);
        // One token every 100 ms.
        assert_eq!(limiter.admit(t + 99 * MS), Admit::Refused);
        assert_eq!(limiter.admit(t + 100 * MS), Admit::Now);
        assert_eq!(limiter.admit(t + 100 * MS), Admit::Refused);
        // Over one second at full demand: 10 more.
        let passed = (0..1000u64)
            .filter(|i| limiter.admit(t + 101 * MS + i * MS) == Admit::Now)
            .count();
        assert_eq!(passed, 10);
    }

    #[test]
    fn leaky_bucket_queues_within_bounds() {
        let limiter = RateLimiter::new(&Limiter::LeakyBucket {
            rate: 10.0,
            queue: 2,
            max_wait_ms: 1_000,
        });
        let t = 5 * MS;
        assert_eq!(limiter.admit(t), Admit::Now);
        assert_eq!(limiter.admit(t), Admit::After(Duration::from_millis(100)));
        assert_eq!(limiter.admit(t), Admit::After(Duration::from_millis(200)));
        assert_eq!(limiter.admit(t), Admit::Refused, "queue of 2 full");
        let waits = RateLimiter::new(&Limiter::LeakyBucket {
            rate: 10.0,
            queue: 100,
            max_wait_ms: 150,
        });
        assert_eq!(waits.admit(t), Admit::Now);
        assert_eq!(waits.admit(t), Admit::After(Duration::from_millis(100)));
        assert_eq!(waits.admit(t), Admit::Refused, "would wait 200 ms > 150");
    }
}
