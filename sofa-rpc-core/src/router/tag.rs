//! `tag`: gray release by tag. Providers carry a `tag` URL parameter; a call's tag, read from
//! its baggage so it follows the whole call chain, selects the providers of that tag.

use std::collections::BTreeMap;
use std::sync::{Arc, RwLock};

use serde::{Deserialize, Serialize};
use sofa_rpc_registry::ProviderInfo;

use super::{RouteContext, Router};
use crate::context::RequestContext;
use crate::error::{Result, RpcError};
use crate::invocation::Invocation;
use crate::loadbalance::rng;

/// Weighted traffic splitting for one service: calls that carry no tag get one by weight.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TagSplit {
    /// The service interface.
    pub service: String,
    /// Weight per tag; the empty tag `""` stands for the untagged providers.
    pub weights: BTreeMap<String, u32>,
}

/// The tag router's rules: traffic splits between versions by tag.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TagRules {
    /// The splits, at most one per service.
    #[serde(default)]
    pub splits: Vec<TagSplit>,
}

impl TagRules {
    /// Reads a JSON document.
    pub fn from_json(text: &str) -> Result<Self> {
        serde_json::from_str(text)
            .map_err(|e| RpcError::config(format!("tag rules are not valid JSON: {e}")))
    }

    fn check(&self) -> Result<()> {
        for (i, split) in self.splits.iter().enumerate() {
            let total: u64 = split.weights.values().map(|w| u64::from(*w)).sum();
            if total == 0 {
                return Err(RpcError::config(format!(
                    "invalid tag rules: field splits[{i}].weights: service {:?} has no weight",
                    split.service
                )));
            }
            if self.splits[..i].iter().any(|s| s.service == split.service) {
                return Err(RpcError::config(format!(
                    "invalid tag rules: field splits[{i}].service: {:?} is split twice",
                    split.service
                )));
            }
        }
        Ok(())
    }
}

/// The `tag` router, with Dubbo's tag routing semantics:
///
/// * a call with tag `t` goes to the providers tagged `t`; when there are none, to the
///   untagged ones, unless the tag is forced (then it fails);
/// * a call without a tag goes to untagged providers only, unless a [`TagSplit`] gives it a
///   tag by weight.
///
/// The tag is the baggage entry [`TAG_KEY`](Self::TAG_KEY) (baggage follows the call chain);
/// `tag.force = true` in the baggage, or [`force`](Self::force), forces it.
///
/// ```
/// use sofa_rpc_core::router::{TagRouter, TagRules};
///
/// # fn main() -> sofa_rpc_core::Result<()> {
/// let router = TagRouter::default();
/// router.set_rules(TagRules::from_json(
///     r#"{"splits": [{"service": "com.example.Pay", "weights": {"": 90, "gray": 10}}]}"#,
/// )?)?;
/// # Ok(())
/// # }
/// ```
#[derive(Clone, Debug, Default)]
pub struct TagRouter {
    force: bool,
    rules: Arc<RwLock<TagRules>>,
}

impl TagRouter {
    /// The baggage entry holding a call's tag.
    pub const TAG_KEY: &'static str = "tag";
    /// The baggage entry forcing it (`true`).
    pub const FORCE_KEY: &'static str = "tag.force";
    /// The provider URL parameter naming a provider's tag.
    pub const TAG_PARAM: &'static str = "tag";

    /// Forces every tag: tagged calls never fall back to untagged providers.
    pub fn force(mut self, force: bool) -> Self {
        self.force = force;
        self
    }

    /// Puts `rules` in force for the calls routed from now on (shared by clones).
    pub fn set_rules(&self, rules: TagRules) -> Result<()> {
        rules.check()?;
        *self.rules.write().unwrap_or_else(|e| e.into_inner()) = rules;
        Ok(())
    }

    /// The baggage entry `key` of the call, or of the request being handled.
    fn baggage(invocation: &Invocation, key: &str) -> Option<String> {
        invocation
            .context()
            .baggage()
            .get(key)
            .cloned()
            .or_else(|| RequestContext::with_current(|c| c.baggage().get(key).cloned()).flatten())
    }

    /// A tag by weight, for a call of a split service that carries none.
    fn split(&self, invocation: &Invocation) -> Option<String> {
        let rules = self.rules.read().unwrap_or_else(|e| e.into_inner());
        let split = rules
            .splits
            .iter()
            .find(|s| s.service == invocation.service().interface())?;
        let total: u64 = split.weights.values().map(|w| u64::from(*w)).sum();
        let mut pick = rng::below(total.max(1));
        for (tag, weight) in &split.weights {
            let weight = u64::from(*weight);
            if pick < weight {
                return Some(tag.clone());
            }
            pick -= weight;
        }
        None
    }
}

fn tag_of(p: &ProviderInfo) -> &str {
    p.param(TagRouter::TAG_PARAM).unwrap_or_default()
}

impl Router for TagRouter {
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
        mut candidates: Vec<Arc<ProviderInfo>>,
    ) -> Result<Vec<Arc<ProviderInfo>>> {
        let tag = Self::baggage(invocation, Self::TAG_KEY)
            .filter(|t| !t.is_empty())
            .or_else(|| self.split(invocation))
            .unwrap_or_default();
        if tag.is_empty() {
            candidates.retain(|p| tag_of(p).is_empty());
            return Ok(candidates);
        }
        let tagged: Vec<_> = candidates
            .iter()
            .filter(|p| tag_of(p) == tag)
            .cloned()
            .collect();
        if !tagged.is_empty() || candidates.is_empty() {
            return Ok(tagged);
        }
        let forced =
            self.force || Self::baggage(invocation, Self::FORCE_KEY).as_deref() == Some("true");
        if forced {
            return Err(RpcError::no_provider(format!(
                "{}: no provider carries the forced tag {tag:?}",
                invocation.service()
            )));
        }
        candidates.retain(|p| tag_of(p).is_empty());
        Ok(candidates)
    }
}
