//! Each serializer's request reader (the first byte picks it): never panics, whatever the
//! body; every argument it offers is decoded as a dynamic value and as a string.
#![no_main]

use libfuzzer_sys::fuzz_target;
use sofa_bolt::HeaderMap;
use sofa_rpc_core::hessian::Value;
use sofa_rpc_core::ExtensionLoader;

const SERIALIZERS: [&str; 5] = ["hessian2", "hessian4", "msgpack", "json", "protobuf"];

fuzz_target!(|data: &[u8]| {
    let Some((&pick, content)) = data.split_first() else {
        return;
    };
    let loader = ExtensionLoader::default();
    let Ok(serializer) = loader.serializer(SERIALIZERS[usize::from(pick) % SERIALIZERS.len()]) else {
        return;
    };
    let mut header = HeaderMap::new();
    header.insert("service", "com.example.EchoService:1.0");
    header.insert("sofa_head_method_name", "echo");
    let Ok(mut reader) = serializer.read_request(&header, content) else {
        return;
    };
    let _ = (reader.target_service(), reader.method(), reader.arg_types().len());
    reader.set_arg_count(4);
    for i in 0..4 {
        let Ok(arg) = reader.next_arg() else { break };
        if i % 2 == 0 {
            let _ = arg.deserialize_serde(|d| erased_serde::deserialize::<Value>(d));
        } else {
            let _ = arg.deserialize_serde(|d| erased_serde::deserialize::<String>(d));
        }
    }
});
