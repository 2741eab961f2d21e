//! [`ZoneRules`]: a checked rule document, and where it places a call.

use std::fmt;
use std::sync::Arc;

use super::compile::{Compiled, CompiledRule, Fall, KeySource};
use super::condition::Subject;
use super::model::{ZoneKind, ZoneRulesSpec};
use super::probe::scalar_at;
use crate::context::RequestContext;
use crate::error::{Result, RpcError};
use crate::invocation::Invocation;

/// Where a call goes, as the rules say.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Placement {
    /// The service is not placed by zone: every provider is a candidate.
    Unzoned,
    /// The zone owning the call (an RZone service, or a rule's fallback zone).
    Zone(Arc<str>),
    /// The caller's own zone (a rule's `local` fallback).
    Local,
    /// A GZone service: any zone, the caller's first.
    Global,
    /// A CZone service: any zone, the caller's city first.
    City,
}

/// A placement and the key it was made from, for error messages.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Decision {
    /// Where the call goes.
    pub placement: Placement,
    /// The routing key the call carried, if the service is placed by one.
    pub key: Option<String>,
}

/// A checked zone rule document: zones, which services are placed how, and the rules that
/// find a call's owning zone from its routing key. Cheap to clone (shared).
///
/// ```
/// use sofa_rpc_core::router::zone::ZoneRules;
///
/// # fn main() -> sofa_rpc_core::Result<()> {
/// let rules = ZoneRules::from_json(r#"{
///   "zones": [{"name": "RZ01", "kind": "rzone"}, {"name": "RZ02", "kind": "rzone"}],
///   "rules": [{
///     "name": "user", "key": {"baggage": "uid"}, "shard": {"modulo": 2},
///     "levels": [{"shards": [{"shards": "0", "zone": "RZ01"}, {"shards": "1", "zone": "RZ02"}]}]
///   }]
/// }"#)?;
/// assert_eq!(rules.zone_of_key("user", "m", "41")?.as_deref(), Some("RZ02"));
/// assert!(ZoneRules::from_json(r#"{"zones": [], "rules": [{"name": "x",
///   "key": {"baggage": "uid"}, "shard": {"modulo": 2},
///   "levels": [{"shards": [{"shards": "0-1", "zone": "nowhere"}]}]}]}"#).is_err());
/// # Ok(())
/// # }
/// ```
#[derive(Clone)]
pub struct ZoneRules {
    spec: Arc<ZoneRulesSpec>,
    compiled: Arc<Compiled>,
}

impl Default for ZoneRules {
    /// No zones, no services placed.
    fn default() -> Self {
        ZoneRules {
            spec: Arc::default(),
            compiled: Arc::default(),
        }
    }
}

impl fmt::Debug for ZoneRules {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ZoneRules")
            .field("zones", &self.spec.zones.len())
            .field("services", &self.spec.services.len())
            .field("rules", &self.spec.rules.len())
            .finish()
    }
}

impl ZoneRules {
    /// Checks `spec` whole: unknown zones, overlapping or missing shards, conditions nested
    /// too deep, dangling rule names are errors naming the rule and field.
    pub fn new(spec: ZoneRulesSpec) -> Result<Self> {
        let compiled = Compiled::new(&spec)?;
        Ok(ZoneRules {
            spec: Arc::new(spec),
            compiled: Arc::new(compiled),
        })
    }

    /// Reads and checks a JSON document.
    pub fn from_json(text: &str) -> Result<Self> {
        let spec = serde_json::from_str(text)
            .map_err(|e| RpcError::config(format!("zone rules are not valid JSON: {e}")))?;
        Self::new(spec)
    }

    /// Reads and checks a TOML document.
    pub fn from_toml(text: &str) -> Result<Self> {
        let spec = toml::from_str(text)
            .map_err(|e| RpcError::config(format!("zone rules are not valid TOML: {e}")))?;
        Self::new(spec)
    }

    /// Reads and checks a document in either form: JSON when it starts with `{`, else TOML.
    pub fn parse(bytes: &[u8]) -> Result<Self> {
        let text = std::str::from_utf8(bytes)
            .map_err(|e| RpcError::config(format!("zone rules are not UTF-8: {e}")))?;
        if text.trim_start().starts_with('{') {
            Self::from_json(text)
        } else {
            Self::from_toml(text)
        }
    }

    /// The document these rules were made from.
    pub fn spec(&self) -> &ZoneRulesSpec {
        &self.spec
    }

    /// The kind of the zone named `zone`, if the rules know it.
    pub fn zone_kind(&self, zone: &str) -> Option<ZoneKind> {
        let i = *self.compiled.by_name.get(zone)?;
        self.compiled.zones.get(i).map(|z| z.kind)
    }

    /// The city of the zone named `zone`, if the rules say.
    pub fn city_of(&self, zone: &str) -> Option<&str> {
        let i = *self.compiled.by_name.get(zone)?;
        self.compiled.zones.get(i)?.city.as_deref()
    }

    /// Where `invocation` goes. Fails (a `ClientRouter` error naming service, key and rule)
    /// when its rule says a missing or unmatched key is an error.
    pub fn place(&self, invocation: &Invocation) -> Result<Decision> {
        let service = invocation.service();
        let Some(plan) = self.compiled.services.get(service.interface()) else {
            return Ok(Decision {
                placement: Placement::Unzoned,
                key: None,
            });
        };
        let rule = plan.rule.and_then(|i| self.compiled.rules.get(i));
        let rule = match (plan.kind, rule) {
            (ZoneKind::RZone, Some(rule)) => rule,
            (ZoneKind::GZone, _) => return Ok(unkeyed(Placement::Global)),
            (ZoneKind::CZone, _) => return Ok(unkeyed(Placement::City)),
            // Checked when compiled: an RZone service always has its rule.
            (ZoneKind::RZone, None) => return Ok(unkeyed(Placement::Unzoned)),
        };
        let key = key_of(&rule.key, invocation);
        match self.resolve(rule, invocation.method(), key.as_deref()) {
            Ok(placement) => Ok(Decision { placement, key }),
            Err(why) => Err(RpcError::no_provider(format!(
                "{service}: rule {:?} cannot place the call with key {}: {why}",
                rule.name,
                key.as_deref().map_or("(none)".into(), |k| format!("{k:?}")),
            ))),
        }
    }

    /// The zone rule `rule` gives `key` for a call of `method`: `None` for the caller's own
    /// zone (a `local` fallback). Fails when the rule does not exist or says the key is an
    /// error.
    pub fn zone_of_key(&self, rule: &str, method: &str, key: &str) -> Result<Option<Arc<str>>> {
        let compiled = self
            .compiled
            .rules
            .iter()
            .find(|r| &*r.name == rule)
            .ok_or_else(|| RpcError::config(format!("no zone rule is named {rule:?}")))?;
        match self.resolve(compiled, method, Some(key)) {
            Ok(Placement::Zone(z)) => Ok(Some(z)),
            Ok(_) => Ok(None),
            Err(why) => Err(RpcError::no_provider(format!(
                "rule {rule:?} cannot place key {key:?}: {why}"
            ))),
        }
    }

    /// The placement of `key` under `rule`, or why there is none.
    fn resolve(
        &self,
        rule: &CompiledRule,
        method: &str,
        key: Option<&str>,
    ) -> std::result::Result<Placement, &'static str> {
        let Some(key) = key else {
            return self.fall(rule.on_missing, "the call carries no key");
        };
        if let Some(zone) = rule.overrides.get(key) {
            return Ok(self.zone(*zone));
        }
        let shard = rule.shard.shard(key);
        let subject = Subject { key, shard, method };
        let level = rule
            .levels
            .iter()
            .find(|l| l.when.as_ref().map_or(true, |c| c.eval(&subject)));
        match (level, shard) {
            (Some(level), Some(shard)) => match level.table.get(shard as usize) {
                Some(zone) => Ok(self.zone(*zone as usize)),
                None => self.fall(rule.on_unmatched, "its shard is past the table"),
            },
            (None, _) => self.fall(rule.on_unmatched, "no level matches it"),
            (_, None) => self.fall(rule.on_unmatched, "it has no shard"),
        }
    }

    fn fall(&self, fall: Fall, why: &'static str) -> std::result::Result<Placement, &'static str> {
        match fall {
            Fall::Error => Err(why),
            Fall::Local => Ok(Placement::Local),
            Fall::Zone(zone) => Ok(self.zone(zone)),
        }
    }

    fn zone(&self, index: usize) -> Placement {
        match self.compiled.zones.get(index) {
            Some(z) => Placement::Zone(z.name.clone()),
            None => Placement::Unzoned,
        }
    }
}

fn unkeyed(placement: Placement) -> Decision {
    Decision {
        placement,
        key: None,
    }
}

/// The call's routing key, read from where the rule says.
fn key_of(source: &KeySource, invocation: &Invocation) -> Option<String> {
    match source {
        KeySource::Arg { index, path } => {
            let arg = invocation.args().arg(*index)?;
            scalar_at(arg.as_serde()?, path)
        }
        KeySource::Baggage(k) => invocation
            .context()
            .baggage()
            .get(k)
            .cloned()
            // Without the `context` filter, the baggage of the request being handled still
            // counts: it follows the call chain.
            .or_else(|| RequestContext::with_current(|c| c.baggage().get(k).cloned()).flatten()),
        KeySource::Attachment(k) => invocation.context().attachments().get(k).cloned(),
    }
}
