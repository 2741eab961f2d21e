//! SOFABolt heartbeats between this crate and sofa-rpc-node, both directions, over real sockets.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::time::Duration;

use sofa_bolt::{Connection, ConnectionConfig, Protocol, Server};
use sofa_rpc_tests::{run_client, PeerServer};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn node_client_gets_heartbeat_acks_from_our_server() {
    let server = Server::builder().bind("127.0.0.1:0").start().await.unwrap();
    let addr = server.local_addr().to_string();
    let run = tokio::task::spawn_blocking(move || {
        run_client("node-client.sh", &addr, &["heartbeat"], &[]).unwrap()
    })
    .await
    .unwrap();
    run.assert_passed(&["heartbeat"]);
    server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn our_client_gets_heartbeat_acks_from_a_node_server() {
    let node = tokio::task::spawn_blocking(|| PeerServer::start("node-server.sh", &[]).unwrap())
        .await
        .unwrap();
    for protocol in [Protocol::V1, Protocol::V2_CRC] {
        let config = ConnectionConfig {
            protocol,
            ..ConnectionConfig::default()
        };
        let conn = Connection::connect(node.addr(), config).await.unwrap();
        for _ in 0..3 {
            let ack = conn.heartbeat(Duration::from_secs(3)).await.unwrap();
            assert!(ack.is_heartbeat() && ack.is_response(), "{ack:?}");
            assert_eq!(ack.protocol(), protocol);
        }
        conn.close();
    }

    // Idle heartbeats: every 50 ms of silence, and the connection closes after 3 acks go
    // missing for 100 ms each (about half a second) -- unless the node server answers them.
    let config = ConnectionConfig {
        heartbeat_interval: Duration::from_millis(50),
        heartbeat_timeout: Duration::from_millis(100),
        max_missed_heartbeats: 3,
        ..ConnectionConfig::default()
    };
    let conn = Connection::connect(node.addr(), config).await.unwrap();
    tokio::time::sleep(Duration::from_millis(1500)).await;
    assert!(
        !conn.is_closed(),
        "the node server acknowledged every idle heartbeat"
    );
    conn.close();
}
