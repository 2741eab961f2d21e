//! `sofa rules`: checks a traffic guard or zone rule document, from a file or from the key of
//! a configuration center, the way a consumer following it would: valid as a whole, or the
//! rule and field that are wrong.

use std::time::Duration;

use futures::StreamExt;
use serde_json::{json, Value};
use sofa_rpc_core::config::{open, ConfigFormat};
use sofa_rpc_core::guard::GuardRules;
use sofa_rpc_core::router::zone::{ZoneKind, ZoneRules};

use crate::cli::{RulesArgs, RulesKind};
use crate::error::{Failure, Result};
use crate::output::print_json;

/// Reads the document `args.source` names, checks it and prints what it holds.
pub(crate) async fn run(args: RulesArgs, json: bool) -> Result<()> {
    let (key, raw) = read(&args.source, Duration::from_millis(args.timeout.max(1))).await?;
    let format = ConfigFormat::detect(&key, &raw);
    let text = std::str::from_utf8(&raw)
        .map_err(|e| Failure::Runtime(format!("{}: not UTF-8 text: {e}", args.source)))?;
    let kind = match args.kind {
        RulesKind::Auto => detect(text, format),
        kind => kind,
    };
    let summary = match kind {
        RulesKind::Zone => zone_summary(text, format),
        _ => guard_summary(text, format),
    }
    .map_err(|why| Failure::Runtime(format!("{}: {why}", args.source)))?;
    if json {
        print_json(&json!({"source": args.source, "valid": true, "rules": summary}));
    } else {
        print_text(&args.source, &summary);
    }
    Ok(())
}

/// The document: read from a file, or the current value of a configuration center's key.
async fn read(source: &str, wait: Duration) -> Result<(String, Vec<u8>)> {
    if !source.contains("://") {
        let raw = std::fs::read(source)
            .map_err(|e| Failure::usage(format!("cannot read {source}: {e}")))?;
        return Ok((source.to_string(), raw));
    }
    let target = open(source)
        .await
        .map_err(|e| Failure::usage(format!("{source}: {e}")))?;
    let mut watch = target
        .source
        .watch(&target.key)
        .map_err(|e| Failure::usage(format!("{source}: {e}")))?;
    // The first item is the key's current value; an error means the center did not answer.
    match tokio::time::timeout(wait, watch.next()).await {
        Ok(Some(Ok(Some(raw)))) => Ok((target.key, raw)),
        Ok(Some(Ok(None))) => Err(Failure::Runtime(format!("{source}: the key is absent"))),
        Ok(Some(Err(e))) => Err(Failure::usage(format!("cannot reach {source}: {e}"))),
        Ok(None) | Err(_) => Err(Failure::usage(format!(
            "{source} did not answer within {} ms",
            wait.as_millis()
        ))),
    }
}

/// Zone rules when the document has a top-level `zones`, else guard rules.
fn detect(text: &str, format: ConfigFormat) -> RulesKind {
    let has_zones = match format {
        ConfigFormat::Json => serde_json::from_str::<Value>(text)
            .ok()
            .is_some_and(|doc| doc.get("zones").is_some()),
        ConfigFormat::Toml => toml::from_str::<toml::Table>(text)
            .ok()
            .is_some_and(|doc| doc.contains_key("zones")),
    };
    if has_zones {
        RulesKind::Zone
    } else {
        RulesKind::Guard
    }
}

fn guard_summary(text: &str, format: ConfigFormat) -> std::result::Result<Value, String> {
    let rules = match format {
        ConfigFormat::Json => GuardRules::from_json(text),
        ConfigFormat::Toml => GuardRules::from_toml(text),
    }
    .map_err(|e| e.to_string())?;
    let ids = |ids: Vec<&str>| json!(ids);
    Ok(json!({
        "kind": "guard",
        "rate_limit": ids(rules.rate_limit.iter().map(|r| r.id.as_str()).collect()),
        "circuit_breaker": ids(rules.circuit_breaker.iter().map(|r| r.id.as_str()).collect()),
        "degrade": ids(rules.degrade.iter().map(|r| r.id.as_str()).collect()),
        "fault": ids(rules.fault.iter().map(|r| r.id.as_str()).collect()),
    }))
}

fn zone_summary(text: &str, format: ConfigFormat) -> std::result::Result<Value, String> {
    let rules = match format {
        ConfigFormat::Json => ZoneRules::from_json(text),
        ConfigFormat::Toml => ZoneRules::from_toml(text),
    }
    .map_err(|e| e.message().to_string())?;
    let spec = rules.spec();
    let kind = |kind: ZoneKind| match kind {
        ZoneKind::RZone => "rzone",
        ZoneKind::GZone => "gzone",
        ZoneKind::CZone => "czone",
    };
    Ok(json!({
        "kind": "zone",
        "zones": spec.zones.iter().map(|z| format!("{} ({})", z.name, kind(z.kind))).collect::<Vec<_>>(),
        "services": spec.services.iter().map(|s| format!("{} ({})", s.service, kind(s.kind))).collect::<Vec<_>>(),
        "rules": spec.rules.len(),
    }))
}

fn print_text(source: &str, summary: &Value) {
    let kind = summary["kind"].as_str().unwrap_or_default();
    println!("{source}: valid {kind} rules");
    if let Value::Object(fields) = summary {
        for (name, value) in fields.iter().filter(|(name, _)| *name != "kind") {
            match value {
                Value::Array(items) => {
                    let items: Vec<&str> = items.iter().filter_map(Value::as_str).collect();
                    match items.is_empty() {
                        true => println!("  {name}: 0"),
                        false => println!("  {name}: {} ({})", items.len(), items.join(", ")),
                    }
                }
                other => println!("  {name}: {other}"),
            }
        }
    }
}
