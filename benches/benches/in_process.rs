#![allow(missing_docs, clippy::unwrap_used)]
//! One echo call through the whole client pipeline (generated stub, consumer filters, cluster,
//! router, load balancer, attempt), answered by a provider of the same process: in-process
//! (the implementation called directly) and, beside it, over a loopback socket (serializer,
//! frame codec, connection, server and back). Client and server share one runtime thread, so
//! the remote figure is the latency of one call with nothing else in flight.
//!
//! Times are wall-clock by default. With `SOFA_BENCH_CPU_TIME=1` they are the bench thread's
//! CPU time (groups `in_process-cpu/...`): client and server run on that one thread, so on a
//! machine shared with other work this counts what a call costs and not the slices the
//! scheduler gave to others (for the remote call, the kernel's loopback work on this thread is
//! counted, a wait for the other end is not).

use std::time::{Duration, Instant};

use rustix::time::{clock_gettime, ClockId};

use bytes::Bytes;
use criterion::{criterion_group, criterion_main, Criterion};
use sofa_rpc_benches::echo::{Echo, EchoBenchClient, EchoBenchServer};
use sofa_rpc_core::{Client, ConsumerConfig, Server};

/// The bench thread's CPU time, or the wall clock since `base`.
fn now(cpu: bool, base: Instant) -> Duration {
    if cpu {
        let t = clock_gettime(ClockId::ThreadCPUTime);
        Duration::new(t.tv_sec as u64, t.tv_nsec as u32)
    } else {
        base.elapsed()
    }
}

fn bench_in_process(c: &mut Criterion) {
    let cpu = std::env::var_os("SOFA_BENCH_CPU_TIME").is_some();
    let base = Instant::now();
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let payload = Bytes::from(vec![0x5a; 128]);
    let mut group = c.benchmark_group(if cpu { "in_process-cpu" } else { "in_process" });
    for (name, in_process) in [("local", true), ("remote", false)] {
        let (server, stub) = rt.block_on(async {
            let server = Server::builder()
                .bind("127.0.0.1:0")
                .in_process(in_process)
                .service(EchoBenchServer::new(Echo))
                .start()
                .await
                .unwrap();
            let config = ConsumerConfig::new().direct_url(server.local_addr().to_string());
            let stub = EchoBenchClient::new(Client::new(config).unwrap());
            // Connected (remote) and warm before measuring.
            stub.echo(payload.clone()).await.unwrap();
            (server, stub)
        });
        group.bench_function(format!("echo/128B/{name}"), |b| {
            b.iter_custom(|iters| {
                rt.block_on(async {
                    let start = now(cpu, base);
                    for _ in 0..iters {
                        let reply = stub.echo(payload.clone()).await.unwrap();
                        std::hint::black_box(reply);
                    }
                    now(cpu, base).saturating_sub(start)
                })
            })
        });
        rt.block_on(server.shutdown());
    }
    group.finish();
}

fn configured() -> Criterion {
    Criterion::default()
        .measurement_time(Duration::from_secs(3))
        .configure_from_args()
}

criterion_group! {
    name = benches;
    config = configured();
    targets = bench_in_process
}
criterion_main!(benches);
