//! Every invoke type against a real server: sync, oneway, future, callback.

#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

mod common;

use std::sync::atomic::Ordering;
use std::time::Duration;

use common::*;

#[tokio::test]
async fn sync_calls_of_every_shape() {
    let server = serve(Echo::default()).await;
    let echo = client_to(&server);
    assert_eq!(echo.echo("hi".into()).await.unwrap(), "hi");
    assert_eq!(echo.echo(String::new()).await.unwrap(), "");
    assert_eq!(echo.add(-5, 7).await.unwrap(), 2);
    let user = User {
        name: "ann".into(),
        age: 42,
    };
    assert_eq!(echo.echo_user(user.clone()).await.unwrap(), user);
    let big = "x".repeat(100_000);
    assert_eq!(echo.echo(big.clone()).await.unwrap(), big);
    echo.hit().await.unwrap();
    server.shutdown().await;
}

#[tokio::test]
async fn oneway_reaches_the_server_without_an_answer() {
    let e = Echo::default();
    let server = serve(e.clone()).await;
    let echo = client_to(&server);
    for _ in 0..10 {
        echo.hit().oneway().await.unwrap();
    }
    // A sync call on the same connection is answered after the oneways were read.
    echo.echo("after".into()).await.unwrap();
    tokio::time::timeout(Duration::from_secs(5), async {
        while e.hits.load(Ordering::SeqCst) < 10 {
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
    })
    .await
    .expect("all oneway calls ran");
    server.shutdown().await;
}

#[tokio::test]
async fn future_handles_complete_later_and_in_parallel() {
    let server = serve(Echo::default()).await;
    let echo = client_to(&server);
    let started = std::time::Instant::now();
    let handles: Vec<_> = (0..5).map(|_| echo.sleep(200).future()).collect();
    for h in handles {
        assert_eq!(h.await.unwrap(), 200);
    }
    // Five 200 ms calls in flight at once, not one after another.
    assert!(
        started.elapsed() < Duration::from_millis(900),
        "{:?}",
        started.elapsed()
    );
    server.shutdown().await;
}

#[tokio::test]
async fn callbacks_get_results_and_errors() {
    let server = serve(Echo::default()).await;
    let echo = client_to(&server);
    let (tx, rx) = tokio::sync::oneshot::channel();
    echo.add(20, 22).callback(move |r| {
        let _ = tx.send(r);
    });
    assert_eq!(rx.await.unwrap().unwrap(), 42);

    let (tx, rx) = tokio::sync::oneshot::channel();
    echo.sleep(1000)
        .timeout(Duration::from_millis(50))
        .callback(move |r| {
            let _ = tx.send(r);
        });
    let err = rx.await.unwrap().unwrap_err();
    assert_eq!(err.kind(), sofa_rpc_core::ErrorKind::ClientTimeout);
    server.shutdown().await;
}

#[tokio::test]
async fn every_request_on_its_own_task_behaves_the_same() {
    let e = Echo::default();
    let server = builder()
        .inline_first(false)
        .service(EchoServiceServer::new(e.clone()))
        .start()
        .await
        .unwrap();
    let echo = client_to(&server);
    assert_eq!(echo.echo("spawned".into()).await.unwrap(), "spawned");
    let slow: Vec<_> = (0..4).map(|_| echo.sleep(100).future()).collect();
    for s in slow {
        assert_eq!(s.await.unwrap(), 100);
    }
    echo.hit().oneway().await.unwrap();
    assert_eq!(echo.add(2, 2).await.unwrap(), 4);
    server.shutdown().await;
}
