//! The providers registries report, per service.

use std::collections::HashMap;
use std::sync::{Arc, RwLock};

use sofa_rpc_registry::ProviderInfo;

use crate::service_id::ServiceId;

/// A provider list, shared without copying.
pub(crate) type ProviderList = Arc<[Arc<ProviderInfo>]>;

/// The current provider list of each service a consumer has subscribed to.
#[derive(Debug, Default)]
pub(crate) struct Directory {
    lists: RwLock<HashMap<String, ProviderList>>,
}

impl Directory {
    /// The providers of `service` (empty if none are known).
    pub(crate) fn providers(&self, service: &ServiceId) -> ProviderList {
        self.lists
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .get(service.unique_name())
            .cloned()
            .unwrap_or_else(|| Arc::from(Vec::new()))
    }

    /// Replaces the providers of `service`; returns the addresses no service lists any more.
    pub(crate) fn set(
        &self,
        service: &ServiceId,
        providers: Vec<Arc<ProviderInfo>>,
    ) -> Vec<String> {
        let mut lists = self.lists.write().unwrap_or_else(|e| e.into_inner());
        let old = lists.insert(service.unique_name().to_string(), providers.into());
        let Some(old) = old else {
            return Vec::new();
        };
        let listed = |addr: &str| {
            lists
                .values()
                .any(|list| list.iter().any(|p| p.address() == addr))
        };
        let mut gone: Vec<String> = old
            .iter()
            .map(|p| p.address())
            .filter(|addr| !listed(addr))
            .map(str::to_string)
            .collect();
        gone.dedup();
        gone
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn list(addrs: &[u16]) -> Vec<Arc<ProviderInfo>> {
        addrs
            .iter()
            .map(|port| Arc::new(ProviderInfo::bolt("127.0.0.1", *port)))
            .collect()
    }

    #[test]
    fn an_address_is_gone_when_no_service_lists_it() {
        let directory = Directory::default();
        let a = ServiceId::new("com.example.A", "1.0", "");
        let b = ServiceId::new("com.example.B", "1.0", "");
        assert!(directory.set(&a, list(&[1, 2, 3])).is_empty());
        assert!(directory.set(&b, list(&[3])).is_empty());
        // 2 is gone; 3 left A but B still lists it.
        assert_eq!(directory.set(&a, list(&[1])), ["127.0.0.1:2"]);
        assert_eq!(directory.set(&b, list(&[])), ["127.0.0.1:3"]);
        assert_eq!(directory.providers(&a).len(), 1);
    }
}
