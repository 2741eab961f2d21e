//! The `local` backend: one file shared by processes on this machine.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs)]

mod common;

use std::time::{Duration, Instant};

use common::{measure, ChildProvider, Quirks, Watcher};
use sofa_rpc_registry::{open, LocalRegistry, Registration, Registry, Subscription};

const IFACE: &str = "com.example.LocalEcho";

/// Entry point of the provider child process (does nothing in a normal run).
#[test]
fn child_provider_process() {
    common::child_provider_main();
}

fn temp_file(name: &str) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("sofa-local-test-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join(name);
    let _ = std::fs::remove_file(&path);
    path
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn register_discover_update_unregister() {
    let file = temp_file("basic.reg");
    let url = format!("local://{}?scanPeriod=100", file.display());
    let quirks = Quirks {
        keeps_param_order: true,
        patience: Duration::from_secs(5),
    };
    common::register_discover_update_unregister(&url, IFACE, quirks).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dead_process_entries_disappear() {
    let file = temp_file("death.reg");
    let url = format!("local://{}?scanPeriod=100", file.display());
    let consumer = open(&url).await.unwrap();
    let mut w = Watcher::new(consumer.subscribe(&Subscription::new(IFACE)).await.unwrap()).await;

    let t0 = Instant::now();
    let mut child = ChildProvider::spawn(&url, IFACE, 12300);
    let child_pid = child.pid();
    w.wait_until("child appears", Duration::from_secs(5), |l| l.len() == 1)
        .await;
    measure(
        "local",
        "appear (child process registered -> list)",
        t0.elapsed(),
    );
    assert_eq!(w.list[0].param("pid"), Some(child_pid.to_string().as_str()));

    let t0 = Instant::now();
    child.kill();
    w.wait_until("dead child disappears", Duration::from_secs(5), |l| {
        l.is_empty()
    })
    .await;
    measure(
        "local",
        "disappear (kill -9 -> list, scan 100 ms)",
        t0.elapsed(),
    );

    // The dead process's line is dropped from the file by the next writer.
    let provider = LocalRegistry::with_scan_period(&file, Duration::from_millis(100));
    let reg = Registration::sofa(IFACE, "127.0.0.1", 12301);
    provider.register(&reg).await.unwrap();
    let text = std::fs::read_to_string(&file).unwrap();
    assert!(!text.contains(&format!("\n{child_pid}\t")), "{text}");
    assert_eq!(text.lines().filter(|l| !l.starts_with('#')).count(), 1);

    w.wait_until("second provider appears", Duration::from_secs(5), |l| {
        l.len() == 1 && l[0].port() == 12301
    })
    .await;

    // A line removed behind the owner's back is written again by the owner's scanner.
    std::fs::write(&file, "# emptied by hand\n").unwrap();
    let deadline = Instant::now() + Duration::from_secs(5);
    while !std::fs::read_to_string(&file).unwrap().contains(":12301?") {
        assert!(
            Instant::now() < deadline,
            "the owner did not restore its line"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    provider.close().await.unwrap();
    consumer.close().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unsubscribe_and_dropping_streams() {
    let file = temp_file("unsub.reg");
    let registry = LocalRegistry::with_scan_period(&file, Duration::from_millis(50));
    let sub = Subscription::new(IFACE);
    let mut w = Watcher::new(registry.subscribe(&sub).await.unwrap()).await;
    let dropped = registry.subscribe(&sub).await.unwrap();
    drop(dropped);
    registry.unsubscribe(&sub).await.unwrap();
    w.drain_for(Duration::from_millis(200)).await;
    assert!(w.ended, "unsubscribe ends the stream");
    // Subscribing again works.
    let _again = Watcher::new(registry.subscribe(&sub).await.unwrap()).await;
    registry.close().await.unwrap();
}
