//! `weightConsistentHash`: `consistentHash` with virtual nodes in proportion to weight.

use std::sync::Arc;

use sofa_rpc_registry::ProviderInfo;

use super::cache::ListCache;
use super::hash_key::key_hash;
use super::ring::{Ring, MAX_POINTS};
use super::weights::{expiry, now_ms};
use super::LoadBalancer;
use crate::invocation::Invocation;

/// Like [`ConsistentHash`](super::ConsistentHash), with each provider's share of the ring in
/// proportion to its weight in effect, as Java SOFARPC's `weightConsistentHash`.
///
/// Scaling, as SOFARPC: a provider of weight `w` gets `32 * w` virtual nodes, from the digests
/// `host + port + i` for `i` in `0..8 * w` (four points each) — 3,200 nodes at the default
/// weight 100, against `consistentHash`'s fixed 128. A weight of 0 takes a provider off the
/// ring. Two departures, where Java has no sensible answer:
/// - when every weight is 0 (Java's ring is empty and the call fails), the providers are
///   placed as by `consistentHash`;
/// - when the nodes would exceed about two million (weights summing past 65,536), every
///   provider's count is scaled down in proportion, to bound the ring's memory and build time.
///
/// The weight in effect includes warm-up: the ring is rebuilt when the list changes and when a
/// provider's warm-up ends.
#[derive(Debug, Default)]
pub struct WeightConsistentHash {
    rings: ListCache<Ring>,
}

/// The digests of each provider: `8 * weight`, or 32 each when all weights are 0.
fn digests(providers: &[Arc<ProviderInfo>], now_ms: u64) -> Vec<u64> {
    let weights: Vec<u64> = providers
        .iter()
        .map(|p| u64::from(p.effective_weight_at(now_ms)))
        .collect();
    if weights.iter().all(|&w| w == 0) {
        vec![32; providers.len()]
    } else {
        weights.iter().map(|w| (8 * w).min(MAX_POINTS)).collect()
    }
}

impl LoadBalancer for WeightConsistentHash {
    fn select(
        &self,
        invocation: &Invocation,
        providers: &[Arc<ProviderInfo>],
    ) -> Option<Arc<ProviderInfo>> {
        match providers {
            [] => None,
            [only] => Some(only.clone()),
            _ => {
                let hash = key_hash(invocation);
                let derive = |list: &[Arc<ProviderInfo>], now| {
                    let ring = Ring::build(list, &digests(list, now));
                    (ring, expiry(list, now))
                };
                let index = self
                    .rings
                    .with(providers, now_ms, derive, |ring| ring.owner(hash))?;
                providers.get(index).cloned()
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::loadbalance::consistent_hash::tests::{java_pick, select_index, KEYS, PROVIDERS};

    const WEIGHTS: [u32; 4] = [100, 50, 200, 10];

    #[test]
    fn picks_what_javas_weighted_ring_picks() {
        let lb = WeightConsistentHash::default();
        let list: Vec<_> = PROVIDERS
            .iter()
            .zip(WEIGHTS)
            .map(|(&(host, port), w)| {
                Arc::new(ProviderInfo::bolt(host, port).with_param("weight", w.to_string()))
            })
            .collect();
        let mut picks = Vec::new();
        for key in KEYS {
            let expected = java_pick(&PROVIDERS, |i| 32 * WEIGHTS[i] as usize, key);
            assert_eq!(select_index(&lb, &list, key), expected, "{key:?}");
            picks.push(expected);
        }
        // Computed apart by a Python transcription of the Java source.
        assert_eq!(picks, [2, 2, 1, 2, 0, 2, 2, 2, 2, 2, 2, 0]);
    }

    #[test]
    fn shares_follow_weights_and_zero_weights_fall_back() {
        let lb = WeightConsistentHash::default();
        let list: Vec<_> = [(1u16, 300u32), (2, 100), (3, 0)]
            .iter()
            .map(|&(port, w)| {
                Arc::new(ProviderInfo::bolt("10.1.1.1", port).with_param("weight", w.to_string()))
            })
            .collect();
        let mut seen = [0u32; 3];
        for i in 0..2000 {
            seen[select_index(&lb, &list, &format!("key-{i}"))] += 1;
        }
        assert_eq!(seen[2], 0);
        assert!((1300..1700).contains(&seen[0]), "{seen:?}");
        let zero: Vec<_> = (1..=2)
            .map(|port| Arc::new(ProviderInfo::bolt("h", port).with_param("weight", "0")))
            .collect();
        let picks: Vec<usize> = (0..50)
            .map(|i| select_index(&lb, &zero, &i.to_string()))
            .collect();
        assert!(picks.contains(&0) && picks.contains(&1));
    }
}
