//! `leastActive`: the provider with the fewest calls in flight.

use std::sync::Arc;
use std::time::Duration;

use sofa_rpc_registry::ProviderInfo;

use super::tracked::Tracked;
use super::{rng, LoadBalancer};
use crate::invocation::Invocation;

/// Sends each call to the provider with the fewest attempts in flight from this consumer;
/// among several with that fewest, one at random in proportion to its weight in effect
/// (uniformly when their weights are equal or all zero).
///
/// Not in SOFARPC (Dubbo has it under the same name). A slow or stuck provider accumulates
/// calls in flight and so stops being chosen, without any latency measurement; it needs the
/// cluster to report every attempt through [`LoadBalancer::on_attempt_start`] and
/// [`LoadBalancer::on_attempt_end`].
#[derive(Debug, Default)]
pub struct LeastActive {
    tracked: Tracked,
}

impl LoadBalancer for LeastActive {
    fn select(
        &self,
        _invocation: &Invocation,
        providers: &[Arc<ProviderInfo>],
    ) -> Option<Arc<ProviderInfo>> {
        if providers.len() <= 1 {
            return providers.first().cloned();
        }
        let index = self.tracked.with(providers, |list| {
            // One pass for the fewest and the weight and count of those that have it, one
            // to pick among them: no allocation.
            let (mut least, mut total, mut count) = (u32::MAX, 0u64, 0u64);
            for (i, load) in list.loads.iter().enumerate() {
                let active = load.in_flight();
                let weight = u64::from(list.weights.get(i));
                if active < least {
                    (least, total, count) = (active, weight, 1);
                } else if active == least {
                    total += weight;
                    count += 1;
                }
            }
            let tied = |i: &usize| list.loads.get(*i).map(|l| l.in_flight()) == Some(least);
            // Counts move while we read: if the tied set changed between the two passes,
            // whatever the walk lands on still had the fewest a moment ago.
            let mut candidates = (0..list.loads.len()).filter(tied);
            let picked = if total == 0 {
                candidates.nth(rng::below(count) as usize)
            } else {
                let mut point = rng::below(total);
                candidates.find(|&i| {
                    let weight = u64::from(list.weights.get(i));
                    point = match point.checked_sub(weight) {
                        Some(rest) => rest,
                        None => return true,
                    };
                    false
                })
            };
            picked.unwrap_or(0)
        });
        providers.get(index).cloned()
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
    use crate::invocation::ServiceId;

    fn providers(weights: &[u32]) -> Vec<Arc<ProviderInfo>> {
        weights
            .iter()
            .enumerate()
            .map(|(i, w)| {
                Arc::new(ProviderInfo::bolt("h", i as u16 + 1).with_param("weight", w.to_string()))
            })
            .collect()
    }

    #[test]
    fn prefers_the_fewest_in_flight() {
        let lb = LeastActive::default();
        let inv = Invocation::new(ServiceId::parse("s:1.0"), "m", Arc::new(()));
        let list = providers(&[100, 100, 100]);
        lb.on_attempt_start(&list[0]);
        lb.on_attempt_start(&list[1]);
        for _ in 0..100 {
            assert_eq!(lb.select(&inv, &list).unwrap().port(), 3);
        }
        // Calls that never end pile up, so the three take turns.
        for _ in 0..30 {
            let p = lb.select(&inv, &list).unwrap();
            lb.on_attempt_start(&p);
        }
        let active: Vec<u32> = list
            .iter()
            .map(|p| lb.tracked.stats.load(p).in_flight())
            .collect();
        assert_eq!(active.iter().sum::<u32>(), 32);
        assert!(active.iter().all(|&n| (10..=11).contains(&n)), "{active:?}");
    }

    #[test]
    fn ties_follow_weights() {
        let lb = LeastActive::default();
        let inv = Invocation::new(ServiceId::parse("s:1.0"), "m", Arc::new(()));
        let list = providers(&[300, 100, 0]);
        let mut seen = [0u32; 3];
        for _ in 0..4000 {
            seen[usize::from(lb.select(&inv, &list).unwrap().port()) - 1] += 1;
        }
        assert_eq!(seen[2], 0);
        assert!((2700..3300).contains(&seen[0]), "{seen:?}");
        assert!(lb.select(&inv, &[]).is_none());
    }
}
