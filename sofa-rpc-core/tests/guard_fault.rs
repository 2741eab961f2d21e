//! Fault injection of the traffic guard over real sockets: aborts and delays appear at the
//! configured rate, within a 5-sigma band.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs)]

mod common;

use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use common::*;
use sofa_rpc_core::guard::{Guard, GuardRules};
use sofa_rpc_core::{ConsumerConfig, ErrorKind};

/// `n` trials at probability `p`: the 5-sigma band around the mean.
fn band(n: f64, p: f64) -> std::ops::RangeInclusive<u64> {
    let sigma = (n * p * (1.0 - p)).sqrt();
    let (low, high) = (n * p - 5.0 * sigma, n * p + 5.0 * sigma);
    (low.max(0.0) as u64)..=(high as u64)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn aborts_hit_their_share_of_calls() {
    let echo_impl = Echo::default();
    let server = serve(echo_impl.clone()).await;
    let guard = Guard::new();
    guard
        .replace(
            GuardRules::from_json(
                r#"{"fault": [{"id": "drill", "service": "com.example.EchoService", "method": "sleep",
                    "abort": {"kind": "SERVER_BUSY", "percent": 30}}]}"#,
            )
            .unwrap(),
        )
        .unwrap();
    let echo = client_with(
        ConsumerConfig::new()
            .direct_url(server.local_addr().to_string())
            .guard(guard.clone()),
    );
    let mut aborted = 0;
    for _ in 0..1000 {
        match echo.sleep(0).await {
            Ok(_) => {}
            Err(e) => {
                assert_eq!(e.kind(), ErrorKind::ServerBusy, "{e}");
                aborted += 1;
            }
        }
    }
    println!("{aborted} of 1000 aborted");
    assert!(band(1000.0, 0.3).contains(&aborted), "{aborted}");
    assert_eq!(guard.stats("drill").unwrap().injected, aborted);
    assert_eq!(
        echo_impl.hits.load(Ordering::SeqCst) as u64,
        1000 - aborted,
        "aborted calls never left"
    );
    // Other methods are untouched.
    for _ in 0..50 {
        echo.add(1, 1).await.unwrap();
    }
    server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn delays_hit_their_share_of_calls() {
    let server = serve(Echo::default()).await;
    let guard = Guard::new();
    guard
        .replace(
            GuardRules::from_json(
                r#"{"fault": [{"id": "slow", "service": "com.example.EchoService",
                    "delay": {"ms": 50, "percent": 30}}]}"#,
            )
            .unwrap(),
        )
        .unwrap();
    let echo = client_with(
        ConsumerConfig::new()
            .direct_url(server.local_addr().to_string())
            .guard(guard.clone()),
    );
    let mut tasks = Vec::new();
    for _ in 0..30 {
        let echo = echo.clone();
        tasks.push(tokio::spawn(async move {
            let mut slow = 0u64;
            for _ in 0..10 {
                let start = Instant::now();
                echo.add(1, 1).await.unwrap();
                if start.elapsed() >= Duration::from_millis(50) {
                    slow += 1;
                }
            }
            slow
        }));
    }
    let mut slow = 0;
    for t in tasks {
        slow += t.await.unwrap();
    }
    let injected = guard.stats("slow").unwrap().injected;
    println!("{injected} of 300 delayed; {slow} took 50 ms or more");
    assert!(band(300.0, 0.3).contains(&injected), "{injected}");
    // Every delayed call took at least the delay (others may too, on a busy machine).
    assert!(slow >= injected, "{slow} < {injected}");
    server.shutdown().await;
}
