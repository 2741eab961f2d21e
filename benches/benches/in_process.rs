#![allow(missing_docs, clippy::unwrap_used)]
//! One echo call through the whole client pipeline (generated stub, consumer filters, cluster,
//! router, load balancer, attempt), answered by a provider of the same process: in-process
//! (the implementation called directly) and, beside it, over a loopback socket (serializer,
//! frame codec, connection, server and back). Client and server share one runtime thread, so
//! the remote figure is the latency of one call with nothing else in flight.

use std::time::{Duration, Instant};

use bytes::Bytes;
use criterion::{criterion_group, criterion_main, Criterion};
use sofa_rpc_benches::echo::{Echo, EchoBenchClient, EchoBenchServer};
use sofa_rpc_core::{Client, ConsumerConfig, Server};

fn bench_in_process(c: &mut Criterion) {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let payload = Bytes::from(vec![0x5a; 128]);
    let mut group = c.benchmark_group("in_process");
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
                    let start = Instant::now();
                    for _ in 0..iters {
                        let reply = stub.echo(payload.clone()).await.unwrap();
                        std::hint::black_box(reply);
                    }
                    start.elapsed()
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
