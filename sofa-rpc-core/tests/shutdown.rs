//! Graceful shutdown of one of two providers under load loses no call.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs)]

mod common;

use std::sync::atomic::{AtomicBool, AtomicU32, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use common::*;
use sofa_rpc_core::{ConsumerConfig, ProviderConfig, Server};

async fn provider(registry: Option<&str>) -> Server {
    let mut b = builder();
    if let Some(url) = registry {
        b = b.registry(url).app_name("shutdown-test");
    }
    b.provider(ProviderConfig::new(EchoServiceServer::new(Echo::default())))
        .start()
        .await
        .unwrap()
}

/// Runs `callers` loops of calls until `stop`, counting outcomes.
fn load(
    echo: &EchoServiceClient,
    callers: usize,
    stop: &Arc<AtomicBool>,
    ok: &Arc<AtomicU32>,
    failed: &Arc<AtomicU32>,
) -> Vec<tokio::task::JoinHandle<()>> {
    (0..callers)
        .map(|_| {
            let (echo, stop, ok, failed) = (echo.clone(), stop.clone(), ok.clone(), failed.clone());
            tokio::spawn(async move {
                while !stop.load(Ordering::SeqCst) {
                    match echo.sleep(2).await {
                        Ok(_) => ok.fetch_add(1, Ordering::SeqCst),
                        Err(e) => {
                            eprintln!("lost: {e}");
                            failed.fetch_add(1, Ordering::SeqCst)
                        }
                    };
                }
            })
        })
        .collect()
}

/// Shuts `leaving` down while `callers` call through `echo`; returns (ok, failed).
async fn shut_down_under_load(echo: EchoServiceClient, leaving: Server) -> (u32, u32) {
    let stop = Arc::new(AtomicBool::new(false));
    let ok = Arc::new(AtomicU32::new(0));
    let failed = Arc::new(AtomicU32::new(0));
    let callers = load(&echo, 8, &stop, &ok, &failed);
    tokio::time::sleep(Duration::from_millis(300)).await;
    let started = Instant::now();
    leaving.shutdown().await;
    let took = started.elapsed();
    tokio::time::sleep(Duration::from_millis(300)).await;
    stop.store(true, Ordering::SeqCst);
    for c in callers {
        c.await.unwrap();
    }
    let (ok, failed) = (ok.load(Ordering::SeqCst), failed.load(Ordering::SeqCst));
    println!("shutdown took {took:?}; calls: {ok} ok, {failed} lost");
    (ok, failed)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn graceful_shutdown_of_a_registered_provider_loses_no_call() {
    let file = std::env::temp_dir().join(format!(
        "sofa-rpc-shutdown-{}-{:?}",
        std::process::id(),
        Instant::now()
    ));
    let url = format!("local://{}?scanPeriod=50", file.display());
    let a = provider(Some(&url)).await;
    let b = provider(Some(&url)).await;
    let echo = client_with(ConsumerConfig::new().registry(url.clone()).retries(1));
    // Wait until the consumer knows both.
    let deadline = Instant::now() + Duration::from_secs(10);
    while a.connections() == 0 || b.connections() == 0 {
        assert!(Instant::now() < deadline, "the consumer never reached both");
        echo.sleep(0).await.unwrap();
    }
    let (ok, failed) = shut_down_under_load(echo, a).await;
    assert!(ok > 100, "{ok} calls");
    assert_eq!(failed, 0, "calls lost");
    b.shutdown().await;
    let _ = std::fs::remove_file(file);
}

/// A consumer with direct URLs keeps choosing the provider: each call it sends there while it
/// drains is answered busy and retried on the other one; the first such answer also tells the
/// connection to send nothing more, so the server finds it quiet and closes it without a
/// request crossing the close on the wire.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn graceful_shutdown_with_direct_urls_loses_no_call() {
    let a = provider(None).await;
    let b = provider(None).await;
    let echo = client_with(
        ConsumerConfig::new()
            .direct_url(format!("{};{}", a.local_addr(), b.local_addr()))
            .retries(1),
    );
    let deadline = Instant::now() + Duration::from_secs(10);
    while a.connections() == 0 || b.connections() == 0 {
        assert!(Instant::now() < deadline, "the consumer never reached both");
        echo.sleep(0).await.unwrap();
    }
    let (ok, failed) = shut_down_under_load(echo, a).await;
    assert!(ok > 100, "{ok} calls");
    assert_eq!(failed, 0, "calls lost");
    b.shutdown().await;
}
