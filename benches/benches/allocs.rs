#![allow(missing_docs, clippy::unwrap_used)]
//! Heap allocations per call of a 128 B msgpack echo through the whole pipeline over a
//! loopback socket: the generated stub, filters, cluster, serializer and a pooled connection
//! on the client; the connection, dispatch, filters and the method on the server.
//!
//! The server runs in a child process of this bench, so each side's counter sees its own
//! allocations only. Calls are made one at a time from a current-thread runtime after a
//! warm-up, and the counts are divided by the number of calls.
//!
//! `cargo bench -p sofa-rpc-benches --bench allocs` (`ALLOCS_SERIALIZATION=hessian2` for
//! SOFARPC's default serialization instead of msgpack; `ALLOCS_METRICS=1` records SOFARPC's
//! metrics on both sides into a Prometheus recorder, as a monitored deployment does)

use std::future::IntoFuture;

use bytes::Bytes;
use sofa_rpc_benches::child::{is_server_child, serve, ServerChild};
use sofa_rpc_benches::echo::EchoBenchClient;
use sofa_rpc_core::event::EventBus;
use sofa_rpc_core::{Client, ConsumerConfig};
use stats_alloc::{StatsAlloc, INSTRUMENTED_SYSTEM};

#[global_allocator]
static GLOBAL: &StatsAlloc<std::alloc::System> = &INSTRUMENTED_SYSTEM;

const WARMUP: u64 = 2_000;
const CALLS: u64 = 20_000;

/// Allocations (with reallocations) and bytes allocated since `since`.
fn counted(since: &stats_alloc::Stats) -> (u64, u64) {
    let now = GLOBAL.stats();
    let allocs = (now.allocations + now.reallocations) - (since.allocations + since.reallocations);
    let bytes = now.bytes_allocated - since.bytes_allocated;
    (allocs as u64, bytes as u64)
}

/// With `ALLOCS_METRICS=1`: a bus recording SOFARPC's metrics into a Prometheus recorder.
fn metrics_bus() -> Option<EventBus> {
    if std::env::var("ALLOCS_METRICS").map_or(true, |v| v != "1") {
        return None;
    }
    metrics_exporter_prometheus::PrometheusBuilder::new()
        .install_recorder()
        .unwrap();
    let bus = EventBus::new();
    sofa_rpc_core::metrics::install(&bus).forget();
    Some(bus)
}

fn main() {
    if is_server_child() {
        let mut mark = GLOBAL.stats();
        serve(1, metrics_bus(), move |line| match line {
            "mark" => {
                mark = GLOBAL.stats();
                "ok".to_string()
            }
            _ => {
                let (allocs, bytes) = counted(&mark);
                format!("{allocs} {bytes}")
            }
        })
        .unwrap();
        return;
    }
    let mut server = ServerChild::spawn(&[]).unwrap();
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let serialization =
        std::env::var("ALLOCS_SERIALIZATION").unwrap_or_else(|_| "msgpack".to_string());
    let mut config = ConsumerConfig::new()
        .direct_url(format!("bolt://{}", server.addr))
        .serialization(serialization.as_str())
        .app_name("bench");
    let metrics = metrics_bus();
    if let Some(bus) = &metrics {
        config = config.events(bus.clone());
    }
    let stub = EchoBenchClient::new(Client::new(config).unwrap());
    let payload = Bytes::from(vec![0x5a; 128]);
    let call = || async {
        let echoed = stub.echo(payload.clone()).into_future().await.unwrap();
        assert_eq!(echoed.len(), 128);
    };
    rt.block_on(async {
        for _ in 0..WARMUP {
            call().await;
        }
    });
    assert_eq!(server.ask("mark").unwrap(), "ok");
    let start = GLOBAL.stats();
    rt.block_on(async {
        for _ in 0..CALLS {
            call().await;
        }
    });
    let (client_allocs, client_bytes) = counted(&start);
    let answer = server.ask("count").unwrap();
    let mut parts = answer.split(' ').map(|n| n.parse::<u64>().unwrap());
    let (server_allocs, server_bytes) = (parts.next().unwrap(), parts.next().unwrap());
    let per = |n: u64| n as f64 / CALLS as f64;
    let watched = if metrics.is_some() {
        ", metrics on"
    } else {
        ""
    };
    println!("allocs/echo-128B-{serialization}{watched}: {CALLS} calls, one at a time");
    println!(
        "  client: {:.2} allocations/call, {:.0} bytes/call",
        per(client_allocs),
        per(client_bytes)
    );
    println!(
        "  server: {:.2} allocations/call, {:.0} bytes/call",
        per(server_allocs),
        per(server_bytes)
    );
}
