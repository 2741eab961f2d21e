#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs)]

use serde::{Deserialize, Serialize};
use sofa_rpc_core::{Client, ConsumerConfig, RemoteException, Server};

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct User {
    name: String,
    age: i32,
}

#[sofa_rpc_core::service(interface = "com.example.EchoService")]
pub trait EchoService {
    async fn echo(&self, message: String) -> String;
    async fn add(&self, a: i32, b: i32) -> i32;
    #[sofa(name = "echoUser")]
    async fn echo_user(&self, #[sofa(java_type = "com.example.User")] user: User) -> User;
    async fn fail(&self, message: String) -> Result<String, RemoteException>;
    async fn ping(&self);
}

struct Impl;

impl EchoService for Impl {
    async fn echo(&self, message: String) -> String {
        message
    }
    async fn add(&self, a: i32, b: i32) -> i32 {
        a + b
    }
    async fn echo_user(&self, user: User) -> User {
        user
    }
    async fn fail(&self, message: String) -> Result<String, RemoteException> {
        Err(RemoteException::new(
            "java.lang.IllegalStateException",
            format!("boom: {message}"),
        ))
    }
    async fn ping(&self) {}
}

#[tokio::test]
async fn round_trip() {
    let server = Server::builder()
        .bind("127.0.0.1:0")
        .service(EchoServiceServer::new(Impl))
        .start()
        .await
        .unwrap();
    let client =
        Client::new(ConsumerConfig::new().direct_url(server.local_addr().to_string())).unwrap();
    let echo = EchoServiceClient::new(client);
    assert_eq!(echo.echo("hi".into()).await.unwrap(), "hi");
    assert_eq!(echo.add(1, 2).await.unwrap(), 3);
    let u = User {
        name: "ann".into(),
        age: 42,
    };
    assert_eq!(echo.echo_user(u.clone()).await.unwrap(), u);
    let err = echo.fail("x".into()).await.unwrap().unwrap_err();
    assert_eq!(err.class_name, "java.lang.IllegalStateException");
    assert_eq!(err.message, "boom: x");
    echo.ping().await.unwrap();
    server.shutdown().await;
}
