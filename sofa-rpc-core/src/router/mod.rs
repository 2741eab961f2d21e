//! The Router extension point: which providers are candidates for a call.
//!
//! Built-ins: `directUrl` and `registry` fill the list; [`zone`] places calls in the unit
//! (LDC zone) owning them, [`TagRouter`] (`tag`) sends tagged calls to tagged providers (gray
//! release), and [`MeshRouter`] (`mesh`) sends every call to the local sidecar.

mod mesh;
mod tag;
pub mod zone;

use std::sync::Arc;

use sofa_rpc_registry::ProviderInfo;

use crate::error::Result;
use crate::invocation::Invocation;

pub use mesh::MeshRouter;
pub use tag::{TagRouter, TagRules, TagSplit};
pub use zone::ZoneRouter;

/// Where routers find providers: the consumer's direct URLs and what its registry currently
/// lists for the service.
#[derive(Clone, Copy, Debug)]
pub struct RouteContext<'a> {
    /// Providers given as direct URLs.
    pub direct: &'a [Arc<ProviderInfo>],
    /// Providers the registry lists for the service (empty without a registry).
    pub registry: &'a [Arc<ProviderInfo>],
}

/// One step of the router chain. Routers run in order, each receiving the candidates the
/// previous one left, starting from none; SOFARPC's built-ins fill the list (`directUrl`,
/// `registry`) and custom routers usually narrow it (by tag, zone, ...).
pub trait Router: Send + Sync + 'static {
    /// The candidates after this router.
    fn route(
        &self,
        invocation: &Invocation,
        ctx: &RouteContext<'_>,
        candidates: Vec<Arc<ProviderInfo>>,
    ) -> Vec<Arc<ProviderInfo>>;

    /// [`route`](Self::route), for routers that may refuse a call instead of narrowing the
    /// list to nothing: a strict router's error (a `ClientRouter` one naming what could not
    /// be placed) fails the call as it is. The cluster routes through this.
    fn try_route(
        &self,
        invocation: &Invocation,
        ctx: &RouteContext<'_>,
        candidates: Vec<Arc<ProviderInfo>>,
    ) -> Result<Vec<Arc<ProviderInfo>>> {
        Ok(self.route(invocation, ctx, candidates))
    }
}

/// `directUrl`: when the consumer names providers directly, they are the candidates.
#[derive(Clone, Copy, Debug, Default)]
pub struct DirectUrl;

impl Router for DirectUrl {
    fn route(
        &self,
        _invocation: &Invocation,
        ctx: &RouteContext<'_>,
        candidates: Vec<Arc<ProviderInfo>>,
    ) -> Vec<Arc<ProviderInfo>> {
        if ctx.direct.is_empty() {
            candidates
        } else {
            ctx.direct.to_vec()
        }
    }
}

/// `registry`: unless an earlier router already chose, the registry's providers are the
/// candidates.
#[derive(Clone, Copy, Debug, Default)]
pub struct FromRegistry;

impl Router for FromRegistry {
    fn route(
        &self,
        _invocation: &Invocation,
        ctx: &RouteContext<'_>,
        candidates: Vec<Arc<ProviderInfo>>,
    ) -> Vec<Arc<ProviderInfo>> {
        if candidates.is_empty() {
            ctx.registry.to_vec()
        } else {
            candidates
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::service_id::ServiceId;

    #[test]
    fn direct_urls_win_then_registry() {
        let inv = Invocation::new(ServiceId::parse("s:1.0"), "m", Arc::new(()));
        let direct = [Arc::new(ProviderInfo::bolt("d", 1))];
        let registry = [Arc::new(ProviderInfo::bolt("r", 2))];
        let both = RouteContext {
            direct: &direct,
            registry: &registry,
        };
        let routed = FromRegistry.route(&inv, &both, DirectUrl.route(&inv, &both, Vec::new()));
        assert_eq!(routed[0].host(), "d");
        let only_registry = RouteContext {
            direct: &[],
            registry: &registry,
        };
        let routed = FromRegistry.route(
            &inv,
            &only_registry,
            DirectUrl.route(&inv, &only_registry, Vec::new()),
        );
        assert_eq!(routed[0].host(), "r");
    }
}
