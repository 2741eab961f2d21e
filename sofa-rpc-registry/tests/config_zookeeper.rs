//! The `zookeeper` config source and [`LiveRules`] on a real ZooKeeper
//! (started by tests/registry/start-zk.sh).
#![cfg(feature = "zookeeper")]
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs)]

mod common;

use common::live::{disk_copy_used, scenario, Writer};
use common::Server;
use sofa_rpc_registry::config::open;
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
