//! `roundRobin`: each method cycles through the providers in turn.

use std::collections::HashMap;
use std::hash::{Hash, Hasher};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, RwLock};

use sofa_rpc_registry::ProviderInfo;

use super::LoadBalancer;
use crate::invocation::Invocation;

/// Cycles through the providers, with one sequence per service method (as SOFARPC's
/// `roundRobin`); weights are not considered.
#[derive(Debug, Default)]
pub struct RoundRobin {
    /// By a hash of service and method: two methods whose hashes collide share a sequence,
    /// which only makes their turns interleave.
    sequences: RwLock<HashMap<u64, Arc<AtomicUsize>>>,
}

impl RoundRobin {
    fn sequence(&self, invocation: &Invocation) -> Arc<AtomicUsize> {
        let mut h = std::collections::hash_map::DefaultHasher::new();
        invocation.service().unique_name().hash(&mut h);
        invocation.method().hash(&mut h);
        let key = h.finish();
        if let Some(seq) = self
            .sequences
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .get(&key)
        {
            return seq.clone();
        }
        self.sequences
            .write()
            .unwrap_or_else(|e| e.into_inner())
            .entry(key)
            .or_default()
            .clone()
    }
}

impl LoadBalancer for RoundRobin {
    fn select(
        &self,
        invocation: &Invocation,
        providers: &[Arc<ProviderInfo>],
    ) -> Option<Arc<ProviderInfo>> {
        if providers.is_empty() {
            return None;
        }
        let n = self.sequence(invocation).fetch_add(1, Ordering::Relaxed);
        providers.get(n % providers.len()).cloned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::service_id::ServiceId;

    #[test]
    fn cycles_per_method() {
        let lb = RoundRobin::default();
        let a = Invocation::new(ServiceId::parse("s:1.0"), "a", Arc::new(()));
        let b = Invocation::new(ServiceId::parse("s:1.0"), "b", Arc::new(()));
        let providers: Vec<_> = (1..=3)
            .map(|p| Arc::new(ProviderInfo::bolt("h", p)))
            .collect();
        let ports: Vec<u16> = (0..6)
            .map(|_| lb.select(&a, &providers).unwrap().port())
            .collect();
        assert_eq!(ports, [1, 2, 3, 1, 2, 3]);
        assert_eq!(lb.select(&b, &providers).unwrap().port(), 1);
    }
}
