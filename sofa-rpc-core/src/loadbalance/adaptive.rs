//! `adaptive`: the power of two choices over peak-EWMA latency and calls in flight.

use std::sync::Arc;
use std::time::Duration;

use sofa_rpc_registry::ProviderInfo;

use super::tracked::{Loads, Tracked};
use super::LoadBalancer;
use crate::invocation::Invocation;

/// Draws two providers at random (in proportion to their weights in effect) and sends the
/// call to the one with the lower expected cost: its peak-EWMA latency times its calls in
/// flight plus one — the balancer of Finagle and linkerd.
///
/// Not in SOFARPC. Why this shape:
/// - *Peak EWMA*: a slower sample replaces the estimate at once, a faster one blends in with
///   a weight that grows with the time since the last sample (decay constant 10 s); without
///   samples the estimate decays towards zero, so a provider avoided for being slow is tried
///   again and can show it has recovered.
/// - *Times (in flight + 1)*: latency alone reacts only when answers come back; calls in
///   flight react at once to a provider that has stopped answering.
/// - *Two choices*: comparing two random providers, rather than taking the best of all, keeps
///   every consumer from rushing at the same momentarily best provider, and costs O(1).
/// - *New providers* have no estimate: they are scored with the estimate of the provider they
///   are compared with (only calls in flight then decide), neither favoured nor avoided.
/// - A failed attempt counts as at least twice the estimate, so failing fast never looks fast.
///
/// It needs the cluster to report every attempt through [`LoadBalancer::on_attempt_start`]
/// and [`LoadBalancer::on_attempt_end`]; without reports it is a weighted random choice.
#[derive(Debug, Default)]
pub struct Adaptive {
    tracked: Tracked,
}

impl Adaptive {
    fn better(&self, list: &Loads, a: usize, b: usize) -> usize {
        let (Some(load_a), Some(load_b)) = (list.loads.get(a), list.loads.get(b)) else {
            return a;
        };
        let now = self.tracked.stats.now();
        let (cost_a, cost_b) = match (load_a.cost_at(now), load_b.cost_at(now)) {
            (x, y) if x.is_nan() && y.is_nan() => (1.0, 1.0),
            (x, y) if x.is_nan() => (y, y),
            (x, y) if y.is_nan() => (x, x),
            both => both,
        };
        // At least a nanosecond, so that calls in flight still count when an estimate has
        // decayed to nothing.
        let score_a = cost_a.max(1.0) * f64::from(load_a.in_flight().saturating_add(1));
        let score_b = cost_b.max(1.0) * f64::from(load_b.in_flight().saturating_add(1));
        if score_b < score_a {
            b
        } else {
            a
        }
    }
}

impl LoadBalancer for Adaptive {
    fn select(
        &self,
        _invocation: &Invocation,
        providers: &[Arc<ProviderInfo>],
    ) -> Option<Arc<ProviderInfo>> {
        if providers.len() <= 1 {
            return providers.first().cloned();
        }
        let index = self.tracked.with(providers, |list| {
            let a = list.weights.pick()?;
            // With no other provider carrying weight, there is no second choice to make.
            Some(match list.weights.pick_other(a) {
                Some(b) => self.better(list, a, b),
                None => a,
            })
        })?;
        providers.get(index).cloned()
    }

    fn observes_attempts(&self) -> bool {
        true
    }

    fn on_attempt_start(&self, provider: &ProviderInfo) {
        self.tracked.started(provider);
    }

    fn on_attempt_end(&self, provider: &ProviderInfo, elapsed: Duration, ok: bool) {
        self.tracked.ended(provider, elapsed, ok);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::loadbalance::Random;
    use crate::service_id::ServiceId;

    /// 1,000 calls over three providers, the first 20 ms slow and the others 1 ms, each call
    /// reported as the cluster would: the count of calls each provider got.
    fn spread(lb: &dyn LoadBalancer) -> [u32; 3] {
        let inv = Invocation::new(ServiceId::parse("s:1.0"), "m", Arc::new(()));
        let list: Vec<_> = (1..=3)
            .map(|port| Arc::new(ProviderInfo::bolt("127.0.0.1", port)))
            .collect();
        let mut seen = [0u32; 3];
        for _ in 0..1000 {
            let p = lb.select(&inv, &list).unwrap();
            let slow = p.port() == 1;
            seen[usize::from(p.port()) - 1] += 1;
            lb.on_attempt_start(&p);
            let elapsed = Duration::from_millis(if slow { 20 } else { 1 });
            lb.on_attempt_end(&p, elapsed, true);
        }
        seen
    }

    #[test]
    fn sends_the_slow_provider_well_under_a_third() {
        let adaptive = spread(&Adaptive::default());
        let random = spread(&Random::default());
        println!("calls to [slow, fast, fast]: adaptive {adaptive:?}, random {random:?}");
        assert!(adaptive[0] < 100, "{adaptive:?}");
        assert!(random[0] > 250, "{random:?}");
    }

    #[test]
    fn calls_in_flight_count_against_a_provider() {
        let lb = Adaptive::default();
        let inv = Invocation::new(ServiceId::parse("s:1.0"), "m", Arc::new(()));
        let list: Vec<_> = (1..=2)
            .map(|port| Arc::new(ProviderInfo::bolt("h", port)))
            .collect();
        for p in &list {
            lb.on_attempt_start(p);
            lb.on_attempt_end(p, Duration::from_millis(1), true);
        }
        // Provider 1 has stopped answering: its calls stay in flight.
        for _ in 0..3 {
            lb.on_attempt_start(&list[0]);
        }
        for _ in 0..100 {
            assert_eq!(lb.select(&inv, &list).unwrap().port(), 2);
        }
    }

    #[test]
    fn new_providers_are_neither_favoured_nor_avoided() {
        let lb = Adaptive::default();
        let inv = Invocation::new(ServiceId::parse("s:1.0"), "m", Arc::new(()));
        let known = Arc::new(ProviderInfo::bolt("h", 1));
        let new = Arc::new(ProviderInfo::bolt("h", 2));
        lb.select(&inv, std::slice::from_ref(&known));
        lb.on_attempt_start(&known);
        lb.on_attempt_end(&known, Duration::from_millis(50), true);
        let list = [known, new];
        let mut to_new = 0;
        for _ in 0..1000 {
            if lb.select(&inv, &list).unwrap().port() == 2 {
                to_new += 1;
            }
        }
        // Scored alike, the draw decides: about half each.
        assert!((400..600).contains(&to_new), "{to_new}");
    }
}
