#![allow(missing_docs, clippy::unwrap_used)]
//! The client pipeline without a socket: the generated stub, the consumer filters (context,
//! timeout), the cluster, router and load balancer over three providers, the serializer and
//! the frame codec both ways. The loopback cluster (`sofa_rpc_benches::loopback`) stands in for
//! the transport: it encodes the request frame as the connection would and answers with a
//! pre-encoded response frame.

use std::future::IntoFuture;

use bytes::Bytes;
use criterion::{criterion_group, criterion_main, Criterion};
use sofa_rpc_benches::echo::EchoBenchClient;
use sofa_rpc_benches::loopback;
use sofa_rpc_core::Client;

fn bench_pipeline(c: &mut Criterion) {
    let mut group = c.benchmark_group("pipeline");
    for size in [128usize, 4096] {
        let payload = Bytes::from(vec![0x5a; size]);
        let loader = loopback::extensions(&payload).unwrap();
        let config = loopback::consumer_config();
        let stub = EchoBenchClient::new(Client::with_extensions(config, &loader).unwrap());
        group.bench_function(format!("echo/{size}B"), |b| {
            b.iter(|| {
                futures::executor::block_on(stub.echo(payload.clone()).into_future()).unwrap()
            })
        });
    }
    group.finish();
}

criterion_group!(benches, bench_pipeline);
criterion_main!(benches);
