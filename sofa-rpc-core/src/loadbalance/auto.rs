//! `auto`: `random`, unless configured otherwise.

use std::fmt;
use std::sync::{Arc, RwLock};
use std::time::Duration;

use sofa_rpc_registry::ProviderInfo;

use super::{LoadBalancer, Random};
use crate::invocation::Invocation;

/// Delegates to another balancer, `random` until [`set`](Self::set) says otherwise; the
/// choice can change while calls flow.
///
/// SOFARPC's `auto` asks its dynamic configuration (a config centre, per application and
/// service unique name, key `loadBalancer`) on every call which balancer to use, and uses
/// `random` when nothing is configured. Here whatever watches the configuration calls
/// [`set`](Self::set) when it changes, so a call does not pay for a lookup. Attempt reports
/// go to the balancer in charge at the time.
pub struct Auto {
    current: RwLock<Arc<dyn LoadBalancer>>,
}

impl Default for Auto {
    fn default() -> Self {
        Auto::new(Arc::new(Random::default()))
    }
}

impl fmt::Debug for Auto {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Auto").finish_non_exhaustive()
    }
}

impl Auto {
    /// Delegating to `balancer`.
    pub fn new(balancer: Arc<dyn LoadBalancer>) -> Self {
        Auto {
            current: RwLock::new(balancer),
        }
    }

    /// Delegates to `balancer` from now on.
    pub fn set(&self, balancer: Arc<dyn LoadBalancer>) {
        *self.current.write().unwrap_or_else(|e| e.into_inner()) = balancer;
    }

    /// The balancer in charge.
    pub fn current(&self) -> Arc<dyn LoadBalancer> {
        self.current
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }
}

impl LoadBalancer for Auto {
    fn select(
        &self,
        invocation: &Invocation,
        providers: &[Arc<ProviderInfo>],
    ) -> Option<Arc<ProviderInfo>> {
        let current = self.current.read().unwrap_or_else(|e| e.into_inner());
        current.select(invocation, providers)
    }

    fn on_attempt_start(&self, provider: &ProviderInfo) {
        let current = self.current.read().unwrap_or_else(|e| e.into_inner());
        current.on_attempt_start(provider);
    }

    fn on_attempt_end(&self, provider: &ProviderInfo, elapsed: Duration, ok: bool) {
        let current = self.current.read().unwrap_or_else(|e| e.into_inner());
        current.on_attempt_end(provider, elapsed, ok);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::loadbalance::RoundRobin;
    use crate::service_id::ServiceId;

    #[test]
    fn random_until_set_otherwise() {
        let auto = Auto::default();
        let inv = Invocation::new(ServiceId::parse("s:1.0"), "m", Arc::new(()));
        let list: Vec<_> = (1..=3)
            .map(|port| Arc::new(ProviderInfo::bolt("h", port)))
            .collect();
        let mut seen = [0u32; 4];
        for _ in 0..600 {
            seen[usize::from(auto.select(&inv, &list).unwrap().port())] += 1;
        }
        assert!(seen[1..].iter().all(|&n| n > 120), "{seen:?}");
        auto.set(Arc::new(RoundRobin::default()));
        let ports: Vec<u16> = (0..4)
            .map(|_| auto.select(&inv, &list).unwrap().port())
            .collect();
        assert_eq!(ports, [1, 2, 3, 1]);
    }
}
