//! A test service and helpers: servers on 127.0.0.1:0, clients pointed at them.

#![allow(
    dead_code,
    unreachable_pub,
    missing_docs,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic
)]

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use serde::{Deserialize, Serialize};
use sofa_rpc_core::{
    Client, ConsumerConfig, RemoteException, RequestContext, Server, ServerBuilder,
};

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename = "com.example.User")]
pub struct User {
    pub name: String,
    pub age: i32,
}

/// What the test service can fail with.
#[derive(Debug, PartialEq)]
pub struct Refused(pub String);

impl sofa_rpc_core::AppError for Refused {
    fn to_exception(&self) -> RemoteException {
        RemoteException::new("com.example.RefusedException", self.0.clone())
    }
    fn from_exception(e: RemoteException) -> Self {
        Refused(format!("{}: {}", e.class_name, e.message))
    }
}

#[sofa_rpc_core::service(interface = "com.example.EchoService")]
pub trait EchoService {
    /// Returns its argument.
    async fn echo(&self, message: String) -> String;
    async fn add(&self, a: i32, b: i32) -> i32;
    #[sofa(name = "echoUser")]
    async fn echo_user(&self, user: User) -> User;
    /// Sleeps, then returns how long it slept.
    async fn sleep(&self, ms: u64) -> u64;
    /// Fails with an application error.
    async fn refuse(&self, why: String) -> Result<String, Refused>;
    /// Panics.
    async fn explode(&self) -> String;
    /// Counts calls (for oneway).
    async fn hit(&self);
    /// The request baggage, and a response baggage entry `seen=<count>`.
    async fn baggage(&self) -> Vec<(String, String)>;
    /// The trace id and span id the request carried.
    async fn trace(&self) -> Option<(String, String)>;
}

#[derive(Clone, Default)]
pub struct Echo {
    pub hits: Arc<AtomicUsize>,
    pub name: &'static str,
}

impl EchoService for Echo {
    async fn echo(&self, message: String) -> String {
        message
    }
    async fn add(&self, a: i32, b: i32) -> i32 {
        a + b
    }
    async fn echo_user(&self, user: User) -> User {
        user
    }
    async fn sleep(&self, ms: u64) -> u64 {
        self.hits.fetch_add(1, Ordering::SeqCst);
        tokio::time::sleep(Duration::from_millis(ms)).await;
        ms
    }
    async fn refuse(&self, why: String) -> Result<String, Refused> {
        Err(Refused(why))
    }
    async fn explode(&self) -> String {
        panic!("kaboom")
    }
    async fn hit(&self) {
        self.hits.fetch_add(1, Ordering::SeqCst);
    }
    async fn baggage(&self) -> Vec<(String, String)> {
        RequestContext::with_current(|ctx| {
            let n = ctx.baggage().len();
            ctx.set_response_baggage("seen", n.to_string());
            ctx.set_response_baggage("by", self.name);
            ctx.baggage().clone().into_iter().collect()
        })
        .unwrap_or_default()
    }
    async fn trace(&self) -> Option<(String, String)> {
        RequestContext::with_current(|ctx| {
            ctx.trace().map(|t| (t.trace_id.clone(), t.span_id.clone()))
        })
        .flatten()
    }
}

/// A server on a free loopback port. These tests are about the network path: consumers in the
/// test process must reach it over a socket, not in-process.
pub fn builder() -> ServerBuilder {
    Server::builder().bind("127.0.0.1:0").in_process(false)
}

pub async fn serve(echo: Echo) -> Server {
    builder()
        .service(EchoServiceServer::new(echo))
        .start()
        .await
        .unwrap()
}

pub fn client_to(server: &Server) -> EchoServiceClient {
    client_with(ConsumerConfig::new().direct_url(server.local_addr().to_string()))
}

pub fn client_with(config: ConsumerConfig) -> EchoServiceClient {
    EchoServiceClient::new(Client::new(config).unwrap())
}

/// An address on the loopback interface where nothing listens.
pub async fn dead_addr() -> String {
    let l = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = l.local_addr().unwrap().to_string();
    drop(l);
    addr
}
