//! The `nacos` backend against r-nacos (started by tests/registry/start-nacos.sh).
#![cfg(feature = "nacos")]
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs)]

mod common;

use std::time::{Duration, Instant};

use common::{measure, ChildProvider, Quirks, Server, Watcher};
use nacos_sdk::api::naming::NamingServiceBuilder;
use nacos_sdk::api::props::ClientProps;
use sofa_rpc_registry::nacos::{service_name, CLUSTER};
use sofa_rpc_registry::{open, Registration, Subscription};

/// Entry point of the provider child process (does nothing in a normal run).
#[test]
fn child_provider_process() {
    common::child_provider_main();
}

fn url(server: &Server) -> String {
    assert_eq!(
        server.extra_ports,
        [server.port + 1000],
        "gRPC port = HTTP + 1000"
    );
    format!("nacos://127.0.0.1:{}", server.port)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn register_discover_update_unregister() {
    let server = Server::start("nacos");
    let quirks = Quirks {
        keeps_param_order: false,
        patience: Duration::from_secs(15),
    };
    common::register_discover_update_unregister(&url(&server), "com.example.NacosEcho", quirks)
        .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn service_names_namespace_and_metadata() {
    const IFACE: &str = "com.example.NacosLayout";
    let server = Server::start("nacos");
    let registry = open(&url(&server)).await.unwrap();
    let reg = Registration::sofa(IFACE, "127.0.0.1", 12200).with_app_name("layout");
    let blue = Registration::sofa(IFACE, "127.0.0.1", 12201).with_unique_id("blue");
    registry.register(&reg).await.unwrap();
    registry.register(&blue).await.unwrap();

    // What SOFARPC Java's NacosRegistry looks up: namespace sofa-rpc, its service names,
    // cluster default-cluster, metadata = the URL parameters.
    let props = ClientProps::new()
        .server_addr(format!("127.0.0.1:{}", server.port))
        .namespace("sofa-rpc")
        .env_first(false);
    let naming = NamingServiceBuilder::new(props).build().await.unwrap();
    let instances = naming
        .get_all_instances(
            format!("{IFACE}:DEFAULT"),
            None,
            vec![CLUSTER.to_string()],
            false,
        )
        .await
        .unwrap();
    assert_eq!(instances.len(), 1, "{instances:?}");
    let i = &instances[0];
    assert_eq!((i.ip.as_str(), i.port), ("127.0.0.1", 12200));
    assert_eq!(i.cluster_name.as_deref(), Some(CLUSTER));
    assert!(i.ephemeral);
    assert!((i.weight - 1.0).abs() < f64::EPSILON);
    for (k, v) in reg.provider().params() {
        assert_eq!(
            i.metadata.get(k).map(String::as_str),
            Some(v),
            "metadata {k}"
        );
    }
    assert_eq!(i.metadata.len(), reg.provider().params().count());
    let blue_instances = naming
        .get_all_instances(
            service_name(IFACE, "blue", "bolt"),
            None,
            vec![CLUSTER.to_string()],
            false,
        )
        .await
        .unwrap();
    assert_eq!(blue_instances.len(), 1);
    assert_eq!(blue_instances[0].port, 12201);

    // Another namespace sees nothing.
    let other = open(&format!("nacos://127.0.0.1:{}/other-ns", server.port))
        .await
        .unwrap();
    let w = Watcher::new(other.subscribe(&Subscription::new(IFACE)).await.unwrap()).await;
    assert!(w.list.is_empty(), "{:?}", w.log);
    other.close().await.unwrap();

    registry.close().await.unwrap();
    let left = naming
        .get_all_instances(
            format!("{IFACE}:DEFAULT"),
            None,
            vec![CLUSTER.to_string()],
            false,
        )
        .await
        .unwrap();
    assert!(left.is_empty(), "close deregisters: {left:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn provider_death_removes_it() {
    const IFACE: &str = "com.example.NacosDeath";
    let server = Server::start("nacos");
    let url = url(&server);
    let consumer = open(&url).await.unwrap();
    let mut w = Watcher::new(consumer.subscribe(&Subscription::new(IFACE)).await.unwrap()).await;

    // A crash: the gRPC connection drops and the server removes its ephemeral instances.
    let mut child = ChildProvider::spawn(&url, IFACE, 12400);
    w.wait_until("child appears", Duration::from_secs(15), |l| l.len() == 1)
        .await;
    child.kill();
    let took = w
        .wait_until(
            "crashed provider disappears",
            Duration::from_secs(40),
            |l| l.is_empty(),
        )
        .await;
    measure("nacos", "disappear (kill -9, connection closed)", took);
    consumer.close().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn outage_keeps_the_list_and_restart_reregisters() {
    const IFACE: &str = "com.example.NacosRestart";
    let mut server = Server::start("nacos");
    let port = server.port;
    let url = url(&server);
    let provider = open(&url).await.unwrap();
    let consumer = open(&url).await.unwrap();
    let reg = Registration::sofa(IFACE, "127.0.0.1", 12500);
    provider.register(&reg).await.unwrap();
    let mut w = Watcher::new(consumer.subscribe(&Subscription::new(IFACE)).await.unwrap()).await;
    w.wait_until("appear", Duration::from_secs(15), |l| l.len() == 1)
        .await;

    // Down: the SDK reports nothing; the consumer keeps its last list.
    server.stop();
    w.drain_for(Duration::from_secs(4)).await;
    assert_eq!(w.list.len(), 1, "the last list stands: {:#?}", w.log);
    assert!(!w.emptied && !w.ended);

    // Back on the same ports without data: the SDK reconnects and registers again.
    let _server = Server::start_on("nacos", port);
    let t0 = Instant::now();
    let seen = w.log.len();
    let deadline = Instant::now() + Duration::from_secs(60);
    // The provider must be listed after at least one push from the new server.
    while w.log.len() == seen || w.list.len() != 1 {
        assert!(Instant::now() < deadline, "provider not back: {:#?}", w.log);
        w.next(Duration::from_secs(1)).await;
    }
    measure(
        "nacos",
        "recovery after restart (server up -> list)",
        t0.elapsed(),
    );

    let second = Registration::sofa(IFACE, "127.0.0.1", 12501);
    provider.register(&second).await.unwrap();
    w.wait_until("new provider after restart", Duration::from_secs(15), |l| {
        l.len() == 2
    })
    .await;
    provider.close().await.unwrap();
    w.wait_until("closed provider gone", Duration::from_secs(15), |l| {
        l.is_empty()
    })
    .await;
    eprintln!("[items] nacos outage/restart: {:#?}", w.log);
    consumer.close().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn list_reads_one_named_interface() {
    const IFACE: &str = "com.example.NacosList";
    let server = Server::start("nacos");
    let registry = open(&url(&server)).await.unwrap();
    let reg = Registration::sofa(IFACE, "127.0.0.1", 12210).with_weight(7);
    registry.register(&reg).await.unwrap();
    // Nacos may answer before the instance is visible: retry for a while.
    let deadline = Instant::now() + Duration::from_secs(15);
    let listed = loop {
        let listed = registry.list(Some(IFACE)).await.unwrap();
        if !listed.is_empty() || Instant::now() > deadline {
            break listed;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    let providers = &listed[IFACE];
    assert_eq!(providers.len(), 1, "{listed:?}");
    assert_eq!(providers[0].port(), 12210);
    assert_eq!(providers[0].weight(), 7);
    // Service names carry the uniqueId: there is no listing by interface alone.
    let all = registry.list(None).await.unwrap_err();
    assert_eq!(all.kind(), sofa_rpc_registry::ErrorKind::Unsupported);
    registry.close().await.unwrap();
}
