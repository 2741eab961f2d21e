//! The `nacos` config source and [`LiveRules`] on a real r-nacos
//! (started by tests/registry/start-nacos.sh), written through its publish API.
#![cfg(feature = "nacos")]
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs)]

mod common;

use common::live::{disk_copy_used, scenario, Writer};
use common::Server;
use sofa_rpc_registry::config::{open, NacosSource};

struct NacosWriter(NacosSource, String);

impl Writer for NacosWriter {
    async fn put(&self, raw: &str) {
        self.0.publish(&self.1, raw).await.unwrap();
    }

    async fn delete(&self) {
        self.0.remove(&self.1).await.unwrap();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn nacos_source_end_to_end() {
    let mut server = Server::start("nacos");
    let url = format!(
        "nacos://127.0.0.1:{}?dataId=guard-limit&group=SOFA_RULES",
        server.port
    );
    let target = open(&url).await.unwrap();
    assert_eq!(target.key, "SOFA_RULES/guard-limit");
    let writer = NacosSource::new(&[format!("127.0.0.1:{}", server.port)], "");
    let cache = scenario(
        "nacos",
        target.clone(),
        &NacosWriter(writer, target.key.clone()),
    )
    .await;
    server.stop();
    disk_copy_used(target, &cache, true).await;
    std::fs::remove_dir_all(&cache).unwrap();
}

/// A namespace other than the public one keeps its own keys.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn namespaces_are_apart() {
    let server = Server::start("nacos");
    let host = format!("127.0.0.1:{}", server.port);
    let public = NacosSource::new(std::slice::from_ref(&host), "");
    let team = NacosSource::new(std::slice::from_ref(&host), "team-a");
    public.publish("G/k", "1").await.unwrap();
    team.publish("G/k", "2").await.unwrap();
    let target = open(&format!("nacos://{host}/team-a?dataId=k&group=G"))
        .await
        .unwrap();
    let (rules, value) = sofa_rpc_registry::config::LiveRules::value(
        target,
        Default::default(),
        common::live::parse_limit,
    )
    .await;
    assert_eq!(value.get().map(|v| *v), Some(2), "{:?}", rules.status());
}
