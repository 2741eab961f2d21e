#![allow(missing_docs, clippy::unwrap_used)]
//! The client pipeline without a socket: the generated stub, the consumer filters (context,
//! timeout), the cluster, router and load balancer over three providers, the serializer and
//! the frame codec both ways. The cluster below stands in for the transport: it encodes the
//! request frame as the connection would and answers with a pre-encoded response frame.
//! The `guard` group measures the traffic guard on the same path.

use std::future::IntoFuture;
use std::sync::Arc;

use bytes::{Bytes, BytesMut};
use criterion::{criterion_group, criterion_main, Criterion};
use futures::future::BoxFuture;
use sofa_bolt::{Codec, Frame, HeaderMap, ResponseStatus};
use sofa_rpc_benches::echo::EchoBenchClient;
use sofa_rpc_core::guard::{Guard, GuardRules};
use sofa_rpc_core::{
    Client, Cluster, ClusterContext, ConsumerConfig, ExtensionLoader, Invocation, Reply,
    ReplyValue, Response, Result, RpcError, Serializer, ValueRef,
};

struct Payload(Bytes);

impl ReplyValue for Payload {
    fn value(&self) -> ValueRef<'_> {
        ValueRef::serde(&self.0, "byte[]")
    }
}

/// Answers every call with the same response frame, after doing the transport's encoding work.
struct Loopback {
    serializer: Arc<dyn Serializer>,
    response: Bytes,
}

impl Cluster for Loopback {
    fn invoke(
        &self,
        invocation: Invocation,
        ctx: ClusterContext,
    ) -> BoxFuture<'static, Result<Response>> {
        let serializer = self.serializer.clone();
        let response = self.response.clone();
        Box::pin(async move {
            let provider = ctx.select(&invocation, &[])?;
            let mut header = HeaderMap::with_capacity(8);
            let content = serializer.encode_request(&invocation, &mut header)?;
            let request = Frame::request(
                Bytes::from_static(b"com.alipay.sofa.rpc.core.request.SofaRequest"),
                header,
                content,
            )
            .with_codec(serializer.code());
            let mut codec = Codec::default();
            let mut wire = BytesMut::with_capacity(request.encoded_len());
            codec
                .encode(&request, &mut wire)
                .map_err(|e| RpcError::from_bolt(e, "loopback"))?;
            std::hint::black_box(&wire);

            let mut incoming = BytesMut::from(&response[..]);
            let reply = codec
                .decode(&mut incoming)
                .map_err(|e| RpcError::from_bolt(e, "loopback"))?
                .ok_or_else(|| RpcError::unavailable("incomplete response"))?;
            let header = reply
                .header()
                .map_err(|e| RpcError::from_bolt(e, "loopback"))?
                .into_owned();
            Ok(Response::new(
                header,
                reply.content().clone(),
                serializer,
                provider,
            ))
        })
    }
}

fn response_frame(serializer: &dyn Serializer, payload: &Bytes) -> Bytes {
    let reply = Reply::Value(Box::new(Payload(payload.clone())));
    let mut header = HeaderMap::new();
    let content = serializer
        .encode_response(&reply, &[], &mut header)
        .unwrap();
    let request = Frame::request(Bytes::new(), HeaderMap::new(), Bytes::new());
    let frame = Frame::response_to(&request, ResponseStatus::SUCCESS)
        .with_class(Bytes::from_static(
            b"com.alipay.sofa.rpc.core.response.SofaResponse",
        ))
        .with_header(header)
        .with_content(content)
        .with_codec(serializer.code());
    let mut wire = BytesMut::new();
    Codec::default().encode(&frame, &mut wire).unwrap();
    wire.freeze()
}

fn bench_pipeline(c: &mut Criterion) {
    let mut group = c.benchmark_group("pipeline");
    for size in [128usize, 4096] {
        let payload = Bytes::from(vec![0x5a; size]);
        let mut loader = ExtensionLoader::default();
        let serializer = loader.serializer("msgpack").unwrap();
        loader.register_cluster(
            "loopback",
            Loopback {
                response: response_frame(serializer.as_ref(), &payload),
                serializer,
            },
        );
        let config = ConsumerConfig::new()
            .direct_url("bolt://127.0.0.1:12200,bolt://127.0.0.1:12201,bolt://127.0.0.1:12202")
            .cluster("loopback")
            .load_balancer("random");
        let stub = EchoBenchClient::new(Client::with_extensions(config, &loader).unwrap());
        group.bench_function(format!("echo/{size}B"), |b| {
            b.iter(|| {
                futures::executor::block_on(stub.echo(payload.clone()).into_future()).unwrap()
            })
        });
    }
    group.finish();
}

/// The traffic guard's cost on the same pipeline (128 B): no guard, a guard with no rules, and
/// a guard with one rate limit on the method (a rate no call reaches, so every call passes).
fn bench_guard(c: &mut Criterion) {
    let mut group = c.benchmark_group("guard");
    let payload = Bytes::from(vec![0x5a; 128]);
    let mut loader = ExtensionLoader::default();
    let serializer = loader.serializer("msgpack").unwrap();
    loader.register_cluster(
        "loopback",
        Loopback {
            response: response_frame(serializer.as_ref(), &payload),
            serializer,
        },
    );
    let config = ConsumerConfig::new()
        .direct_url("bolt://127.0.0.1:12200,bolt://127.0.0.1:12201,bolt://127.0.0.1:12202")
        .cluster("loopback")
        .load_balancer("random");
    let no_rules = Guard::new();
    let one_limit = Guard::new();
    one_limit
        .replace(
            GuardRules::from_json(
                r#"{"rate_limit": [{"id": "echo", "service": "com.example.bench.EchoBench",
                    "method": "echo", "token_bucket": {"rate": 1e9, "burst": 1000}}]}"#,
            )
            .unwrap(),
        )
        .unwrap();
    let cases = [
        ("no_guard", config.clone()),
        ("guard_no_rules", config.clone().guard(no_rules)),
        ("guard_one_limit", config.clone().guard(one_limit.clone())),
    ];
    for (name, config) in cases {
        let stub = EchoBenchClient::new(Client::with_extensions(config, &loader).unwrap());
        group.bench_function(name, |b| {
            b.iter(|| {
                futures::executor::block_on(stub.echo(payload.clone()).into_future()).unwrap()
            })
        });
    }
    assert!(one_limit.stats("echo").unwrap().passed > 0, "the rule was on the path");
    group.finish();
}

criterion_group!(benches, bench_pipeline, bench_guard);
criterion_main!(benches);
