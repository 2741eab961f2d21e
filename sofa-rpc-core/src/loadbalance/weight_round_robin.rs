//! `weightRoundRobin`: smooth weighted round robin, nginx's algorithm.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use sofa_rpc_registry::ProviderInfo;

use super::cache::same_elements;
use super::weights::{now_ms, Weights};
use super::LoadBalancer;
use crate::invocation::Invocation;

/// Cycles through the providers in proportion to their weights in effect, spreading each
/// provider's turns evenly over the cycle.
///
/// The algorithm is nginx's smooth weighted round robin: on every call each provider's
/// *current* value grows by its weight, the provider with the highest current value is
/// chosen, and its current value drops by the sum of the weights. Weights 5, 1, 1 give
/// `a a b a c a a`, never `a a a a a b c`.
///
/// Why not SOFARPC's `weightRoundRobin` (deprecated there): it walks the weights in layers,
/// so a heavy provider gets its turns in a burst at the end of each cycle (weights 1, 2, 3,
/// 4 give `1 2 3 4 2 3 4 3 4 4`: four calls out of the last six to the same provider), and it
/// costs O(n x max weight) per call. The smooth form gives the same shares without bursts, in
/// O(n).
///
/// One cycle per consumer (not per method, unlike SOFARPC's), so the shares hold for the
/// consumer's traffic as a whole. The current values are kept by provider address: when the
/// list changes, the providers that stay keep their place in the cycle and new ones start at
/// zero. A list where every weight is zero is cycled through evenly.
#[derive(Debug, Default)]
pub struct WeightRoundRobin {
    state: Mutex<Cycle>,
}

#[derive(Debug, Default)]
struct Cycle {
    providers: Vec<Arc<ProviderInfo>>,
    weights: Vec<i64>,
    current: Vec<i64>,
    total: i64,
    /// When the weights must be read again (a warm-up ends).
    expires_ms: u64,
}

impl Cycle {
    /// `true` when the cycle is for this very list and its weights still hold.
    fn is_for(&self, providers: &[Arc<ProviderInfo>]) -> bool {
        same_elements(&self.providers, providers)
            && (self.expires_ms == u64::MAX || now_ms() < self.expires_ms)
    }

    /// Takes up a new list (or new weights), carrying every staying provider's current
    /// value over by address.
    fn reset(&mut self, providers: &[Arc<ProviderInfo>], now_ms: u64) {
        let carried: HashMap<&str, i64> = self
            .providers
            .iter()
            .zip(&self.current)
            .map(|(p, &c)| (p.address(), c))
            .collect();
        let current = providers
            .iter()
            .map(|p| carried.get(p.address()).copied().unwrap_or(0))
            .collect();
        let (weights, expires_ms) = Weights::of(providers, now_ms);
        let all_zero = weights.total() == 0;
        self.weights = (0..providers.len())
            .map(|i| {
                if all_zero {
                    1
                } else {
                    i64::from(weights.get(i))
                }
            })
            .collect();
        self.total = self.weights.iter().sum();
        self.current = current;
        self.providers = providers.to_vec();
        self.expires_ms = expires_ms;
    }

    fn next(&mut self) -> Option<usize> {
        let (mut best, mut best_value) = (0, i64::MIN);
        for (i, (current, weight)) in self.current.iter_mut().zip(&self.weights).enumerate() {
            *current += weight;
            // Written to compile without branches: which provider leads is unpredictable.
            let ahead = *current > best_value;
            best = if ahead { i } else { best };
            best_value = best_value.max(*current);
        }
        let current = self.current.get_mut(best)?;
        *current -= self.total;
        Some(best)
    }
}

impl LoadBalancer for WeightRoundRobin {
    fn select(
        &self,
        _invocation: &Invocation,
        providers: &[Arc<ProviderInfo>],
    ) -> Option<Arc<ProviderInfo>> {
        if providers.len() <= 1 {
            return providers.first().cloned();
        }
        let mut cycle = self.state.lock().unwrap_or_else(|e| e.into_inner());
        if !cycle.is_for(providers) {
            cycle.reset(providers, now_ms());
        }
        let index = cycle.next()?;
        providers.get(index).cloned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::service_id::ServiceId;

    fn list(weights: &[(u16, u32)]) -> Vec<Arc<ProviderInfo>> {
        weights
            .iter()
            .map(|&(port, w)| {
                Arc::new(ProviderInfo::bolt("h", port).with_param("weight", w.to_string()))
            })
            .collect()
    }

    fn ports(lb: &WeightRoundRobin, providers: &[Arc<ProviderInfo>], n: usize) -> Vec<u16> {
        let inv = Invocation::new(ServiceId::parse("s:1.0"), "m", Arc::new(()));
        (0..n)
            .map(|_| lb.select(&inv, providers).unwrap().port())
            .collect()
    }

    #[test]
    fn spreads_the_heavy_provider_smoothly() {
        let lb = WeightRoundRobin::default();
        let providers = list(&[(1, 5), (2, 1), (3, 1)]);
        assert_eq!(
            ports(&lb, &providers, 14),
            [1, 1, 2, 1, 3, 1, 1, 1, 1, 2, 1, 3, 1, 1]
        );
        // SOFARPC's example weights: shares 1:2:3:4 over every cycle of 10, with no provider
        // chosen more than twice in a row.
        let providers = list(&[(1, 1), (2, 2), (3, 3), (4, 4)]);
        let lb = WeightRoundRobin::default();
        let seq = ports(&lb, &providers, 100);
        for port in 1..=4 {
            let n = seq.iter().filter(|&&p| p == port).count();
            assert_eq!(n, usize::from(port) * 10);
        }
        assert!(
            seq.windows(3).all(|w| !(w[0] == w[1] && w[1] == w[2])),
            "{seq:?}"
        );
    }

    #[test]
    fn staying_providers_keep_their_place_when_the_list_changes() {
        let lb = WeightRoundRobin::default();
        let providers = list(&[(1, 2), (2, 1)]);
        assert_eq!(ports(&lb, &providers, 2), [1, 2]);
        // Same addresses in new Arcs plus a newcomer: 1 and 2 carry on from where they were.
        let grown = list(&[(1, 2), (2, 1), (3, 1)]);
        assert_eq!(ports(&lb, &grown, 4), [1, 3, 1, 2]);
        // All weights zero: even turns (after the carried-over values settle).
        let zero = list(&[(1, 0), (2, 0)]);
        assert_eq!(ports(&lb, &zero, 4), [1, 1, 2, 1]);
        assert_eq!(ports(&lb, &zero, 4), [2, 1, 2, 1]);
    }
}
