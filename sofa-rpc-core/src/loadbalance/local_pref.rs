//! `localPref`: a provider on this machine first.

use std::sync::Arc;

use sofa_rpc_registry::ProviderInfo;

use super::cache::ListCache;
use super::local_addr::is_local;
use super::weights::{now_ms, Weights};
use super::LoadBalancer;
use crate::invocation::Invocation;

/// Chooses among the providers on this machine when there are any, by weighted random
/// choice; otherwise among all of them, likewise.
///
/// SOFARPC's `localPref` compares each provider's host with the one address it takes as the
/// local host. Here a provider is local when its host is a loopback address, `localhost`, the
/// machine's host name, or an address of any of its interfaces, so a provider registered
/// under any of the machine's addresses counts. Which providers are local is worked out once
/// per list.
#[derive(Debug, Default)]
pub struct LocalPref {
    lists: ListCache<Split>,
}

/// A list split into its local providers and the rest.
#[derive(Debug)]
struct Split {
    /// Indexes of the local providers in the list.
    local: Vec<usize>,
    /// Weights of the local providers, in the order of `local`.
    local_weights: Weights,
    all_weights: Weights,
}

impl Split {
    fn of(providers: &[Arc<ProviderInfo>], now_ms: u64) -> (Split, u64) {
        let local: Vec<usize> = (0..providers.len())
            .filter(|&i| providers.get(i).is_some_and(|p| is_local(p.host())))
            .collect();
        let local_list: Vec<_> = local
            .iter()
            .filter_map(|&i| providers.get(i).cloned())
            .collect();
        let (local_weights, _) = Weights::of(&local_list, now_ms);
        let (all_weights, expires) = Weights::of(providers, now_ms);
        let split = Split {
            local,
            local_weights,
            all_weights,
        };
        (split, expires)
    }

    fn pick(&self) -> Option<usize> {
        match self.local_weights.pick() {
            Some(i) => self.local.get(i).copied(),
            None => self.all_weights.pick(),
        }
    }
}

impl LoadBalancer for LocalPref {
    fn select(
        &self,
        _invocation: &Invocation,
        providers: &[Arc<ProviderInfo>],
    ) -> Option<Arc<ProviderInfo>> {
        if providers.len() <= 1 {
            return providers.first().cloned();
        }
        let index = self.lists.with(providers, now_ms, Split::of, Split::pick)?;
        providers.get(index).cloned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::service_id::ServiceId;

    #[test]
    fn prefers_local_providers_then_falls_back_to_all() {
        let lb = LocalPref::default();
        let inv = Invocation::new(ServiceId::parse("s:1.0"), "m", Arc::new(()));
        let remote = |port| Arc::new(ProviderInfo::bolt("203.0.113.7", port));
        let list = [
            remote(1),
            Arc::new(ProviderInfo::bolt("127.0.0.1", 2)),
            remote(3),
            Arc::new(ProviderInfo::bolt("localhost", 4)),
        ];
        let mut seen = [0u32; 5];
        for _ in 0..1000 {
            seen[usize::from(lb.select(&inv, &list).unwrap().port())] += 1;
        }
        assert_eq!((seen[1], seen[3]), (0, 0), "{seen:?}");
        assert!(seen[2] > 400 && seen[4] > 400, "{seen:?}");
        let remotes = [remote(1), remote(3)];
        let mut ports = [0u32; 4];
        for _ in 0..200 {
            ports[usize::from(lb.select(&inv, &remotes).unwrap().port())] += 1;
        }
        assert!(ports[1] > 50 && ports[3] > 50, "{ports:?}");
    }
}
