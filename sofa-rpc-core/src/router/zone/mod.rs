//! Unit (LDC zone) routing: every call lands in the zone owning its user.
//!
//! Users are sharded by a routing key (a user id in an argument, a baggage entry, an
//! attachment); each shard is owned by one RZone, which holds its data and services. Global
//! data lives in a GZone, city-level shared data in a CZone. Providers publish their zone as
//! the `zone` URL parameter ([`ProviderConfig::zone`](crate::ProviderConfig::zone)); the caller
//! knows its own zone from its config or the `SOFA_ZONE` environment variable.
//!
//! [`ZoneRules`] say which services are placed how and how a key finds its zone: a shard
//! function (modulo, a digit slice, key ranges), big-customer overrides, levels with AND/OR
//! conditions (up to [`MAX_DEPTH`] deep), a shard -> zone map with a backup zone per shard, and
//! what a missing or unmatched key does. A [`ZoneRulesHandle`] swaps them whole at run time (a
//! disaster switch moving shards to their backup is one `replace`).
//!
//! [`ZoneRouter`] (`zone`) applies them:
//!
//! | service | candidates |
//! |---|---|
//! | RZone | the owning zone's providers; through the gateway (with the target zone in the `sofa_head_target_zone` header) when the zone is not local and a gateway is set |
//! | GZone | the local zone's providers, else any |
//! | CZone | the local city's providers, else any |
//! | not listed | every provider |
//!
//! In strict mode a call that cannot be placed fails with a `ClientRouter` error naming the
//! service, key and zone, instead of falling back to every provider.

mod compile;
mod condition;
mod handle;
mod model;
mod probe;
mod rules;
mod shard;

use std::sync::Arc;

use sofa_rpc_registry::ProviderInfo;

pub use condition::MAX_DEPTH;
pub use handle::ZoneRulesHandle;
pub use model::{
    Condition, Fallback, KeyRange, KeySpec, Level, Rule, ServiceSpec, ShardMap, ShardSpec,
    ZoneKind, ZoneRulesSpec, ZoneSpec,
};
pub use rules::{Decision, Placement, ZoneRules};

use super::{RouteContext, Router};
use crate::error::{Result, RpcError};
use crate::headers::{ROUTE_HEADER_PARAM_PREFIX, TARGET_ZONE};
use crate::invocation::Invocation;

/// The environment variable naming the caller's zone when its config does not.
pub const ZONE_ENV: &str = "SOFA_ZONE";
/// The provider URL parameter naming a provider's zone.
pub const ZONE_PARAM: &str = "zone";

/// The `zone` router: places calls by [`ZoneRules`] (see the [module](self)).
///
/// ```
/// use sofa_rpc_core::router::zone::{ZoneRouter, ZoneRules, ZoneRulesHandle};
/// use sofa_rpc_core::ExtensionLoader;
///
/// let rules = ZoneRulesHandle::new(ZoneRules::default());
/// let router = ZoneRouter::new(rules.clone()).local_zone("RZ01").strict(true);
/// let mut loader = ExtensionLoader::default();
/// // Every consumer naming the `zone` router shares these rules.
/// loader.register_router("zone", move || router.clone());
/// ```
#[derive(Clone, Debug)]
pub struct ZoneRouter {
    rules: ZoneRulesHandle,
    local: Option<Arc<str>>,
    gateway: Option<(String, u16)>,
    strict: bool,
}

impl Default for ZoneRouter {
    /// No rules (no service is placed), the local zone from `SOFA_ZONE`.
    fn default() -> Self {
        ZoneRouter::new(ZoneRulesHandle::default())
    }
}

impl ZoneRouter {
    /// A router applying the rules `rules` holds now and later; the local zone from
    /// `SOFA_ZONE` if set.
    pub fn new(rules: ZoneRulesHandle) -> Self {
        let local = std::env::var(ZONE_ENV)
            .ok()
            .filter(|z| !z.is_empty())
            .map(Into::into);
        ZoneRouter {
            rules,
            local,
            gateway: None,
            strict: false,
        }
    }

    /// The caller's zone.
    pub fn local_zone(mut self, zone: impl AsRef<str>) -> Self {
        self.local = Some(zone.as_ref().into());
        self
    }

    /// Sends calls owned by another zone to this gateway, with the target zone in the
    /// `sofa_head_target_zone` request header.
    pub fn gateway(mut self, host: impl Into<String>, port: u16) -> Self {
        self.gateway = Some((host.into(), port));
        self
    }

    /// Fails calls that cannot be placed instead of sending them to any provider.
    pub fn strict(mut self, strict: bool) -> Self {
        self.strict = strict;
        self
    }

    /// The rules this router applies.
    pub fn rules(&self) -> &ZoneRulesHandle {
        &self.rules
    }

    /// The caller's zone, if known.
    pub fn local(&self) -> Option<&str> {
        self.local.as_deref()
    }

    fn refuse(&self, invocation: &Invocation, key: Option<&str>, why: String) -> RpcError {
        RpcError::no_provider(format!(
            "{}: zone routing (strict) cannot place the call with key {}: {why}",
            invocation.service(),
            key.map_or("(none)".into(), |k| format!("{k:?}")),
        ))
    }

    /// The owning zone's providers, or the gateway for a zone that is not local.
    fn to_zone(
        &self,
        invocation: &Invocation,
        zone: &str,
        key: Option<&str>,
        candidates: Vec<Arc<ProviderInfo>>,
    ) -> Result<Vec<Arc<ProviderInfo>>> {
        if let Some((host, port)) = &self.gateway {
            if self.local.as_deref() != Some(zone) {
                let gateway = ProviderInfo::bolt(host.clone(), *port)
                    .with_param(format!("{ROUTE_HEADER_PARAM_PREFIX}{TARGET_ZONE}"), zone);
                return Ok(vec![Arc::new(gateway)]);
            }
        }
        if candidates.is_empty() {
            // No list yet: the cluster reports (or waits for) that itself.
            return Ok(candidates);
        }
        let owned: Vec<_> = candidates
            .iter()
            .filter(|p| p.param(ZONE_PARAM) == Some(zone))
            .cloned()
            .collect();
        if !owned.is_empty() {
            Ok(owned)
        } else if self.strict {
            let why = format!("no provider of zone {zone} among {}", candidates.len());
            Err(self.refuse(invocation, key, why))
        } else {
            Ok(candidates)
        }
    }

    /// The providers `keep` likes, if any, else all.
    fn prefer(
        candidates: Vec<Arc<ProviderInfo>>,
        keep: impl Fn(&ProviderInfo) -> bool,
    ) -> Vec<Arc<ProviderInfo>> {
        let preferred: Vec<_> = candidates.iter().filter(|p| keep(p)).cloned().collect();
        if preferred.is_empty() {
            candidates
        } else {
            preferred
        }
    }
}

impl Router for ZoneRouter {
    fn route(
        &self,
        invocation: &Invocation,
        ctx: &RouteContext<'_>,
        candidates: Vec<Arc<ProviderInfo>>,
    ) -> Vec<Arc<ProviderInfo>> {
        self.try_route(invocation, ctx, candidates)
            .unwrap_or_default()
    }

    fn try_route(
        &self,
        invocation: &Invocation,
        _ctx: &RouteContext<'_>,
        candidates: Vec<Arc<ProviderInfo>>,
    ) -> Result<Vec<Arc<ProviderInfo>>> {
        let rules = self.rules.current();
        let decision = match rules.place(invocation) {
            Ok(decision) => decision,
            Err(e) if self.strict => return Err(e),
            // Not strict: a call the rules cannot place goes anywhere.
            Err(_) => return Ok(candidates),
        };
        let key = decision.key.as_deref();
        match decision.placement {
            Placement::Unzoned => Ok(candidates),
            Placement::Zone(zone) => self.to_zone(invocation, &zone, key, candidates),
            Placement::Local => match self.local.clone() {
                Some(local) => self.to_zone(invocation, &local, key, candidates),
                None if self.strict => Err(self.refuse(
                    invocation,
                    key,
                    "the rule sends it to the local zone, and none is configured".into(),
                )),
                None => Ok(candidates),
            },
            Placement::Global => {
                let local = self.local.as_deref();
                Ok(Self::prefer(candidates, |p| {
                    local.is_some() && p.param(ZONE_PARAM) == local
                }))
            }
            Placement::City => {
                let city = self.local.as_deref().and_then(|z| rules.city_of(z));
                Ok(Self::prefer(candidates, |p| {
                    city.is_some()
                        && p.param(ZONE_PARAM)
                            .and_then(|z| rules.city_of(z))
                            .is_some_and(|c| Some(c) == city)
                }))
            }
        }
    }
}
