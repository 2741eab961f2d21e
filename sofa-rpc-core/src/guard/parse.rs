//! Reading rules from bytes: JSON or TOML to [`GuardRules`], field by field, so that an error
//! names the rule and the field it is about; then the checks that need the whole set.

use std::collections::HashSet;

use serde_json::Value;

use super::error::RuleError;
use super::read::{breaker, degrade, fault, rate_limit, Fields};
use super::rules::GuardRules;

/// The text format of a rule set: the live-configuration one, which can also
/// [guess](Format::detect) it from a key or the text.
pub use sofa_rpc_registry::config::ConfigFormat as Format;

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

impl<'de> serde::Deserialize<'de> for GuardRules {
    /// Reads and validates, as [`GuardRules::from_json`] does, from any serde format.
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let value = <Value as serde::Deserialize>::deserialize(d)?;
        from_value(value).map_err(serde::de::Error::custom)
    }
}

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
