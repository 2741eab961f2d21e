//! The rule engine and the `zone` router on provider lists: documents in both forms, whole-document
//! checks, placement, strict refusals, the gateway.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs)]

use std::sync::Arc;

use sofa_rpc_core::registry::ProviderInfo;
use sofa_rpc_core::router::zone::*;
use sofa_rpc_core::router::{RouteContext, Router};
use sofa_rpc_core::{DynArgs, Invocation, ServiceId};

/// A bank's two-level rule: the last two digits of the tag pick one of 100 shards, then the
/// product-line prefix (`B` corporate, `P` personal) picks the unit.
const BANK: &str = r#"
[[zones]]
name = "UB01"
kind = "rzone"
city = "sh"
[[zones]]
name = "UB02"
kind = "rzone"
city = "sh"
[[zones]]
name = "UP01"
kind = "rzone"
city = "hz"
[[zones]]
name = "UP02"
kind = "rzone"
city = "hz"

[[services]]
service = "com.bank.Account"
kind = "rzone"
rule = "bank"

[[rules]]
name = "bank"
key = { baggage = "tag" }
shard = { digits = { from_end = 2, len = 2 } }
overrides = { "B_88888888" = "UP02" }
on_missing = { zone = "UB01" }
on_unmatched = "error"

[[rules.levels]]
name = "corporate"
when = { prefix = "B_" }
shards = [
  { shards = "00-49", zone = "UB01", backup = "UB02" },
  { shards = "50-99", zone = "UB02", backup = "UB01" },
]

[[rules.levels]]
name = "personal"
when = { prefix = "P_" }
shards = [
  { shards = "00-49", zone = "UP01", backup = "UP02" },
  { shards = "50-99", zone = "UP02", backup = "UP01" },
]
"#;

fn zone(rules: &ZoneRules, key: &str) -> Option<String> {
    rules
        .zone_of_key("bank", "query", key)
        .unwrap()
        .map(|z| z.to_string())
}

#[test]
fn the_bank_example_routes_by_digits_then_prefix() {
    let rules = ZoneRules::from_toml(BANK).unwrap();
    assert_eq!(zone(&rules, "B_20210817").as_deref(), Some("UB01"));
    assert_eq!(zone(&rules, "B_20210867").as_deref(), Some("UB02"));
    assert_eq!(zone(&rules, "P_20210817").as_deref(), Some("UP01"));
    assert_eq!(zone(&rules, "P_20210899").as_deref(), Some("UP02"));
    // The big customer's override beats the algorithm.
    assert_eq!(zone(&rules, "B_88888888").as_deref(), Some("UP02"));
    // No level for the prefix, and no shard: both unmatched, both errors by the rule.
    let err = rules.zone_of_key("bank", "q", "X_20210817").unwrap_err();
    assert_eq!(err.kind(), sofa_rpc_core::ErrorKind::ClientRouter);
    assert!(err.message().contains("no level matches"), "{err}");
    let err = rules.zone_of_key("bank", "q", "B_2021081x").unwrap_err();
    assert!(err.message().contains("no shard"), "{err}");
}

fn call(tag: Option<&str>) -> Invocation {
    let mut inv = Invocation::new(
        ServiceId::new("com.bank.Account", "1.0", ""),
        "query",
        Arc::new(()),
    );
    if let Some(tag) = tag {
        inv.context_mut().insert_baggage("tag", tag);
    }
    inv
}

#[test]
fn calls_are_placed_from_their_baggage_and_missing_keys_fall_back() {
    let rules = ZoneRules::from_toml(BANK).unwrap();
    let d = rules.place(&call(Some("P_123456"))).unwrap();
    assert_eq!(d.placement, Placement::Zone("UP02".into()));
    assert_eq!(d.key.as_deref(), Some("P_123456"));
    // The rule sends keyless calls to UB01.
    let d = rules.place(&call(None)).unwrap();
    assert_eq!(d.placement, Placement::Zone("UB01".into()));
    // Unlisted services are not placed.
    let other = Invocation::new(ServiceId::parse("x.Y:1.0"), "m", Arc::new(()));
    assert_eq!(rules.place(&other).unwrap().placement, Placement::Unzoned);
    // An unmatched key is an error naming service, rule and key.
    let err = rules.place(&call(Some("Q_1"))).unwrap_err();
    let msg = err.message();
    assert!(
        msg.contains("com.bank.Account") && msg.contains("\"bank\"") && msg.contains("Q_1"),
        "{msg}"
    );
}

#[test]
fn keys_come_from_argument_fields() {
    #[derive(serde::Serialize)]
    struct Order {
        user: User,
    }
    #[derive(serde::Serialize)]
    struct User {
        id: String,
    }
    let json = r#"{
      "zones": [{"name": "RZ00", "kind": "rzone"}, {"name": "RZ01", "kind": "rzone"}],
      "services": [{"service": "com.shop.Order", "kind": "rzone", "rule": "ldc"}],
      "rules": [{
        "name": "ldc",
        "key": {"arg": {"index": 1, "path": "user.id"}},
        "shard": {"digits": {"from_end": 3, "len": 2}},
        "levels": [{"shards": [{"shards": "00-49", "zone": "RZ00"}, {"shards": "50-99", "zone": "RZ01"}]}]
      }]
    }"#;
    let rules = ZoneRules::from_json(json).unwrap();
    let order = |id: &str| {
        let args = DynArgs::new().arg("int", 1).arg(
            "com.shop.Order",
            Order {
                user: User { id: id.into() },
            },
        );
        Invocation::new(
            ServiceId::parse("com.shop.Order:1.0"),
            "place",
            Arc::new(args),
        )
    };
    // 2nd and 3rd last digits: 2088000000123 -> 12, 2088000000789 -> 78.
    let d = rules.place(&order("2088000000123")).unwrap();
    assert_eq!(d.placement, Placement::Zone("RZ00".into()));
    let d = rules.place(&order("2088000000789")).unwrap();
    assert_eq!(d.placement, Placement::Zone("RZ01".into()));
    // No such argument: missing, and the default fallback is an error.
    let none = Invocation::new(
        ServiceId::parse("com.shop.Order:1.0"),
        "place",
        Arc::new(()),
    );
    let err = rules.place(&none).unwrap_err();
    assert!(err.message().contains("carries no key"), "{err}");
}

fn rejected(json: &str) -> String {
    ZoneRules::from_json(json)
        .unwrap_err()
        .message()
        .to_string()
}

#[test]
fn bad_documents_are_rejected_naming_rule_and_field() {
    let zones = r#""zones": [{"name": "A", "kind": "rzone"}, {"name": "B", "kind": "rzone"}]"#;
    let rule = |levels: &str| {
        format!(
            r#"{{{zones}, "rules": [{{"name": "r", "key": {{"baggage": "u"}},
               "shard": {{"modulo": 10}}, "levels": [{levels}]}}]}}"#
        )
    };
    let msg = rejected(&rule(r#"{"shards": [{"shards": "0-9", "zone": "C"}]}"#));
    assert!(
        msg.contains("rule \"r\"")
            && msg.contains("levels[0].shards[0].zone")
            && msg.contains("unknown zone \"C\""),
        "{msg}"
    );
    let msg = rejected(&rule(
        r#"{"shards": [{"shards": "0-5", "zone": "A"}, {"shards": "5-9", "zone": "B"}]}"#,
    ));
    assert!(
        msg.contains("levels[0].shards[1].shards") && msg.contains("shard 5 is claimed twice"),
        "{msg}"
    );
    let msg = rejected(&rule(r#"{"shards": [{"shards": "0-8", "zone": "A"}]}"#));
    assert!(
        msg.contains("levels[0].shards") && msg.contains("shard 9 of 0-9 has no zone"),
        "{msg}"
    );
    let msg = rejected(&rule(
        r#"{"shards": [{"shards": "0-9", "zone": "A", "switched": true}]}"#,
    ));
    assert!(msg.contains("switched"), "{msg}");
    let msg = rejected(&format!(
        r#"{{{zones}, "services": [{{"service": "s", "kind": "rzone", "rule": "nope"}}]}}"#
    ));
    assert!(
        msg.contains("services[0].rule") && msg.contains("nope"),
        "{msg}"
    );
    // Too deep: 17 nested levels of conditions.
    let mut cond = r#"{"prefix": "x"}"#.to_string();
    for _ in 0..MAX_DEPTH {
        cond = format!(r#"{{"all": [{cond}]}}"#);
    }
    let msg = rejected(&rule(&format!(
        r#"{{"when": {cond}, "shards": [{{"shards": "0-9", "zone": "A"}}]}}"#
    )));
    assert!(
        msg.contains("rule \"r\"") && msg.contains("deeper than 16"),
        "{msg}"
    );
    assert!(rejected("{").contains("not valid JSON"));
    assert!(ZoneRules::parse(b"zones = 3")
        .unwrap_err()
        .message()
        .contains("TOML"));
}

#[test]
fn a_switch_sends_shards_to_their_backup_and_replace_is_atomic() {
    let handle = ZoneRulesHandle::new(ZoneRules::from_toml(BANK).unwrap());
    let before = handle.current();
    let mut spec = before.spec().clone();
    for level in &mut spec.rules[0].levels {
        level.shards[0].switched = true;
    }
    // A bad replacement leaves the rules in force.
    let mut broken = spec.clone();
    broken.rules[0].levels[0].shards[0].backup = Some("nowhere".into());
    assert!(handle.replace(broken).is_err());
    assert_eq!(
        zone(&handle.current(), "B_20210817").as_deref(),
        Some("UB01")
    );
    handle.replace(spec).unwrap();
    let after = handle.current();
    assert_eq!(zone(&after, "B_20210817").as_deref(), Some("UB02"));
    assert_eq!(zone(&after, "P_20210817").as_deref(), Some("UP02"));
    assert_eq!(
        zone(&after, "B_20210867").as_deref(),
        Some("UB02"),
        "50-99 stay"
    );
    // Rules taken before the swap keep answering as they were.
    assert_eq!(zone(&before, "B_20210817").as_deref(), Some("UB01"));
}

#[test]
fn documents_round_trip_through_both_forms() {
    let rules = ZoneRules::from_toml(BANK).unwrap();
    let json = serde_json::to_string(rules.spec()).unwrap();
    let again = ZoneRules::parse(json.as_bytes()).unwrap();
    assert_eq!(again.spec(), rules.spec());
    assert_eq!(rules.zone_kind("UB01"), Some(ZoneKind::RZone));
    assert_eq!(rules.city_of("UP01"), Some("hz"));
}

fn providers() -> Vec<Arc<ProviderInfo>> {
    ["UB01", "UB02", "UP01", "UP02", "GZ"]
        .iter()
        .enumerate()
        .map(|(i, z)| {
            Arc::new(ProviderInfo::bolt("10.0.0.1", 1000 + i as u16).with_param(ZONE_PARAM, *z))
        })
        .collect()
}

fn route(
    router: &ZoneRouter,
    inv: &Invocation,
    list: Vec<Arc<ProviderInfo>>,
) -> sofa_rpc_core::Result<Vec<String>> {
    let ctx = RouteContext {
        direct: &[],
        registry: &[],
    };
    let routed = router.try_route(inv, &ctx, list)?;
    Ok(routed
        .iter()
        .map(|p| p.param(ZONE_PARAM).unwrap_or(p.address()).to_string())
        .collect())
}

#[test]
fn the_router_keeps_the_owning_zone_and_strict_mode_refuses() {
    let handle = ZoneRulesHandle::new(ZoneRules::from_toml(BANK).unwrap());
    let lax = ZoneRouter::new(handle.clone()).local_zone("UB01");
    let strict = lax.clone().strict(true);
    assert_eq!(
        route(&lax, &call(Some("P_99")), providers()).unwrap(),
        ["UP02"]
    );
    // Without UP02's providers: lax sends anywhere, strict refuses naming service, key, zone.
    let without: Vec<_> = providers()
        .into_iter()
        .filter(|p| p.param(ZONE_PARAM) != Some("UP02"))
        .collect();
    assert_eq!(
        route(&lax, &call(Some("P_99")), without.clone())
            .unwrap()
            .len(),
        4
    );
    let err = route(&strict, &call(Some("P_99")), without).unwrap_err();
    assert_eq!(err.kind(), sofa_rpc_core::ErrorKind::ClientRouter);
    let msg = err.message();
    assert!(
        msg.contains("com.bank.Account") && msg.contains("P_99") && msg.contains("UP02"),
        "{msg}"
    );
    // An unmatched key: lax goes anywhere, strict fails with the rule's error.
    assert_eq!(
        route(&lax, &call(Some("Z_1")), providers()).unwrap().len(),
        5
    );
    assert!(route(&strict, &call(Some("Z_1")), providers()).is_err());
}

#[test]
fn other_zones_go_through_the_gateway_with_the_target_zone() {
    let handle = ZoneRulesHandle::new(ZoneRules::from_toml(BANK).unwrap());
    let router = ZoneRouter::new(handle)
        .local_zone("UB01")
        .gateway("10.9.9.9", 9000);
    let ctx = RouteContext {
        direct: &[],
        registry: &[],
    };
    let routed = router
        .try_route(&call(Some("P_99")), &ctx, providers())
        .unwrap();
    assert_eq!(routed.len(), 1);
    assert_eq!(routed[0].address(), "10.9.9.9:9000");
    assert_eq!(
        routed[0].param("routeHeader.sofa_head_target_zone"),
        Some("UP02")
    );
    // The local zone's calls stay local.
    assert_eq!(
        route(&router, &call(Some("B_01")), providers()).unwrap(),
        ["UB01"]
    );
}

#[test]
fn global_and_city_services_prefer_what_is_near() {
    let mut spec = ZoneRules::from_toml(BANK).unwrap().spec().clone();
    spec.zones.push(ZoneSpec {
        name: "GZ".into(),
        kind: ZoneKind::GZone,
        city: Some("sh".into()),
    });
    spec.services.push(ServiceSpec {
        service: "com.bank.Rates".into(),
        kind: ZoneKind::GZone,
        rule: None,
    });
    spec.services.push(ServiceSpec {
        service: "com.bank.Branches".into(),
        kind: ZoneKind::CZone,
        rule: None,
    });
    let handle = ZoneRulesHandle::new(ZoneRules::new(spec).unwrap());
    let router = ZoneRouter::new(handle).local_zone("UP01");
    let rates = Invocation::new(ServiceId::parse("com.bank.Rates:1.0"), "m", Arc::new(()));
    assert_eq!(route(&router, &rates, providers()).unwrap(), ["UP01"]);
    let far: Vec<_> = providers()
        .into_iter()
        .filter(|p| p.param(ZONE_PARAM) != Some("UP01"))
        .collect();
    assert_eq!(
        route(&router, &rates, far).unwrap().len(),
        4,
        "anywhere when the local zone has none"
    );
    let branches = Invocation::new(ServiceId::parse("com.bank.Branches:1.0"), "m", Arc::new(()));
    assert_eq!(
        route(&router, &branches, providers()).unwrap(),
        ["UP01", "UP02"],
        "the hz city"
    );
}
