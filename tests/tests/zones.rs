//! Unit (LDC zone) routing against real registries: three zones of two providers each,
//! published in a real etcd and a real ZooKeeper (started by `tests/registry/start-*.sh`),
//! every provider answering with its zone.
//!
//! * 10,000 calls with random user ids all land in the zone owning the user;
//! * GZone calls stay in the caller's zone;
//! * a call without a key goes where its rule says, or fails when the rule says so;
//! * a disaster switch (shards 00-49 to their backup zone) under load: no call is lost, and
//!   every call started after the new rules are in force follows them. Over etcd the rules
//!   live in an etcd key that the consumer follows through a config source, so the switch is
//!   a write to that key (and the test prints how long it took to apply); over ZooKeeper they
//!   are pushed to the rules handle.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs)]

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use sofa_rpc_core::config::{open, LiveOptions, LiveRules};
use sofa_rpc_core::router::zone::{
    Fallback, ZoneRouter, ZoneRules, ZoneRulesHandle, ZoneRulesSpec,
};
use sofa_rpc_core::{Client, ConsumerConfig, ErrorKind, ExtensionLoader, ProviderConfig, Server};
use sofa_rpc_tests::PeerServer;

/// Accounts, placed by user.
#[sofa_rpc_core::service(interface = "com.example.zones.Account")]
pub trait Account {
    /// The zone of the provider that handled the call.
    async fn zone_of(&self, user: Option<String>) -> String;
}

/// Rates, global data.
#[sofa_rpc_core::service(interface = "com.example.zones.Rates")]
pub trait Rates {
    /// The zone of the provider that handled the call.
    async fn zone(&self) -> String;
}

#[derive(Clone)]
struct InZone(&'static str);

impl Account for InZone {
    async fn zone_of(&self, _user: Option<String>) -> String {
        self.0.to_string()
    }
}

impl Rates for InZone {
    async fn zone(&self) -> String {
        self.0.to_string()
    }
}

const ZONES: [&str; 3] = ["RZ00", "RZ01", "RZ02"];

/// Shards by the 2nd and 3rd last digits of the user id (LDC's strict mode); each quarter of
/// the shards has an owner and a backup.
const RULES: &str = r#"{
  "zones": [
    {"name": "RZ00", "kind": "rzone", "city": "sh"},
    {"name": "RZ01", "kind": "rzone", "city": "sh"},
    {"name": "RZ02", "kind": "rzone", "city": "hz"}
  ],
  "services": [
    {"service": "com.example.zones.Account", "kind": "rzone", "rule": "user"},
    {"service": "com.example.zones.Rates", "kind": "gzone"}
  ],
  "rules": [{
    "name": "user",
    "key": {"arg": {"index": 0}},
    "shard": {"digits": {"from_end": 3, "len": 2}},
    "levels": [{"shards": [
      {"shards": "00-24", "zone": "RZ00", "backup": "RZ01"},
      {"shards": "25-49", "zone": "RZ01", "backup": "RZ02"},
      {"shards": "50-74", "zone": "RZ02", "backup": "RZ00"},
      {"shards": "75-99", "zone": "RZ00", "backup": "RZ02"}
    ]}],
    "on_missing": {"zone": "RZ02"},
    "on_unmatched": "error"
  }]
}"#;

/// The zone the test expects for `user`, computed apart from the rule engine.
fn expected(user: &str, switched: bool) -> &'static str {
    let b = user.as_bytes();
    let shard = (b[b.len() - 3] - b'0') * 10 + (b[b.len() - 2] - b'0');
    match (shard, switched) {
        (0..=24, false) => "RZ00",
        (0..=24, true) => "RZ01",
        (25..=49, false) => "RZ01",
        (25..=49, true) => "RZ02",
        (50..=74, _) => "RZ02",
        _ => "RZ00",
    }
}

/// A random user id: `2088` and ten digits.
fn user_id(seed: &AtomicU64) -> String {
    let mut x = seed.fetch_add(0x9E37_79B9_7F4A_7C15, Ordering::Relaxed);
    x ^= x >> 33;
    x = x.wrapping_mul(0xff51_afd7_ed55_8ccd);
    x ^= x >> 33;
    format!("2088{:010}", x % 10_000_000_000)
}

async fn providers(url: &str) -> Vec<Server> {
    let mut servers = Vec::new();
    for zone in ZONES {
        for _ in 0..2 {
            let server = Server::builder()
                .bind("127.0.0.1:0")
                .publish_host("127.0.0.1")
                .registry(url)
                .app_name("zones")
                .provider(ProviderConfig::new(AccountServer::new(InZone(zone))).zone(zone))
                .provider(ProviderConfig::new(RatesServer::new(InZone(zone))).zone(zone))
                .start()
                .await
                .unwrap();
            servers.push(server);
        }
    }
    servers
}

fn consumer(url: &str, handle: &ZoneRulesHandle) -> Client {
    let router = ZoneRouter::new(handle.clone())
        .local_zone("RZ00")
        .strict(true);
    let mut loader = ExtensionLoader::default();
    loader.register_router("zone", move || router.clone());
    let config = ConsumerConfig::new()
        .registry(url)
        .routers(["registry", "zone"])
        .timeout(Duration::from_secs(5));
    Client::with_extensions(config, &loader).unwrap()
}

/// Until every provider is listed: strict routing refuses a zone none of whose providers is
/// known yet, and the registry publishes them one by one (at most 20 s).
async fn wait_for_all(account: &AccountClient, rates: &RatesClient) {
    let deadline = Instant::now() + Duration::from_secs(20);
    let users = ["2088000000001", "2088000000301", "2088000000601"];
    loop {
        let mut ok = 0;
        for user in users {
            if account.zone_of(Some(user.into())).await.is_ok() {
                ok += 1;
            }
        }
        if ok == users.len() && rates.zone().await.is_ok() {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "the providers never all showed up"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

async fn every_call_lands_in_its_zone(account: &AccountClient) {
    const CALLS: u64 = 10_000;
    const WORKERS: u64 = 32;
    let seed = Arc::new(AtomicU64::new(7));
    let started = Instant::now();
    let mut tasks = Vec::new();
    for _ in 0..WORKERS {
        let account = account.clone();
        let seed = seed.clone();
        tasks.push(tokio::spawn(async move {
            let mut per_zone = [0u64; 3];
            for _ in 0..CALLS / WORKERS + 1 {
                let user = user_id(&seed);
                let got = account.zone_of(Some(user.clone())).await.unwrap();
                assert_eq!(got, expected(&user, false), "user {user}");
                per_zone[ZONES.iter().position(|z| *z == got).unwrap()] += 1;
            }
            per_zone
        }));
    }
    let mut per_zone = [0u64; 3];
    for t in tasks {
        for (total, n) in per_zone.iter_mut().zip(t.await.unwrap()) {
            *total += n;
        }
    }
    let total: u64 = per_zone.iter().sum();
    assert!(total >= CALLS);
    println!(
        "{total} calls, all in their owning zone: {:?} per zone {per_zone:?}, {:?}",
        ZONES,
        started.elapsed()
    );
    // Every zone got its share (a quarter, a quarter, a half of the shards).
    assert!(per_zone.iter().all(|n| *n > total / 8), "{per_zone:?}");
}

/// Where the consumer's zone rules come from.
enum Feed {
    /// Pushed to its rules handle.
    Handle,
    /// Written to a key of the etcd under test, which the handle follows.
    Etcd {
        client: Box<etcd_client::Client>,
        live: LiveRules,
    },
}

const RULES_KEY: &str = "/sofa-config/zones.json";

impl Feed {
    /// Puts `spec` in force; the instant it took effect.
    async fn push(&mut self, handle: &ZoneRulesHandle, spec: ZoneRulesSpec) -> Instant {
        match self {
            Feed::Handle => {
                handle.replace(spec).unwrap();
                Instant::now()
            }
            Feed::Etcd { client, live } => {
                let before = live.status().applied;
                let document = serde_json::to_vec(&spec).unwrap();
                client.put(RULES_KEY, document, None).await.unwrap();
                let status = live
                    .wait(|s| s.applied > before, Duration::from_secs(10))
                    .await
                    .expect("the rules written to etcd were applied");
                status.applied_at.unwrap()
            }
        }
    }
}

async fn missing_keys_follow_the_rule(
    account: &AccountClient,
    handle: &ZoneRulesHandle,
    feed: &mut Feed,
) {
    assert_eq!(account.zone_of(None).await.unwrap(), "RZ02");
    let mut spec = handle.current().spec().clone();
    spec.rules[0].on_missing = Fallback::Error;
    feed.push(handle, spec).await;
    let err = account.zone_of(None).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::ClientRouter, "{err}");
    assert!(err.message().contains("com.example.zones.Account"), "{err}");
    assert!(err.message().contains("no key"), "{err}");
    // A key with no shard (too short) is unmatched: an error by this rule.
    let err = account.zone_of(Some("7".into())).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::ClientRouter, "{err}");
}

struct Outcome {
    start: Instant,
    end: Instant,
    user: String,
    zone: Result<String, String>,
}

async fn disaster_switch_under_load(
    account: &AccountClient,
    handle: &ZoneRulesHandle,
    feed: &mut Feed,
) {
    let stop = Arc::new(AtomicBool::new(false));
    let outcomes = Arc::new(Mutex::new(Vec::new()));
    let seed = Arc::new(AtomicU64::new(99));
    let mut workers = Vec::new();
    for _ in 0..16 {
        let (account, stop, outcomes, seed) = (
            account.clone(),
            stop.clone(),
            outcomes.clone(),
            seed.clone(),
        );
        workers.push(tokio::spawn(async move {
            // Bounded: the load stops when told, or after 20,000 calls per worker.
            for _ in 0..20_000 {
                if stop.load(Ordering::Relaxed) {
                    break;
                }
                let user = user_id(&seed);
                let start = Instant::now();
                let zone = account
                    .zone_of(Some(user.clone()))
                    .await
                    .map_err(|e| e.to_string());
                let end = Instant::now();
                outcomes.lock().unwrap().push(Outcome {
                    start,
                    end,
                    user,
                    zone,
                });
            }
        }));
    }
    tokio::time::sleep(Duration::from_millis(700)).await;
    let mut spec = handle.current().spec().clone();
    for map in &mut spec.rules[0].levels[0].shards {
        if map.shards == "00-24" || map.shards == "25-49" {
            map.switched = true;
        }
    }
    let switch_at = Instant::now();
    let switched_at = feed.push(handle, spec).await;
    tokio::time::sleep(Duration::from_millis(700)).await;
    stop.store(true, Ordering::Relaxed);
    for w in workers {
        w.await.unwrap();
    }
    let outcomes = std::mem::take(&mut *outcomes.lock().unwrap());
    let failed: Vec<_> = outcomes.iter().filter(|o| o.zone.is_err()).collect();
    assert!(
        failed.is_empty(),
        "{} calls failed: {:?}",
        failed.len(),
        failed[0].zone
    );
    let (mut before, mut after, mut moved, mut in_flight) = (0, 0, 0, 0);
    let mut first_in_backup: Option<Duration> = None;
    let mut last_on_old_rules: Option<Duration> = None;
    for o in &outcomes {
        let zone = o.zone.as_deref().unwrap();
        let old = expected(&o.user, false);
        let new = expected(&o.user, true);
        if o.end < switch_at {
            before += 1;
            assert_eq!(zone, old, "before the switch, user {}", o.user);
        } else if o.start >= switched_at {
            after += 1;
            assert_eq!(zone, new, "after the switch, user {}", o.user);
        } else {
            in_flight += 1;
            assert!(zone == old || zone == new, "user {} in {zone}", o.user);
        }
        if old != new {
            if zone == new {
                moved += 1;
                let at = o.end.saturating_duration_since(switch_at);
                first_in_backup = Some(first_in_backup.map_or(at, |f| f.min(at)));
            } else {
                let at = o.start.saturating_duration_since(switch_at);
                last_on_old_rules = Some(last_on_old_rules.map_or(at, |l| l.max(at)));
            }
        }
    }
    let latency = first_in_backup.expect("no call moved to a backup zone");
    println!(
        "disaster switch: {} calls, none lost ({before} before, {in_flight} across, {after} after; \
         {moved} moved to a backup zone); the new rules took {:?} to apply; first call in a backup zone done \
         {latency:?} after the switch; last call placed by the old rules started {:?} after it",
        outcomes.len(),
        switched_at - switch_at,
        last_on_old_rules.unwrap_or_default(),
    );
    assert!(after > 0 && before > 0);
    assert!(
        switched_at - switch_at < Duration::from_secs(1),
        "the new rules took {:?} to apply",
        switched_at - switch_at
    );
    // The switch itself is exact (every call started after `replace` returned follows it, as
    // checked above); the first moved call's completion is a few ms in practice, bounded here
    // with room for a loaded 2-core machine.
    assert!(latency < Duration::from_secs(3), "{latency:?}");
}

async fn zones_in(registry: PeerServer, scheme: &str) {
    let url = format!("{scheme}://{}", registry.addr());
    let servers = providers(&url).await;
    let (handle, mut feed) = if scheme == "etcd" {
        let mut client =
            etcd_client::Client::connect([format!("http://{}", registry.addr())], None)
                .await
                .unwrap();
        client.put(RULES_KEY, RULES, None).await.unwrap();
        let handle = ZoneRulesHandle::default();
        let target = open(&format!("etcd://{}{RULES_KEY}", registry.addr()))
            .await
            .unwrap();
        let live = handle.follow(target, LiveOptions::new()).await;
        assert_eq!(live.status().applied, 1, "{:?}", live.last_error());
        (
            handle,
            Feed::Etcd {
                client: Box::new(client),
                live,
            },
        )
    } else {
        let handle = ZoneRulesHandle::new(ZoneRules::from_json(RULES).unwrap());
        (handle, Feed::Handle)
    };
    let client = consumer(&url, &handle);
    let account = AccountClient::new(client.clone());
    let rates = RatesClient::new(client);
    tokio::time::timeout(Duration::from_secs(120), async {
        wait_for_all(&account, &rates).await;
        every_call_lands_in_its_zone(&account).await;
        // GZone: every provider serves it, the caller's zone answers.
        for _ in 0..200 {
            assert_eq!(rates.zone().await.unwrap(), "RZ00");
        }
        disaster_switch_under_load(&account, &handle, &mut feed).await;
        missing_keys_follow_the_rule(&account, &handle, &mut feed).await;
    })
    .await
    .expect("the zone scenario took over 120 s");
    for s in servers {
        s.shutdown().await;
    }
    drop(registry);
}

async fn registry(script: &'static str) -> PeerServer {
    tokio::task::spawn_blocking(move || PeerServer::start_registry(script).unwrap())
        .await
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn zones_over_etcd() {
    zones_in(registry("start-etcd.sh").await, "etcd").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn zones_over_zookeeper() {
    zones_in(registry("start-zk.sh").await, "zookeeper").await;
}
