//! The `zookeeper` config source and [`LiveRules`] on a real ZooKeeper
//! (started by tests/registry/start-zk.sh).
#![cfg(feature = "zookeeper")]
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs)]

mod common;

use std::time::{Duration, Instant};

use common::live::{disk_copy_used, scenario, Writer};
use common::Server;
use sofa_rpc_registry::config::{open, LiveOptions, LiveRules};
use zookeeper_client as zk;

const NODE: &str = "/sofa-config/guard/limit";

struct ZkWriter(zk::Client);

impl Writer for ZkWriter {
    async fn put(&self, raw: &str) {
        match self.0.set_data(NODE, raw.as_bytes(), None).await {
            Ok(_) => {}
            Err(zk::Error::NoNode) => {
                let options = zk::CreateMode::Persistent.with_acls(zk::Acls::anyone_all());
                self.0.mkdir("/sofa-config/guard", &options).await.unwrap();
                self.0.create(NODE, raw.as_bytes(), &options).await.unwrap();
            }
            Err(e) => panic!("set {NODE}: {e}"),
        }
    }

    async fn delete(&self) {
        self.0.delete(NODE, None).await.unwrap();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn zookeeper_source_end_to_end() {
    let mut server = Server::start("zk");
    let url = format!(
        "zookeeper://127.0.0.1:{}{NODE}?sessionTimeout=4000",
        server.port
    );
    let target = open(&url).await.unwrap();
    assert_eq!(target.key, NODE);
    let client = zk::Client::connect(&format!("127.0.0.1:{}", server.port))
        .await
        .unwrap();
    let cache = scenario("zookeeper", target.clone(), &ZkWriter(client)).await;
    // The server goes away: a new start finds the last good value on disk.
    server.stop();
    disk_copy_used(target, &cache, true).await;
    std::fs::remove_dir_all(&cache).unwrap();
}

/// The server goes away and comes back (same data): the watch reports the outage, keeps the
/// value, and follows the node again afterwards, through a new session if the old expired.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn watch_survives_a_server_restart() {
    let data = common::live::cache_dir("zk-data");
    let mut server = Server::start_kept("zk", None, &data);
    let port = server.port;
    let connect = |port: u16| async move {
        zk::Client::connect(&format!("127.0.0.1:{port}"))
            .await
            .unwrap()
    };
    ZkWriter(connect(port).await).put("1").await;
    let url = format!("zookeeper://127.0.0.1:{port}{NODE}?sessionTimeout=4000");
    let (rules, limit) = LiveRules::value(
        open(&url).await.unwrap(),
        LiveOptions::new(),
        common::live::parse_limit,
    )
    .await;
    assert_eq!(limit.get().map(|v| *v), Some(1));
    server.stop();
    let down = rules
        .wait(|s| s.source_up == Some(false), Duration::from_secs(30))
        .await;
    assert!(down.is_some(), "outage not reported: {:?}", rules.status());
    assert_eq!(limit.get().map(|v| *v), Some(1), "the value stays");

    let _server = Server::start_kept("zk", Some(port), &data);
    let started = Instant::now();
    ZkWriter(connect(port).await).put("2").await;
    let back = rules
        .wait(
            |_| limit.get().map(|v| *v) == Some(2),
            Duration::from_secs(60),
        )
        .await;
    assert!(
        back.is_some(),
        "no value after the restart: {:?}",
        rules.status()
    );
    println!(
        "zookeeper: value after the restart in {:?}",
        started.elapsed()
    );
    assert_eq!(rules.status().source_up, Some(true));
    drop(rules);
    let _ = std::fs::remove_dir_all(&data);
}
