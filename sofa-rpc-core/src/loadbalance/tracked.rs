//! [`Tracked`]: per-provider [`Stats`] lined up with the provider list, for the balancers that
//! react to load (`leastActive`, `adaptive`).

use std::sync::Arc;
use std::time::Duration;

use sofa_rpc_registry::ProviderInfo;

use super::cache::ListCache;
use super::stats::{Load, Stats};
use super::weights::{now_ms, Weights};

/// The numbers and weights of each provider of one list, in the list's order, so that a
/// selection reads atomics by index instead of looking addresses up.
#[derive(Debug)]
pub(crate) struct Loads {
    /// One per provider of the list.
    pub(crate) loads: Vec<Arc<Load>>,
    /// The weights in effect.
    pub(crate) weights: Weights,
}

/// Stats fed by attempts, and the lists they are read through.
#[derive(Debug, Default)]
pub(crate) struct Tracked {
    pub(crate) stats: Stats,
    lists: ListCache<Loads>,
}

impl Tracked {
    /// Runs `read` on the loads of `providers`.
    pub(crate) fn with<R>(
        &self,
        providers: &[Arc<ProviderInfo>],
        read: impl FnOnce(&Loads) -> R,
    ) -> R {
        self.lists
            .with(providers, now_ms, |list, now| self.derive(list, now), read)
    }

    /// Lines up the numbers of a new list, and drops those of providers that no remembered
    /// list holds any more: that keeps the map as small as the lists.
    fn derive(&self, providers: &[Arc<ProviderInfo>], now_ms: u64) -> (Loads, u64) {
        let loads = providers.iter().map(|p| self.stats.load(p)).collect();
        let (weights, expires) = Weights::of(providers, now_ms);
        let remembered = self.lists.lists();
        let listed = remembered
            .iter()
            .flat_map(|s| s.providers())
            .chain(providers)
            .map(|p| p.address());
        self.stats.retain(listed);
        (Loads { loads, weights }, expires)
    }

    /// See [`LoadBalancer::on_attempt_start`](super::LoadBalancer::on_attempt_start).
    pub(crate) fn started(&self, provider: &ProviderInfo) {
        self.stats.started(provider);
    }

    /// See [`LoadBalancer::on_attempt_end`](super::LoadBalancer::on_attempt_end).
    pub(crate) fn ended(&self, provider: &ProviderInfo, elapsed: Duration, ok: bool) {
        self.stats.ended(provider, elapsed, ok);
    }
}
