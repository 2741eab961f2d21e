#![allow(missing_docs, clippy::unwrap_used)]
//! The zone routing decision for a two-level rule (the last two digits of the key pick one of
//! 100 shards, then its product-line prefix picks the unit), with the key read from the call's
//! baggage or from its first argument; and the whole `zone` router over 3 zones x 2 providers
//! published with all of SOFARPC's parameters. Keys rotate through 64 of them.

use std::hint::black_box;
use std::sync::Arc;

use criterion::Criterion;
use sofa_rpc_core::router::zone::{ZoneRouter, ZoneRules, ZoneRulesHandle};
use sofa_rpc_core::router::{RouteContext, Router};
use sofa_rpc_core::{DynArgs, Invocation, ProviderInfo, ServiceId};

const RULES: &str = r#"{
  "zones": [
    {"name": "UB01", "kind": "rzone"}, {"name": "UB02", "kind": "rzone"},
    {"name": "UP01", "kind": "rzone"}
  ],
  "services": [
    {"service": "com.bank.Account", "kind": "rzone", "rule": "bank"},
    {"service": "com.bank.Ledger", "kind": "rzone", "rule": "bank-arg"}
  ],
  "rules": [
    {"name": "bank", "key": {"baggage": "tag"}, "shard": {"digits": {"from_end": 2, "len": 2}},
     "levels": [
       {"when": {"prefix": "B_"}, "shards": [{"shards": "00-49", "zone": "UB01", "backup": "UB02"},
                                             {"shards": "50-99", "zone": "UB02", "backup": "UB01"}]},
       {"when": {"prefix": "P_"}, "shards": [{"shards": "00-99", "zone": "UP01"}]}
     ]},
    {"name": "bank-arg", "key": {"arg": {"index": 0}}, "shard": {"digits": {"from_end": 2, "len": 2}},
     "levels": [
       {"when": {"prefix": "B_"}, "shards": [{"shards": "00-49", "zone": "UB01", "backup": "UB02"},
                                             {"shards": "50-99", "zone": "UB02", "backup": "UB01"}]},
       {"when": {"prefix": "P_"}, "shards": [{"shards": "00-99", "zone": "UP01"}]}
     ]}
  ]
}"#;

fn keys() -> Vec<String> {
    (0..64)
        .map(|i| format!("{}_202108{:02}", if i % 2 == 0 { "B" } else { "P" }, i))
        .collect()
}

fn by_baggage() -> Vec<Invocation> {
    keys()
        .into_iter()
        .map(|k| {
            let mut inv = Invocation::new(
                ServiceId::parse("com.bank.Account:1.0"),
                "query",
                Arc::new(()),
            );
            inv.context_mut().insert_baggage("tag", k);
            inv
        })
        .collect()
}

fn by_argument() -> Vec<Invocation> {
    keys()
        .into_iter()
        .map(|k| {
            let args = DynArgs::new().arg("java.lang.String", k);
            Invocation::new(
                ServiceId::parse("com.bank.Ledger:1.0"),
                "query",
                Arc::new(args),
            )
        })
        .collect()
}

fn providers() -> Vec<Arc<ProviderInfo>> {
    ["UB01", "UB01", "UB02", "UB02", "UP01", "UP01"]
        .iter()
        .enumerate()
        .map(|(i, zone)| {
            let p =
                ProviderInfo::sofa_provider(format!("10.0.0.{}", i + 1), 12200, "com.bank.Account");
            Arc::new(p.with_param("zone", *zone))
        })
        .collect()
}

fn bench(c: &mut Criterion) {
    let rules = ZoneRules::from_json(RULES).unwrap();
    let mut group = c.benchmark_group("zone");
    for (name, calls) in [
        ("decide-two-level/baggage", by_baggage()),
        ("decide-two-level/argument", by_argument()),
    ] {
        let mut i = 0usize;
        group.bench_function(name, |b| {
            b.iter(|| {
                i = (i + 1) & 63;
                black_box(rules.place(black_box(&calls[i])).unwrap())
            })
        });
    }
    let keys = keys();
    let mut i = 0usize;
    group.bench_function("zone_of_key", |b| {
        b.iter(|| {
            i = (i + 1) & 63;
            black_box(
                rules
                    .zone_of_key("bank", "query", black_box(&keys[i]))
                    .unwrap(),
            )
        })
    });
    let router = ZoneRouter::new(ZoneRulesHandle::new(rules.clone()))
        .local_zone("UB01")
        .strict(true);
    let list = providers();
    let ctx = RouteContext {
        direct: &[],
        registry: &list,
    };
    let calls = by_baggage();
    let mut i = 0usize;
    group.bench_function("route/3x2-providers", |b| {
        b.iter(|| {
            i = (i + 1) & 63;
            black_box(router.try_route(&calls[i], &ctx, list.clone()).unwrap())
        })
    });
    group.finish();
}

fn main() {
    let mut c = Criterion::default().configure_from_args();
    bench(&mut c);
    c.final_summary();
}
