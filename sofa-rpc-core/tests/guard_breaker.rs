//! Circuit breakers of the traffic guard over real sockets: per provider (the cluster skips
//! an open one, probes it half-open, closes or reopens) and per method.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs)]

mod common;
#[path = "common/flaky.rs"]
mod flaky;

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use common::*;
use flaky::Flaky;
use sofa_rpc_core::event::{BreakerState, BreakerStateChanged};
use sofa_rpc_core::guard::{Guard, GuardRules};
use sofa_rpc_core::{ConsumerConfig, ErrorKind, Server};

async fn serve_flaky(flaky: &Flaky) -> Server {
    builder()
        .service(EchoServiceServer::new(flaky.clone()))
        .start()
        .await
        .unwrap()
}

/// A breaker change: from, to, provider address.
type Change = (BreakerState, BreakerState, Option<String>);

/// The breaker changes `guard` publishes.
fn changes(guard: &Guard) -> Arc<Mutex<Vec<Change>>> {
    let seen = Arc::new(Mutex::new(Vec::new()));
    let sink = seen.clone();
    guard.events().subscribe(move |e: &BreakerStateChanged| {
        sink.lock().unwrap().push((
            e.from,
            e.to,
            e.provider.as_ref().map(|p| p.address().to_string()),
        ));
    });
    seen
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn provider_breaker_opens_skips_half_opens_and_closes() {
    let bad = Flaky::failing();
    let bad_server = serve_flaky(&bad).await;
    let good = serve(Echo::default()).await;
    let bad_addr = bad_server.local_addr().to_string();
    let guard = Guard::new();
    guard
        .replace(
            GuardRules::from_json(
                r#"{"circuit_breaker": [{"id": "per-provider", "service": "com.example.EchoService",
                    "scope": "provider", "buckets": 2, "bucket_ms": 5000, "min_requests": 5,
                    "error_rate": 50, "sleep_ms": 400, "probes": 2}]}"#,
            )
            .unwrap(),
        )
        .unwrap();
    let seen = changes(&guard);
    let echo = client_with(
        ConsumerConfig::new()
            .direct_url(format!("{bad_addr};{}", good.local_addr()))
            .load_balancer("roundRobin")
            .guard(guard.clone()),
    );
    // Round robin sends every other call to the bad provider until its breaker opens.
    let mut failed = 0;
    for i in 0..20 {
        if echo.echo(format!("{i}")).await.is_err() {
            failed += 1;
        }
    }
    assert_eq!(failed, 5, "the fifth failure opened the breaker");
    assert_eq!(bad.calls(), 5);
    assert_eq!(
        guard.breaker_state("per-provider", Some(&bad_addr)),
        Some(BreakerState::Open)
    );
    assert_eq!(
        seen.lock().unwrap().clone(),
        [(
            BreakerState::Closed,
            BreakerState::Open,
            Some(bad_addr.clone())
        )]
    );
    // Open: skipped, not failed.
    for i in 0..20 {
        let answer = echo.echo(format!("{i}")).detailed().await.unwrap();
        assert_ne!(answer.provider.unwrap().address(), bad_addr);
    }
    assert_eq!(bad.calls(), 5, "no call reached the open provider");

    // After the sleep window: two probes, both fine, close it.
    bad.set_failing(false);
    tokio::time::sleep(Duration::from_millis(450)).await;
    assert_eq!(
        guard.breaker_state("per-provider", Some(&bad_addr)),
        Some(BreakerState::HalfOpen)
    );
    for i in 0..10 {
        echo.echo(format!("{i}")).await.unwrap();
    }
    assert_eq!(
        guard.breaker_state("per-provider", Some(&bad_addr)),
        Some(BreakerState::Closed)
    );
    assert!(
        bad.calls() >= 5 + 4,
        "closed again, it takes its share: {}",
        bad.calls()
    );
    assert_eq!(
        seen.lock().unwrap()[1..],
        [
            (
                BreakerState::Open,
                BreakerState::HalfOpen,
                Some(bad_addr.clone())
            ),
            (
                BreakerState::HalfOpen,
                BreakerState::Closed,
                Some(bad_addr.clone())
            ),
        ]
    );

    // It fails again: opens, and a failed probe reopens it.
    bad.set_failing(true);
    let deadline = Instant::now() + Duration::from_secs(10);
    while guard.breaker_state("per-provider", Some(&bad_addr)) != Some(BreakerState::Open) {
        assert!(Instant::now() < deadline, "the breaker never reopened");
        let _ = echo.echo("x".into()).await;
    }
    tokio::time::sleep(Duration::from_millis(450)).await;
    let probes_before = bad.calls();
    for _ in 0..6 {
        let _ = echo.echo("x".into()).await;
    }
    assert_eq!(
        bad.calls(),
        probes_before + 1,
        "one probe, failed: open again"
    );
    let last = seen.lock().unwrap().last().cloned().unwrap();
    assert_eq!(
        last,
        (
            BreakerState::HalfOpen,
            BreakerState::Open,
            Some(bad_addr.clone())
        )
    );
    bad_server.shutdown().await;
    good.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn method_breaker_fails_fast_then_recovers() {
    let flaky = Flaky::failing();
    let server = serve_flaky(&flaky).await;
    let guard = Guard::new();
    guard
        .replace(
            GuardRules::from_json(
                r#"{"circuit_breaker": [{"id": "echo", "service": "com.example.EchoService",
                    "method": "echo", "min_requests": 4, "error_rate": 75, "sleep_ms": 300}]}"#,
            )
            .unwrap(),
        )
        .unwrap();
    let seen = changes(&guard);
    let echo = client_with(
        ConsumerConfig::new()
            .direct_url(server.local_addr().to_string())
            .guard(guard.clone()),
    );
    for _ in 0..4 {
        let e = echo.echo("x".into()).await.unwrap_err();
        assert_eq!(e.kind(), ErrorKind::ServerUndeclared, "{e}");
    }
    // Other methods have no breaker.
    assert_eq!(echo.add(1, 1).await.unwrap(), 2);
    let e = echo.echo("x".into()).await.unwrap_err();
    assert_eq!(e.kind(), ErrorKind::ClientCircuitOpen, "{e}");
    assert_eq!(flaky.calls(), 4, "refused without a request");
    assert_eq!(guard.stats("echo").unwrap().refused, 1);
    flaky.set_failing(false);
    tokio::time::sleep(Duration::from_millis(350)).await;
    assert_eq!(echo.echo("probe".into()).await.unwrap(), "probe");
    assert_eq!(
        guard.breaker_state("echo", None),
        Some(BreakerState::Closed)
    );
    for _ in 0..5 {
        echo.echo("x".into()).await.unwrap();
    }
    let seen: Vec<_> = seen.lock().unwrap().iter().map(|c| (c.0, c.1)).collect();
    assert_eq!(
        seen,
        [
            (BreakerState::Closed, BreakerState::Open),
            (BreakerState::Open, BreakerState::HalfOpen),
            (BreakerState::HalfOpen, BreakerState::Closed)
        ]
    );
    server.shutdown().await;
}
