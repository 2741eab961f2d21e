//! Checking a rule document whole and turning it into tables: every zone name resolved to an
//! index, every level to a shard -> zone table with switches applied.

use std::collections::HashMap;
use std::sync::Arc;

use super::condition::Cond;
use super::model::{Fallback, KeySpec, Level, Rule, ZoneKind, ZoneRulesSpec};
use super::shard::{parse_range, ShardFn};
use crate::error::{Result, RpcError};

/// The most levels one rule may have.
pub(crate) const MAX_LEVELS: usize = 64;

/// A zone, as calls are placed with it.
#[derive(Clone, Debug)]
pub(crate) struct ZoneInfo {
    pub(crate) name: Arc<str>,
    pub(crate) kind: ZoneKind,
    pub(crate) city: Option<Arc<str>>,
}

/// Where a call's key is read from, with the field path split.
#[derive(Clone, Debug)]
pub(crate) enum KeySource {
    Arg { index: usize, path: Vec<Box<str>> },
    Baggage(String),
    Attachment(String),
}

/// A fallback with its zone resolved.
#[derive(Clone, Copy, Debug)]
pub(crate) enum Fall {
    Error,
    Local,
    Zone(usize),
}

#[derive(Clone, Debug)]
pub(crate) struct CompiledLevel {
    pub(crate) when: Option<Cond>,
    /// The zone of each shard, switches applied.
    pub(crate) table: Box<[u32]>,
}

#[derive(Clone, Debug)]
pub(crate) struct CompiledRule {
    pub(crate) name: Arc<str>,
    pub(crate) key: KeySource,
    pub(crate) shard: ShardFn,
    pub(crate) overrides: HashMap<String, usize>,
    pub(crate) levels: Vec<CompiledLevel>,
    pub(crate) on_missing: Fall,
    pub(crate) on_unmatched: Fall,
}

/// How a service's calls are placed.
#[derive(Clone, Copy, Debug)]
pub(crate) struct ServicePlan {
    pub(crate) kind: ZoneKind,
    pub(crate) rule: Option<usize>,
}

/// A checked rule document.
#[derive(Debug, Default)]
pub(crate) struct Compiled {
    pub(crate) zones: Vec<ZoneInfo>,
    pub(crate) by_name: HashMap<String, usize>,
    pub(crate) services: HashMap<String, ServicePlan>,
    pub(crate) rules: Vec<CompiledRule>,
}

/// The error for `field` of `rule` (or of the document, when `rule` is empty).
fn invalid(rule: &str, field: &str, why: impl std::fmt::Display) -> RpcError {
    if rule.is_empty() {
        RpcError::config(format!("invalid zone rules: field {field}: {why}"))
    } else {
        RpcError::config(format!(
            "invalid zone rules: rule {rule:?}, field {field}: {why}"
        ))
    }
}

impl Compiled {
    /// Checks `spec` whole; the first problem found is the error, naming the rule and field.
    pub(crate) fn new(spec: &ZoneRulesSpec) -> Result<Compiled> {
        let mut c = Compiled::default();
        for (i, z) in spec.zones.iter().enumerate() {
            if z.name.is_empty() {
                return Err(invalid("", &format!("zones[{i}].name"), "is empty"));
            }
            if c.by_name.insert(z.name.clone(), i).is_some() {
                let why = format!("zone {:?} is named twice", z.name);
                return Err(invalid("", &format!("zones[{i}].name"), why));
            }
            c.zones.push(ZoneInfo {
                name: z.name.as_str().into(),
                kind: z.kind,
                city: z.city.as_deref().map(Into::into),
            });
        }
        let mut rule_index = HashMap::new();
        for (i, rule) in spec.rules.iter().enumerate() {
            if rule_index.insert(rule.name.as_str(), i).is_some() {
                let why = format!("rule {:?} is named twice", rule.name);
                return Err(invalid("", &format!("rules[{i}].name"), why));
            }
            c.rules.push(c.rule(rule)?);
        }
        for (i, s) in spec.services.iter().enumerate() {
            let at = format!("services[{i}]");
            let rule = match &s.rule {
                Some(name) => Some(*rule_index.get(name.as_str()).ok_or_else(|| {
                    invalid(
                        "",
                        &format!("{at}.rule"),
                        format!("no rule is named {name:?}"),
                    )
                })?),
                None if s.kind == ZoneKind::RZone => {
                    let why = format!("RZone service {:?} needs a rule", s.service);
                    return Err(invalid("", &format!("{at}.rule"), why));
                }
                None => None,
            };
            let plan = ServicePlan { kind: s.kind, rule };
            if c.services.insert(s.service.clone(), plan).is_some() {
                let why = format!("service {:?} is listed twice", s.service);
                return Err(invalid("", &format!("{at}.service"), why));
            }
        }
        Ok(c)
    }

    fn zone(&self, rule: &str, field: &str, name: &str) -> Result<usize> {
        self.by_name
            .get(name)
            .copied()
            .ok_or_else(|| invalid(rule, field, format!("unknown zone {name:?}")))
    }

    fn fallback(&self, rule: &str, field: &str, f: &Fallback) -> Result<Fall> {
        Ok(match f {
            Fallback::Error => Fall::Error,
            Fallback::Local => Fall::Local,
            Fallback::Zone(z) => Fall::Zone(self.zone(rule, field, z)?),
        })
    }

    fn rule(&self, rule: &Rule) -> Result<CompiledRule> {
        let name = rule.name.as_str();
        if name.is_empty() {
            return Err(invalid("", "rules[].name", "is empty"));
        }
        let (shard, count) = ShardFn::compile(&rule.shard)
            .map_err(|(f, w): (String, String)| invalid(name, &f, w))?;
        let key = match &rule.key {
            KeySpec::Arg { index, path } => KeySource::Arg {
                index: *index,
                path: path
                    .as_deref()
                    .unwrap_or_default()
                    .split('.')
                    .filter(|s| !s.is_empty())
                    .map(Into::into)
                    .collect(),
            },
            KeySpec::Baggage(k) | KeySpec::Attachment(k) if k.is_empty() => {
                return Err(invalid(name, "key", "names an empty entry"))
            }
            KeySpec::Baggage(k) => KeySource::Baggage(k.clone()),
            KeySpec::Attachment(k) => KeySource::Attachment(k.clone()),
        };
        if rule.levels.is_empty() {
            return Err(invalid(name, "levels", "a rule needs at least one level"));
        }
        if rule.levels.len() > MAX_LEVELS {
            let why = format!("{} levels, at most {MAX_LEVELS}", rule.levels.len());
            return Err(invalid(name, "levels", why));
        }
        let levels = rule
            .levels
            .iter()
            .enumerate()
            .map(|(i, l)| self.level(name, i, l, count))
            .collect::<Result<Vec<_>>>()?;
        let mut overrides = HashMap::with_capacity(rule.overrides.len());
        for (key, zone) in &rule.overrides {
            overrides.insert(
                key.clone(),
                self.zone(name, &format!("overrides.{key}"), zone)?,
            );
        }
        Ok(CompiledRule {
            name: name.into(),
            key,
            shard,
            overrides,
            levels,
            on_missing: self.fallback(name, "on_missing", &rule.on_missing)?,
            on_unmatched: self.fallback(name, "on_unmatched", &rule.on_unmatched)?,
        })
    }

    fn level(&self, rule: &str, i: usize, level: &Level, count: u32) -> Result<CompiledLevel> {
        let at = format!("levels[{i}]");
        let when = match &level.when {
            Some(c) => Some(
                Cond::compile(c, &format!("{at}.when"), 1, count)
                    .map_err(|(f, w)| invalid(rule, &f, w))?,
            ),
            None => None,
        };
        // u32::MAX marks a shard no entry has claimed yet.
        let mut table = vec![u32::MAX; count as usize];
        for (j, m) in level.shards.iter().enumerate() {
            let field = format!("{at}.shards[{j}]");
            let (lo, hi) = parse_range(&m.shards).ok_or_else(|| {
                let why = format!("{:?} is not a shard range like \"00-49\"", m.shards);
                invalid(rule, &format!("{field}.shards"), why)
            })?;
            if hi >= count {
                let why = format!("{:?} is past the last shard {}", m.shards, count - 1);
                return Err(invalid(rule, &format!("{field}.shards"), why));
            }
            let zone = self.zone(rule, &format!("{field}.zone"), &m.zone)?;
            let backup = match &m.backup {
                Some(b) => Some(self.zone(rule, &format!("{field}.backup"), b)?),
                None => None,
            };
            let target = match (m.switched, backup) {
                (false, _) => zone,
                (true, Some(b)) => b,
                (true, None) => {
                    let why = "is switched to its backup but names none";
                    return Err(invalid(rule, &format!("{field}.switched"), why));
                }
            };
            for shard in lo..=hi {
                match table.get_mut(shard as usize) {
                    Some(slot) if *slot == u32::MAX => *slot = target as u32,
                    _ => {
                        let why = format!("shard {shard} is claimed twice (overlapping ranges)");
                        return Err(invalid(rule, &format!("{field}.shards"), why));
                    }
                }
            }
        }
        if let Some(missing) = table.iter().position(|z| *z == u32::MAX) {
            let why = format!("shard {missing} of 0-{} has no zone", count - 1);
            return Err(invalid(rule, &format!("{at}.shards"), why));
        }
        Ok(CompiledLevel {
            when,
            table: table.into_boxed_slice(),
        })
    }
}
