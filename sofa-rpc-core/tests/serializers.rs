//! The same service through every serializer: values, application errors and framework errors
//! come back the same way whatever the codec.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs)]

mod common;

use common::*;
use sofa_rpc_core::{Client, ConsumerConfig, DynArgs, ErrorKind, Server};

#[tokio::test]
async fn every_serde_codec_round_trips_values_and_errors() {
    let server = serve(Echo::default()).await;
    for codec in ["msgpack", "hessian2", "hessian", "hessian4", "json"] {
        let echo = client_with(
            ConsumerConfig::new()
                .direct_url(server.local_addr().to_string())
                .serialization(codec),
        );
        assert_eq!(
            echo.echo("héllo 😀".into()).await.unwrap(),
            "héllo 😀",
            "{codec}"
        );
        assert_eq!(echo.add(-7, 10).await.unwrap(), 3, "{codec}");
        let user = User {
            name: "ann".into(),
            age: 42,
        };
        assert_eq!(echo.echo_user(user.clone()).await.unwrap(), user, "{codec}");
        assert_eq!(echo.sleep(1).await.unwrap(), 1, "{codec}");
        echo.hit().await.unwrap();
        let refused = echo.refuse("nope".into()).await.unwrap().unwrap_err();
        assert_eq!(
            refused,
            Refused("com.example.RefusedException: nope".into()),
            "{codec}"
        );
        let err = echo.explode().await.unwrap_err();
        assert_eq!(err.kind(), ErrorKind::ServerUndeclared, "{codec}: {err}");
        assert!(err.message().contains("kaboom"), "{codec}: {err}");

        let client = Client::new(
            ConsumerConfig::new()
                .direct_url(server.local_addr().to_string())
                .serialization(codec),
        )
        .unwrap();
        let err = client
            .generic("com.example.EchoService:1.0")
            .invoke::<String>("nope", DynArgs::new())
            .await
            .unwrap_err();
        assert_eq!(
            err.kind(),
            ErrorKind::ServerNotFoundInvoker,
            "{codec}: {err}"
        );
    }
    server.shutdown().await;
}

/// A protobuf message, as prost generates them.
#[derive(Clone, PartialEq, prost::Message)]
pub struct EchoRequest {
    #[prost(string, tag = "1")]
    pub name: String,
    #[prost(int32, tag = "2")]
    pub group: i32,
}

#[derive(Clone, PartialEq, prost::Message)]
pub struct EchoResponse {
    #[prost(int32, tag = "1")]
    pub code: i32,
    #[prost(string, tag = "2")]
    pub message: String,
}

#[sofa_rpc_core::service(interface = "com.example.ProtoEchoService")]
pub trait ProtoEcho {
    #[sofa(name = "echoObj")]
    async fn echo_obj(&self, request: EchoRequest) -> EchoResponse;
    #[sofa(name = "failObj")]
    async fn fail_obj(&self, request: EchoRequest) -> Result<EchoResponse, String>;
}

struct ProtoImpl;

impl ProtoEcho for ProtoImpl {
    async fn echo_obj(&self, request: EchoRequest) -> EchoResponse {
        EchoResponse {
            code: 200,
            message: format!("hello {}, you are in {}", request.name, request.group),
        }
    }
    async fn fail_obj(&self, request: EchoRequest) -> Result<EchoResponse, String> {
        Err(format!("proto boom: {}", request.name))
    }
}

#[tokio::test]
async fn protobuf_messages_and_errors() {
    let server = Server::builder()
        .bind("127.0.0.1:0")
        // Over the network, even from this process.
        .in_process(false)
        .service(ProtoEchoServer::new(ProtoImpl))
        .start()
        .await
        .unwrap();
    let client = ProtoEchoClient::new(
        Client::new(
            ConsumerConfig::new()
                .direct_url(server.local_addr().to_string())
                .serialization("protobuf"),
        )
        .unwrap(),
    );
    let request = EchoRequest {
        name: "rust".into(),
        group: 1,
    };
    let reply = client.echo_obj(request.clone()).await.unwrap();
    assert_eq!(reply.code, 200);
    assert_eq!(reply.message, "hello rust, you are in 1");
    // Application errors arrive as application errors (sent with status SERVER_EXCEPTION so
    // that Node and Python clients notice them too).
    let message = client.fail_obj(request).await.unwrap().unwrap_err();
    assert_eq!(message, "proto boom: rust");
    // A type that is not a protobuf message cannot be sent as one: the client says so before
    // anything is sent.
    let echo = client_with(
        ConsumerConfig::new()
            .direct_url(server.local_addr().to_string())
            .serialization("protobuf"),
    );
    let user = User {
        name: "x".into(),
        age: 1,
    };
    let err = echo.echo_user(user).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::ClientSerialize);
    assert!(err.message().contains("not a protobuf message"), "{err}");
    // Framework errors keep their kind.
    let err = echo.echo("x".into()).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::ServerNotFoundInvoker, "{err}");
    server.shutdown().await;
}
