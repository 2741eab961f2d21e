//! Clusters over several providers: failover retries elsewhere, failfast does not.

#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

mod common;

use std::sync::atomic::Ordering;

use common::*;
use sofa_rpc_core::{ConsumerConfig, ErrorKind};

#[tokio::test]
async fn failover_reaches_the_live_provider_when_one_is_down() {
    let live = Echo::default();
    let server = serve(live.clone()).await;
    let dead = dead_addr().await;
    let echo = client_with(
        ConsumerConfig::new()
            .direct_url(format!("{dead};{}", server.local_addr()))
            .retries(1),
    );
    for i in 0..40 {
        assert_eq!(echo.sleep(0).await.unwrap(), 0, "call {i}");
    }
    assert_eq!(live.hits.load(Ordering::SeqCst), 40);
    server.shutdown().await;
}

#[tokio::test]
async fn failfast_reports_the_dead_provider() {
    let server = serve(Echo::default()).await;
    let dead = dead_addr().await;
    let echo = client_with(
        ConsumerConfig::new()
            .direct_url(format!("{dead};{}", server.local_addr()))
            .cluster("failfast")
            .load_balancer("roundRobin"),
    );
    let mut failures = 0;
    for _ in 0..4 {
        if let Err(e) = echo.echo("x".into()).await {
            assert_eq!(e.kind(), ErrorKind::ClientNetwork);
            failures += 1;
        }
    }
    // The first call that meets the dead provider fails; from then on it is down (no live
    // connection) and calls go to the live one while it reconnects in the background.
    assert_eq!(failures, 1);
    server.shutdown().await;
}

#[tokio::test]
async fn failover_retries_a_busy_provider_elsewhere() {
    let busy = Echo::default();
    let spare = Echo::default();
    let busy_server = builder()
        .max_concurrency(1)
        .service(EchoServiceServer::new(busy.clone()))
        .start()
        .await
        .unwrap();
    let spare_server = serve(spare.clone()).await;
    let echo = client_with(
        ConsumerConfig::new()
            .direct_url(format!(
                "{};{}",
                busy_server.local_addr(),
                spare_server.local_addr()
            ))
            .retries(1),
    );
    // Occupy the busy server's only slot directly.
    let hog = client_to(&busy_server).sleep(500).future();
    tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    for _ in 0..10 {
        assert_eq!(echo.sleep(0).await.unwrap(), 0);
    }
    assert_eq!(spare.hits.load(Ordering::SeqCst), 10);
    hog.await.unwrap();
    busy_server.shutdown().await;
    spare_server.shutdown().await;
}

#[tokio::test]
async fn application_errors_are_not_retried() {
    let a = Echo::default();
    let server = serve(a.clone()).await;
    let echo = client_with(
        ConsumerConfig::new()
            .direct_url(server.local_addr().to_string())
            .retries(3),
    );
    assert!(echo.refuse("no".into()).await.unwrap().is_err());
    // A framework error that is not retryable is not retried either.
    let err = echo.explode().await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::ServerUndeclared);
    server.shutdown().await;
}

#[tokio::test]
async fn retries_share_the_call_timeout() {
    let first = serve(Echo::default()).await;
    let second = serve(Echo::default()).await;
    let echo = client_with(
        ConsumerConfig::new()
            .direct_url(format!("{};{}", first.local_addr(), second.local_addr()))
            .timeout(std::time::Duration::from_millis(300))
            .retries(2),
    );
    // Both providers are too slow: timeouts are retryable, but the retries get only what is
    // left of the 300 ms, not 300 ms each.
    let started = std::time::Instant::now();
    let err = echo.sleep(2000).await.unwrap_err();
    let took = started.elapsed();
    assert_eq!(err.kind(), ErrorKind::ClientTimeout, "{err}");
    assert!(
        took < std::time::Duration::from_millis(600),
        "took {took:?}"
    );
    first.shutdown().await;
    second.shutdown().await;
}

#[tokio::test]
async fn with_every_provider_down_calls_fail_fast_naming_the_service() {
    let server = serve(Echo::default()).await;
    let echo = client_to(&server);
    assert_eq!(echo.sleep(0).await.unwrap(), 0);
    server.shutdown().await;
    let started = std::time::Instant::now();
    let err = loop {
        match echo.sleep(0).await {
            Err(e) if e.kind() == ErrorKind::ClientRouter => break e,
            outcome => {
                assert!(started.elapsed().as_secs() < 5, "still {outcome:?}");
                tokio::time::sleep(std::time::Duration::from_millis(10)).await;
            }
        }
    };
    println!("{err}");
    assert!(
        err.message().contains("com.example.EchoService:1.0"),
        "{err}"
    );
    assert!(err.message().contains("live connection"), "{err}");
    // Fast: no connect timeout, no call timeout.
    let again = std::time::Instant::now();
    assert_eq!(
        echo.sleep(0).await.unwrap_err().kind(),
        ErrorKind::ClientRouter
    );
    assert!(again.elapsed().as_millis() < 500, "{:?}", again.elapsed());
}
