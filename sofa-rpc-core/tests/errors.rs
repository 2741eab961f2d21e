//! Application errors stay application errors; framework failures are RpcErrors of the right
//! kind; timeouts and a busy server behave as SOFARPC's do.

#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

mod common;

use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use common::*;
use sofa_rpc_core::{Client, ConsumerConfig, DynArgs, ErrorKind};

#[tokio::test]
async fn application_errors_come_back_in_the_return_type() {
    let server = serve(Echo::default()).await;
    let echo = client_to(&server);
    let outcome = echo
        .refuse("no funds".into())
        .await
        .expect("not a framework error");
    assert_eq!(
        outcome.unwrap_err(),
        Refused("com.example.RefusedException: no funds".into())
    );
    server.shutdown().await;
}

#[tokio::test]
async fn unknown_service_and_method_are_framework_errors() {
    let server = serve(Echo::default()).await;
    let client =
        Client::new(ConsumerConfig::new().direct_url(server.local_addr().to_string())).unwrap();
    let err = client
        .generic("com.example.Nope:1.0")
        .invoke::<String>("echo", DynArgs::new().arg("java.lang.String", "x"))
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::ServerNotFoundInvoker);
    assert!(err.message().contains("com.example.Nope:1.0"), "{err}");

    let err = client
        .generic("com.example.EchoService:1.0")
        .invoke::<String>("nope", DynArgs::new())
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::ServerNotFoundInvoker);
    assert!(err.message().contains("no method nope"), "{err}");

    // Wrong argument types: the provider cannot decode them.
    let err = client
        .generic("com.example.EchoService:1.0")
        .invoke::<i32>("add", DynArgs::new().arg("int", "one").arg("int", 2))
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::ServerDeserialize);
    server.shutdown().await;
}

#[tokio::test]
async fn a_panicking_method_is_a_server_error_and_the_server_lives_on() {
    let server = serve(Echo::default()).await;
    let echo = client_to(&server);
    let err = echo.explode().await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::ServerUndeclared);
    assert!(err.message().contains("kaboom"), "{err}");
    assert_eq!(echo.echo("still here".into()).await.unwrap(), "still here");
    server.shutdown().await;
}

#[tokio::test]
async fn timeouts_fail_fast_and_name_the_call() {
    let server = serve(Echo::default()).await;
    let echo = client_to(&server);
    let started = Instant::now();
    let err = echo
        .sleep(700)
        .timeout(Duration::from_millis(100))
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::ClientTimeout);
    assert!(err.is_retryable());
    assert!(started.elapsed() < Duration::from_millis(1000));
    assert!(
        err.message().contains("com.example.EchoService:1.0#sleep"),
        "{err}"
    );
    // The consumer-wide timeout applies when the call sets none.
    let quick = client_with(
        ConsumerConfig::new()
            .direct_url(server.local_addr().to_string())
            .timeout(Duration::from_millis(100)),
    );
    assert_eq!(
        quick.sleep(700).await.unwrap_err().kind(),
        ErrorKind::ClientTimeout
    );
    server.shutdown().await;
}

#[tokio::test]
async fn a_full_executor_answers_server_busy() {
    let e = Echo::default();
    let server = builder()
        .max_concurrency(1)
        .queue(0)
        .service(EchoServiceServer::new(e.clone()))
        .start()
        .await
        .unwrap();
    let echo = client_to(&server);
    let slow = echo.sleep(300).future();
    tokio::time::sleep(Duration::from_millis(50)).await;
    let err = echo.echo("x".into()).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::ServerBusy);
    assert!(err.is_retryable());
    assert_eq!(slow.await.unwrap(), 300);
    // Capacity is back once the slow call is done.
    assert_eq!(echo.echo("x".into()).await.unwrap(), "x");
    server.shutdown().await;
}

#[tokio::test]
async fn requests_that_waited_past_their_timeout_are_dropped_unrun() {
    let e = Echo::default();
    let server = builder()
        .max_concurrency(1)
        .queue(1)
        .service(EchoServiceServer::new(e.clone()))
        .start()
        .await
        .unwrap();
    let echo = client_to(&server);
    let slow = echo.sleep(400).future();
    tokio::time::sleep(Duration::from_millis(50)).await;
    // Queued behind the slow call; its caller gives up after 100 ms.
    let err = echo
        .sleep(1)
        .timeout(Duration::from_millis(100))
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::ClientTimeout);
    assert_eq!(slow.await.unwrap(), 400);
    tokio::time::sleep(Duration::from_millis(50)).await;
    // Only the slow call ran: the queued one was dropped when its turn came.
    assert_eq!(e.hits.load(Ordering::SeqCst), 1);
    server.shutdown().await;
}

#[tokio::test]
async fn bad_configuration_is_reported_at_build_time() {
    let err = Client::new(ConsumerConfig::new()).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::ClientUndeclared);
    let err =
        Client::new(ConsumerConfig::new().direct_url("bolt://host-without-port")).unwrap_err();
    assert!(err.message().contains("missing port"), "{err}");
    let err = Client::new(
        ConsumerConfig::new()
            .direct_url("127.0.0.1:1")
            .load_balancer("nope"),
    )
    .unwrap_err();
    assert!(
        err.message()
            .contains("no load balancer is registered as \"nope\""),
        "{err}"
    );
}
