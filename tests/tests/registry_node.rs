//! Discovery across languages through a real ZooKeeper: a sofa-rpc-node consumer finds our
//! provider and calls it, and our consumer finds a sofa-rpc-node provider and calls it.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::time::Duration;

use sofa_rpc_core::{Client, ConsumerConfig, Server};
use sofa_rpc_tests::interop::*;
use sofa_rpc_tests::{run_client, PeerServer};

async fn zookeeper() -> PeerServer {
    tokio::task::spawn_blocking(|| PeerServer::start_registry("start-zk.sh").unwrap())
        .await
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn node_consumer_discovers_our_provider_through_zookeeper() {
    let zk = zookeeper().await;
    let server = Server::builder()
        .bind("127.0.0.1:0")
        // Over the network, even from this process.
        .in_process(false)
        .registry(format!("zookeeper://{}", zk.addr()))
        .app_name("rust-provider")
        .service(EchoServiceServer::new(Echo))
        .start()
        .await
        .unwrap();
    let zk_addr = zk.addr();
    let scenarios = ["echo", "add", "echoUser", "fail"];
    let run = tokio::task::spawn_blocking(move || {
        // The address arguments are unused: the node client looks the provider up in ZooKeeper.
        run_client(
            "node-client.sh",
            "127.0.0.1:1",
            &scenarios,
            &[("ZK_ADDRESS", zk_addr.as_str())],
        )
        .unwrap()
    })
    .await
    .unwrap();
    run.assert_passed(&scenarios);
    server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn our_consumer_discovers_a_node_provider_through_zookeeper() {
    let zk = zookeeper().await;
    let zk_addr = zk.addr();
    let _node = tokio::task::spawn_blocking(move || {
        PeerServer::start("node-server.sh", &[("ZK_ADDRESS", zk_addr.as_str())]).unwrap()
    })
    .await
    .unwrap();
    let client = Client::new(
        ConsumerConfig::new()
            .registry(format!("zookeeper://{}", zk.addr()))
            .registry_cache(None)
            .timeout(Duration::from_secs(5)),
    )
    .unwrap();
    // The node provider advertises serialization=hessian2, which this consumer then speaks.
    let echo = EchoServiceClient::new(client);
    assert_eq!(echo.echo("found".into()).await.unwrap(), "found");
    assert_eq!(echo.add(20, 22).await.unwrap(), 42);
    let user = User {
        name: "ann".into(),
        age: 42,
    };
    assert_eq!(echo.echo_user(user.clone()).await.unwrap(), user);
}
