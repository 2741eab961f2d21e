//! Each serializer's response reader (the first byte picks it, the second whether the header
//! flags an error): never panics, whatever the body.
#![no_main]

use libfuzzer_sys::fuzz_target;
use sofa_bolt::HeaderMap;
use sofa_rpc_core::hessian::Value;
use sofa_rpc_core::{ExtensionLoader, ResponseBody};

const SERIALIZERS: [&str; 5] = ["hessian2", "hessian4", "msgpack", "json", "protobuf"];

fuzz_target!(|data: &[u8]| {
    let [pick, flags, content @ ..] = data else {
        return;
    };
    let loader = ExtensionLoader::default();
    let Ok(serializer) = loader.serializer(SERIALIZERS[usize::from(*pick) % SERIALIZERS.len()]) else {
        return;
    };
    let mut header = HeaderMap::new();
    if flags & 1 == 1 {
        header.insert("sofa_head_response_error", "true");
    }
    let _ = serializer.error_detail(content);
    let body = serializer.read_response(&header, content);
    if let Ok(ResponseBody::Value(value)) = body {
        let _ = value.deserialize_serde(|d| erased_serde::deserialize::<Value>(d));
    }
});
