//! Degradation and monitor mode of the traffic guard over real sockets: a refused call returns
//! the empty value, a fixed JSON value decoded into the method's type, or an error; monitored
//! rules count and let calls through.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs)]

mod common;
#[path = "common/flaky.rs"]
mod flaky;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use common::*;
use flaky::Flaky;
use sofa_rpc_core::event::{BreakerState, GuardTriggered};
use sofa_rpc_core::guard::{Guard, GuardRules};
use sofa_rpc_core::{ConsumerConfig, ErrorKind};

fn guarded(server: &sofa_rpc_core::Server, guard: &Guard) -> EchoServiceClient {
    client_with(
        ConsumerConfig::new()
            .direct_url(server.local_addr().to_string())
            .guard(guard.clone()),
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn refused_calls_return_what_the_rule_says() {
    let echo_impl = Echo::default();
    let server = serve(echo_impl.clone()).await;
    let guard = Guard::new();
    // One call for the whole service, ever; then every method degrades.
    guard
        .replace(
            GuardRules::from_toml(
                r#"
                [[rate_limit]]
                id = "once"
                service = "com.example.EchoService"
                token_bucket = { rate = 0.001, burst = 1 }

                [[degrade]]
                id = "all-empty"
                service = "com.example.EchoService"
                action = "empty"

                [[degrade]]
                id = "user"
                service = "com.example.EchoService"
                method = "echoUser"
                action = "fixed"
                value = { name = "fallback", age = 7 }

                [[degrade]]
                id = "later"
                service = "com.example.EchoService:1.0"
                method = "sleep"
                action = "error"
                kind = "SERVER_BUSY"
                message = "try later"
                "#,
            )
            .unwrap(),
        )
        .unwrap();
    let echo = guarded(&server, &guard);
    assert_eq!(echo.add(2, 3).await.unwrap(), 5, "the one real call");
    assert_eq!(echo.add(2, 3).await.unwrap(), 0);
    assert_eq!(echo.echo("hi".into()).await.unwrap(), "");
    assert_eq!(echo.trace().await.unwrap(), None);
    assert_eq!(
        echo.baggage().await.unwrap(),
        Vec::<(String, String)>::new()
    );
    let user = echo
        .echo_user(User {
            name: "real".into(),
            age: 40,
        })
        .await
        .unwrap();
    assert_eq!(
        user,
        User {
            name: "fallback".into(),
            age: 7
        }
    );
    let e = echo.sleep(1).await.unwrap_err();
    assert_eq!(
        (e.kind(), e.message()),
        (ErrorKind::ServerBusy, "try later")
    );
    assert_eq!(
        echo_impl.hits.load(Ordering::SeqCst),
        0,
        "sleep never reached the provider"
    );
    assert_eq!(guard.stats("once").unwrap().refused, 6);
    server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn calls_degrade_when_every_provider_breaker_is_open() {
    let flaky = Flaky::failing();
    let server = builder()
        .service(EchoServiceServer::new(flaky.clone()))
        .start()
        .await
        .unwrap();
    let guard = Guard::new();
    guard
        .replace(
            GuardRules::from_json(
                r#"{"circuit_breaker": [{"id": "b", "service": "com.example.EchoService",
                        "scope": "provider", "min_requests": 3, "sleep_ms": 60000}],
                    "degrade": [{"id": "cached", "service": "com.example.EchoService",
                        "method": "echo", "action": "fixed", "value": "cached"}]}"#,
            )
            .unwrap(),
        )
        .unwrap();
    let echo = guarded(&server, &guard);
    for _ in 0..3 {
        assert!(echo.echo("x".into()).await.is_err());
    }
    assert_eq!(
        guard.breaker_state("b", Some(&server.local_addr().to_string())),
        Some(BreakerState::Open)
    );
    for _ in 0..5 {
        assert_eq!(echo.echo("x".into()).await.unwrap(), "cached");
    }
    assert_eq!(flaky.calls(), 3);
    // The breaker covers the whole service; without a degrade rule the refusal stands.
    let e = echo.add(1, 1).await.unwrap_err();
    assert_eq!(e.kind(), ErrorKind::ClientCircuitOpen, "{e}");
    server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn monitor_mode_counts_and_lets_calls_through() {
    let flaky = Flaky::failing();
    let server = builder()
        .service(EchoServiceServer::new(flaky.clone()))
        .start()
        .await
        .unwrap();
    let guard = Guard::new();
    guard
        .replace(
            GuardRules::from_json(
                r#"{"rate_limit": [{"id": "watch-limit", "service": "com.example.EchoService",
                        "method": "add", "mode": "monitor", "token_bucket": {"rate": 0.001, "burst": 1}}],
                    "circuit_breaker": [{"id": "watch-breaker", "service": "com.example.EchoService",
                        "method": "echo", "mode": "monitor", "min_requests": 3, "sleep_ms": 60000}]}"#,
            )
            .unwrap(),
        )
        .unwrap();
    let monitored = Arc::new(AtomicUsize::new(0));
    let count = monitored.clone();
    guard.events().subscribe(move |e: &GuardTriggered| {
        assert!(e.monitored);
        count.fetch_add(1, Ordering::SeqCst);
    });
    let echo = guarded(&server, &guard);
    for _ in 0..10 {
        assert_eq!(echo.add(1, 2).await.unwrap(), 3);
    }
    let stats = guard.stats("watch-limit").unwrap();
    assert_eq!((stats.passed, stats.monitored, stats.refused), (1, 9, 0));
    for _ in 0..10 {
        let e = echo.echo("x".into()).await.unwrap_err();
        assert_eq!(
            e.kind(),
            ErrorKind::ServerUndeclared,
            "the provider's own error: {e}"
        );
    }
    assert_eq!(flaky.calls(), 10, "every call reached the provider");
    assert_eq!(
        guard.breaker_state("watch-breaker", None),
        Some(BreakerState::Open)
    );
    assert_eq!(guard.stats("watch-breaker").unwrap().monitored, 7);
    assert_eq!(monitored.load(Ordering::SeqCst), 9 + 7);
    server.shutdown().await;
}
