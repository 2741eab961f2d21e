//! The `etcd` config source and [`LiveRules`] on a real etcd
//! (started by tests/registry/start-etcd.sh).
#![cfg(feature = "etcd")]
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs)]

mod common;

use std::time::Duration;

use common::live::{disk_copy_used, scenario, Writer};
use common::Server;
use etcd_client as etcd;
use futures::StreamExt;
use sofa_rpc_registry::config::{open, ConfigStream, ConfigUpdate};

const KEY: &str = "/sofa-config/guard/limit";

struct EtcdWriter(etcd::Client);

impl Writer for EtcdWriter {
    async fn put(&self, raw: &str) {
        self.0.clone().put(KEY, raw, None).await.unwrap();
    }

    async fn delete(&self) {
        self.0.clone().delete(KEY, None).await.unwrap();
    }
}

async fn raw(server: &Server) -> etcd::Client {
    etcd::Client::connect([format!("http://127.0.0.1:{}", server.port)], None)
        .await
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn etcd_source_end_to_end() {
    let mut server = Server::start("etcd");
    let target = open(&format!("etcd://127.0.0.1:{}{KEY}", server.port))
        .await
        .unwrap();
    assert_eq!(target.key, KEY);
    let cache = scenario("etcd", target.clone(), &EtcdWriter(raw(&server).await)).await;
    server.stop();
    disk_copy_used(target, &cache, true).await;
    std::fs::remove_dir_all(&cache).unwrap();
}

/// A watch broken by a server restart (same data) resumes from its revision: the change made
/// while it was away arrives, and nothing older is replayed.
async fn next(watch: &mut ConfigStream) -> ConfigUpdate {
    tokio::time::timeout(Duration::from_secs(30), watch.next())
        .await
        .expect("an update in time")
        .expect("the watch goes on")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn watch_resumes_after_a_restart() {
    let data = common::live::cache_dir("etcd-data");
    let mut server = Server::start_kept("etcd", None, &data);
    let port = server.port;
    let mut client = raw(&server).await;
    client.put(KEY, "a", None).await.unwrap();
    let target = open(&format!("etcd://127.0.0.1:{port}{KEY}"))
        .await
        .unwrap();
    let mut watch = target.watch().unwrap();
    assert_eq!(next(&mut watch).await.unwrap(), Some(b"a".to_vec()));
    server.stop();
    assert!(
        next(&mut watch).await.is_err(),
        "the outage is reported, nothing before it"
    );
    let server = Server::start_kept("etcd", Some(port), &data);
    let mut client = raw(&server).await;
    client.put(KEY, "b", None).await.unwrap();
    // Errors until the watch is back, then "b" (possibly after the known "a" once more).
    let mut seen = Vec::new();
    loop {
        match next(&mut watch).await {
            Ok(Some(v)) if v == b"b" => break,
            Ok(v) => seen.push(v),
            Err(_) => {}
        }
    }
    assert!(
        seen.iter().all(|v| v.as_deref() == Some(&b"a"[..])),
        "{seen:?}"
    );
    drop(server);
    let _ = std::fs::remove_dir_all(&data);
}
