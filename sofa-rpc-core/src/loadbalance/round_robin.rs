//! `roundRobin`: each method cycles through the providers in turn.

use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};
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
    sequences: RwLock<HashMap<u64, AtomicUsize, BuildHasherDefault<Prehashed>>>,
}

/// The keys are hashes already: the map uses them as they are.
#[derive(Default)]
struct Prehashed(u64);

impl Hasher for Prehashed {
    fn finish(&self) -> u64 {
        self.0
    }

    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.0 = (self.0 << 8) | u64::from(b);
        }
    }

    fn write_u64(&mut self, n: u64) {
        self.0 = n;
    }
}

/// FNV-1a over service and method: a handful of nanoseconds, and no secret key is needed
/// since nobody outside chooses the method names.
fn sequence_key(invocation: &Invocation) -> u64 {
    let service = invocation.service().unique_name().as_bytes();
    let method = invocation.method().as_bytes();
    service
        .iter()
        .chain(&[0])
        .chain(method)
        .fold(0xcbf2_9ce4_8422_2325u64, |h, &b| {
            (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
        })
}

impl RoundRobin {
    /// The next number of the method's sequence.
    fn next(&self, invocation: &Invocation) -> usize {
        let key = sequence_key(invocation);
        let sequences = self.sequences.read().unwrap_or_else(|e| e.into_inner());
        if let Some(sequence) = sequences.get(&key) {
            return sequence.fetch_add(1, Ordering::Relaxed);
        }
        drop(sequences);
        self.sequences
            .write()
            .unwrap_or_else(|e| e.into_inner())
            .entry(key)
            .or_default()
            .fetch_add(1, Ordering::Relaxed)
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
        let n = self.next(invocation);
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
