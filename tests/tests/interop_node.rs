//! Interop with sofa-rpc-node, both directions, both Hessian dialects, protobuf, bolt v2 with
//! CRC: the node client against our server, and our client against the node server.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::collections::HashMap;
use std::time::Duration;

use bytes::Bytes;
use sofa_bolt::Protocol;
use sofa_rpc_core::hessian::Value;
use sofa_rpc_core::{Client, ConsumerConfig, ErrorKind, Server};
use sofa_rpc_tests::interop::*;
use sofa_rpc_tests::{run_client, PeerServer};

const ALL: &[&str] = &[
    "echo",
    "echoNonBmp",
    "echoLong",
    "echoDouble",
    "echoBool",
    "echoBytes",
    "echoList",
    "echoMap",
    "echoUser",
    "add",
    "fail",
    "notfound",
    "nomethod",
    "proto",
    "protofail",
    "heartbeat",
    "v2",
];

async fn our_server() -> Server {
    Server::builder()
        .bind("127.0.0.1:0")
        // Over the network, even from this process.
        .in_process(false)
        .service(EchoServiceServer::new(Echo))
        .service(ProtoEchoServiceServer::new(ProtoEcho))
        .start()
        .await
        .unwrap()
}

async fn node_client_against_our_server(envs: &'static [(&'static str, &'static str)]) {
    let server = our_server().await;
    let addr = server.local_addr().to_string();
    let run = tokio::task::spawn_blocking(move || {
        run_client("node-client.sh", &addr, ALL, envs).unwrap()
    })
    .await
    .unwrap();
    run.assert_passed(ALL);
    // The v2 request was answered in bolt v2, version 2.
    let v2 = &run.get("v2").unwrap().line["result"];
    assert_eq!(v2["responseProtocol"], 2, "{v2}");
    assert_eq!(v2["responseVer1"], 2, "{v2}");
    server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn node_client_calls_our_server_hessian3() {
    node_client_against_our_server(&[]).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn node_client_calls_our_server_hessian4() {
    node_client_against_our_server(&[("HESSIAN_VERSION", "4.0")]).await;
}

fn client(addr: &str, serialization: &str) -> Client {
    Client::new(
        ConsumerConfig::new()
            .direct_url(addr)
            .serialization(serialization)
            .timeout(Duration::from_secs(3)),
    )
    .unwrap()
}

async fn our_client_against_node(
    serialization: &'static str,
    envs: &'static [(&'static str, &'static str)],
) {
    let node =
        tokio::task::spawn_blocking(move || PeerServer::start("node-server.sh", envs).unwrap())
            .await
            .unwrap();
    let echo = EchoServiceClient::new(client(&node.addr(), serialization));

    assert_eq!(echo.echo("hello".into()).await.unwrap(), "hello");
    let non_bmp = "héllo 😀 𝄞 中文";
    assert_eq!(echo.echo(non_bmp.into()).await.unwrap(), non_bmp);
    assert_eq!(echo.add(1, 2).await.unwrap(), 3);
    assert_eq!(
        echo.echo_long(9_007_199_254_740_991).await.unwrap(),
        9_007_199_254_740_991
    );
    assert_eq!(echo.echo_long(-5).await.unwrap(), -5);
    assert_eq!(echo.echo_double(3.25).await.unwrap(), 3.25);
    assert_eq!(echo.echo_double(-0.1).await.unwrap(), -0.1);
    assert!(echo.echo_bool(true).await.unwrap());
    let all: Bytes = (0..=255u8).collect::<Vec<u8>>().into();
    assert_eq!(echo.echo_bytes(all.clone()).await.unwrap(), all);
    let list = vec![Value::String("a".into()), Value::Int(1), Value::Bool(true)];
    assert_eq!(echo.echo_list(list.clone()).await.unwrap(), list);
    let map: HashMap<String, Value> = [
        ("k".to_string(), Value::String("v".into())),
        ("n".to_string(), Value::Int(2)),
    ]
    .into_iter()
    .collect();
    assert_eq!(echo.echo_map(map.clone()).await.unwrap(), map);
    let user = User {
        name: "ann".into(),
        age: 42,
    };
    assert_eq!(echo.echo_user(user.clone()).await.unwrap(), user);

    // The node provider reports a thrown error as SERVER_EXCEPTION with an RpcServerException.
    let err = echo.fail("x".into()).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::ServerUndeclared, "{err}");
    assert!(err.message().contains("boom: x"), "{err}");
    // A returned exception object is an application exception.
    let exception = echo.fail_return("y".into()).await.unwrap().unwrap_err();
    assert_eq!(exception.class_name, "java.lang.Exception");
    assert!(exception.message.contains("app error: y"), "{exception:?}");

    // Unknown service and method.
    let generic = client(&node.addr(), serialization);
    let err = generic
        .generic("com.example.Nope:1.0")
        .invoke::<String>(
            "echo",
            sofa_rpc_core::DynArgs::new().arg("java.lang.String", "z"),
        )
        .await
        .unwrap_err();
    assert!(err.message().contains("not found service"), "{err}");
    let err = generic
        .generic("com.example.EchoService:1.0")
        .invoke::<String>(
            "nope",
            sofa_rpc_core::DynArgs::new().arg("java.lang.String", "z"),
        )
        .await
        .unwrap_err();
    assert!(err.message().contains("Can not find method"), "{err}");

    // Protobuf on the same provider.
    let proto = ProtoEchoServiceClient::new(client(&node.addr(), "protobuf"));
    let reply = proto
        .echo_obj(EchoRequest {
            name: "rust".into(),
            group: Group::B as i32,
        })
        .await
        .unwrap();
    assert_eq!(reply.code, 200);
    assert_eq!(reply.message, "hello rust, you are in B");
    let failure = proto
        .fail_obj(EchoRequest {
            name: "bad".into(),
            group: Group::A as i32,
        })
        .await
        .unwrap()
        .unwrap_err();
    assert!(failure.contains("proto boom: bad"), "{failure}");

    // Bolt v2 with CRC32 on every request.
    let v2 = EchoServiceClient::new(
        Client::new(
            ConsumerConfig::new()
                .direct_url(node.addr())
                .serialization(serialization)
                .protocol(Protocol::V2_CRC)
                .crc(true),
        )
        .unwrap(),
    );
    assert_eq!(v2.echo("hello-v2".into()).await.unwrap(), "hello-v2");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn our_client_calls_node_server_hessian3() {
    our_client_against_node("hessian2", &[]).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn our_client_calls_node_server_hessian4() {
    our_client_against_node("hessian4", &[("HESSIAN_VERSION", "4.0")]).await;
}
