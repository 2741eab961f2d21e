//! The providers registries report, per service.

use std::collections::HashMap;
use std::sync::{Arc, RwLock};

use sofa_rpc_registry::ProviderInfo;

use crate::invocation::ServiceId;

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

    /// Replaces the providers of `service`.
    pub(crate) fn set(&self, service: &ServiceId, providers: Vec<Arc<ProviderInfo>>) {
        self.lists
            .write()
            .unwrap_or_else(|e| e.into_inner())
            .insert(service.unique_name().to_string(), providers.into());
    }
}
