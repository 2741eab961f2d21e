#![allow(missing_docs, clippy::unwrap_used)]
//! Calls per second through one shared `Client` from many tasks on a multi-threaded runtime,
//! with 1 and then 2 worker threads: whether a client's throughput grows with the threads that
//! call it. A 128 B msgpack echo, first through the client pipeline alone (the loopback cluster
//! of the `pipeline` bench stands in for the transport, so the client is all the work), then
//! over a loopback socket to a server in a child process (2 worker threads), where on a small
//! machine the server competes for the same cores.
//!
//! `cargo bench -p sofa-rpc-benches --bench scaling` (`SCALING_SECS`, default 3, sets the
//! measured window of each run; `SCALING_TASKS`, default 64, the calling tasks). With
//! `SCALING_CLIENTS=per-task` every task calls a client of its own instead: the control that
//! shows what sharing one client costs, on the same machine at the same moment. Each task counts
//! its own calls (a counter shared by the tasks would itself be a point of contention).

use std::future::IntoFuture;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use sofa_rpc_benches::child::{is_server_child, serve, ServerChild};
use sofa_rpc_benches::echo::EchoBenchClient;
use sofa_rpc_benches::loopback;
use sofa_rpc_core::{Client, ConsumerConfig};

fn env_or(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// A client of the echo server at `addr`, or of the loopback cluster with `None`.
fn client(addr: Option<&str>) -> Client {
    let Some(addr) = addr else {
        let payload = Bytes::from(vec![0x5a; 128]);
        let loader = loopback::extensions(&payload).unwrap();
        let config = loopback::consumer_config().serialization("msgpack");
        return Client::with_extensions(config, &loader).unwrap();
    };
    let config = ConsumerConfig::new()
        .direct_url(format!("bolt://{addr}"))
        .serialization("msgpack");
    Client::new(config).unwrap()
}

/// Calls per second of `tasks` tasks sharing one client (or each with its own, `shared`
/// false), on `threads` workers.
fn run(addr: Option<&str>, threads: usize, tasks: u64, window: Duration, shared: bool) -> f64 {
    let rt = sofa_rpc_benches::load::runtime(threads).unwrap();
    rt.block_on(async {
        let one = EchoBenchClient::new(client(addr));
        let payload = Bytes::from(vec![0x5a; 128]);
        one.echo(payload.clone()).into_future().await.unwrap();
        let counting = Arc::new(AtomicBool::new(false));
        let stop = Arc::new(AtomicBool::new(false));
        let mut handles = Vec::new();
        for _ in 0..tasks {
            let stub = match shared {
                true => one.clone(),
                false => EchoBenchClient::new(client(addr)),
            };
            let payload = payload.clone();
            let (counting, stop) = (counting.clone(), stop.clone());
            handles.push(tokio::spawn(async move {
                let mut done = 0u64;
                while !stop.load(Ordering::Relaxed) {
                    // The loopback cluster answers at once: let the other tasks in.
                    tokio::task::yield_now().await;
                    let echoed = stub.echo(payload.clone()).into_future().await.unwrap();
                    assert_eq!(echoed.len(), 128);
                    if counting.load(Ordering::Relaxed) {
                        done += 1;
                    }
                }
                done
            }));
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
        counting.store(true, Ordering::Relaxed);
        let start = Instant::now();
        tokio::time::sleep(window).await;
        counting.store(false, Ordering::Relaxed);
        let elapsed = start.elapsed();
        stop.store(true, Ordering::Relaxed);
        let mut calls = 0;
        for h in handles {
            calls += h.await.unwrap();
        }
        calls as f64 / elapsed.as_secs_f64()
    })
}

fn main() {
    if is_server_child() {
        serve(2, None, |_| "ok".to_string()).unwrap();
        return;
    }
    let window = Duration::from_secs(env_or("SCALING_SECS", 3));
    let tasks = env_or("SCALING_TASKS", 64);
    let shared = std::env::var("SCALING_CLIENTS").map_or(true, |v| v != "per-task");
    let clients = match shared {
        true => "sharing one Client",
        false => "with a Client each",
    };
    let server = ServerChild::spawn(&[]).unwrap();
    for (name, addr) in [
        ("client pipeline alone", None),
        ("over a loopback socket", Some(server.addr.as_str())),
    ] {
        println!("scaling/echo-128B-msgpack, {name}: {tasks} tasks {clients}");
        let mut first = None;
        for threads in [1, 2] {
            let rate = run(addr, threads, tasks, window, shared);
            let ratio = first.map(|f: f64| rate / f).unwrap_or(1.0);
            first.get_or_insert(rate);
            println!("  {threads} worker thread(s): {rate:.0} calls/s ({ratio:.2}x)");
        }
    }
}
