//! The event bus and attempt filters over real sockets: what each side publishes, and what an
//! attempt filter sees of a failover call.

#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

mod common;

use std::sync::{Arc, Mutex};
use std::time::Duration;

use common::*;
use sofa_rpc_core::event::{
    AttemptEnd, AttemptStart, CallEnd, CallStart, ConnectionClosed, ConnectionOpened, EventBus,
    ServerReceive, ServerSend, ServerStarted, ServerStopped,
};
use sofa_rpc_core::filter::{Attempt, AttemptLayer};
use sofa_rpc_core::{Client, ConsumerConfig, ErrorKind, ExtensionLoader};
use tower::util::MapRequestLayer;

type Log = Arc<Mutex<Vec<String>>>;

fn record<E: sofa_rpc_core::event::Event>(
    bus: &EventBus,
    log: &Log,
    line: impl Fn(&E) -> String + Send + Sync + 'static,
) {
    let log = log.clone();
    bus.subscribe(move |e: &E| log.lock().unwrap().push(line(e)));
}

async fn settle(log: &Log, pred: impl Fn(&[String]) -> bool) -> Vec<String> {
    for _ in 0..200 {
        if pred(&log.lock().unwrap()) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    log.lock().unwrap().clone()
}

#[tokio::test]
async fn an_attempt_filter_sees_every_provider_a_failover_call_tries() {
    let server = serve(Echo::default()).await;
    let dead = dead_addr().await;
    let tried: Log = Log::default();
    let seen = tried.clone();
    let mut loader = ExtensionLoader::default();
    loader.register_filter(
        "tried",
        AttemptLayer(MapRequestLayer::new(move |attempt: Attempt| {
            seen.lock()
                .unwrap()
                .push(format!("{} {}", attempt.number, attempt.provider.address()));
            attempt
        })),
    );
    let bus = EventBus::new();
    let ends: Log = Log::default();
    record(&bus, &ends, |e: &AttemptEnd| {
        format!(
            "{} {} {:?}",
            e.attempt,
            e.provider.address(),
            e.outcome.error_kind()
        )
    });
    // The dead provider first: round robin starts there, so failover must move on.
    let config = ConsumerConfig::new()
        .direct_url(format!("{dead};{}", server.local_addr()))
        .load_balancer("roundRobin")
        .retries(2)
        .filters(["context", "tried"])
        .events(bus);
    let client = Client::with_extensions(config, &loader).unwrap();
    let echo = EchoServiceClient::new(client);
    for _ in 0..2 {
        assert_eq!(echo.echo("hi".into()).await.unwrap(), "hi");
    }
    let live = server.local_addr().to_string();
    let tried = tried.lock().unwrap().clone();
    let ends = ends.lock().unwrap().clone();
    println!("attempts seen by the filter: {tried:?}");
    println!("attempt events: {ends:?}");
    // Some call tried the dead one first, then the live one as its second attempt.
    assert!(tried.contains(&format!("1 {dead}")), "{tried:?}");
    assert!(tried.contains(&format!("2 {live}")), "{tried:?}");
    assert!(
        ends.contains(&format!("1 {dead} Some(ClientNetwork)")),
        "{ends:?}"
    );
    assert!(ends.contains(&format!("2 {live} None")), "{ends:?}");
    // Never the same provider twice in one call.
    assert!(!tried.contains(&format!("2 {dead}")), "{tried:?}");
    server.shutdown().await;
}

#[tokio::test]
async fn client_and_server_publish_calls_requests_connections_and_lifecycle() {
    let server_bus = EventBus::new();
    let server_log: Log = Log::default();
    record(&server_bus, &server_log, |e: &ServerStarted| {
        format!("started {}", e.services.len())
    });
    record(&server_bus, &server_log, |e: &ServerReceive| {
        format!("receive {}#{}", e.service.interface(), e.method)
    });
    record(&server_bus, &server_log, |e: &ServerSend| {
        format!("send {} app_exception={}", e.method, e.app_exception)
    });
    record(&server_bus, &server_log, |e: &ConnectionOpened| {
        format!("open {:?}", e.side)
    });
    record(&server_bus, &server_log, |e: &ConnectionClosed| {
        format!("closed {:?}", e.side)
    });
    record(&server_bus, &server_log, |_: &ServerStopped| {
        "stopped".into()
    });
    let server = builder()
        .events(server_bus)
        .service(EchoServiceServer::new(Echo::default()))
        .start()
        .await
        .unwrap();

    let client_log: Log = Log::default();
    let client =
        Client::new(ConsumerConfig::new().direct_url(server.local_addr().to_string())).unwrap();
    let bus = client.events();
    record(bus, &client_log, |e: &CallStart| {
        format!("start {}", e.method)
    });
    record(bus, &client_log, |e: &AttemptStart| {
        format!("attempt {} {}", e.attempt, e.provider.address())
    });
    record(bus, &client_log, |e: &CallEnd| {
        format!("end {} {:?}", e.method, e.outcome.error_kind())
    });
    record(bus, &client_log, |e: &ConnectionOpened| {
        format!("open {:?}", e.side)
    });
    let echo = EchoServiceClient::new(client.clone());
    assert_eq!(echo.echo("x".into()).await.unwrap(), "x");
    let refused = echo.refuse("no".into()).await;
    assert!(
        refused.is_ok(),
        "an application error travels inside the answer"
    );

    let addr = server.local_addr();
    let client_seen = settle(&client_log, |l| l.len() >= 7).await;
    println!("client events: {client_seen:?}");
    assert_eq!(
        client_seen,
        [
            "start echo".to_string(),
            format!("attempt 1 {addr}"),
            // The first attempt opens the connection.
            "open Client".into(),
            "end echo None".into(),
            "start refuse".into(),
            format!("attempt 1 {addr}"),
            "end refuse None".into(),
        ]
    );
    drop((echo, client));
    server.shutdown().await;
    let server_seen = settle(&server_log, |l| {
        l.last().map(String::as_str) == Some("stopped")
    })
    .await;
    println!("server events: {server_seen:?}");
    assert_eq!(server_seen[0], "started 1");
    assert!(
        server_seen.contains(&"open Server".to_string()),
        "{server_seen:?}"
    );
    assert!(server_seen.contains(&"receive com.example.EchoService#echo".to_string()));
    assert!(server_seen.contains(&"send echo app_exception=false".to_string()));
    assert!(server_seen.contains(&"send refuse app_exception=true".to_string()));
    assert!(
        server_seen.contains(&"closed Server".to_string()),
        "{server_seen:?}"
    );
    assert_eq!(server_seen.last().unwrap(), "stopped");
}

#[tokio::test]
async fn a_failed_call_ends_with_its_error_kind() {
    let dead = dead_addr().await;
    let client = Client::new(ConsumerConfig::new().direct_url(dead)).unwrap();
    let log: Log = Log::default();
    record(client.events(), &log, |e: &CallEnd| {
        format!("{:?}", e.outcome.error_kind())
    });
    let echo = EchoServiceClient::new(client);
    assert_eq!(
        echo.echo("x".into()).await.unwrap_err().kind(),
        ErrorKind::ClientNetwork
    );
    assert_eq!(
        settle(&log, |l| !l.is_empty()).await,
        ["Some(ClientNetwork)"]
    );
}

/// The fields metrics need: both sides' application names, protocol, invoke type and the
/// serialized sizes; the client's sizes match what the server read and wrote.
#[tokio::test]
async fn call_and_request_events_carry_names_and_sizes() {
    let bus = EventBus::new();
    let calls: Log = Log::default();
    record(&bus, &calls, |e: &CallEnd| {
        format!(
            "{:?} {} {} {:?} {:?}",
            e.app.as_deref(),
            e.protocol,
            e.invoke_type.as_str(),
            e.request_size,
            e.response_size
        )
    });
    let requests: Log = Log::default();
    record(&bus, &requests, |e: &ServerSend| {
        format!(
            "{:?} {:?} {} {} {:?} {:?}",
            e.app.as_deref(),
            e.caller_app.as_deref(),
            e.protocol,
            e.invoke_type.as_str(),
            Some(e.request_size),
            e.response_size
        )
    });
    let server = builder()
        .app_name("provider-app")
        .events(bus.clone())
        .service(EchoServiceServer::new(Echo::default()))
        .start()
        .await
        .unwrap();
    let echo = client_with(
        ConsumerConfig::new()
            .direct_url(server.local_addr().to_string())
            .app_name("consumer-app")
            .events(bus),
    );
    assert_eq!(echo.echo("x".repeat(100)).await.unwrap(), "x".repeat(100));
    let calls = settle(&calls, |l| !l.is_empty()).await;
    let requests = settle(&requests, |l| !l.is_empty()).await;
    let call: Vec<&str> = calls[0].split(' ').collect();
    assert_eq!(
        call[..3],
        ["Some(\"consumer-app\")", "bolt", "sync"],
        "{calls:?}"
    );
    let request: Vec<&str> = requests[0].split(' ').collect();
    assert_eq!(
        request[..4],
        [
            "Some(\"provider-app\")",
            "Some(\"consumer-app\")",
            "bolt",
            "sync"
        ],
        "{requests:?}"
    );
    // Request and response sizes as both ends saw them, each above the 100-byte argument.
    assert_eq!(call[3..], request[4..], "{calls:?} {requests:?}");
    for size in &call[3..] {
        let bytes: usize = size
            .trim_start_matches("Some(")
            .trim_end_matches(')')
            .parse()
            .unwrap();
        assert!(bytes > 100, "{calls:?}");
    }
    server.shutdown().await;
}
