//! Automatic fault isolation over real sockets: of three providers, the one answering busy half
//! the time has its weight degraded within a few windows, and recovers once it heals.

#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

mod common;

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use common::*;
use sofa_bolt::{Frame, ResponseStatus};
use sofa_rpc_core::event::{ProviderDegraded, ProviderRecovered};
use sofa_rpc_core::fault::FaultToleranceConfig;
use sofa_rpc_core::{Client, ConsumerConfig, ErrorKind, Server};

/// A provider that answers every other request with a bare `SERVER_THREADPOOL_BUSY` status (as
/// a provider whose executor is full does) while `sick` is set, and passes the others on to a
/// real provider.
async fn sometimes_busy(sick: Arc<AtomicBool>, backend: &Server) -> sofa_bolt::Server {
    let conn = sofa_bolt::Connection::connect(backend.local_addr(), Default::default())
        .await
        .unwrap();
    let calls = Arc::new(AtomicU64::new(0));
    sofa_bolt::Server::builder()
        .bind("127.0.0.1:0")
        .fallback(sofa_bolt::processor_fn(move |request: Frame| {
            let busy = sick.load(Ordering::SeqCst) && calls.fetch_add(1, Ordering::SeqCst) % 2 == 0;
            let conn = conn.clone();
            async move {
                if busy {
                    return Some(Frame::response_to(
                        &request,
                        ResponseStatus::SERVER_THREADPOOL_BUSY,
                    ));
                }
                let id = request.request_id();
                let answer = conn.request(request, Duration::from_secs(3)).await.ok()?;
                Some(answer.with_request_id(id))
            }
        }))
        .start()
        .await
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_provider_answering_busy_is_degraded_then_recovers() {
    let sick = Arc::new(AtomicBool::new(true));
    let mut servers: Vec<Server> = Vec::new();
    for _ in 0..3 {
        servers.push(serve(Echo::default()).await);
    }
    // The third provider is reached through a front that answers busy half the time.
    let front = sometimes_busy(sick.clone(), &servers[2]).await;
    let sick_addr = front.local_addr().to_string();
    let urls = [
        servers[0].local_addr().to_string(),
        servers[1].local_addr().to_string(),
        sick_addr.clone(),
    ];
    let config = ConsumerConfig::new()
        .direct_url(urls.join(";"))
        .fault_tolerance(FaultToleranceConfig {
            enabled: true,
            // Windows are closed by the test, not the clock.
            window: Duration::from_secs(3600),
            // Three providers: a rate can be at most 3x the service's (see the config's docs).
            exception_rate_multiple: 2.0,
            ..FaultToleranceConfig::default()
        });
    let client = Client::new(config).unwrap();
    let changes = Arc::new(Mutex::new(Vec::new()));
    let log = changes.clone();
    client.events().subscribe(move |e: &ProviderDegraded| {
        log.lock()
            .unwrap()
            .push(format!("degraded to {}", e.weight))
    });
    let log = changes.clone();
    client.events().subscribe(move |e: &ProviderRecovered| {
        log.lock()
            .unwrap()
            .push(format!("recovered to {}", e.weight))
    });
    let echo = EchoServiceClient::new(client.clone());
    let isolation = client.fault_isolation().unwrap().clone();
    let service = echo.service_id().clone();
    let weight = || {
        isolation
            .degraded_weight(&service, &sick_addr)
            .unwrap_or(100)
    };

    let mut weights = Vec::new();
    // Each window: 300 calls, then the window closes.
    for window in 0..10 {
        if window == 3 {
            sick.store(false, Ordering::SeqCst);
        }
        let mut busy = 0;
        for _ in 0..300 {
            if let Err(e) = echo.echo("x".into()).await {
                assert_eq!(e.kind(), ErrorKind::ServerBusy, "{e}");
                busy += 1;
            }
        }
        isolation.close_window();
        println!(
            "window {window}: sick = {}, busy answers = {busy}, weight of the sick provider = {}",
            window < 3,
            weight()
        );
        weights.push(weight());
    }
    println!("events: {:?}", changes.lock().unwrap());
    // Degraded after the first window: 100 * 0.05 = 5.
    assert_eq!(weights[0], 5, "{weights:?}");
    // While sick it stays degraded: a window with too few calls to judge, some of which
    // failed, leaves the weight as it is.
    assert!(weights[1] <= 5 && weights[2] <= 5, "{weights:?}");
    // Healed: doubles each window back to 100.
    assert!(weights[3] > weights[2], "{weights:?}");
    assert_eq!(*weights.last().unwrap(), 100, "{weights:?}");
    front.shutdown().await;
    for server in servers {
        server.shutdown().await;
    }
}
