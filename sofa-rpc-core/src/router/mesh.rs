//! `mesh`: every call goes to the local sidecar, which routes it by the target service the
//! request headers name (SOFARPC's mesh mode).

use std::sync::Arc;

use sofa_rpc_registry::ProviderInfo;

use super::{RouteContext, Router};
use crate::headers::{ROUTE_HEADER_PARAM_PREFIX, TARGET_APP};
use crate::invocation::Invocation;

/// The `mesh` router: the sidecar is the only candidate for every call. Requests name their
/// target service in the `service` and `sofa_head_target_service` headers as always; with
/// [`target_app`](Self::target_app) they name the provider's application too.
///
/// ```
/// use sofa_rpc_core::router::MeshRouter;
///
/// let sidecar = MeshRouter::default();
/// assert_eq!(sidecar.address(), "127.0.0.1:12220");
/// let mut loader = sofa_rpc_core::ExtensionLoader::default();
/// let elsewhere = MeshRouter::new("127.0.0.1", 13330);
/// loader.register_router("mesh", move || elsewhere.clone());
/// ```
#[derive(Clone, Debug)]
pub struct MeshRouter {
    sidecar: Arc<ProviderInfo>,
}

impl Default for MeshRouter {
    /// The sidecar at `127.0.0.1:12220`, or at `SOFA_MESH_ADDRESS` (`host:port`) when set.
    fn default() -> Self {
        let configured = std::env::var(Self::ADDRESS_ENV).ok().and_then(|a| {
            let (host, port) = a.rsplit_once(':')?;
            Some((host.to_string(), port.parse().ok()?))
        });
        match configured {
            Some((host, port)) => MeshRouter::new(host, port),
            None => MeshRouter::new(Self::DEFAULT_HOST, Self::DEFAULT_PORT),
        }
    }
}

impl MeshRouter {
    /// The sidecar's usual host.
    pub const DEFAULT_HOST: &'static str = "127.0.0.1";
    /// The sidecar's usual port.
    pub const DEFAULT_PORT: u16 = 12220;
    /// The environment variable naming another sidecar address.
    pub const ADDRESS_ENV: &'static str = "SOFA_MESH_ADDRESS";

    /// The sidecar at `host:port`.
    pub fn new(host: impl Into<String>, port: u16) -> Self {
        MeshRouter {
            sidecar: Arc::new(ProviderInfo::bolt(host, port)),
        }
    }

    /// Names the provider's application in every request (`sofa_head_target_app`), for
    /// sidecars that route by application.
    pub fn target_app(self, app: impl Into<String>) -> Self {
        let sidecar = (*self.sidecar)
            .clone()
            .with_param(format!("{ROUTE_HEADER_PARAM_PREFIX}{TARGET_APP}"), app);
        MeshRouter {
            sidecar: Arc::new(sidecar),
        }
    }

    /// The sidecar's address.
    pub fn address(&self) -> &str {
        self.sidecar.address()
    }
}

impl Router for MeshRouter {
    fn route(
        &self,
        _invocation: &Invocation,
        _ctx: &RouteContext<'_>,
        _candidates: Vec<Arc<ProviderInfo>>,
    ) -> Vec<Arc<ProviderInfo>> {
        vec![self.sidecar.clone()]
    }
}
