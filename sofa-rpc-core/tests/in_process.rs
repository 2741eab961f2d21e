//! In-process calls: a consumer of a service that a server of the same process exports calls
//! the implementation directly — no socket, no serialization — with its filters and events,
//! and turns to the network when the local provider goes away.
//!
//! Every test exports its services under a uniqueId of its own: the table of in-process
//! services is process-wide and the tests run side by side.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs)]

mod common;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use common::*;
use sofa_rpc_core::event::{AttemptEnd, AttemptStart, CallEnd, CallStart, ConnectionOpened};
use sofa_rpc_core::filter::{Attempt, AttemptLayer, ConsumerLayer};
use sofa_rpc_core::{
    Args, Client, ConsumerConfig, Dispatch, DynArgs, ErrorKind, ExtensionLoader, Invocation,
    Prepared, ProviderConfig, Reply, RequestReader, Result, RpcError, Server, ServiceId,
};
use tower::util::MapRequestLayer;

/// A server exporting the test service under `unique_id`, in-process or not.
async fn export(unique_id: &str, in_process: bool, echo: Echo) -> Server {
    Server::builder()
        .bind("127.0.0.1:0")
        .in_process(in_process)
        .provider(ProviderConfig::new(EchoServiceServer::new(echo)).unique_id(unique_id))
        .start()
        .await
        .unwrap()
}

/// A consumer of the service under `unique_id`, with `server` as its direct URL.
fn consumer(server: &Server, unique_id: &str) -> ConsumerConfig {
    ConsumerConfig::new()
        .direct_url(server.local_addr().to_string())
        .unique_id(unique_id)
}

/// The protocol of the provider that answered `echo`.
async fn answered_by(echo: &EchoServiceClient) -> String {
    let reply = echo.echo("who".into()).detailed().await.unwrap();
    assert_eq!(reply.value, "who");
    reply.provider.unwrap().protocol().to_string()
}

#[tokio::test]
async fn a_local_provider_is_called_without_a_socket_through_filters_and_events() {
    let server = export("direct", true, Echo::default()).await;
    let calls = Arc::new(AtomicUsize::new(0));
    let attempts: Arc<Mutex<Vec<String>>> = Arc::default();
    let mut loader = ExtensionLoader::default();
    let counted = calls.clone();
    loader.register_filter(
        "count",
        ConsumerLayer(MapRequestLayer::new(move |inv: Invocation| {
            counted.fetch_add(1, Ordering::SeqCst);
            inv
        })),
    );
    let seen = attempts.clone();
    loader.register_filter(
        "attempts",
        AttemptLayer(MapRequestLayer::new(move |attempt: Attempt| {
            seen.lock().unwrap().push(attempt.provider.to_string());
            attempt
        })),
    );
    let config = consumer(&server, "direct").filters(["context", "count", "attempts"]);
    let client = Client::with_extensions(config, &loader).unwrap();
    let events: Arc<Mutex<Vec<String>>> = Arc::default();
    let log = events.clone();
    client
        .events()
        .subscribe(move |_: &CallStart| log.lock().unwrap().push("call start".into()));
    let log = events.clone();
    client.events().subscribe(move |e: &CallEnd| {
        log.lock()
            .unwrap()
            .push(format!("call end {}", e.outcome.is_success()))
    });
    let log = events.clone();
    client.events().subscribe(move |e: &AttemptStart| {
        log.lock()
            .unwrap()
            .push(format!("attempt start {}", e.provider.protocol()))
    });
    let log = events.clone();
    client.events().subscribe(move |e: &AttemptEnd| {
        log.lock().unwrap().push(format!(
            "attempt end {} {}",
            e.provider.protocol(),
            e.outcome.is_success()
        ))
    });
    let opened = Arc::new(AtomicUsize::new(0));
    let count = opened.clone();
    client.events().subscribe(move |_: &ConnectionOpened| {
        count.fetch_add(1, Ordering::SeqCst);
    });
    let echo = EchoServiceClient::new(client);

    assert_eq!(echo.add(2, 3).await.unwrap(), 5);
    let user = User {
        name: "ann".into(),
        age: 7,
    };
    assert_eq!(echo.echo_user(user.clone()).await.unwrap(), user);
    assert_eq!(answered_by(&echo).await, "injvm");
    // Baggage reaches the method and its response baggage comes back, as over the network.
    let reply = echo
        .baggage()
        .baggage("tenant", "t1")
        .detailed()
        .await
        .unwrap();
    assert_eq!(reply.value, vec![("tenant".to_string(), "t1".to_string())]);
    assert_eq!(reply.baggage.get("seen").map(String::as_str), Some("1"));

    // No socket: the server never saw a connection and the consumer never opened one.
    assert_eq!(server.connections(), 0);
    assert_eq!(opened.load(Ordering::SeqCst), 0);
    assert_eq!(calls.load(Ordering::SeqCst), 4);
    let local = format!("injvm://{}", server.local_addr());
    assert_eq!(*attempts.lock().unwrap(), vec![local; 4]);
    let events = events.lock().unwrap().clone();
    assert_eq!(events.len(), 16, "{events:?}");
    assert_eq!(
        events[..4],
        [
            "call start",
            "attempt start injvm",
            "attempt end injvm true",
            "call end true"
        ]
    );
    server.shutdown().await;
}

#[tokio::test]
async fn with_in_process_off_the_call_takes_the_socket() {
    let server = export("off", true, Echo::default()).await;
    let echo = client_with(consumer(&server, "off").in_process(false));
    assert_eq!(answered_by(&echo).await, "bolt");
    assert_eq!(echo.add(1, 1).await.unwrap(), 2);
    assert_eq!(server.connections(), 1);
    server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn calls_turn_remote_when_the_local_server_stops_and_local_when_one_returns() {
    // The remote provider: exported over the network only.
    let remote = export("failback", false, Echo::default()).await;
    let local = export("failback", true, Echo::default()).await;
    // Retries cover a call that chose the local provider in the instant it was withdrawn.
    let echo = client_with(consumer(&remote, "failback").retries(1));
    assert_eq!(answered_by(&echo).await, "injvm");
    assert_eq!(remote.connections(), 0);

    // Calls keep going while the local server stops: none is lost.
    let made = Arc::new(AtomicUsize::new(0));
    let stopped = Arc::new(AtomicUsize::new(0));
    let caller = echo.clone();
    let (count, stop) = (made.clone(), stopped.clone());
    let running = tokio::spawn(async move {
        let mut by = Vec::new();
        let mut after_stop = 0;
        // At most 100 000 calls; 50 after the server has stopped.
        for i in 0..100_000 {
            let reply = caller.add(i, 1).detailed().await.unwrap();
            assert_eq!(reply.value, i + 1);
            by.push(reply.provider.unwrap().protocol().to_string());
            count.fetch_add(1, Ordering::SeqCst);
            if stop.load(Ordering::SeqCst) == 1 {
                after_stop += 1;
                if after_stop == 50 {
                    break;
                }
            }
        }
        by
    });
    for _ in 0..10_000 {
        if made.load(Ordering::SeqCst) >= 50 || running.is_finished() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(1)).await;
    }
    assert!(made.load(Ordering::SeqCst) >= 50, "the calls stalled");
    local.shutdown().await;
    stopped.store(1, Ordering::SeqCst);
    let by = tokio::time::timeout(Duration::from_secs(20), running)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(by.first().map(String::as_str), Some("injvm"));
    assert_eq!(by.last().map(String::as_str), Some("bolt"));
    // Local until the stop, remote from then on: never back and forth.
    let switched = by.iter().position(|p| p == "bolt").unwrap();
    assert!(by[switched..].iter().all(|p| p == "bolt"), "{by:?}");
    assert_eq!(answered_by(&echo).await, "bolt");
    assert_eq!(remote.connections(), 1);

    // A server exporting it again takes the calls again.
    let again = export("failback", true, Echo::default()).await;
    assert_eq!(answered_by(&echo).await, "injvm");
    again.shutdown().await;
    assert_eq!(answered_by(&echo).await, "bolt");
    remote.shutdown().await;
}

/// The outcome of `f` on a consumer that calls in-process, and on one that does not.
async fn both_ways<T, F, Fut>(unique_id: &str, f: F) -> (Result<T>, Result<T>)
where
    F: Fn(EchoServiceClient) -> Fut,
    Fut: std::future::Future<Output = Result<T>>,
{
    let server = export(unique_id, true, Echo::default()).await;
    let local = f(client_with(consumer(&server, unique_id))).await;
    let remote = f(client_with(consumer(&server, unique_id).in_process(false))).await;
    server.shutdown().await;
    (local, remote)
}

#[tokio::test]
async fn application_errors_and_framework_errors_come_out_as_over_the_network() {
    let (local, remote) = both_ways(
        "errors",
        |echo| async move { echo.refuse("no".into()).await },
    )
    .await;
    let local = local.unwrap();
    assert_eq!(
        local,
        Err(Refused("com.example.RefusedException: no".into()))
    );
    assert_eq!(local, remote.unwrap());

    let (local, remote) = both_ways("panics", |echo| async move { echo.explode().await }).await;
    let (local, remote) = (local.unwrap_err(), remote.unwrap_err());
    assert_eq!(local.kind(), ErrorKind::ServerUndeclared);
    assert_eq!(local.kind(), remote.kind());
    assert_eq!(local.message(), remote.message());
}

#[tokio::test]
async fn a_slow_method_times_out_as_over_the_network() {
    let hits = Arc::new(AtomicUsize::new(0));
    let echo = Echo {
        hits: hits.clone(),
        name: "slow",
    };
    let server = export("slow", true, echo).await;
    let client = client_with(consumer(&server, "slow"));
    let started = Instant::now();
    let error = client
        .sleep(2_000)
        .timeout(Duration::from_millis(100))
        .await
        .unwrap_err();
    assert_eq!(error.kind(), ErrorKind::ClientTimeout, "{error}");
    assert!(started.elapsed() < Duration::from_millis(1_500));
    // A fast call right after is unaffected, and the server saw no connection.
    assert_eq!(client.sleep(1).await.unwrap(), 1);
    assert_eq!(hits.load(Ordering::SeqCst), 2);
    assert_eq!(server.connections(), 0);
    server.shutdown().await;
}

#[tokio::test]
async fn oneway_calls_reach_the_local_provider() {
    let hits = Arc::new(AtomicUsize::new(0));
    let echo = Echo {
        hits: hits.clone(),
        name: "oneway",
    };
    let server = export("oneway", true, echo).await;
    let client = client_with(consumer(&server, "oneway"));
    for _ in 0..3 {
        client.hit().oneway().await.unwrap();
    }
    for _ in 0..200 {
        if hits.load(Ordering::SeqCst) == 3 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    assert_eq!(hits.load(Ordering::SeqCst), 3);
    assert_eq!(server.connections(), 0);
    server.shutdown().await;
}

#[tokio::test]
async fn generic_calls_take_the_network() {
    let server = export("generic", true, Echo::default()).await;
    let client = Client::new(consumer(&server, "generic")).unwrap();
    let sum: i32 = client
        .generic("com.example.EchoService:1.0:generic")
        .invoke("add", DynArgs::new().arg("int", 40).arg("int", 2))
        .await
        .unwrap();
    assert_eq!(sum, 42);
    assert_eq!(server.connections(), 1);
    // The same client's typed calls still go in-process.
    assert_eq!(answered_by(&EchoServiceClient::new(client)).await, "injvm");
    server.shutdown().await;
}

/// The same service name, defined again with other Rust types (as another crate might).
#[allow(dead_code, unreachable_pub)]
mod other {
    #[sofa_rpc_core::service(interface = "com.example.EchoService")]
    pub trait EchoService {
        async fn echo(&self, message: String) -> String;
        async fn add(&self, a: String, b: String) -> String;
    }
}

#[tokio::test]
async fn a_same_named_service_of_other_types_takes_the_network_without_panicking() {
    let server = export("twin", true, Echo::default()).await;
    let twin = other::EchoServiceClient::new(Client::new(consumer(&server, "twin")).unwrap());
    // Compatible on the wire: the call succeeds, over the socket.
    let reply = twin.echo("hi".into()).detailed().await.unwrap();
    assert_eq!(reply.value, "hi");
    assert_eq!(reply.provider.unwrap().protocol(), "bolt");
    assert_eq!(server.connections(), 1);
    // Incompatible: the provider cannot read the arguments, and says so.
    let error = twin.add("a".into(), "b".into()).await.unwrap_err();
    assert_eq!(error.kind(), ErrorKind::ServerDeserialize, "{error}");
    server.shutdown().await;
}

/// A hand-written dispatcher that takes the stub's arguments in-process but answers with a
/// value of another type than the stub expects.
struct WrongResult;

impl Dispatch for WrongResult {
    fn service_id(&self) -> ServiceId {
        ServiceId::new("com.example.EchoService", "1.0", "wrong")
    }

    fn methods(&self) -> &'static [&'static str] {
        &["echo"]
    }

    fn prepare(&self, method: &str, _: &mut dyn RequestReader<'_>) -> Result<Prepared> {
        Err(RpcError::not_found(method))
    }

    fn accepts_local(&self, _: &str, args: &dyn Args) -> bool {
        args.as_any().is_some()
    }

    fn prepare_local(&self, _: &str, _: &dyn Args) -> Option<Prepared> {
        Some(Box::pin(async {
            Reply::Value(sofa_rpc_core::__private::owned!(u64, 7u64))
        }))
    }
}

#[tokio::test]
async fn a_result_of_another_type_is_a_clear_error() {
    let server = Server::builder()
        .bind("127.0.0.1:0")
        .service(WrongResult)
        .start()
        .await
        .unwrap();
    let echo = client_with(consumer(&server, "wrong"));
    let error = echo.echo("hi".into()).await.unwrap_err();
    assert_eq!(error.kind(), ErrorKind::ClientDeserialize, "{error}");
    assert!(error.message().contains("in-process"), "{error}");
    assert_eq!(server.connections(), 0);
    server.shutdown().await;
}

#[tokio::test]
async fn a_stopped_server_leaves_nothing_behind_in_the_process() {
    let implementation = Arc::new(Echo::default());
    let server = Server::builder()
        .bind("127.0.0.1:0")
        .provider(
            ProviderConfig::new(EchoServiceServer::from_arc(implementation.clone()))
                .unique_id("freed"),
        )
        .start()
        .await
        .unwrap();
    let echo = client_with(consumer(&server, "freed"));
    assert_eq!(answered_by(&echo).await, "injvm");
    server.shutdown().await;
    // Only weak references stayed in the table and in this thread's cache: the implementation
    // is freed with its server, and the next call looks for a provider over the network.
    assert_eq!(Arc::strong_count(&implementation), 1);
    let error = echo.echo("gone".into()).await.unwrap_err();
    assert_eq!(error.kind(), ErrorKind::ClientNetwork, "{error}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_registry_consumer_calls_in_process_and_finds_the_network_provider_when_it_stops() {
    let file = std::env::temp_dir().join(format!(
        "sofa-rpc-in-process-{}-{:?}",
        std::process::id(),
        Instant::now()
    ));
    let url = format!("local://{}?scanPeriod=50", file.display());
    // Published in the registry, called over the network only.
    let remote = Server::builder()
        .bind("127.0.0.1:0")
        .in_process(false)
        .registry(url.clone())
        .provider(ProviderConfig::new(EchoServiceServer::new(Echo::default())).unique_id("reg"))
        .start()
        .await
        .unwrap();
    // In this process, published nowhere.
    let local = export("reg", true, Echo::default()).await;
    let echo = client_with(
        ConsumerConfig::new()
            .registry(url)
            .registry_cache(None)
            .unique_id("reg"),
    );
    assert_eq!(answered_by(&echo).await, "injvm");
    assert_eq!(answered_by(&echo).await, "injvm");
    local.shutdown().await;
    // The subscription started with the first call: the registry's provider takes over.
    let mut by = String::new();
    for _ in 0..200 {
        match echo.echo("who".into()).detailed().await {
            Ok(reply) => {
                by = reply.provider.unwrap().to_string();
                break;
            }
            Err(_) => tokio::time::sleep(Duration::from_millis(25)).await,
        }
    }
    assert!(by.starts_with("bolt://"), "answered by {by:?}");
    assert_eq!(remote.connections(), 1);
    remote.shutdown().await;
    let _ = std::fs::remove_file(&file);
}
