#![allow(missing_docs, clippy::unwrap_used, clippy::panic)]
//! Serializers: one SOFARPC call (a 128-character string argument and return value) through
//! each registered format, request and response, encode and decode.

use std::sync::Arc;

use criterion::{criterion_group, criterion_main, Criterion};
use sofa_bolt::HeaderMap;
use sofa_rpc_core::{
    DynArgs, ExtensionLoader, Invocation, Reply, ReplyValue, ResponseBody, ServiceId, ValueRef,
};

struct Text(String);

impl ReplyValue for Text {
    fn value(&self) -> ValueRef<'_> {
        ValueRef::serde(&self.0, "java.lang.String")
    }
}

fn decode_string(
    de: &mut dyn erased_serde::Deserializer<'_>,
) -> Result<String, erased_serde::Error> {
    erased_serde::deserialize(de)
}

fn bench_serializers(c: &mut Criterion) {
    let loader = ExtensionLoader::default();
    let text = "x".repeat(128);
    let invocation = Invocation::new(
        ServiceId::new("com.example.EchoService", "1.0", ""),
        "echo",
        Arc::new(DynArgs::new().arg("java.lang.String", text.clone())),
    );
    let reply = Reply::Value(Box::new(Text(text)));

    for name in ["hessian2", "hessian4", "msgpack", "json"] {
        let serializer = loader.serializer(name).unwrap();
        let mut request_header = HeaderMap::new();
        let request = serializer
            .encode_request(&invocation, &mut request_header)
            .unwrap();
        let mut response_header = HeaderMap::new();
        let response = serializer
            .encode_response(&reply, &request, &mut response_header)
            .unwrap();

        let mut group = c.benchmark_group(format!("serialize/{name}"));
        group.bench_function("encode_request", |b| {
            b.iter(|| {
                let mut header = HeaderMap::new();
                serializer.encode_request(&invocation, &mut header).unwrap()
            })
        });
        group.bench_function("decode_request", |b| {
            b.iter(|| {
                let mut reader = serializer.read_request(&request_header, &request).unwrap();
                reader.set_arg_count(1);
                let method = reader.method().map(str::len);
                let arg = reader
                    .next_arg()
                    .unwrap()
                    .deserialize_serde(decode_string)
                    .unwrap();
                (method, arg)
            })
        });
        group.bench_function("encode_response", |b| {
            b.iter(|| {
                let mut header = HeaderMap::new();
                serializer
                    .encode_response(&reply, &request, &mut header)
                    .unwrap()
            })
        });
        group.bench_function("decode_response", |b| {
            b.iter(|| {
                match serializer
                    .read_response(&response_header, &response)
                    .unwrap()
                {
                    ResponseBody::Value(value) => value.deserialize_serde(decode_string).unwrap(),
                    other => panic!("unexpected {other:?}"),
                }
            })
        });
        group.finish();
    }
}

criterion_group!(benches, bench_serializers);
criterion_main!(benches);
