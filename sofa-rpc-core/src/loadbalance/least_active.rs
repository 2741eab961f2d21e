//! `leastActive`: the provider with the fewest calls in flight.

use std::sync::Arc;
use std::time::Duration;

use sofa_rpc_registry::ProviderInfo;

use super::tracked::Tracked;
use super::{rng, LoadBalancer};
use crate::invocation::Invocation;

/// Lists up to this long are scanned without allocating.
const ON_STACK: usize = 128;

/// Draws tried before counting the tied providers.
const DRAWS: usize = 4;

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
            // Copy the counts first: every step below then sees the same numbers though
            // calls start and end meanwhile, and the scans run over plain contiguous memory.
            let mut on_stack = [0u32; ON_STACK];
            let mut on_heap = Vec::new();
            let active = match on_stack.get_mut(..list.loads.len()) {
                Some(active) => active,
                None => {
                    on_heap.resize(list.loads.len(), 0);
                    &mut on_heap[..]
                }
            };
            // Copying and taking the minimum in separate loops lets the minimum run over plain
            // memory in vector registers, and keeps it out of the closures' borrow below.
            let least = {
                for (count, load) in active.iter_mut().zip(&list.loads) {
                    *count = load.in_flight();
                }
                active.iter().copied().min().unwrap_or(0)
            };
            // Usually many providers share the fewest (all of them, when load is light): a
            // draw by weight that lands on one of them is a draw by weight among them, and
            // takes no scan. A few misses mean few are tied: then count them and walk.
            for _ in 0..DRAWS {
                let i = list.weights.pick()?;
                if active.get(i) == Some(&least) {
                    return Some(i);
                }
            }
            let mut tied = active
                .iter()
                .enumerate()
                .filter(|(_, &n)| n == least)
                .map(|(i, _)| i);
            let weight = |i: usize| u64::from(list.weights.get(i));
            let total: u64 = if list.weights.is_uniform() {
                0
            } else {
                tied.clone().map(weight).sum()
            };
            if total == 0 {
                let count = active.iter().filter(|&&n| n == least).count();
                tied.nth(rng::below(count as u64) as usize)
            } else {
                let mut point = rng::below(total);
                tied.find(|&i| match point.checked_sub(weight(i)) {
                    Some(rest) => {
                        point = rest;
                        false
                    }
                    None => true,
                })
            }
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
    use crate::service_id::ServiceId;

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
    fn long_lists_are_scanned_too() {
        let lb = LeastActive::default();
        let inv = Invocation::new(ServiceId::parse("s:1.0"), "m", Arc::new(()));
        let list = providers(&[100; ON_STACK + 72]);
        for (i, p) in list.iter().enumerate() {
            if i != 150 {
                lb.on_attempt_start(p);
            }
        }
        for _ in 0..20 {
            assert_eq!(lb.select(&inv, &list).unwrap().port(), 151);
        }
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
