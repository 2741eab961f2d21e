//! The `etcd` backend against a real etcd (started by tests/registry/start-etcd.sh).
#![cfg(feature = "etcd")]
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs)]

mod common;

use std::time::{Duration, Instant};

use common::{measure, ChildProvider, Quirks, Server, Watcher};
use etcd_client as etcd;
use sofa_rpc_registry::{
    encode_component, open, EtcdRegistry, ProviderInfo, Registration, Registry, Subscription,
};

/// Entry point of the provider child process (does nothing in a normal run).
#[test]
fn child_provider_process() {
    common::child_provider_main();
}

fn url(server: &Server) -> String {
    format!("etcd://127.0.0.1:{}?ttl=3", server.port)
}

async fn raw(server: &Server) -> etcd::Client {
    etcd::Client::connect([format!("http://127.0.0.1:{}", server.port)], None)
        .await
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn register_discover_update_unregister() {
    let server = Server::start("etcd");
    let quirks = Quirks {
        keeps_param_order: true,
        patience: Duration::from_secs(10),
    };
    common::register_discover_update_unregister(&url(&server), "com.example.EtcdEcho", quirks)
        .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn keys_values_and_lease() {
    const IFACE: &str = "com.example.EtcdLayout";
    let server = Server::start("etcd");
    let registry = EtcdRegistry::connect(&url(&server).parse().unwrap())
        .await
        .unwrap();
    let lease = registry.lease_id().unwrap();
    let reg = Registration::sofa(IFACE, "127.0.0.1", 12200).with_app_name("layout");
    registry.register(&reg).await.unwrap();
    let _stream = registry.subscribe(&Subscription::new(IFACE)).await.unwrap();

    let mut etcd = raw(&server).await;
    let prefix = format!("/sofa-rpc/{IFACE}/providers/");
    let got = etcd
        .get(prefix.as_str(), Some(etcd::GetOptions::new().with_prefix()))
        .await
        .unwrap();
    assert_eq!(got.kvs().len(), 1);
    let kv = &got.kvs()[0];
    let url = reg.provider().to_string();
    assert_eq!(
        kv.key_str().unwrap(),
        format!("{prefix}{}", encode_component(&url))
    );
    assert_eq!(kv.value_str().unwrap(), url);
    assert_eq!(kv.lease(), lease, "attached to the registry's lease");
    let p: ProviderInfo = kv.value_str().unwrap().parse().unwrap();
    assert_eq!(p.unique_id(), Some(""));
    assert_eq!(p.param("language"), Some("rust"));

    let consumers = etcd
        .get(
            format!("/sofa-rpc/{IFACE}/consumers/"),
            Some(etcd::GetOptions::new().with_prefix()),
        )
        .await
        .unwrap();
    assert_eq!(consumers.kvs().len(), 1);
    assert!(consumers.kvs()[0]
        .value_str()
        .unwrap()
        .starts_with("bolt://127.0.0.1?version=1.0&uniqueId=&"));

    // A root path prefixes /sofa-rpc.
    let rooted = EtcdRegistry::connect(
        &format!("etcd://127.0.0.1:{}/myroot", server.port)
            .parse()
            .unwrap(),
    )
    .await
    .unwrap();
    assert_eq!(rooted.base_path(), "/myroot/sofa-rpc");
    rooted.close().await.unwrap();

    registry.close().await.unwrap();
    let got = etcd
        .get(
            format!("/sofa-rpc/{IFACE}/"),
            Some(etcd::GetOptions::new().with_prefix()),
        )
        .await
        .unwrap();
    assert!(got.kvs().is_empty(), "close removes every key");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn provider_death_removes_it() {
    const IFACE: &str = "com.example.EtcdDeath";
    let server = Server::start("etcd");
    let url = url(&server);
    let consumer = open(&url).await.unwrap();
    let mut w = Watcher::new(consumer.subscribe(&Subscription::new(IFACE)).await.unwrap()).await;

    // A crash: keep-alives stop and the lease (ttl=3) expires.
    let mut child = ChildProvider::spawn(&url, IFACE, 12400);
    w.wait_until("child appears", Duration::from_secs(10), |l| l.len() == 1)
        .await;
    let t0 = Instant::now();
    child.kill();
    let took = w
        .wait_until(
            "crashed provider disappears",
            Duration::from_secs(20),
            |l| l.is_empty(),
        )
        .await;
    measure("etcd", "disappear (kill -9, lease ttl 3 s)", took);
    assert!(
        took >= Duration::from_secs(1),
        "removed before the lease could expire"
    );
    let _ = t0;

    // Dropping a registry revokes its lease.
    let provider = open(&url).await.unwrap();
    provider
        .register(&Registration::sofa(IFACE, "127.0.0.1", 12401))
        .await
        .unwrap();
    w.wait_until("provider appears", Duration::from_secs(10), |l| {
        l.len() == 1
    })
    .await;
    let t0 = Instant::now();
    drop(provider);
    w.wait_until(
        "dropped provider disappears",
        Duration::from_secs(10),
        |l| l.is_empty(),
    )
    .await;
    measure(
        "etcd",
        "disappear (registry dropped, lease revoked)",
        t0.elapsed(),
    );
    consumer.close().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn outage_then_restart_reregisters_and_resumes() {
    const IFACE: &str = "com.example.EtcdRestart";
    let mut server = Server::start("etcd");
    let port = server.port;
    let url = url(&server);
    let provider = open(&url).await.unwrap();
    let consumer = open(&url).await.unwrap();
    let reg = Registration::sofa(IFACE, "127.0.0.1", 12500);
    provider.register(&reg).await.unwrap();
    let mut w = Watcher::new(consumer.subscribe(&Subscription::new(IFACE)).await.unwrap()).await;
    w.wait_until("appear", Duration::from_secs(10), |l| l.len() == 1)
        .await;

    let t0 = Instant::now();
    server.stop();
    w.wait_error("outage reported", Duration::from_secs(15))
        .await;
    measure(
        "etcd",
        "outage reported (stop server -> Err item)",
        t0.elapsed(),
    );
    w.drain_for(Duration::from_secs(4)).await;
    assert_eq!(w.list.len(), 1, "the last list stands: {:#?}", w.log);
    assert!(!w.emptied && !w.ended);

    // Back on the same port without its data: the lease is unknown, so a new one is granted
    // and the keys are written again; the watch starts over from a fresh read.
    let server = Server::start_on("etcd", port);
    let t0 = Instant::now();
    w.wait_resync("provider back", Duration::from_secs(30), |l| {
        l.len() == 1 && l[0] == *reg.provider()
    })
    .await;
    measure(
        "etcd",
        "recovery after restart (server up -> list)",
        t0.elapsed(),
    );
    let mut etcd = raw(&server).await;
    let got = etcd
        .get(
            format!("/sofa-rpc/{IFACE}/providers/"),
            Some(etcd::GetOptions::new().with_prefix()),
        )
        .await
        .unwrap();
    assert_eq!(got.kvs().len(), 1);

    let second = Registration::sofa(IFACE, "127.0.0.1", 12501);
    provider.register(&second).await.unwrap();
    w.wait_until("new provider after restart", Duration::from_secs(10), |l| {
        l.len() == 2
    })
    .await;
    provider.close().await.unwrap();
    w.wait_until("closed provider gone", Duration::from_secs(10), |l| {
        l.is_empty()
    })
    .await;
    eprintln!("[items] etcd outage/restart: {:#?}", w.log);
    consumer.close().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn list_reads_what_is_published() {
    let server = Server::start("etcd");
    common::list_reads_what_is_published(&url(&server), "com.example.Etcd").await;
}

/// `close` removes every key whatever the lease task is doing: keeping the lease alive,
/// noticing it was lost, or replacing it and writing the keys again.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn close_during_lease_replacement_leaves_no_key() {
    const IFACE: &str = "com.example.EtcdCloseRace";
    let server = Server::start("etcd");
    let mut etcd = raw(&server).await;
    let prefix = format!("/sofa-rpc/{IFACE}/");
    // The lease task hears of a lost lease at its next keep-alive (every second at ttl=3):
    // closing after 0 to 1.4 s lands before, during and after its replacement.
    for step in 0..8u64 {
        let registry = EtcdRegistry::connect(&url(&server).parse().unwrap())
            .await
            .unwrap();
        let port = 12300 + u16::try_from(step).unwrap();
        let reg = Registration::sofa(IFACE, "127.0.0.1", port);
        registry.register(&reg).await.unwrap();
        etcd.lease_revoke(registry.lease_id().unwrap())
            .await
            .unwrap();
        tokio::time::sleep(Duration::from_millis(step * 200)).await;
        registry.close().await.unwrap();
        let got = etcd
            .get(prefix.as_str(), Some(etcd::GetOptions::new().with_prefix()))
            .await
            .unwrap();
        assert!(
            got.kvs().is_empty(),
            "close after {} ms left {:?}",
            step * 200,
            got.kvs()
                .iter()
                .map(|kv| kv.key_str().unwrap())
                .collect::<Vec<_>>()
        );
    }
}
