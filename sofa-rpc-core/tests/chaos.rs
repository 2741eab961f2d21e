//! A provider killed with SIGKILL under load: callers see errors only for the calls that were
//! in flight on it, and failover carries the rest to the provider left.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs)]

mod common;

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
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
    let server = serve(Echo::default()).await;
    println!("ADDR {}", server.local_addr());
    tokio::time::sleep(Duration::from_secs(60)).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn killing_a_provider_under_load_fails_only_its_calls_in_flight() {
    let mut child = Command::new(std::env::current_exe().unwrap())
        .args([
            "--exact",
            "provider_process",
            "--nocapture",
            "--test-threads=1",
        ])
        .env(CHILD, "1")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    // libtest may print the test's name on the same line first.
    let doomed = BufReader::new(stdout)
        .lines()
        .map_while(Result::ok)
        .find_map(|l| l.split("ADDR ").nth(1).map(|a| a.trim().to_string()))
        .expect("the provider process printed its address");
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
