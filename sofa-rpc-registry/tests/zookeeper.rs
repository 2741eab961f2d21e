//! The `zookeeper` backend against a real ZooKeeper (started by tests/registry/start-zk.sh).
#![cfg(feature = "zookeeper")]
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs)]

mod common;

use std::collections::BTreeSet;
use std::time::{Duration, Instant};

use common::{measure, ChildProvider, Quirks, Server, Watcher};
use sofa_rpc_registry::{
    decode_component, encode_component, open, ProviderInfo, Registration, Registry, Subscription,
    ZookeeperRegistry,
};
use zookeeper_client as zk;

/// Entry point of the provider child process (does nothing in a normal run).
#[test]
fn child_provider_process() {
    common::child_provider_main();
}

fn url(server: &Server) -> String {
    format!("zookeeper://127.0.0.1:{}?sessionTimeout=4000", server.port)
}

async fn raw(server: &Server) -> zk::Client {
    zk::Client::connect(&format!("127.0.0.1:{}", server.port))
        .await
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn register_discover_update_unregister() {
    let server = Server::start("zk");
    let quirks = Quirks {
        keeps_param_order: true,
        patience: Duration::from_secs(10),
    };
    common::register_discover_update_unregister(&url(&server), "com.example.ZkEcho", quirks).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn layout_is_what_java_and_node_read() {
    const IFACE: &str = "com.example.ZkLayout";
    let server = Server::start("zk");
    let registry = open(&url(&server)).await.unwrap();
    let reg = Registration::sofa(IFACE, "127.0.0.1", 12200)
        .with_app_name("layout-app")
        .with_timeout(Duration::from_millis(2500))
        .with_warmup(Duration::from_secs(10), 5);
    registry.register(&reg).await.unwrap();
    let sub = Subscription::new(IFACE).with_app_name("layout-consumer");
    let _stream = registry.subscribe(&sub).await.unwrap();

    let zk = raw(&server).await;
    let dir = format!("/sofa-rpc/{IFACE}/providers");
    let children = zk.list_children(&dir).await.unwrap();
    assert_eq!(children.len(), 1, "{children:?}");
    let name = &children[0];
    // Java form encoding: one path segment, exactly the encoded URL.
    assert_eq!(name, &encode_component(&reg.provider().to_string()));
    assert!(name.starts_with("bolt%3A%2F%2F127.0.0.1%3A12200%3Fversion%3D1.0%26uniqueId%3D%26"));
    let (data, stat) = zk.get_data(&format!("{dir}/{name}")).await.unwrap();
    assert_eq!(data, [1u8], "Java writes 0x01 for an online provider");
    assert_ne!(stat.ephemeral_owner, 0, "provider nodes are ephemeral");
    for parent in ["/sofa-rpc", &format!("/sofa-rpc/{IFACE}"), &dir] {
        let (_, stat) = zk.get_data(parent).await.unwrap();
        assert_eq!(stat.ephemeral_owner, 0, "{parent} is persistent");
    }

    // What Java's URLDecoder + ProviderHelper and Node's URL parser read.
    let decoded = decode_component(name);
    let p: ProviderInfo = decoded.parse().unwrap();
    assert_eq!(p.protocol(), "bolt");
    assert_eq!(p.address(), "127.0.0.1:12200");
    let keys: BTreeSet<&str> = p.params().map(|(k, _)| k).collect();
    let expected: BTreeSet<&str> = [
        "version",
        "uniqueId",
        "interface",
        "protocol",
        "serialization",
        "weight",
        "timeout",
        "accepts",
        "dynamic",
        "startTime",
        "id",
        "pid",
        "language",
        "rpcVer",
        "appName",
        "warmupTime",
        "warmupWeight",
    ]
    .into_iter()
    .collect();
    assert_eq!(keys, expected);
    let pid = std::process::id().to_string();
    for (k, v) in [
        ("version", "1.0"),
        ("uniqueId", ""),
        ("interface", IFACE),
        ("protocol", "bolt"),
        ("serialization", "hessian2"),
        ("weight", "100"),
        ("timeout", "2500"),
        ("accepts", "100000"),
        ("dynamic", "true"),
        ("pid", pid.as_str()),
        ("language", "rust"),
        ("rpcVer", "51403"),
        ("appName", "layout-app"),
        ("warmupTime", "10000"),
        ("warmupWeight", "5"),
    ] {
        assert_eq!(p.param(k), Some(v), "parameter {k}");
    }
    assert!(p.param("id").unwrap().starts_with("rpc-cfg-"));
    let start: u64 = p.param("startTime").unwrap().parse().unwrap();
    assert!(start > 1_600_000_000_000);
    assert!(
        Subscription::new(IFACE).matches(&p),
        "a Java consumer accepts it"
    );
    assert_eq!(p.effective_weight(), 5, "warming up");

    // The consumer entry, as Java writes it.
    let consumers = zk
        .list_children(&format!("/sofa-rpc/{IFACE}/consumers"))
        .await
        .unwrap();
    assert_eq!(consumers.len(), 1);
    let consumer_url = decode_component(&consumers[0]);
    assert!(consumer_url.starts_with("bolt://127.0.0.1?version=1.0&uniqueId=&pid="));
    assert!(consumer_url.contains(&format!("&interface={IFACE}&appName=layout-consumer&")));
    let (_, stat) = zk
        .get_data(&format!("/sofa-rpc/{IFACE}/consumers/{}", consumers[0]))
        .await
        .unwrap();
    assert_ne!(stat.ephemeral_owner, 0);

    // unsubscribe removes the consumer entry.
    registry.unsubscribe(&sub).await.unwrap();
    let consumers = zk
        .list_children(&format!("/sofa-rpc/{IFACE}/consumers"))
        .await
        .unwrap();
    assert!(consumers.is_empty());

    // A root path prefixes /sofa-rpc, as Java does.
    let rooted = ZookeeperRegistry::connect(
        &format!("zookeeper://127.0.0.1:{}/myroot", server.port)
            .parse()
            .unwrap(),
    )
    .await
    .unwrap();
    assert_eq!(rooted.base_path(), "/myroot/sofa-rpc");
    rooted.register(&reg).await.unwrap();
    let children = zk
        .list_children(&format!("/myroot/sofa-rpc/{IFACE}/providers"))
        .await
        .unwrap();
    assert_eq!(children.len(), 1);
    rooted.close().await.unwrap();
    registry.close().await.unwrap();
    assert!(zk.list_children(&dir).await.unwrap().is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reads_znodes_written_by_sofa_rpc_node() {
    let server = Server::start("zk");
    let zk = raw(&server).await;
    let fixture = include_str!("fixtures/sofa-rpc-node-znodes.txt");
    let persistent = zk::CreateMode::Persistent.with_acls(zk::Acls::anyone_all());
    let ephemeral = zk::CreateMode::Ephemeral.with_acls(zk::Acls::anyone_all());
    for path in fixture.lines().filter(|l| l.starts_with('/')) {
        let (parent, _) = path.rsplit_once('/').unwrap();
        zk.mkdir(parent, &persistent).await.unwrap();
        // sofa-rpc-node writes empty data.
        zk.create(path, &[], &ephemeral).await.unwrap();
    }
    let registry = open(&url(&server)).await.unwrap();
    for iface in ["com.example.EchoService", "com.example.ProtoEchoService"] {
        let w = Watcher::new(registry.subscribe(&Subscription::new(iface)).await.unwrap()).await;
        assert_eq!(w.list.len(), 1, "{iface}: {:?}", w.log);
        let p = &w.list[0];
        assert_eq!(p.address(), "127.0.0.1:34195");
        assert_eq!(p.param("language"), Some("nodejs"));
        assert_eq!(p.param("protocol"), Some(""));
        assert_eq!(p.unique_id(), Some(""));
        assert_eq!(p.interface(), Some(iface));
        assert_eq!(p.serialization(), Some("hessian2"));
        assert_eq!(p.rpc_version(), Some(50400));
        let blue = Watcher::new(
            registry
                .subscribe(&Subscription::new(iface).with_unique_id("blue"))
                .await
                .unwrap(),
        )
        .await;
        assert!(
            blue.list.is_empty(),
            "a uniqueId never matches Node providers"
        );
    }
    registry.close().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn provider_death_removes_it() {
    const IFACE: &str = "com.example.ZkDeath";
    let server = Server::start("zk");
    let url = url(&server);
    let consumer = open(&url).await.unwrap();
    let mut w = Watcher::new(consumer.subscribe(&Subscription::new(IFACE)).await.unwrap()).await;

    // A crash: the session is left to expire (sessionTimeout=4000).
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
    measure(
        "zookeeper",
        "disappear (kill -9, session timeout 4 s)",
        took,
    );
    assert!(
        took >= Duration::from_secs(2),
        "removed before the session could expire"
    );

    // A provider whose registry is dropped: the session is closed, nodes go at once.
    let provider = open(&url).await.unwrap();
    provider
        .register(&Registration::sofa(IFACE, "127.0.0.1", 12401))
        .await
        .unwrap();
    w.wait_until("provider appears", Duration::from_secs(10), |l| {
        l.len() == 1
    })
    .await;
    let t0b = Instant::now();
    drop(provider);
    w.wait_until(
        "dropped provider disappears",
        Duration::from_secs(10),
        |l| l.is_empty(),
    )
    .await;
    measure(
        "zookeeper",
        "disappear (registry dropped, session closed)",
        t0b.elapsed(),
    );
    let _ = t0;
    consumer.close().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn outage_then_restart_reregisters_and_resumes() {
    const IFACE: &str = "com.example.ZkRestart";
    let mut server = Server::start("zk");
    let port = server.port;
    let url = url(&server);
    let provider = open(&url).await.unwrap();
    let consumer = open(&url).await.unwrap();
    let reg = Registration::sofa(IFACE, "127.0.0.1", 12500);
    provider.register(&reg).await.unwrap();
    let mut w = Watcher::new(consumer.subscribe(&Subscription::new(IFACE)).await.unwrap()).await;
    w.wait_until("appear", Duration::from_secs(10), |l| l.len() == 1)
        .await;

    // Down: the consumer hears about it and keeps its list.
    let t0 = Instant::now();
    server.stop();
    w.wait_error("outage reported", Duration::from_secs(15))
        .await;
    measure(
        "zookeeper",
        "outage reported (stop server -> Err item)",
        t0.elapsed(),
    );
    w.drain_for(Duration::from_secs(2)).await;
    assert_eq!(w.list.len(), 1, "the last list stands: {:#?}", w.log);
    assert!(!w.emptied && !w.ended);

    // Back on the same port without its data: every session is gone (expired); the
    // registry opens new ones, re-registers and re-subscribes.
    let server = Server::start_on("zk", port);
    let t0 = Instant::now();
    w.wait_resync("provider back", Duration::from_secs(30), |l| {
        l.len() == 1 && l[0] == *reg.provider()
    })
    .await;
    measure(
        "zookeeper",
        "recovery after restart (server up -> list)",
        t0.elapsed(),
    );
    let zk = raw(&server).await;
    let children = zk
        .list_children(&format!("/sofa-rpc/{IFACE}/providers"))
        .await
        .unwrap();
    assert_eq!(children.len(), 1);
    let consumers = zk
        .list_children(&format!("/sofa-rpc/{IFACE}/consumers"))
        .await
        .unwrap();
    assert_eq!(consumers.len(), 1, "the consumer entry is back too");

    // Changes after the restart still arrive.
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
    eprintln!("[items] zookeeper outage/restart: {:#?}", w.log);
    consumer.close().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn list_reads_what_is_published() {
    let server = Server::start("zk");
    common::list_reads_what_is_published(&url(&server), "com.example.Zk").await;
}
