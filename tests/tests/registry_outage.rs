//! Calls go on while the registry is down: through a ZooKeeper outage longer than the session
//! timeout, the consumer keeps the providers it knew and the provider keeps serving.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::time::{Duration, Instant};

use sofa_rpc_core::{Client, ConsumerConfig, Server};
use sofa_rpc_tests::interop::*;
use sofa_rpc_tests::PeerServer;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn calls_go_on_while_zookeeper_is_down() {
    let zk = tokio::task::spawn_blocking(|| PeerServer::start_registry("start-zk.sh").unwrap())
        .await
        .unwrap();
    let url = format!("zookeeper://{}?sessionTimeout=4000", zk.addr());
    let server = Server::builder()
        .bind("127.0.0.1:0")
        // Over the network, even from this process.
        .in_process(false)
        .registry(url.clone())
        .service(EchoServiceServer::new(Echo))
        .start()
        .await
        .unwrap();
    let echo = EchoServiceClient::new(
        Client::new(
            ConsumerConfig::new()
                .registry(url)
                .registry_cache(None)
                .timeout(Duration::from_secs(3)),
        )
        .unwrap(),
    );
    assert_eq!(echo.add(1, 2).await.unwrap(), 3);

    // Stop ZooKeeper (the drop waits until the process is gone).
    tokio::task::spawn_blocking(move || drop(zk)).await.unwrap();
    let outage = Instant::now();
    let mut calls = 0;
    while outage.elapsed() < Duration::from_secs(6) {
        let sum = echo.add(calls, 1).await.unwrap_or_else(|e| {
            panic!("call {calls}, {:?} into the outage: {e}", outage.elapsed())
        });
        assert_eq!(sum, calls + 1);
        calls += 1;
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert!(calls > 100, "only {calls} calls in 6 s");
    // Shutting down cannot withdraw from the stopped registry; it gives up after a bound.
    let shutdown = Instant::now();
    server.shutdown().await;
    assert!(
        shutdown.elapsed() < Duration::from_secs(5),
        "{:?}",
        shutdown.elapsed()
    );
}
