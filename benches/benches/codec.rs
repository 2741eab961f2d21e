#![allow(missing_docs, clippy::unwrap_used)]
//! Frame codec: encode and decode of a SOFARPC-shaped request with a 128 B and a 4 KiB body.

use bytes::BytesMut;
use criterion::{criterion_group, criterion_main, BatchSize, Criterion, Throughput};
use sofa_bolt::{Codec, Frame, HeaderMap, Protocol, Switch};

fn request(body_len: usize, protocol: Protocol) -> Frame {
    let mut header = HeaderMap::new();
    header.insert("service", "com.example.EchoService:1.0");
    header.insert("sofa_head_target_service", "com.example.EchoService:1.0");
    header.insert("sofa_head_method_name", "echo");
    Frame::request(
        "com.alipay.sofa.rpc.core.request.SofaRequest",
        header,
        vec![0x5a; body_len],
    )
    .with_protocol(protocol)
    .with_switch(Switch::CRC)
    .with_request_id(7)
    .with_timeout(3000)
}

fn bench_codec(c: &mut Criterion) {
    for (label, protocol) in [("v1", Protocol::V1), ("v2-crc", Protocol::V2_CRC)] {
        for size in [128usize, 4096] {
            let frame = request(size, protocol);
            let mut codec = Codec::default();
            let mut wire = BytesMut::new();
            codec.encode(&frame, &mut wire).unwrap();
            let wire = wire.freeze();

            let mut group = c.benchmark_group(format!("codec/{label}/{size}B"));
            group.throughput(Throughput::Bytes(wire.len() as u64));
            let mut out = BytesMut::with_capacity(64 * 1024);
            group.bench_function("encode", |b| {
                b.iter(|| {
                    out.clear();
                    codec.encode(&frame, &mut out).unwrap();
                    out.len()
                })
            });
            group.bench_function("decode", |b| {
                b.iter_batched(
                    || BytesMut::from(&wire[..]),
                    |mut buf| codec.decode(&mut buf).unwrap().unwrap(),
                    BatchSize::SmallInput,
                )
            });
            group.bench_function("decode+header", |b| {
                b.iter_batched(
                    || BytesMut::from(&wire[..]),
                    |mut buf| {
                        let f = codec.decode(&mut buf).unwrap().unwrap();
                        f.header().unwrap().len()
                    },
                    BatchSize::SmallInput,
                )
            });
            group.finish();
        }
    }
}

criterion_group!(benches, bench_codec);
criterion_main!(benches);
