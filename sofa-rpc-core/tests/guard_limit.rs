//! Rate limits of the traffic guard over real sockets: token bucket rate, leaky bucket queue
//! and wait bounds, provider-side limits per caller app answered SERVER_THREADPOOL_BUSY, and
//! rules replaced while calls run.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs)]

mod common;

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use common::*;
use sofa_rpc_core::bolt::{Connection, ConnectionConfig, Frame, HeaderMap, ResponseStatus};
use sofa_rpc_core::guard::{Guard, GuardRules};
use sofa_rpc_core::{ConsumerConfig, ErrorKind};

fn guarded(server: &sofa_rpc_core::Server, guard: &Guard) -> EchoServiceClient {
    client_with(
        ConsumerConfig::new()
            .direct_url(server.local_addr().to_string())
            .guard(guard.clone()),
    )
}

fn rules(json: &str) -> GuardRules {
    GuardRules::from_json(json).unwrap()
}

/// Calls `echo` from `tasks` tasks until `stop`; a refused call waits 1 ms before the next
/// (demand stays far above any rate tested, without spinning).
fn hammer(
    echo: &EchoServiceClient,
    tasks: usize,
    stop: &Arc<AtomicBool>,
    refused: &Arc<AtomicU64>,
) -> Vec<tokio::task::JoinHandle<u64>> {
    (0..tasks)
        .map(|_| {
            let (echo, stop, refused) = (echo.clone(), stop.clone(), refused.clone());
            tokio::spawn(async move {
                let mut ok = 0;
                let deadline = Instant::now() + Duration::from_secs(20);
                while !stop.load(Ordering::SeqCst) && Instant::now() < deadline {
                    match echo.echo("x".into()).await {
                        Ok(_) => ok += 1,
                        Err(e) => {
                            assert_eq!(e.kind(), ErrorKind::ClientRateLimited, "{e}");
                            assert!(!e.is_retryable());
                            refused.fetch_add(1, Ordering::SeqCst);
                            tokio::time::sleep(Duration::from_millis(1)).await;
                        }
                    }
                }
                ok
            })
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn token_bucket_admits_its_rate() {
    let server = serve(Echo::default()).await;
    let guard = Guard::new();
    guard
        .replace(rules(
            r#"{"rate_limit": [{"id": "echo-100", "service": "com.example.EchoService",
                "method": "echo", "token_bucket": {"rate": 100, "burst": 10}}]}"#,
        ))
        .unwrap();
    let echo = guarded(&server, &guard);
    // Other methods are not limited.
    for _ in 0..50 {
        assert_eq!(echo.add(1, 2).await.unwrap(), 3);
    }
    let stop = Arc::new(AtomicBool::new(false));
    let refused = Arc::new(AtomicU64::new(0));
    let tasks = hammer(&echo, 8, &stop, &refused);
    // Counted on the limiter's own clock, from after the first burst: wall time in the test
    // may stretch under load, the count per limiter second may not. A burst of 10 lets a
    // call that comes a little late still use its token (with a burst of 1 each late call
    // loses the time it is late); it also bounds the error of the two readings to 10 calls.
    tokio::time::sleep(Duration::from_millis(500)).await;
    let first = guard.stats("echo-100").unwrap();
    tokio::time::sleep(Duration::from_millis(3000)).await;
    let second = guard.stats("echo-100").unwrap();
    stop.store(true, Ordering::SeqCst);
    let mut ok = 0;
    for t in tasks {
        ok += t.await.unwrap();
    }
    let window = (second.at - first.at).as_secs_f64();
    let passed = (second.passed - first.passed) as f64;
    let expected = 100.0 * window;
    println!("{passed} passed in {window:.3} s of the limiter's clock (expected {expected:.0}); {} refused", refused.load(Ordering::SeqCst));
    assert!(
        (passed - expected).abs() <= expected * 0.1,
        "{passed} vs {expected}"
    );
    assert!(refused.load(Ordering::SeqCst) > 0);
    // Read once every caller stopped: calls admitted after the second reading count too.
    let last = guard.stats("echo-100").unwrap();
    assert_eq!(last.passed, ok, "every admitted call succeeded");
    assert_eq!(last.refused, refused.load(Ordering::SeqCst));
    server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn leaky_bucket_bounds_its_queue_and_its_wait() {
    let server = serve(Echo::default()).await;
    let guard = Guard::new();
    // One call every 500 ms; `echo`: at most 3 waiting; `add`: at most 1200 ms of wait.
    guard
        .replace(rules(
            r#"{"rate_limit": [
                {"id": "queue", "service": "com.example.EchoService", "method": "echo",
                 "leaky_bucket": {"rate": 2, "queue": 3, "max_wait_ms": 10000}},
                {"id": "wait", "service": "com.example.EchoService", "method": "add",
                 "leaky_bucket": {"rate": 2, "queue": 100, "max_wait_ms": 1200}}]}"#,
        ))
        .unwrap();
    let echo = guarded(&server, &guard);
    let start = Instant::now();
    let queued: Vec<_> = (0..10)
        .map(|_| {
            let echo = echo.clone();
            tokio::spawn(async move {
                let r = echo.echo("q".into()).timeout(Duration::from_secs(10)).await;
                (r.is_ok(), start.elapsed())
            })
        })
        .collect();
    let waited: Vec<_> = (0..10)
        .map(|_| {
            let echo = echo.clone();
            tokio::spawn(async move {
                let r = echo.add(1, 1).timeout(Duration::from_secs(10)).await;
                (r.is_ok(), start.elapsed())
            })
        })
        .collect();
    let mut results = Vec::new();
    for h in queued {
        results.push(h.await.unwrap());
    }
    let ok: Vec<Duration> = results.iter().filter(|r| r.0).map(|r| r.1).collect();
    // The one at once and the three queued behind it, leaving 500 ms apart.
    assert_eq!(ok.len(), 4, "{results:?}");
    let last = ok.iter().max().unwrap();
    assert!(
        *last >= Duration::from_millis(1400),
        "the last one waited its turn: {last:?}"
    );
    let mut results = Vec::new();
    for h in waited {
        results.push(h.await.unwrap());
    }
    let ok: Vec<Duration> = results.iter().filter(|r| r.0).map(|r| r.1).collect();
    // Waits of 0, 500 and 1000 ms fit in 1200; 1500 does not.
    assert_eq!(ok.len(), 3, "{results:?}");
    assert_eq!(guard.stats("wait").unwrap().refused, 7);
    assert_eq!(guard.stats("queue").unwrap().refused, 6);
    server.shutdown().await;
}

/// One JSON-encoded `echo` request, as a Java or Node caller of app `app` sends it.
fn raw_echo(app: &str) -> Frame {
    let mut header = HeaderMap::new();
    header.insert("service", "com.example.EchoService:1.0");
    header.insert("sofa_head_method_name", "echo");
    header.insert("app", app.to_string());
    Frame::request(
        "com.alipay.sofa.rpc.core.request.SofaRequest",
        header,
        bytes::Bytes::from_static(b"\"hi\""),
    )
    .with_codec(12)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn provider_limit_per_app_answers_busy_on_the_wire() {
    let guard = Guard::new();
    // `web` gets two calls, then one per 1000 s; other apps are not limited.
    guard
        .replace(rules(
            r#"{"rate_limit": [{"id": "web", "service": "com.example.EchoService", "side": "provider",
                "app": "web", "token_bucket": {"rate": 0.001, "burst": 2}}]}"#,
        ))
        .unwrap();
    // Refused requests are answered requests: the server's events (and metrics) count them.
    let bus = sofa_rpc_core::event::EventBus::new();
    let busy_sent = Arc::new(AtomicU64::new(0));
    let counted = busy_sent.clone();
    bus.subscribe(move |e: &sofa_rpc_core::event::ServerSend| {
        if matches!(&e.outcome, sofa_rpc_core::event::Outcome::Failed { kind, .. } if *kind == ErrorKind::ServerBusy)
        {
            counted.fetch_add(1, Ordering::SeqCst);
        }
    });
    let server = builder()
        .service(EchoServiceServer::new(Echo::default()))
        .guard(guard.clone())
        .events(bus)
        .start()
        .await
        .unwrap();
    let conn = Connection::connect(server.local_addr(), ConnectionConfig::default())
        .await
        .unwrap();
    let mut statuses = Vec::new();
    for _ in 0..4 {
        let response = conn
            .request(raw_echo("web"), Duration::from_secs(3))
            .await
            .unwrap();
        statuses.push(response.status());
    }
    assert_eq!(
        statuses,
        [
            ResponseStatus::SUCCESS,
            ResponseStatus::SUCCESS,
            ResponseStatus::SERVER_THREADPOOL_BUSY,
            ResponseStatus::SERVER_THREADPOOL_BUSY
        ]
    );
    let other = conn
        .request(raw_echo("batch"), Duration::from_secs(3))
        .await
        .unwrap();
    assert_eq!(other.status(), ResponseStatus::SUCCESS);
    // Our own consumers see SERVER_BUSY, by their app name.
    let web = client_with(
        ConsumerConfig::new()
            .direct_url(server.local_addr().to_string())
            .app_name("web"),
    );
    let e = web.echo("x".into()).await.unwrap_err();
    assert_eq!(e.kind(), ErrorKind::ServerBusy, "{e}");
    let batch = client_with(
        ConsumerConfig::new()
            .direct_url(server.local_addr().to_string())
            .app_name("batch"),
    );
    for _ in 0..20 {
        batch.echo("x".into()).await.unwrap();
    }
    let stats = guard.stats("web").unwrap();
    assert_eq!((stats.passed, stats.refused), (2, 3));
    assert_eq!(busy_sent.load(Ordering::SeqCst), 3);
    server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn failover_moves_on_from_a_provider_that_limits() {
    let guard = Guard::new();
    guard
        .replace(rules(
            r#"{"rate_limit": [{"id": "tight", "service": "com.example.EchoService", "side": "provider",
                "token_bucket": {"rate": 0.001, "burst": 1}}]}"#,
        ))
        .unwrap();
    let limited = builder()
        .service(EchoServiceServer::new(Echo::default()))
        .guard(guard.clone())
        .start()
        .await
        .unwrap();
    let free = serve(Echo::default()).await;
    let echo = client_with(
        ConsumerConfig::new()
            .direct_url(format!("{};{}", limited.local_addr(), free.local_addr()))
            .load_balancer("roundRobin")
            .retries(1),
    );
    let limited_addr = limited.local_addr().to_string();
    let mut by_limited = 0;
    for i in 0..20 {
        let answer = echo.echo(format!("{i}")).detailed().await.unwrap();
        assert_eq!(answer.value, format!("{i}"));
        by_limited += usize::from(answer.provider.unwrap().address() == limited_addr);
    }
    let stats = guard.stats("tight").unwrap();
    assert_eq!((stats.passed, by_limited), (1, 1));
    // Round robin kept sending calls there; each refused one went on to the other provider.
    assert!(stats.refused >= 5, "{stats:?}");
    limited.shutdown().await;
    free.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn replaced_rules_take_effect_under_load() {
    let server = serve(Echo::default()).await;
    let guard = Guard::new();
    let echo = guarded(&server, &guard);
    let stop = Arc::new(AtomicBool::new(false));
    let refused = Arc::new(AtomicU64::new(0));
    let tasks = hammer(&echo, 4, &stop, &refused);
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(refused.load(Ordering::SeqCst), 0, "no rules, no refusals");
    let limit = r#"{"id": "slow", "service": "com.example.EchoService", "method": "echo",
                    "token_bucket": {"rate": 5, "burst": 1}}"#;
    let replaced = Instant::now();
    guard
        .replace(rules(&format!(r#"{{"rate_limit": [{limit}]}}"#)))
        .unwrap();
    tokio::time::sleep(Duration::from_millis(600)).await;
    let before = guard.stats("slow").unwrap();
    // One at once, then 5 a second: however long the test was held up.
    let most = 1.0 + 5.0 * replaced.elapsed().as_secs_f64();
    assert!(
        before.refused > 0 && before.passed as f64 <= most,
        "{before:?}"
    );
    // Another rule added: the unchanged one keeps its limiter and its counts.
    guard
        .replace(rules(&format!(
            r#"{{"rate_limit": [{limit}], "fault": [{{"id": "never", "service": "x", "delay": {{"ms": 1, "percent": 0}}}}]}}"#
        )))
        .unwrap();
    let kept = guard.stats("slow").unwrap();
    assert!(kept.refused >= before.refused, "{kept:?} after {before:?}");
    // A bad replacement changes nothing.
    assert!(guard
        .replace_from(b"{\"rate_limit\": 3}", sofa_rpc_core::guard::Format::Json)
        .is_err());
    assert!(guard.stats("slow").is_some());
    guard.replace(GuardRules::default()).unwrap();
    let refused_then = refused.load(Ordering::SeqCst);
    tokio::time::sleep(Duration::from_millis(300)).await;
    stop.store(true, Ordering::SeqCst);
    let mut ok = 0;
    for t in tasks {
        ok += t.await.unwrap();
    }
    // Calls set off before the swap may still meet the old rule; none after.
    assert!(refused.load(Ordering::SeqCst) - refused_then <= 4);
    assert!(ok > 20, "calls flow again: {ok}");
    assert!(guard.stats("slow").is_none());
    server.shutdown().await;
}

/// A consumer remembers the rules of the methods it called last: each method must still find
/// its own, with more methods than are remembered, generic calls whose names are fresh strings,
/// and after the rules are replaced.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_method_finds_its_own_limit() {
    let server = serve(Echo::default()).await;
    let guard = Guard::new();
    // One call for each of m0..m11, then none for an hour; `echo` is not limited.
    let limits = |methods: &[String]| {
        let rules: Vec<String> = methods
            .iter()
            .map(|m| {
                format!(
                    r#"{{"id": "{m}", "service": "com.example.EchoService", "method": "{m}",
                        "token_bucket": {{"rate": 0.0003, "burst": 1}}}}"#
                )
            })
            .collect();
        GuardRules::from_json(&format!(r#"{{"rate_limit": [{}]}}"#, rules.join(","))).unwrap()
    };
    let methods: Vec<String> = (0..12).map(|i| format!("m{i}")).collect();
    guard.replace(limits(&methods)).unwrap();
    let client = sofa_rpc_core::Client::new(
        ConsumerConfig::new()
            .direct_url(server.local_addr().to_string())
            .guard(guard.clone()),
    )
    .unwrap();
    let service = client.generic("com.example.EchoService:1.0");
    let call = |method: &str| {
        let call = service.invoke::<String>(method, sofa_rpc_core::DynArgs::new());
        async move { call.await.unwrap_err().kind() }
    };
    let echo = guarded(&server, &guard);
    for round in 0..3 {
        for m in &methods {
            // Admitted once (the provider has no such method), refused after.
            let want = match round {
                0 => ErrorKind::ServerNotFoundInvoker,
                _ => ErrorKind::ClientRateLimited,
            };
            assert_eq!(call(m).await, want, "{m}, round {round}");
            assert_eq!(echo.echo("x".into()).await.unwrap(), "x");
        }
    }
    for m in &methods {
        let stats = guard.stats(m).unwrap();
        assert_eq!((stats.passed, stats.refused), (1, 2), "{m}");
    }
    // Replaced: `echo` limited now, m0..m11 free.
    guard.replace(limits(&["echo".to_string()])).unwrap();
    assert_eq!(call("m3").await, ErrorKind::ServerNotFoundInvoker);
    assert_eq!(echo.echo("x".into()).await.unwrap(), "x");
    let refused = echo.echo("x".into()).await.unwrap_err();
    assert_eq!(refused.kind(), ErrorKind::ClientRateLimited, "{refused}");
    server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_guard_registered_by_name_is_a_filter_on_both_sides() {
    let guard = Guard::new();
    guard
        .replace(rules(
            r#"{"rate_limit": [
                {"id": "consumer-echo", "service": "com.example.EchoService", "method": "echo",
                 "token_bucket": {"rate": 0.001, "burst": 1}},
                {"id": "provider-add", "service": "com.example.EchoService", "method": "add",
                 "side": "provider", "token_bucket": {"rate": 0.001, "burst": 1}}]}"#,
        ))
        .unwrap();
    let mut loader = sofa_rpc_core::ExtensionLoader::default();
    loader.register_filter("guard", guard.clone());
    let server = builder()
        .extensions(loader.clone())
        .filters(["guard"])
        .service(EchoServiceServer::new(Echo::default()))
        .start()
        .await
        .unwrap();
    let config = ConsumerConfig::new()
        .direct_url(server.local_addr().to_string())
        .filters(["context", "guard"]);
    let echo =
        EchoServiceClient::new(sofa_rpc_core::Client::with_extensions(config, &loader).unwrap());
    echo.echo("1".into()).await.unwrap();
    let e = echo.echo("2".into()).await.unwrap_err();
    assert_eq!(e.kind(), ErrorKind::ClientRateLimited, "{e}");
    echo.add(1, 1).await.unwrap();
    let e = echo.add(1, 1).await.unwrap_err();
    assert_eq!(e.kind(), ErrorKind::ServerBusy, "{e}");
    server.shutdown().await;
}
