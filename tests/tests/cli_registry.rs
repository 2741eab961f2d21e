//! `sofa list` (and a call through the registry) against real ZooKeeper and etcd servers
//! started by `tests/registry/start-*.sh`, with our provider and a sofa-rpc-node provider
//! published there.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::time::{Duration, Instant};

use sofa_rpc_core::{ProviderConfig, Server};
use sofa_rpc_tests::interop::*;
use sofa_rpc_tests::{run_sofa, PeerServer, SofaRun};

async fn registry(script: &'static str) -> PeerServer {
    tokio::task::spawn_blocking(move || PeerServer::start_registry(script).unwrap())
        .await
        .unwrap()
}

async fn sofa(args: Vec<String>) -> SofaRun {
    tokio::task::spawn_blocking(move || {
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        run_sofa(&args).unwrap()
    })
    .await
    .unwrap()
}

async fn provider(url: &str) -> Server {
    Server::builder()
        .bind("127.0.0.1:0")
        // Over the network, even from this process.
        .in_process(false)
        .publish_host("127.0.0.1")
        .registry(url)
        .app_name("cli-list")
        .provider(
            ProviderConfig::new(EchoServiceServer::new(Echo))
                .weight(50)
                .warmup(Duration::from_secs(60), 5),
        )
        .start()
        .await
        .unwrap()
}

/// `sofa list --json` until `ready` holds for the document (registries publish
/// asynchronously), at most 20 s.
async fn list_until(url: &str, ready: impl Fn(&serde_json::Value) -> bool) -> serde_json::Value {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let run = sofa(vec!["list".into(), url.into(), "--json".into()]).await;
        assert_eq!(run.code, 0, "{}", run.stderr);
        let doc = run.json().unwrap();
        if ready(&doc) {
            return doc;
        }
        assert!(Instant::now() < deadline, "never listed: {doc}");
        tokio::time::sleep(Duration::from_millis(300)).await;
    }
}

fn providers<'a>(doc: &'a serde_json::Value, interface: &str) -> Vec<&'a serde_json::Value> {
    doc["services"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|s| s["interface"] == interface)
        .flat_map(|s| s["providers"].as_array().unwrap())
        .collect()
}

async fn lists_our_provider(url: &str) {
    let server = provider(url).await;
    let addr = server.local_addr().to_string();
    let doc = list_until(url, |doc| {
        providers(doc, "com.example.EchoService")
            .iter()
            .any(|p| p["address"] == addr.as_str())
    })
    .await;
    let ours = providers(&doc, "com.example.EchoService")
        .into_iter()
        .find(|p| p["address"] == addr.as_str())
        .unwrap()
        .clone();
    assert_eq!(ours["weight"], 50);
    assert_eq!(ours["warmupWeight"], "5");
    assert_eq!(ours["warmupTime"], "60000");
    assert_eq!(ours["serialization"], "hessian2");
    assert_eq!(ours["version"], "1.0");

    // The text form and one interface only.
    let run = sofa(vec![
        "list".into(),
        url.into(),
        "com.example.EchoService".into(),
    ])
    .await;
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(
        run.stdout.starts_with("com.example.EchoService\n"),
        "{}",
        run.stdout
    );
    assert!(run.stdout.contains(&addr), "{}", run.stdout);
    assert!(
        run.stdout.contains("weight 5 for 60000 ms"),
        "{}",
        run.stdout
    );

    // Describe and call through the registry.
    let run = sofa(vec![
        "describe".into(),
        url.into(),
        "com.example.EchoService".into(),
    ])
    .await;
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(run.stdout.contains("int add(int, int)"), "{}", run.stdout);
    let run = sofa(vec![
        "call".into(),
        url.into(),
        "com.example.EchoService".into(),
        "add".into(),
        "[40, 2]".into(),
    ])
    .await;
    assert_eq!((run.code, run.stdout.trim()), (0, "42"), "{}", run.stderr);
    server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn list_zookeeper() {
    let zk = registry("start-zk.sh").await;
    let url = format!("zookeeper://{}", zk.addr());
    lists_our_provider(&url).await;

    // A sofa-rpc-node provider publishing in the same ZooKeeper.
    let zk_addr = zk.addr();
    let node = tokio::task::spawn_blocking(move || {
        PeerServer::start("node-server.sh", &[("ZK_ADDRESS", zk_addr.as_str())]).unwrap()
    })
    .await
    .unwrap();
    let node_addr = node.addr();
    let doc = list_until(&url, |doc| {
        providers(doc, "com.example.EchoService")
            .iter()
            .any(|p| p["address"] == node_addr.as_str())
    })
    .await;
    assert!(
        providers(&doc, "com.example.ProtoEchoService")
            .iter()
            .any(|p| p["address"] == node_addr.as_str()),
        "{doc}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn list_etcd() {
    let etcd = registry("start-etcd.sh").await;
    lists_our_provider(&format!("etcd://{}", etcd.addr())).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unreachable_registry_is_a_usage_error() {
    let dead = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap();
    let run = sofa(vec!["list".into(), format!("etcd://{dead}")]).await;
    assert_eq!(run.code, 2, "{}", run.stdout);
    assert_eq!(run.stderr.lines().count(), 1, "{}", run.stderr);
    assert!(
        run.stderr.contains("cannot read registry"),
        "{}",
        run.stderr
    );
}

/// `sofa rules` reads a guard rule set from the etcd key consumers follow, and names the field
/// of a broken one.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rules_checked_in_etcd() {
    let etcd = registry("start-etcd.sh").await;
    let mut client = etcd_client::Client::connect([format!("http://{}", etcd.addr())], None)
        .await
        .unwrap();
    let key = "/sofa/guard/orders.toml";
    let url = format!("etcd://{}{key}", etcd.addr());
    let rules = "[[rate_limit]]\nid = \"orders-50\"\nservice = \"com.example.Orders\"\n\
                 token_bucket = { rate = 50.0, burst = 5 }\n";
    client.put(key, rules, None).await.unwrap();
    let run = sofa(vec!["--json".into(), "rules".into(), url.clone()]).await;
    assert_eq!(run.code, 0, "{}", run.stderr);
    let doc = run.json().unwrap();
    assert_eq!(doc["rules"]["rate_limit"][0], "orders-50", "{doc}");

    client
        .put(key, rules.replace("burst = 5", "burst = 0"), None)
        .await
        .unwrap();
    let run = sofa(vec!["rules".into(), url.clone()]).await;
    assert_eq!(run.code, 1, "{}", run.stdout);
    assert!(run.stderr.contains("token_bucket.burst"), "{}", run.stderr);

    let run = sofa(vec![
        "rules".into(),
        format!("etcd://{}/sofa/none", etcd.addr()),
    ])
    .await;
    assert_eq!(run.code, 1, "{}", run.stdout);
    assert!(run.stderr.contains("the key is absent"), "{}", run.stderr);
}
