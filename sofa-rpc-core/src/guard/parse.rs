//! Reading rules from bytes: JSON or TOML to [`GuardRules`], field by field, so that an error
//! names the rule and the field it is about; then the checks that need the whole set.

use std::collections::HashSet;
use std::fmt;

use serde::de::DeserializeOwned;
use serde_json::{Map, Value};

use super::rules::{
    BreakerRule, BreakerScope, DegradeAction, DegradeRule, FaultAbort, FaultDelay, FaultRule,
    GuardRules, Limiter, Mode, RateLimitRule, Side,
};
use crate::error::ErrorKind;

/// The text format of a rule set.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    /// JSON.
    Json,
    /// TOML.
    Toml,
}

/// Why a rule set was rejected: which rule (`kind[index]`, with its id when it has one),
/// which field, and what is wrong.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RuleError {
    /// The rule, e.g. `rate_limit[2] "echo-limit"`; empty for the set as a whole.
    pub rule: String,
    /// The field, e.g. `token_bucket.burst`; empty when the rule as a whole is wrong.
    pub field: String,
    /// What is wrong.
    pub message: String,
}

impl RuleError {
    fn new(rule: &str, field: &str, message: impl Into<String>) -> Self {
        RuleError {
            rule: rule.to_string(),
            field: field.to_string(),
            message: message.into(),
        }
    }
}

impl fmt::Display for RuleError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match (self.rule.is_empty(), self.field.is_empty()) {
            (true, _) => write!(f, "guard rules: {}", self.message),
            (false, true) => write!(f, "guard rule {}: {}", self.rule, self.message),
            (false, false) => write!(
                f,
                "guard rule {}, field {}: {}",
                self.rule, self.field, self.message
            ),
        }
    }
}

impl std::error::Error for RuleError {}

impl GuardRules {
    /// Reads and validates a rule set in `format`.
    pub fn parse(bytes: &[u8], format: Format) -> Result<Self, RuleError> {
        let text = std::str::from_utf8(bytes)
            .map_err(|e| RuleError::new("", "", format!("not UTF-8: {e}")))?;
        match format {
            Format::Json => Self::from_json(text),
            Format::Toml => Self::from_toml(text),
        }
    }

    /// Reads and validates a JSON rule set.
    pub fn from_json(text: &str) -> Result<Self, RuleError> {
        let value: Value = serde_json::from_str(text)
            .map_err(|e| RuleError::new("", "", format!("not valid JSON: {e}")))?;
        from_value(value)
    }

    /// Reads and validates a TOML rule set.
    pub fn from_toml(text: &str) -> Result<Self, RuleError> {
        let value: Value = toml::from_str(text)
            .map_err(|e| RuleError::new("", "", format!("not valid TOML: {e}")))?;
        from_value(value)
    }

    /// Checks the set as a whole: every rule valid, ids unique, no two rules of one kind for
    /// the same target.
    pub fn validate(&self) -> Result<(), RuleError> {
        let value = serde_json::to_value(self)
            .map_err(|e| RuleError::new("", "", format!("cannot be written: {e}")))?;
        from_value(value).map(|_| ())
    }

    /// Whether there is no rule at all.
    pub fn is_empty(&self) -> bool {
        self.rate_limit.is_empty()
            && self.circuit_breaker.is_empty()
            && self.degrade.is_empty()
            && self.fault.is_empty()
    }
}

/// The kinds of rules, as a rule set names its lists.
const KINDS: [&str; 4] = ["rate_limit", "circuit_breaker", "degrade", "fault"];

/// Reads a rule set from a JSON value, rule by rule.
pub(crate) fn from_value(value: Value) -> Result<GuardRules, RuleError> {
    let Value::Object(mut top) = value else {
        return Err(RuleError::new(
            "",
            "",
            "the rule set must be a table/object",
        ));
    };
    let mut rules = GuardRules::default();
    let mut ids = HashSet::new();
    let mut targets = HashSet::new();
    for (kind, list) in std::mem::take(&mut top) {
        if !KINDS.contains(&kind.as_str()) {
            return Err(RuleError::new(
                "",
                &kind,
                "unknown kind of rule (known: rate_limit, circuit_breaker, degrade, fault)",
            ));
        }
        let Value::Array(list) = list else {
            return Err(RuleError::new(&kind, "", "must be a list of rules"));
        };
        for (index, raw) in list.into_iter().enumerate() {
            let id = raw.get("id").and_then(Value::as_str).unwrap_or_default();
            let name = if id.is_empty() {
                format!("{kind}[{index}]")
            } else {
                format!("{kind}[{index}] {id:?}")
            };
            let Value::Object(map) = raw else {
                return Err(RuleError::new(&name, "", "a rule must be a table/object"));
            };
            let mut fields = Fields {
                rule: &name,
                prefix: String::new(),
                map,
            };
            let (id, target) =
                match kind.as_str() {
                    "rate_limit" => {
                        let rule = rate_limit(&mut fields)?;
                        let target = format!(
                            "{}|{:?}|{:?}|{:?}",
                            rule.service, rule.method, rule.app, rule.side
                        );
                        let id = rule.id.clone();
                        rules.rate_limit.push(rule);
                        (id, target)
                    }
                    "circuit_breaker" => {
                        let rule = breaker(&mut fields)?;
                        let target = format!("{}|{:?}|{:?}", rule.service, rule.method, rule.scope);
                        let id = rule.id.clone();
                        rules.circuit_breaker.push(rule);
                        (id, target)
                    }
                    "degrade" => {
                        let rule = degrade(&mut fields)?;
                        let target = format!("{}|{:?}", rule.service, rule.method);
                        let id = rule.id.clone();
                        rules.degrade.push(rule);
                        (id, target)
                    }
                    "fault" => {
                        let rule = fault(&mut fields)?;
                        let target = format!("{}|{:?}", rule.service, rule.method);
                        let id = rule.id.clone();
                        rules.fault.push(rule);
                        (id, target)
                    }
                    _ => return Err(RuleError::new(
                        "",
                        &kind,
                        "unknown kind of rule (known: rate_limit, circuit_breaker, degrade, fault)",
                    )),
                };
            fields.finish()?;
            if !ids.insert(id.clone()) {
                return Err(RuleError::new(&name, "id", "another rule has this id"));
            }
            if !targets.insert(format!("{kind}|{target}")) {
                return Err(RuleError::new(
                    &name,
                    "service",
                    format!("another {kind} rule has the same target (service, method, app, side, scope)"),
                ));
            }
        }
    }
    Ok(rules)
}

/// The fields of one rule (or of a table inside it), taken one by one.
struct Fields<'a> {
    rule: &'a str,
    /// `table.` for fields of a nested table.
    prefix: String,
    map: Map<String, Value>,
}

impl Fields<'_> {
    fn error(&self, field: &str, message: impl Into<String>) -> RuleError {
        RuleError::new(self.rule, &format!("{}{field}", self.prefix), message)
    }

    fn take<T: DeserializeOwned>(&mut self, field: &str) -> Result<Option<T>, RuleError> {
        match self.map.remove(field) {
            None => Ok(None),
            Some(value) => serde_json::from_value(value)
                .map(Some)
                .map_err(|e| self.error(field, e.to_string())),
        }
    }

    fn require<T: DeserializeOwned>(&mut self, field: &str) -> Result<T, RuleError> {
        self.take(field)?
            .ok_or_else(|| self.error(field, "is required"))
    }

    fn table(&mut self, field: &str) -> Result<Option<Fields<'_>>, RuleError> {
        match self.map.remove(field) {
            None => Ok(None),
            Some(Value::Object(map)) => Ok(Some(Fields {
                rule: self.rule,
                prefix: format!("{}{field}.", self.prefix),
                map,
            })),
            Some(_) => Err(self.error(field, "must be a table/object")),
        }
    }

    /// Fails on any field left: one the rule does not have.
    fn finish(&self) -> Result<(), RuleError> {
        match self.map.keys().next() {
            Some(unknown) => Err(self.error(unknown, "unknown field")),
            None => Ok(()),
        }
    }

    fn name(&mut self, field: &str) -> Result<String, RuleError> {
        let text: String = self.require(field)?;
        if text.trim().is_empty() {
            return Err(self.error(field, "must not be empty"));
        }
        Ok(text)
    }

    fn optional_name(&mut self, field: &str) -> Result<Option<String>, RuleError> {
        match self.take::<String>(field)? {
            Some(text) if text.trim().is_empty() => Err(self.error(field, "must not be empty")),
            other => Ok(other),
        }
    }

    fn positive(&self, field: &str, value: f64) -> Result<f64, RuleError> {
        if value.is_finite() && value > 0.0 {
            Ok(value)
        } else {
            Err(self.error(field, format!("must be a number above 0, not {value}")))
        }
    }

    fn percent(&self, field: &str, value: f64, zero_ok: bool) -> Result<f64, RuleError> {
        let low_ok = if zero_ok { value >= 0.0 } else { value > 0.0 };
        if value.is_finite() && low_ok && value <= 100.0 {
            Ok(value)
        } else {
            Err(self.error(
                field,
                format!("must be a percentage in 0..=100, not {value}"),
            ))
        }
    }

    fn at_least<T: PartialOrd + fmt::Display>(
        &self,
        field: &str,
        value: T,
        min: T,
    ) -> Result<T, RuleError> {
        if value >= min {
            Ok(value)
        } else {
            Err(self.error(field, format!("must be at least {min}, not {value}")))
        }
    }

    fn error_kind(&mut self, field: &str) -> Result<String, RuleError> {
        let kind = self.name(field)?;
        match ErrorKind::from_name(&kind) {
            Some(_) => Ok(kind),
            None => Err(self.error(
                field,
                format!("{kind:?} is not a SOFARPC error kind name (e.g. SERVER_BUSY)"),
            )),
        }
    }
}

fn rate_limit(f: &mut Fields<'_>) -> Result<RateLimitRule, RuleError> {
    let id = f.name("id")?;
    let service = f.name("service")?;
    let method = f.optional_name("method")?;
    let app = f.optional_name("app")?;
    let side: Side = f.take("side")?.unwrap_or_default();
    let mode: Mode = f.take("mode")?.unwrap_or_default();
    if app.is_some() && side == Side::Consumer {
        return Err(f.error(
            "app",
            "a caller app is known on the provider side only: set side = \"provider\"",
        ));
    }
    let token = match f.table("token_bucket")? {
        Some(mut t) => {
            let rate = t.require("rate")?;
            let rate = t.positive("rate", rate)?;
            let burst: u32 = t.require("burst")?;
            let burst = t.at_least("burst", burst, 1)?;
            t.finish()?;
            Some(Limiter::TokenBucket { rate, burst })
        }
        None => None,
    };
    let leaky = match f.table("leaky_bucket")? {
        Some(mut t) => {
            let rate = t.require("rate")?;
            let rate = t.positive("rate", rate)?;
            let queue = t.require("queue")?;
            let max_wait_ms = t.require("max_wait_ms")?;
            t.finish()?;
            Some(Limiter::LeakyBucket {
                rate,
                queue,
                max_wait_ms,
            })
        }
        None => None,
    };
    let limiter = match (token, leaky) {
        (Some(limiter), None) | (None, Some(limiter)) => limiter,
        (None, None) => {
            return Err(f.error(
                "token_bucket",
                "a rate limit needs token_bucket or leaky_bucket",
            ))
        }
        (Some(_), Some(_)) => {
            return Err(f.error(
                "leaky_bucket",
                "a rate limit has token_bucket or leaky_bucket, not both",
            ))
        }
    };
    Ok(RateLimitRule {
        id,
        service,
        method,
        app,
        side,
        mode,
        limiter,
    })
}

fn breaker(f: &mut Fields<'_>) -> Result<BreakerRule, RuleError> {
    let id = f.name("id")?;
    let service = f.name("service")?;
    let method = f.optional_name("method")?;
    let scope: BreakerScope = f.take("scope")?.unwrap_or_default();
    let mode: Mode = f.take("mode")?.unwrap_or_default();
    let buckets = f.take("buckets")?.unwrap_or(6);
    let buckets = f.at_least("buckets", buckets, 1)?;
    let bucket_ms = f.take("bucket_ms")?.unwrap_or(10_000);
    let bucket_ms = f.at_least("bucket_ms", bucket_ms, 1)?;
    let min_requests = f.take("min_requests")?.unwrap_or(20);
    let min_requests = f.at_least("min_requests", min_requests, 1)?;
    let error_rate = f.take("error_rate")?.unwrap_or(50.0);
    let error_rate = f.percent("error_rate", error_rate, false)?;
    let slow_call_ms: Option<u64> = f.take("slow_call_ms")?;
    let slow_rate = match f.take::<f64>("slow_rate")? {
        Some(rate) => Some(f.percent("slow_rate", rate, false)?),
        None => None,
    };
    if slow_rate.is_some() != slow_call_ms.is_some() {
        return Err(f.error("slow_rate", "slow_rate and slow_call_ms go together"));
    }
    let sleep_ms = f.take("sleep_ms")?.unwrap_or(5_000);
    let sleep_ms = f.at_least("sleep_ms", sleep_ms, 1)?;
    let probes = f.take("probes")?.unwrap_or(1);
    let probes = f.at_least("probes", probes, 1)?;
    Ok(BreakerRule {
        id,
        service,
        method,
        scope,
        mode,
        buckets,
        bucket_ms,
        min_requests,
        error_rate,
        slow_call_ms,
        slow_rate,
        sleep_ms,
        probes,
    })
}

fn degrade(f: &mut Fields<'_>) -> Result<DegradeRule, RuleError> {
    let id = f.name("id")?;
    let service = f.name("service")?;
    let method = f.optional_name("method")?;
    let action: String = f.require("action")?;
    let action = match action.as_str() {
        "empty" => DegradeAction::Empty,
        "fixed" => DegradeAction::Fixed {
            value: f.require("value")?,
        },
        "error" => {
            let kind = f.error_kind("kind")?;
            let message = f
                .take("message")?
                .unwrap_or_else(|| format!("degraded by guard rule {id}"));
            DegradeAction::Error { kind, message }
        }
        other => {
            return Err(f.error(
                "action",
                format!("{other:?} is not one of empty, fixed, error"),
            ))
        }
    };
    Ok(DegradeRule {
        id,
        service,
        method,
        action,
    })
}

fn fault(f: &mut Fields<'_>) -> Result<FaultRule, RuleError> {
    let id = f.name("id")?;
    let service = f.name("service")?;
    let method = f.optional_name("method")?;
    let delay = match f.table("delay")? {
        Some(mut t) => {
            let ms = t.require("ms")?;
            let percent = t.require("percent")?;
            let percent = t.percent("percent", percent, true)?;
            t.finish()?;
            Some(FaultDelay { ms, percent })
        }
        None => None,
    };
    let abort = match f.table("abort")? {
        Some(mut t) => {
            let kind = t.error_kind("kind")?;
            let percent = t.require("percent")?;
            let percent = t.percent("percent", percent, true)?;
            t.finish()?;
            Some(FaultAbort { kind, percent })
        }
        None => None,
    };
    if delay.is_none() && abort.is_none() {
        return Err(f.error("delay", "a fault rule needs delay or abort"));
    }
    Ok(FaultRule {
        id,
        service,
        method,
        delay,
        abort,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn err(json: &str) -> RuleError {
        GuardRules::from_json(json).unwrap_err()
    }

    fn at(e: &RuleError) -> (&str, &str) {
        (e.rule.as_str(), e.field.as_str())
    }

    #[test]
    fn reads_every_kind_from_json_and_toml_alike() {
        let json = r#"{
            "rate_limit": [
                {"id": "a", "service": "s", "method": "m", "token_bucket": {"rate": 5, "burst": 2}},
                {"id": "b", "service": "s", "side": "provider", "app": "web", "mode": "monitor",
                 "leaky_bucket": {"rate": 10, "queue": 3, "max_wait_ms": 200}}
            ],
            "circuit_breaker": [{"id": "c", "service": "s", "scope": "provider"}],
            "degrade": [
                {"id": "d", "service": "s", "method": "m", "action": "fixed", "value": {"x": [1, 2]}},
                {"id": "e", "service": "s", "action": "error", "kind": "SERVER_BUSY", "message": "later"}
            ],
            "fault": [{"id": "f", "service": "s", "delay": {"ms": 10, "percent": 30}, "abort": {"kind": "CLIENT_TIMEOUT", "percent": 5.5}}]
        }"#;
        let toml = r#"
            [[rate_limit]]
            id = "a"
            service = "s"
            method = "m"
            token_bucket = { rate = 5, burst = 2 }
            [[rate_limit]]
            id = "b"
            service = "s"
            side = "provider"
            app = "web"
            mode = "monitor"
            leaky_bucket = { rate = 10.0, queue = 3, max_wait_ms = 200 }
            [[circuit_breaker]]
            id = "c"
            service = "s"
            scope = "provider"
            [[degrade]]
            id = "d"
            service = "s"
            method = "m"
            action = "fixed"
            value = { x = [1, 2] }
            [[degrade]]
            id = "e"
            service = "s"
            action = "error"
            kind = "SERVER_BUSY"
            message = "later"
            [[fault]]
            id = "f"
            service = "s"
            delay = { ms = 10, percent = 30 }
            abort = { kind = "CLIENT_TIMEOUT", percent = 5.5 }
        "#;
        let from_json = GuardRules::from_json(json).unwrap();
        let from_toml = GuardRules::from_toml(toml).unwrap();
        assert_eq!(from_json, from_toml);
        assert_eq!(
            GuardRules::parse(toml.as_bytes(), Format::Toml).unwrap(),
            from_json
        );
        let breaker = &from_json.circuit_breaker[0];
        // sofa-rpc-node's defaults.
        assert_eq!(
            (
                breaker.buckets,
                breaker.bucket_ms,
                breaker.min_requests,
                breaker.error_rate,
                breaker.sleep_ms
            ),
            (6, 10_000, 20, 50.0, 5_000)
        );
        // What is written reads back the same.
        let written = serde_json::to_string(&from_json).unwrap();
        assert_eq!(GuardRules::from_json(&written).unwrap(), from_json);
        from_json.validate().unwrap();
        // As a serde type in any format, with the same checks.
        let via_serde: GuardRules = toml::from_str(toml).unwrap();
        assert_eq!(via_serde, from_json);
        let bad = toml::from_str::<GuardRules>("[[fault]]\nid = \"f\"\nservice = \"s\"\n");
        assert!(bad.unwrap_err().to_string().contains("fault[0]"));
    }

    #[test]
    fn errors_name_the_rule_and_the_field() {
        let e = err(
            r#"{"rate_limit": [{"id": "x", "service": "s", "token_bucket": {"rate": 1, "burst": 1, "bursty": 2}}]}"#,
        );
        assert_eq!(at(&e), ("rate_limit[0] \"x\"", "token_bucket.bursty"));
        assert!(e.to_string().contains("unknown field"), "{e}");
        let e = err(
            r#"{"rate_limit": [{"id": "ok", "service": "s", "token_bucket": {"rate": 1, "burst": 1}},
                                        {"id": "neg", "service": "s", "method": "m", "token_bucket": {"rate": -3, "burst": 1}}]}"#,
        );
        assert_eq!(at(&e), ("rate_limit[1] \"neg\"", "token_bucket.rate"));
        let e = err(
            r#"{"rate_limit": [{"id": "z", "service": "s", "token_bucket": {"rate": 3, "burst": 0}}]}"#,
        );
        assert_eq!(at(&e), ("rate_limit[0] \"z\"", "token_bucket.burst"));
        let e = err(
            r#"{"rate_limit": [{"id": "q", "service": "s", "leaky_bucket": {"rate": 3, "queue": -1, "max_wait_ms": 5}}]}"#,
        );
        assert_eq!(at(&e), ("rate_limit[0] \"q\"", "leaky_bucket.queue"));
        let e = err(
            r#"{"fault": [{"id": "p", "service": "s", "abort": {"kind": "SERVER_BUSY", "percent": 120}}]}"#,
        );
        assert_eq!(at(&e), ("fault[0] \"p\"", "abort.percent"));
        let e = err(
            r#"{"fault": [{"id": "k", "service": "s", "abort": {"kind": "NO_SUCH", "percent": 1}}]}"#,
        );
        assert_eq!(at(&e), ("fault[0] \"k\"", "abort.kind"));
        let e = err(r#"{"circuit_breaker": [{"service": "s"}]}"#);
        assert_eq!(at(&e), ("circuit_breaker[0]", "id"));
        let e = err(r#"{"circuit_breaker": [{"id": "b", "service": "s", "error_rate": 0}]}"#);
        assert_eq!(at(&e), ("circuit_breaker[0] \"b\"", "error_rate"));
        let e = err(r#"{"circuit_breaker": [{"id": "b", "service": "s", "slow_rate": 10}]}"#);
        assert_eq!(at(&e), ("circuit_breaker[0] \"b\"", "slow_rate"));
        let e = err(r#"{"degrade": [{"id": "d", "service": "s", "action": "fixed"}]}"#);
        assert_eq!(at(&e), ("degrade[0] \"d\"", "value"));
        let e = err(r#"{"degrade": [{"id": "d", "service": "s", "action": "shrug"}]}"#);
        assert_eq!(at(&e), ("degrade[0] \"d\"", "action"));
        let e = err(r#"{"rate_limits": []}"#);
        assert_eq!(at(&e), ("", "rate_limits"));
    }

    #[test]
    fn contradictions_are_refused() {
        // Two rules for the same target and kind.
        let e = err(r#"{"rate_limit": [
            {"id": "a", "service": "s", "method": "m", "token_bucket": {"rate": 1, "burst": 1}},
            {"id": "b", "service": "s", "method": "m", "leaky_bucket": {"rate": 1, "queue": 1, "max_wait_ms": 1}}]}"#);
        assert_eq!(at(&e), ("rate_limit[1] \"b\"", "service"));
        // ... but the same target on the other side is another target.
        GuardRules::from_json(r#"{"rate_limit": [
            {"id": "a", "service": "s", "token_bucket": {"rate": 1, "burst": 1}},
            {"id": "b", "service": "s", "side": "provider", "token_bucket": {"rate": 1, "burst": 1}}]}"#)
        .unwrap();
        // Ids are unique across kinds.
        let e = err(
            r#"{"degrade": [{"id": "a", "service": "s", "action": "empty"}],
                        "fault": [{"id": "a", "service": "s", "delay": {"ms": 1, "percent": 1}}]}"#,
        );
        assert_eq!(at(&e), ("fault[0] \"a\"", "id"));
        // Both limiters, or neither.
        let e = err(r#"{"rate_limit": [{"id": "a", "service": "s",
            "token_bucket": {"rate": 1, "burst": 1}, "leaky_bucket": {"rate": 1, "queue": 1, "max_wait_ms": 1}}]}"#);
        assert_eq!(at(&e), ("rate_limit[0] \"a\"", "leaky_bucket"));
        let e = err(r#"{"rate_limit": [{"id": "a", "service": "s"}]}"#);
        assert_eq!(at(&e), ("rate_limit[0] \"a\"", "token_bucket"));
        // A caller app is only known to providers.
        let e = err(
            r#"{"rate_limit": [{"id": "a", "service": "s", "app": "web", "token_bucket": {"rate": 1, "burst": 1}}]}"#,
        );
        assert_eq!(at(&e), ("rate_limit[0] \"a\"", "app"));
        // A fault that does nothing.
        let e = err(r#"{"fault": [{"id": "f", "service": "s"}]}"#);
        assert_eq!(at(&e), ("fault[0] \"f\"", "delay"));
        // Not a rule set at all.
        assert!(GuardRules::from_toml("rate_limit = 3").is_err());
        assert!(GuardRules::from_json("[1]").is_err());
        assert!(GuardRules::parse(b"\xff", Format::Json).is_err());
    }
}
