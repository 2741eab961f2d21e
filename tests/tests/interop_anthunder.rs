//! Interop with anthunder (sofa-bolt-python), both directions: protobuf calls, errors and
//! heartbeats over bolt v1.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::time::Duration;

use sofa_bolt::{Connection, ConnectionConfig};
use sofa_rpc_core::{Client, ConsumerConfig, ErrorKind, Server};
use sofa_rpc_tests::interop::*;
use sofa_rpc_tests::{run_client, PeerServer};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn anthunder_client_calls_our_server() {
    let server = Server::builder()
        .bind("127.0.0.1:0")
        // Over the network, even from this process.
        .in_process(false)
        .service(ProtoEchoServiceServer::new(ProtoEcho))
        .start()
        .await
        .unwrap();
    let addr = server.local_addr().to_string();
    let scenarios = ["proto", "protofail", "heartbeat", "sync"];
    let run = tokio::task::spawn_blocking(move || {
        run_client("py-client.sh", &addr, &scenarios, &[]).unwrap()
    })
    .await
    .unwrap();
    run.assert_passed(&scenarios);
    server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn our_client_calls_anthunder_server() {
    let py = tokio::task::spawn_blocking(|| PeerServer::start("py-server.sh", &[]).unwrap())
        .await
        .unwrap();
    let proto = ProtoEchoServiceClient::new(
        Client::new(
            ConsumerConfig::new()
                .direct_url(py.addr())
                .serialization("protobuf")
                .timeout(Duration::from_secs(3)),
        )
        .unwrap(),
    );
    let reply = proto
        .echo_obj(EchoRequest {
            name: "rust".into(),
            group: Group::B as i32,
        })
        .await
        .unwrap();
    assert_eq!(reply.code, 200);
    assert_eq!(reply.message, "py:hello rust, you are in B");

    // anthunder reports a failing handler with the bare status UNKNOWN (0x0003).
    let err = proto
        .fail_obj(EchoRequest {
            name: "bad".into(),
            group: Group::A as i32,
        })
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::ServerUndeclared, "{err}");
    assert!(err.message().contains("UNKNOWN"), "{err}");

    // Heartbeats are acknowledged.
    let conn = Connection::connect(py.addr(), ConnectionConfig::default())
        .await
        .unwrap();
    let ack = conn.heartbeat(Duration::from_secs(3)).await.unwrap();
    assert!(ack.is_heartbeat() && ack.is_response() && ack.status().is_success());
}
