//! `random`: weighted random choice (SOFARPC's default load balancer).

use std::sync::Arc;

use sofa_rpc_registry::ProviderInfo;

use super::cache::ListCache;
use super::weights::{now_ms, Weights};
use super::LoadBalancer;
use crate::invocation::Invocation;

/// Chooses a provider at random, in proportion to its weight in effect (warm-up included).
/// With equal weights every provider is equally likely.
///
/// The weights of a list are read once and kept until the list changes or a warm-up ends, so
/// a pick costs a pointer comparison per provider and a binary search.
#[derive(Debug, Default)]
pub struct Random {
    weights: ListCache<Weights>,
}

impl LoadBalancer for Random {
    fn select(
        &self,
        _invocation: &Invocation,
        providers: &[Arc<ProviderInfo>],
    ) -> Option<Arc<ProviderInfo>> {
        match providers {
            [] => None,
            [only] => Some(only.clone()),
            _ => {
                let index = self
                    .weights
                    .with(providers, now_ms, Weights::of, Weights::pick)?;
                providers.get(index).cloned()
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::service_id::ServiceId;

    #[test]
    fn follows_weights() {
        let inv = Invocation::new(ServiceId::parse("a:1.0"), "m", Arc::new(()));
        let heavy = Arc::new(ProviderInfo::bolt("h", 1).with_param("weight", "300"));
        let light = Arc::new(ProviderInfo::bolt("l", 2).with_param("weight", "100"));
        let providers = [heavy.clone(), light];
        let random = Random::default();
        let mut heavy_hits = 0;
        for _ in 0..4000 {
            if random.select(&inv, &providers).unwrap() == heavy {
                heavy_hits += 1;
            }
        }
        assert!((2700..3300).contains(&heavy_hits), "{heavy_hits}");
        assert!(random.select(&inv, &[]).is_none());
    }

    #[test]
    fn zero_weight_provider_gets_nothing() {
        let inv = Invocation::new(ServiceId::parse("a:1.0"), "m", Arc::new(()));
        let off = Arc::new(ProviderInfo::bolt("off", 1).with_param("weight", "0"));
        let on = Arc::new(ProviderInfo::bolt("on", 2));
        let random = Random::default();
        for _ in 0..500 {
            assert_eq!(random.select(&inv, &[off.clone(), on.clone()]).unwrap(), on);
        }
    }
}
