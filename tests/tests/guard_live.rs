//! Traffic-guard rules pushed live from each configuration source (a watched file, etcd,
//! ZooKeeper, Nacos, the last three real servers started by `tests/registry/start-*.sh`),
//! under load and without a restart:
//!
//! * a rate limit written to the source starts refusing calls in flight within a second (the
//!   latency is printed);
//! * a malformed rule set is refused whole, naming the rule and field, and the rules in force
//!   stay;
//! * lifting the limit lets every call through again;
//! * no call is lost: every call either succeeds or is refused by the limit.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs)]

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use sofa_rpc_core::config::{open, ConfigTarget, LiveOptions, NacosSource};
use sofa_rpc_core::event::ConfigStatusChanged;
use sofa_rpc_core::guard::Guard;
use sofa_rpc_core::{Client, ConsumerConfig, ErrorKind, Server};
use sofa_rpc_tests::PeerServer;
use zookeeper_client as zk;

#[sofa_rpc_core::service(interface = "com.example.guard.Quotes")]
pub trait Quotes {
    async fn quote(&self, symbol: String) -> String;
}

struct Desk;

impl Quotes for Desk {
    async fn quote(&self, symbol: String) -> String {
        format!("{symbol}: 42")
    }
}

/// No rules.
const OPEN: &str = r#"{"rate_limit": []}"#;
/// Five calls a second for the whole consumer: the load below runs far above that.
const TIGHT: &str = r#"{"rate_limit": [{"id": "quotes-5", "service": "com.example.guard.Quotes",
    "method": "quote", "token_bucket": {"rate": 5, "burst": 1}}]}"#;
/// Contradictory: a burst of 0.
const MALFORMED: &str = r#"{"rate_limit": [{"id": "quotes-0", "service": "com.example.guard.Quotes",
    "method": "quote", "token_bucket": {"rate": 5, "burst": 0}}]}"#;

/// Writes a rule document where the source under test keeps it.
enum Writer {
    File(std::path::PathBuf),
    Etcd(Box<etcd_client::Client>, String),
    Zookeeper(zk::Client, String),
    Nacos(NacosSource, String),
}

impl Writer {
    async fn put(&mut self, document: &str) {
        match self {
            Writer::File(path) => {
                // Replaced whole (write then rename), as a deployment tool would.
                let tmp = path.with_extension("tmp");
                std::fs::write(&tmp, document).unwrap();
                std::fs::rename(&tmp, path).unwrap();
            }
            Writer::Etcd(client, key) => {
                client.put(key.as_str(), document, None).await.unwrap();
            }
            Writer::Zookeeper(client, node) => {
                match client.set_data(node, document.as_bytes(), None).await {
                    Ok(_) => {}
                    Err(zk::Error::NoNode) => {
                        let options = zk::CreateMode::Persistent.with_acls(zk::Acls::anyone_all());
                        let parent = node.rsplit_once('/').unwrap().0;
                        client.mkdir(parent, &options).await.unwrap();
                        client
                            .create(node, document.as_bytes(), &options)
                            .await
                            .unwrap();
                    }
                    Err(e) => panic!("set {node}: {e}"),
                }
            }
            Writer::Nacos(source, key) => source.publish(key, document).await.unwrap(),
        }
    }
}

/// What the load saw.
#[derive(Default)]
struct Tally {
    ok: AtomicU64,
    limited: AtomicU64,
    /// The first refusal after `armed` was set.
    first_limited: Mutex<Option<Instant>>,
    armed: AtomicBool,
    /// Any other failure: a lost call.
    lost: Mutex<Vec<String>>,
}

async fn rules_follow(name: &str, target: ConfigTarget, mut writer: Writer) {
    let server = Server::builder()
        .bind("127.0.0.1:0")
        .in_process(false)
        .service(QuotesServer::new(Desk))
        .start()
        .await
        .unwrap();
    writer.put(OPEN).await;
    let guard = Guard::new();
    // What an operator's alerting sees: each rule set applied or rejected, on the guard's bus.
    let told = Arc::new(Mutex::new(Vec::new()));
    let seen = told.clone();
    guard.events().subscribe(move |e: &ConfigStatusChanged| {
        seen.lock()
            .unwrap()
            .push((e.status.applied, e.status.rejected));
    });
    let live = guard.follow(target, LiveOptions::new()).await;
    assert_eq!(live.status().applied, 1, "{name}: {:?}", live.last_error());
    let client = QuotesClient::new(
        Client::new(
            ConsumerConfig::new()
                .direct_url(server.local_addr().to_string())
                .guard(guard.clone())
                .timeout(Duration::from_secs(5)),
        )
        .unwrap(),
    );

    let tally = Arc::new(Tally::default());
    let stop = Arc::new(AtomicBool::new(false));
    let workers: Vec<_> = (0..4)
        .map(|_| {
            let (client, tally, stop) = (client.clone(), tally.clone(), stop.clone());
            tokio::spawn(async move {
                // Bounded: until told, or 200,000 calls per worker.
                for _ in 0..200_000 {
                    if stop.load(Ordering::Relaxed) {
                        break;
                    }
                    match client.quote("SOFA".into()).await {
                        Ok(_) => {
                            tally.ok.fetch_add(1, Ordering::Relaxed);
                        }
                        Err(e) if e.kind() == ErrorKind::ClientRateLimited => {
                            tally.limited.fetch_add(1, Ordering::Relaxed);
                            if tally.armed.load(Ordering::Acquire) {
                                tally
                                    .first_limited
                                    .lock()
                                    .unwrap()
                                    .get_or_insert_with(Instant::now);
                            }
                            // A refused caller backs off a little, as a real one would.
                            tokio::time::sleep(Duration::from_millis(1)).await;
                        }
                        Err(e) => tally.lost.lock().unwrap().push(e.to_string()),
                    }
                }
            })
        })
        .collect();

    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(
        tally.limited.load(Ordering::Relaxed),
        0,
        "{name}: no rules yet"
    );
    assert!(
        tally.ok.load(Ordering::Relaxed) > 0,
        "{name}: the load runs"
    );

    // The limit arrives through the source while calls run.
    tally.armed.store(true, Ordering::Release);
    let written = Instant::now();
    writer.put(TIGHT).await;
    let deadline = written + Duration::from_secs(10);
    let first = loop {
        if let Some(at) = *tally.first_limited.lock().unwrap() {
            break at;
        }
        assert!(
            Instant::now() < deadline,
            "{name}: the limit never took effect"
        );
        tokio::time::sleep(Duration::from_millis(2)).await;
    };
    let latency = first - written;
    println!("{name}: a rate limit written to the source refused its first call after {latency:?}");
    assert!(latency < Duration::from_secs(1), "{name}: {latency:?}");

    // A malformed set is refused whole; the limit stays.
    let rejected = live.status().rejected;
    writer.put(MALFORMED).await;
    let status = live
        .wait(|s| s.rejected > rejected, Duration::from_secs(10))
        .await
        .unwrap_or_else(|| panic!("{name}: the malformed rules were not refused"));
    let error = status.last_error.unwrap();
    assert!(
        error.contains("quotes-0") && error.contains("burst"),
        "{name}: {error}"
    );
    assert_eq!(guard.rules().rate_limit[0].id, "quotes-5", "{name}");

    // Lifted: every call goes through again.
    let applied = live.status().applied;
    writer.put(OPEN).await;
    live.wait(|s| s.applied > applied, Duration::from_secs(10))
        .await
        .unwrap_or_else(|| panic!("{name}: the lifted rules were not applied"));
    let limited_then = tally.limited.load(Ordering::Relaxed);
    let ok_then = tally.ok.load(Ordering::Relaxed);
    tokio::time::sleep(Duration::from_millis(300)).await;
    stop.store(true, Ordering::Relaxed);
    for w in workers {
        w.await.unwrap();
    }
    // Calls already past the limiter's check when the rules changed may still be counted.
    assert!(
        tally.limited.load(Ordering::Relaxed) - limited_then <= 4,
        "{name}: the limit was lifted"
    );
    assert!(tally.ok.load(Ordering::Relaxed) > ok_then, "{name}");
    // Published from a task: the last change may arrive a moment after `wait` saw it.
    let last = live.status();
    let final_counts = (last.applied, last.rejected);
    let deadline = Instant::now() + Duration::from_secs(5);
    while told.lock().unwrap().last() != Some(&final_counts) && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let told = told.lock().unwrap().clone();
    assert_eq!(
        told.first(),
        Some(&(2, 0)),
        "{name}: the limit applied: {told:?}"
    );
    // A rejection and the next apply close together may arrive as one event (the counts are
    // totals): the rejection must show, in order, and the last event must be the final state.
    let in_order = told
        .windows(2)
        .all(|w| w[0].0 <= w[1].0 && w[0].1 <= w[1].1);
    assert!(
        in_order
            && told.iter().any(|&(_, rejected)| rejected == 1)
            && told.last() == Some(&final_counts)
            && final_counts.0 >= 3,
        "{name}: the malformed set rejected, then the lift applied: {told:?}"
    );
    let lost = std::mem::take(&mut *tally.lost.lock().unwrap());
    assert!(
        lost.is_empty(),
        "{name}: {} calls failed: {:?}",
        lost.len(),
        lost.first()
    );
    println!(
        "{name}: {} calls answered, {} refused by the limit, none lost",
        tally.ok.load(Ordering::Relaxed),
        tally.limited.load(Ordering::Relaxed)
    );
    server.shutdown().await;
}

async fn registry(script: &'static str) -> PeerServer {
    tokio::task::spawn_blocking(move || PeerServer::start_registry(script).unwrap())
        .await
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn guard_rules_from_a_file() {
    let dir = std::env::temp_dir().join(format!("sofa-guard-live-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("guard.json");
    let writer = Writer::File(path.clone());
    let target = open(&format!("file://{}?pollPeriod=50", path.display()))
        .await
        .unwrap();
    rules_follow("file", target, writer).await;
    std::fs::remove_dir_all(&dir).unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn guard_rules_from_etcd() {
    let etcd = registry("start-etcd.sh").await;
    let key = "/sofa-config/guard/quotes.json".to_string();
    let client = etcd_client::Client::connect([format!("http://{}", etcd.addr())], None)
        .await
        .unwrap();
    let target = open(&format!("etcd://{}{key}", etcd.addr())).await.unwrap();
    rules_follow("etcd", target, Writer::Etcd(Box::new(client), key)).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn guard_rules_from_zookeeper() {
    let zk_server = registry("start-zk.sh").await;
    let node = "/sofa-config/guard/quotes".to_string();
    let client = zk::Client::connect(&zk_server.addr()).await.unwrap();
    let target = open(&format!("zookeeper://{}{node}", zk_server.addr()))
        .await
        .unwrap();
    rules_follow("zookeeper", target, Writer::Zookeeper(client, node)).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn guard_rules_from_nacos() {
    let nacos = registry("start-nacos.sh").await;
    let target = open(&format!(
        "nacos://{}?dataId=quotes-guard&group=SOFA_RULES",
        nacos.addr()
    ))
    .await
    .unwrap();
    let source = NacosSource::new(&[nacos.addr()], "");
    let key = target.key.clone();
    rules_follow("nacos", target, Writer::Nacos(source, key)).await;
}
