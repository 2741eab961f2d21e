//! A provider killed with SIGKILL under load: callers see errors only for the calls that were
//! in flight on it, and failover carries the rest to the provider left.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs)]

mod common;

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, AtomicU32, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use common::*;
use sofa_rpc_core::ConsumerConfig;

const CHILD: &str = "SOFA_CHAOS_PROVIDER";

/// In the child process (started by the test below): serve until killed, for at most 60 s.
/// In a normal test run: nothing.
#[tokio::test]
async fn provider_process() {
    if std::env::var_os(CHILD).is_none() {
        return;
    }
    // Restarted on the address it had, when the test names one.
    let bind = std::env::var("SOFA_CHAOS_BIND").unwrap_or_else(|_| "127.0.0.1:0".into());
    let server = sofa_rpc_core::Server::builder()
        .bind(bind)
        // Over the network, even from this process.
        .in_process(false)
        .service(EchoServiceServer::new(Echo::default()))
        .start()
        .await
        .unwrap();
    println!("ADDR {}", server.local_addr());
    tokio::time::sleep(Duration::from_secs(60)).await;
}

/// Starts a provider process (on `bind`, or a free port); returns it and its address.
fn provider(bind: Option<&str>) -> (Child, String) {
    let mut command = Command::new(std::env::current_exe().unwrap());
    command
        .args([
            "--exact",
            "provider_process",
            "--nocapture",
            "--test-threads=1",
        ])
        .env(CHILD, "1")
        .stdout(Stdio::piped())
        .stderr(Stdio::null());
    if let Some(bind) = bind {
        command.env("SOFA_CHAOS_BIND", bind);
    }
    let mut child = command.spawn().unwrap();
    let stdout = child.stdout.take().unwrap();
    // libtest may print the test's name on the same line first.
    let addr = BufReader::new(stdout)
        .lines()
        .map_while(Result::ok)
        .find_map(|l| l.split("ADDR ").nth(1).map(|a| a.trim().to_string()))
        .expect("the provider process printed its address");
    (child, addr)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn killing_a_provider_under_load_fails_only_its_calls_in_flight() {
    let (mut child, doomed) = provider(None);
    let live = serve(Echo::default()).await;
    let echo = client_with(
        ConsumerConfig::new()
            .direct_url(format!("{doomed};{}", live.local_addr()))
            .retries(1),
    );
    let deadline = Instant::now() + Duration::from_secs(10);
    while live.connections() == 0 {
        assert!(Instant::now() < deadline, "never reached the live provider");
        echo.sleep(0).await.unwrap();
    }

    const CALLERS: u32 = 8;
    let stop = Arc::new(AtomicBool::new(false));
    let killed = Arc::new(AtomicBool::new(false));
    let ok = Arc::new(AtomicU32::new(0));
    let failed = Arc::new(AtomicU32::new(0));
    let failed_after = Arc::new(AtomicU32::new(0));
    let callers: Vec<_> = (0..CALLERS)
        .map(|_| {
            let (echo, stop, killed) = (echo.clone(), stop.clone(), killed.clone());
            let (ok, failed, failed_after) = (ok.clone(), failed.clone(), failed_after.clone());
            tokio::spawn(async move {
                while !stop.load(Ordering::SeqCst) {
                    // Started after the kill, a call has nothing in flight on the dead provider.
                    let after = killed.load(Ordering::SeqCst);
                    match echo.sleep(20).await {
                        Ok(_) => ok.fetch_add(1, Ordering::SeqCst),
                        Err(e) => {
                            eprintln!("failed: {e}");
                            if after {
                                failed_after.fetch_add(1, Ordering::SeqCst);
                            }
                            failed.fetch_add(1, Ordering::SeqCst)
                        }
                    };
                }
            })
        })
        .collect();
    tokio::time::sleep(Duration::from_millis(500)).await;
    child.kill().unwrap(); // SIGKILL
    let _ = child.wait();
    killed.store(true, Ordering::SeqCst);
    tokio::time::sleep(Duration::from_millis(1000)).await;
    stop.store(true, Ordering::SeqCst);
    for c in callers {
        c.await.unwrap();
    }
    let (ok, failed, failed_after) = (
        ok.load(Ordering::SeqCst),
        failed.load(Ordering::SeqCst),
        failed_after.load(Ordering::SeqCst),
    );
    println!("provider killed under load: {ok} ok, {failed} failed ({failed_after} started after the kill)");
    assert!(ok > 100, "{ok} calls");
    // One call per caller at most can have been in flight on the killed provider.
    assert!(failed <= CALLERS, "{failed} failed");
    assert_eq!(failed_after, 0, "calls started after the kill all succeed");
    live.shutdown().await;
}

/// Without retries: a killed provider fails only the calls in flight on it (the pool marks it
/// down before those calls fail, so no caller picks it again), and it takes calls again once
/// it is back on its address (the pool reconnects in the background).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_retries_a_killed_provider_fails_only_its_calls_in_flight_and_rejoins() {
    use sofa_rpc_core::event::AttemptEnd;

    let (mut child, doomed) = provider(None);
    let live = serve(Echo::default()).await;
    let client = sofa_rpc_core::Client::new(
        ConsumerConfig::new().direct_url(format!("{doomed};{}", live.local_addr())),
    )
    .unwrap();
    // Which provider each successful attempt reached.
    let doomed_hits = Arc::new(AtomicU32::new(0));
    let hits = doomed_hits.clone();
    let watched = doomed.clone();
    client.events().subscribe(move |e: &AttemptEnd| {
        if e.provider.address() == watched && e.outcome.is_success() {
            hits.fetch_add(1, Ordering::SeqCst);
        }
    });
    let echo = EchoServiceClient::new(client);
    let deadline = Instant::now() + Duration::from_secs(10);
    while live.connections() == 0 || doomed_hits.load(Ordering::SeqCst) == 0 {
        assert!(Instant::now() < deadline, "never reached both providers");
        echo.sleep(0).await.unwrap();
    }

    const CALLERS: u32 = 8;
    let stop = Arc::new(AtomicBool::new(false));
    let ok = Arc::new(AtomicU32::new(0));
    let failed = Arc::new(AtomicU32::new(0));
    let callers: Vec<_> = (0..CALLERS)
        .map(|_| {
            let (echo, stop, ok, failed) = (echo.clone(), stop.clone(), ok.clone(), failed.clone());
            tokio::spawn(async move {
                let mut mine = 0;
                while !stop.load(Ordering::SeqCst) {
                    match echo.sleep(20).await {
                        Ok(_) => ok.fetch_add(1, Ordering::SeqCst),
                        Err(e) => {
                            eprintln!("failed: {e}");
                            mine += 1;
                            failed.fetch_add(1, Ordering::SeqCst)
                        }
                    };
                }
                mine
            })
        })
        .collect();
    tokio::time::sleep(Duration::from_millis(500)).await;
    child.kill().unwrap(); // SIGKILL
    let _ = child.wait();
    tokio::time::sleep(Duration::from_millis(1000)).await;
    stop.store(true, Ordering::SeqCst);
    let mut most_by_one_caller = 0;
    for c in callers {
        most_by_one_caller = most_by_one_caller.max(c.await.unwrap());
    }
    let (ok, failed) = (ok.load(Ordering::SeqCst), failed.load(Ordering::SeqCst));
    println!("provider killed under load, no retries: {ok} ok, {failed} failed, at most {most_by_one_caller} by one caller");
    assert!(ok > 100, "{ok} calls");
    // Each caller has one call in flight at a time: only that one can be lost.
    assert!(
        most_by_one_caller <= 1,
        "a caller failed {most_by_one_caller} times"
    );
    assert!(failed <= CALLERS, "{failed} failed");

    // Back on its address: the pool's background reconnect finds it and calls reach it again.
    let before = doomed_hits.load(Ordering::SeqCst);
    let (mut again, _) = provider(Some(&doomed));
    let started = Instant::now();
    while doomed_hits.load(Ordering::SeqCst) == before {
        assert!(
            started.elapsed() < Duration::from_secs(20),
            "the restarted provider never took a call"
        );
        echo.sleep(0).await.unwrap();
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    println!(
        "the restarted provider took calls again after {:?}",
        started.elapsed()
    );
    again.kill().unwrap();
    let _ = again.wait();
    live.shutdown().await;
}
