//! `random`: weighted random choice (SOFARPC's default load balancer).

use std::sync::Arc;

use sofa_rpc_registry::ProviderInfo;

use super::{rng, LoadBalancer};

fn now_ms() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
        .unwrap_or(0)
}
use crate::invocation::Invocation;

/// Chooses a provider at random, in proportion to its weight in effect (warm-up included).
/// With equal weights every provider is equally likely.
#[derive(Clone, Copy, Debug, Default)]
pub struct Random;

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
                // The weight in effect changes over time (warm-up), so take one reading of
                // each: the sum and the pick must agree.
                let now = now_ms();
                let weight = |p: &Arc<ProviderInfo>| u64::from(p.effective_weight_at(now));
                let (mut total, mut uniform) = (0u64, true);
                let first = providers.first().map(weight).unwrap_or(0);
                for p in providers {
                    let w = weight(p);
                    total += w;
                    uniform &= w == first;
                }
                let index = if total == 0 || uniform {
                    rng::below(providers.len() as u64) as usize
                } else {
                    let mut pick = rng::below(total);
                    providers
                        .iter()
                        .position(|p| {
                            let w = weight(p);
                            if pick < w {
                                true
                            } else {
                                pick -= w;
                                false
                            }
                        })
                        .unwrap_or(0)
                };
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
        let mut heavy_hits = 0;
        for _ in 0..4000 {
            if Random.select(&inv, &providers).unwrap() == heavy {
                heavy_hits += 1;
            }
        }
        assert!((2700..3300).contains(&heavy_hits), "{heavy_hits}");
        assert!(Random.select(&inv, &[]).is_none());
    }

    #[test]
    fn zero_weight_provider_gets_nothing() {
        let inv = Invocation::new(ServiceId::parse("a:1.0"), "m", Arc::new(()));
        let off = Arc::new(ProviderInfo::bolt("off", 1).with_param("weight", "0"));
        let on = Arc::new(ProviderInfo::bolt("on", 2));
        for _ in 0..500 {
            assert_eq!(Random.select(&inv, &[off.clone(), on.clone()]).unwrap(), on);
        }
    }
}
