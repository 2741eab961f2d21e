//! A circuit breaker: a sliding window of buckets, closed / open / half-open.

use std::sync::{Mutex, MutexGuard};

use super::rules::BreakerRule;
use crate::event::BreakerState;

const MS: u64 = 1_000_000;

/// The breaker's answer to a call about to start.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Permit {
    /// Go; count the outcome.
    Go,
    /// Go as a half-open probe; its outcome closes or reopens the breaker.
    Probe,
    /// Refused: the breaker is open.
    Refused,
}

/// One breaker's live state; times are nanoseconds of the guard's clock.
#[derive(Debug)]
pub(crate) struct Breaker {
    rule: BreakerRule,
    inner: Mutex<Inner>,
}

#[derive(Debug)]
struct Inner {
    state: BreakerState,
    /// Ring of buckets; each remembers which bucket number (time / bucket length) it counts.
    buckets: Vec<Bucket>,
    opened_at: u64,
    probes_out: u32,
    probes_ok: u32,
}

#[derive(Clone, Copy, Debug, Default)]
struct Bucket {
    number: u64,
    calls: u64,
    errors: u64,
    slow: u64,
}

/// A change of state, to publish.
pub(crate) type Change = (BreakerState, BreakerState);

impl Breaker {
    pub(crate) fn new(rule: &BreakerRule) -> Self {
        Breaker {
            rule: rule.clone(),
            inner: Mutex::new(Inner {
                state: BreakerState::Closed,
                buckets: vec![Bucket::default(); rule.buckets.max(1) as usize],
                opened_at: 0,
                probes_out: 0,
                probes_ok: 0,
            }),
        }
    }

    fn lock(&self) -> MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn sleep(&self) -> u64 {
        self.rule.sleep_ms.saturating_mul(MS)
    }

    /// The state now (an open breaker whose sleep is over reads as half-open).
    pub(crate) fn state(&self, now: u64) -> BreakerState {
        let inner = self.lock();
        match inner.state {
            BreakerState::Open if now >= inner.opened_at.saturating_add(self.sleep()) => {
                BreakerState::HalfOpen
            }
            state => state,
        }
    }

    /// Whether a call at `now` would be refused: what the cluster reads to skip a provider.
    pub(crate) fn is_refusing(&self, now: u64) -> bool {
        let inner = self.lock();
        match inner.state {
            BreakerState::Closed => false,
            BreakerState::Open => now < inner.opened_at.saturating_add(self.sleep()),
            BreakerState::HalfOpen => inner.probes_out >= self.rule.probes,
        }
    }

    /// Asks to start a call at `now`; the change is the open breaker turning half-open.
    pub(crate) fn permit(&self, now: u64) -> (Permit, Option<Change>) {
        let mut inner = self.lock();
        let mut change = None;
        if inner.state == BreakerState::Open {
            if now < inner.opened_at.saturating_add(self.sleep()) {
                return (Permit::Refused, None);
            }
            inner.state = BreakerState::HalfOpen;
            inner.probes_out = 0;
            inner.probes_ok = 0;
            change = Some((BreakerState::Open, BreakerState::HalfOpen));
        }
        let permit = match inner.state {
            BreakerState::HalfOpen if inner.probes_out < self.rule.probes => {
                inner.probes_out += 1;
                Permit::Probe
            }
            BreakerState::HalfOpen => Permit::Refused,
            _ => Permit::Go,
        };
        (permit, change)
    }

    /// Counts the outcome of a call permitted with `permit` that ended at `now` after
    /// `elapsed_ms`; returns the change of state it caused.
    pub(crate) fn record(
        &self,
        permit: Permit,
        now: u64,
        failed: bool,
        elapsed_ms: u64,
    ) -> Option<Change> {
        let slow = self
            .rule
            .slow_call_ms
            .is_some_and(|limit| elapsed_ms > limit);
        let mut inner = self.lock();
        match (permit, inner.state) {
            (Permit::Probe, BreakerState::HalfOpen) => {
                if failed || slow {
                    inner.state = BreakerState::Open;
                    inner.opened_at = now;
                    return Some((BreakerState::HalfOpen, BreakerState::Open));
                }
                inner.probes_ok += 1;
                if inner.probes_ok >= self.rule.probes {
                    inner.state = BreakerState::Closed;
                    inner
                        .buckets
                        .iter_mut()
                        .for_each(|b| *b = Bucket::default());
                    return Some((BreakerState::HalfOpen, BreakerState::Closed));
                }
                None
            }
            (Permit::Go, BreakerState::Closed) => {
                let bucket_len = self.rule.bucket_ms.max(1).saturating_mul(MS);
                let number = now / bucket_len + 1;
                let n = inner.buckets.len() as u64;
                let index = (number % n) as usize;
                if let Some(bucket) = inner.buckets.get_mut(index) {
                    if bucket.number != number {
                        *bucket = Bucket {
                            number,
                            ..Bucket::default()
                        };
                    }
                    bucket.calls += 1;
                    bucket.errors += u64::from(failed);
                    bucket.slow += u64::from(slow);
                }
                let live = inner.buckets.iter().filter(|b| b.number + n > number);
                let (calls, errors, slows) = live.fold((0, 0, 0), |(c, e, s), b| {
                    (c + b.calls, e + b.errors, s + b.slow)
                });
                if calls < self.rule.min_requests {
                    return None;
                }
                let rate = |part: u64| part as f64 * 100.0 / calls as f64;
                let too_slow = self
                    .rule
                    .slow_rate
                    .is_some_and(|limit| rate(slows) >= limit);
                if rate(errors) >= self.rule.error_rate || too_slow {
                    inner.state = BreakerState::Open;
                    inner.opened_at = now;
                    return Some((BreakerState::Closed, BreakerState::Open));
                }
                None
            }
            // An outcome from before the last change of state: it says nothing about now.
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::guard::rules::{BreakerScope, Mode};

    fn rule() -> BreakerRule {
        BreakerRule {
            id: "b".into(),
            service: "s".into(),
            method: None,
            scope: BreakerScope::Method,
            mode: Mode::Intercept,
            buckets: 6,
            bucket_ms: 10_000,
            min_requests: 4,
            error_rate: 50.0,
            slow_call_ms: None,
            slow_rate: None,
            sleep_ms: 100,
            probes: 2,
        }
    }

    #[test]
    fn opens_sleeps_probes_closes() {
        let b = Breaker::new(&rule());
        let t = 1_000 * MS;
        for failed in [false, true, false] {
            assert_eq!(b.record(Permit::Go, t, failed, 1), None);
        }
        // 4 calls, 2 failed: 50 %.
        assert_eq!(
            b.record(Permit::Go, t, true, 1),
            Some((BreakerState::Closed, BreakerState::Open))
        );
        assert_eq!(b.permit(t + 50 * MS).0, Permit::Refused);
        assert!(b.is_refusing(t + 50 * MS));
        let (p1, change) = b.permit(t + 100 * MS);
        assert_eq!(
            (p1, change),
            (
                Permit::Probe,
                Some((BreakerState::Open, BreakerState::HalfOpen))
            )
        );
        let (p2, _) = b.permit(t + 100 * MS);
        assert_eq!(p2, Permit::Probe);
        assert_eq!(b.permit(t + 100 * MS).0, Permit::Refused, "only 2 probes");
        assert_eq!(b.record(p1, t + 101 * MS, false, 1), None);
        assert_eq!(
            b.record(p2, t + 101 * MS, false, 1),
            Some((BreakerState::HalfOpen, BreakerState::Closed))
        );
        assert_eq!(b.state(t + 102 * MS), BreakerState::Closed);
    }

    #[test]
    fn failed_probe_reopens_and_old_buckets_expire() {
        let b = Breaker::new(&rule());
        let t = 1_000 * MS;
        for _ in 0..3 {
            b.record(Permit::Go, t, true, 1);
        }
        // A minute later the three failures have left the window.
        let later = t + 60_000 * MS;
        assert_eq!(b.record(Permit::Go, later, true, 1), None);
        for _ in 0..3 {
            b.record(Permit::Go, later, true, 1);
        }
        assert_eq!(b.state(later), BreakerState::Open);
        let (probe, _) = b.permit(later + 100 * MS);
        assert_eq!(
            b.record(probe, later + 100 * MS, true, 1),
            Some((BreakerState::HalfOpen, BreakerState::Open))
        );
        assert_eq!(b.state(later + 150 * MS), BreakerState::Open);
    }

    #[test]
    fn slow_calls_open_it_too() {
        let mut slow = rule();
        slow.slow_call_ms = Some(100);
        slow.slow_rate = Some(50.0);
        slow.error_rate = 100.0;
        let b = Breaker::new(&slow);
        let t = 1_000 * MS;
        assert_eq!(b.record(Permit::Go, t, false, 10), None);
        assert_eq!(b.record(Permit::Go, t, false, 150), None);
        assert_eq!(b.record(Permit::Go, t, false, 20), None);
        // 2 of 4 slower than 100 ms: 50 %.
        assert_eq!(
            b.record(Permit::Go, t, false, 101),
            Some((BreakerState::Closed, BreakerState::Open))
        );
        // A slow probe counts as a failed one.
        let (probe, _) = b.permit(t + 100 * MS);
        assert_eq!(
            b.record(probe, t + 300 * MS, false, 200),
            Some((BreakerState::HalfOpen, BreakerState::Open))
        );
    }
}
