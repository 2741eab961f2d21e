//! Discovery through the `local` registry (a file on this machine): providers publish
//! themselves, consumers follow the list live, and a consumer started while the registry is
//! unreadable falls back to the list it saved.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs)]

mod common;

use std::path::PathBuf;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use common::*;
use sofa_rpc_core::{Client, ConsumerConfig, ErrorKind, ProviderConfig, Server};
use sofa_rpc_registry::Registration;

fn temp(name: &str) -> PathBuf {
    std::env::temp_dir().join(format!(
        "sofa-rpc-{name}-{}-{:?}",
        std::process::id(),
        Instant::now()
    ))
}

async fn provider(registry: &str, echo: Echo) -> Server {
    builder()
        .registry(registry)
        .app_name("registry-test")
        .provider(ProviderConfig::new(EchoServiceServer::new(echo)).weight(100))
        .start()
        .await
        .unwrap()
}

/// Calls `sleep(0)` until `ok` returns true for the outcome, for at most 10 s.
async fn eventually(
    echo: &EchoServiceClient,
    mut ok: impl FnMut(&sofa_rpc_core::Result<u64>) -> bool,
) {
    let started = Instant::now();
    loop {
        let outcome = echo.sleep(0).await;
        if ok(&outcome) {
            return;
        }
        assert!(
            started.elapsed() < Duration::from_secs(10),
            "last outcome: {outcome:?}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn consumers_follow_providers_as_they_come_and_go() {
    let file = temp("reg");
    let url = format!("local://{}?scanPeriod=50", file.display());
    let first = Echo::default();
    let a = provider(&url, first.clone()).await;

    let echo = client_with(
        ConsumerConfig::new()
            .registry(url.clone())
            .registry_cache(Some(temp("cache"))),
    );
    // The first call waits for the subscription's first list.
    assert_eq!(echo.sleep(0).await.unwrap(), 0);
    assert_eq!(first.hits.load(Ordering::SeqCst), 1);

    // A second provider appears: calls spread over both.
    let second = Echo::default();
    let b = provider(&url, second.clone()).await;
    eventually(&echo, |_| second.hits.load(Ordering::SeqCst) > 0).await;

    // The first one leaves (unregistered on shutdown): every call goes to the second.
    a.shutdown().await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    let before = second.hits.load(Ordering::SeqCst);
    for _ in 0..20 {
        echo.sleep(0).await.unwrap();
    }
    assert_eq!(second.hits.load(Ordering::SeqCst), before + 20);

    // None left: calls fail with "no provider".
    b.shutdown().await;
    eventually(
        &echo,
        |o| matches!(o, Err(e) if e.kind() == ErrorKind::ClientRouter),
    )
    .await;
    let _ = std::fs::remove_file(&file);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_provider_the_registry_drops_answers_its_calls_then_loses_the_connection() {
    let file = temp("reg");
    let url = format!("local://{}?scanPeriod=50", file.display());
    // A provider that is listed by hand, so it can leave the registry and keep running.
    let server = serve(Echo::default()).await;
    let registry = sofa_rpc_registry::open(&url).await.unwrap();
    let listing = Registration::sofa(
        EchoServiceClient::INTERFACE,
        "127.0.0.1",
        server.local_addr().port(),
    );
    registry.register(&listing).await.unwrap();
    let echo = client_with(ConsumerConfig::new().registry(url).registry_cache(None));
    assert_eq!(echo.sleep(0).await.unwrap(), 0);
    assert_eq!(server.connections(), 1);

    let in_flight = tokio::spawn({
        let echo = echo.clone();
        async move { echo.sleep(500).await }
    });
    tokio::time::sleep(Duration::from_millis(100)).await;
    registry.unregister(&listing).await.unwrap();
    // The call already sent is answered although its provider is gone from the list ...
    assert_eq!(in_flight.await.unwrap().unwrap(), 500);
    // ... and then the connection to the provider closes.
    let started = Instant::now();
    while server.connections() > 0 {
        assert!(
            started.elapsed() < Duration::from_secs(5),
            "the connection to a provider no longer listed stays open"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    registry.close().await.unwrap();
    server.shutdown().await;
    let _ = std::fs::remove_file(&file);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_consumer_started_during_an_outage_uses_the_saved_list() {
    let file = temp("reg");
    let cache = temp("cache");
    let url = format!("local://{}?scanPeriod=50", file.display());
    let server = provider(&url, Echo::default()).await;
    let config = ConsumerConfig::new()
        .registry(url.clone())
        .registry_cache(Some(cache.clone()));
    let first = client_with(config.clone());
    assert_eq!(first.sleep(0).await.unwrap(), 0);
    drop(first);

    // The registry becomes unreadable: its file is replaced by a directory.
    std::fs::remove_file(&file).unwrap();
    std::fs::create_dir_all(&file).unwrap();

    let second = EchoServiceClient::new(Client::new(config).unwrap());
    assert_eq!(
        second.sleep(0).await.unwrap(),
        0,
        "found through the saved list"
    );

    // Without a saved list there is nothing to call.
    let blind = client_with(
        ConsumerConfig::new()
            .registry(url)
            .registry_cache(None)
            .timeout(Duration::from_millis(500)),
    );
    let err = blind.sleep(0).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::ClientRouter, "{err}");
    server.shutdown().await;
    let _ = std::fs::remove_dir_all(&file);
    let _ = std::fs::remove_dir_all(&cache);
}

#[tokio::test]
async fn unknown_registry_backends_are_configuration_errors() {
    let err = Client::new(ConsumerConfig::new().registry("consul://127.0.0.1:8500")).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::ClientUndeclared);
    assert!(err.message().contains("no registry backend"), "{err}");
    let err = builder()
        .registry("consul://127.0.0.1:8500")
        .service(EchoServiceServer::new(Echo::default()))
        .start()
        .await
        .err()
        .unwrap();
    assert!(err.message().contains("cannot open registry"), "{err}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn registry_changes_are_published_as_events() {
    use sofa_rpc_core::event::{
        ProviderAdded, ProviderRemoved, ProviderUpdated, RegistrySubscribed,
    };
    use std::sync::{Arc, Mutex};

    let file = temp("reg");
    let url = format!("local://{}?scanPeriod=50", file.display());
    let a = provider(&url, Echo::default()).await;
    let client = Client::new(
        ConsumerConfig::new()
            .registry(url.clone())
            .registry_cache(None),
    )
    .unwrap();
    let seen = Arc::new(Mutex::new(Vec::<String>::new()));
    let bus = client.events();
    let log = seen.clone();
    bus.subscribe(move |e: &RegistrySubscribed| {
        log.lock().unwrap().push(format!(
            "subscribed {} {}",
            e.service.interface(),
            e.providers
        ))
    });
    let log = seen.clone();
    bus.subscribe(move |e: &ProviderAdded| {
        log.lock()
            .unwrap()
            .push(format!("added {}", e.provider.port()))
    });
    let log = seen.clone();
    bus.subscribe(move |e: &ProviderUpdated| {
        log.lock()
            .unwrap()
            .push(format!("updated {}", e.provider.port()))
    });
    let log = seen.clone();
    bus.subscribe(move |e: &ProviderRemoved| {
        log.lock()
            .unwrap()
            .push(format!("removed {}", e.provider.port()))
    });
    let echo = EchoServiceClient::new(client);
    assert_eq!(echo.sleep(0).await.unwrap(), 0);
    let b = provider(&url, Echo::default()).await;
    let (pa, pb) = (a.local_addr().port(), b.local_addr().port());
    a.shutdown().await;
    let expected = [
        format!("subscribed {} 1", EchoServiceClient::INTERFACE),
        format!("added {pa}"),
        format!("added {pb}"),
        format!("removed {pa}"),
    ];
    let started = Instant::now();
    while seen.lock().unwrap().len() < expected.len() && started.elapsed() < Duration::from_secs(10)
    {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let seen = seen.lock().unwrap().clone();
    println!("registry events: {seen:?}");
    assert_eq!(seen, expected);
    b.shutdown().await;
    let _ = std::fs::remove_file(&file);
}
