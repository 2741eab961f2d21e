//! Per-call overrides (SOFARPC's RpcInvokeContext): a target URL for one call, and the time
//! left travelling with a call so providers and the calls they make give up with the caller.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs)]

mod common;

use std::sync::atomic::Ordering;
use std::time::Duration;

use common::*;
use sofa_rpc_core::{headers, Client, ConsumerConfig, ErrorKind, RequestContext};

#[tokio::test]
async fn a_call_goes_to_its_target_url_even_one_the_consumer_does_not_list() {
    let listed = Echo::default();
    let other = Echo::default();
    let listed_server = serve(listed.clone()).await;
    let other_server = serve(other.clone()).await;
    let echo = client_to(&listed_server);
    for _ in 0..5 {
        echo.sleep(0)
            .target_url(&format!("bolt://{}", other_server.local_addr()))
            .unwrap()
            .await
            .unwrap();
    }
    echo.sleep(0).await.unwrap();
    assert_eq!(other.hits.load(Ordering::SeqCst), 5);
    assert_eq!(listed.hits.load(Ordering::SeqCst), 1);

    let Err(err) = echo.sleep(0).target_url("a:1;b:2") else {
        panic!("two providers accepted as one target");
    };
    assert_eq!(err.kind(), ErrorKind::ClientUndeclared, "{err}");
    listed_server.shutdown().await;
    other_server.shutdown().await;
}

#[sofa_rpc_core::service(interface = "com.example.Inner")]
trait Inner {
    /// Milliseconds the caller's deadline leaves, as this provider sees it.
    async fn remaining(&self) -> u64;
}

struct InnerImpl;

impl Inner for InnerImpl {
    async fn remaining(&self) -> u64 {
        RequestContext::with_current(|ctx| ctx.remaining())
            .flatten()
            .map_or(u64::MAX, |d| d.as_millis() as u64)
    }
}

#[sofa_rpc_core::service(interface = "com.example.Outer")]
trait Outer {
    /// Asks the inner provider what it has left, from within this request.
    async fn ask(&self) -> u64;
}

struct OuterImpl(InnerClient);

impl Outer for OuterImpl {
    async fn ask(&self) -> u64 {
        self.0.remaining().await.unwrap()
    }
}

#[tokio::test]
async fn the_time_left_travels_down_a_chain_of_calls() {
    let inner = builder()
        .service(InnerServer::new(InnerImpl))
        .start()
        .await
        .unwrap();
    // The outer provider's own consumer allows 3 s per call ...
    let to_inner = InnerClient::new(
        Client::new(
            ConsumerConfig::new()
                .direct_url(inner.local_addr().to_string())
                .timeout(Duration::from_secs(3)),
        )
        .unwrap(),
    );
    let outer = builder()
        .service(OuterServer::new(OuterImpl(to_inner)))
        .start()
        .await
        .unwrap();
    let client =
        Client::new(ConsumerConfig::new().direct_url(outer.local_addr().to_string())).unwrap();
    // ... but the caller at the top gives the whole chain 400 ms.
    let left = OuterClient::new(client)
        .ask()
        .timeout(Duration::from_millis(400))
        .await
        .unwrap();
    println!("the inner provider had {left} ms left of the caller's 400");
    assert!(left <= 400, "{left}");
    outer.shutdown().await;
    inner.shutdown().await;
}

#[tokio::test]
async fn a_provider_drops_a_request_whose_deadline_has_passed() {
    let echo_impl = Echo::default();
    let server = serve(echo_impl.clone()).await;
    let echo = client_to(&server);
    let err = echo
        .sleep(0)
        .attachment(headers::DEADLINE_REMAIN, "0")
        .timeout(Duration::from_millis(300))
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::ClientTimeout, "{err}");
    assert_eq!(
        echo_impl.hits.load(Ordering::SeqCst),
        0,
        "the method never ran"
    );
    server.shutdown().await;
}
