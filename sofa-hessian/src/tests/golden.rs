//! Byte-exact encodings against the peers' captures and the spec's worked examples.

use super::frame::{fixture, hex, unhex, Frame};
use crate::{
    AppResponse, Decoder, Dialect, Encoder, JavaException, SofaRequestHead, SofaResponse, Value,
};

fn java_head(method: &str, sigs: &[&str]) -> SofaRequestHead {
    SofaRequestHead {
        target_app_name: Some("java-peer".into()),
        method_name: method.into(),
        target_service_unique_name: "com.example.EchoService:1.0".into(),
        request_props: vec![("protocol".into(), Value::String("bolt".into()))],
        method_arg_sigs: sigs.iter().map(|s| s.to_string()).collect(),
    }
}

fn encode_request(head: &SofaRequestHead, args: &[&dyn erased::Arg], dialect: Dialect) -> Vec<u8> {
    let mut enc = Encoder::new(dialect);
    head.write(&mut enc).unwrap();
    for a in args {
        a.encode_into(&mut enc);
    }
    enc.into_inner()
}

/// Minimal object-safe wrapper so a test can pass mixed argument types.
mod erased {
    use crate::Encoder;
    pub(crate) trait Arg {
        fn encode_into(&self, enc: &mut Encoder);
    }
    impl<T: serde::Serialize> Arg for T {
        fn encode_into(&self, enc: &mut Encoder) {
            enc.encode(self).unwrap();
        }
    }
}

fn assert_bytes(actual: &[u8], expected: &[u8], what: &str) {
    assert_eq!(hex(actual), hex(expected), "{what}");
}

#[test]
fn java_requests_are_reproduced_byte_for_byte() {
    type Case = (Frame, SofaRequestHead, Vec<Box<dyn erased::Arg>>);
    let cases: Vec<Case> = vec![
        (
            fixture!("java-java/echo.c2s-f00.hex"),
            java_head("echo", &["java.lang.String"]),
            vec![Box::new("hello")],
        ),
        (
            fixture!("java-java/add.c2s-f00.hex"),
            java_head("add", &["int", "int"]),
            vec![Box::new(1i32), Box::new(2i32)],
        ),
        (
            fixture!("java-java/fail.c2s-f00.hex"),
            java_head("fail", &["java.lang.String"]),
            vec![Box::new("x")],
        ),
        (
            fixture!("java-java/heartbeat.c2s-f00.hex"),
            java_head("echo", &["java.lang.String"]),
            vec![Box::new("warmup")],
        ),
        (
            fixture!("java-java/v2.c2s-f00.hex"),
            java_head("echo", &["java.lang.String"]),
            vec![Box::new("hello-v2")],
        ),
        (
            fixture!("java-node/echo.c2s-f00.hex"),
            java_head("echo", &["java.lang.String"]),
            vec![Box::new("hello")],
        ),
        (
            fixture!("java-node/add.c2s-f00.hex"),
            java_head("add", &["int", "int"]),
            vec![Box::new(1i32), Box::new(2i32)],
        ),
        (
            fixture!("java-node/fail.c2s-f00.hex"),
            java_head("fail", &["java.lang.String"]),
            vec![Box::new("x")],
        ),
    ];
    for (frame, head, args) in cases {
        let refs: Vec<&dyn erased::Arg> = args.iter().map(|a| a.as_ref()).collect();
        let bytes = encode_request(&head, &refs, Dialect::V3);
        assert_bytes(&bytes, &frame.content, &head.method_name);
        // And it reads back.
        let mut dec = Decoder::new(&bytes, Dialect::V3);
        assert_eq!(SofaRequestHead::read(&mut dec).unwrap(), head);
    }
}

#[test]
fn responses_are_reproduced_byte_for_byte() {
    let string_cases = [
        (fixture!("java-java/echo.s2c-f00.hex"), Dialect::V3, "hello"),
        (
            fixture!("java-java/heartbeat.s2c-f00.hex"),
            Dialect::V3,
            "warmup",
        ),
        (
            fixture!("java-java/v2.s2c-f00.hex"),
            Dialect::V3,
            "hello-v2",
        ),
        (fixture!("java-node/echo.s2c-f00.hex"), Dialect::V3, "hello"),
        (fixture!("node-java/echo.s2c-f00.hex"), Dialect::V3, "hello"),
        (fixture!("node-node/echo.s2c-f00.hex"), Dialect::V3, "hello"),
        (
            fixture!("node-node/v2.s2c-f00.hex"),
            Dialect::V3,
            "hello-v2",
        ),
        (
            fixture!("node-node-h4/echo.s2c-f00.hex"),
            Dialect::V4,
            "hello",
        ),
    ];
    for (frame, dialect, value) in string_cases {
        let mut enc = Encoder::new(dialect);
        SofaResponse::ok(value).write(&mut enc).unwrap();
        assert_bytes(enc.as_bytes(), &frame.content, value);
    }
    let int_cases = [
        (fixture!("java-java/add.s2c-f00.hex"), Dialect::V3),
        (fixture!("node-java/add.s2c-f00.hex"), Dialect::V3),
        (fixture!("node-node/add.s2c-f00.hex"), Dialect::V3),
        (fixture!("node-node-h4/add.s2c-f00.hex"), Dialect::V4),
    ];
    for (frame, dialect) in int_cases {
        let mut enc = Encoder::new(dialect);
        SofaResponse::ok(3i32).write(&mut enc).unwrap();
        assert_bytes(enc.as_bytes(), &frame.content, "add");
    }
}

#[test]
fn java_exception_response_is_reproduced_byte_for_byte() {
    let frame = fixture!("java-java/fail.s2c-f00.hex");
    // As a dynamic value of the whole body...
    let mut dec = Decoder::new(&frame.content, Dialect::V3);
    let body = dec.read_value().unwrap();
    let mut enc = Encoder::new(Dialect::V3);
    enc.write_value(&body).unwrap();
    assert_bytes(enc.as_bytes(), &frame.content, "value round trip");
    // ...through serde (Value implements Serialize)...
    let mut enc = Encoder::new(Dialect::V3);
    enc.encode(&body).unwrap();
    assert_bytes(enc.as_bytes(), &frame.content, "serde value round trip");
    // ...and as a typed SofaResponse carrying the decoded exception.
    let mut dec = Decoder::new(&frame.content, Dialect::V3);
    let resp = SofaResponse::<String>::read(&mut dec).unwrap();
    let mut enc = Encoder::new(Dialect::V3);
    resp.write(&mut enc).unwrap();
    assert_bytes(enc.as_bytes(), &frame.content, "typed response round trip");
}

#[test]
fn node_requests_round_trip_as_values() {
    // Node writes its own field order; a Value keeps it, so re-encoding the decoded
    // values must give the captured bytes exactly (both dialects).
    let cases = [
        (fixture!("node-node/echo.c2s-f00.hex"), Dialect::V3),
        (fixture!("node-node/add.c2s-f00.hex"), Dialect::V3),
        (fixture!("node-java/fail.c2s-f00.hex"), Dialect::V3),
        (fixture!("node-node/v2.c2s-f00.hex"), Dialect::V3),
        (fixture!("node-node-h4/echo.c2s-f00.hex"), Dialect::V4),
        (fixture!("node-node-h4/add.c2s-f00.hex"), Dialect::V4),
        (fixture!("node-node-h4/fail.c2s-f00.hex"), Dialect::V4),
        (fixture!("node-node-h4/failReturn.c2s-f00.hex"), Dialect::V4),
        (fixture!("java-java/echo.c2s-f00.hex"), Dialect::V3),
    ];
    for (frame, dialect) in cases {
        let mut dec = Decoder::new(&frame.content, dialect);
        let mut values = Vec::new();
        while !dec.is_empty() {
            values.push(dec.read_value().unwrap());
        }
        let mut enc = Encoder::new(dialect);
        for v in &values {
            enc.write_value(v).unwrap();
        }
        assert_bytes(enc.as_bytes(), &frame.content, "node request");
    }
}

#[test]
fn v4_request_with_java_field_order() {
    // What sofa-hessian 4 writes for the Java head: `C` definition, `0x60`
    // instance, `H`..`Z` map, `[string` typed fixed list `0x71`.
    let mut enc = Encoder::new(Dialect::V4);
    java_head("echo", &["java.lang.String"])
        .write(&mut enc)
        .unwrap();
    enc.encode("hello").unwrap();
    let mut expected = vec![0x43, 0x30, 0x2c];
    expected.extend_from_slice(b"com.alipay.sofa.rpc.core.request.SofaRequest");
    expected.push(0x95);
    for f in [
        "targetAppName",
        "methodName",
        "targetServiceUniqueName",
        "requestProps",
        "methodArgSigs",
    ] {
        expected.push(f.len() as u8);
        expected.extend_from_slice(f.as_bytes());
    }
    expected.push(0x60);
    expected.push(9);
    expected.extend_from_slice(b"java-peer");
    expected.push(4);
    expected.extend_from_slice(b"echo");
    expected.push(0x1b);
    expected.extend_from_slice(b"com.example.EchoService:1.0");
    expected.push(b'H');
    expected.push(8);
    expected.extend_from_slice(b"protocol");
    expected.push(4);
    expected.extend_from_slice(b"bolt");
    expected.push(b'Z');
    expected.extend_from_slice(&[0x71, 0x07]);
    expected.extend_from_slice(b"[string");
    expected.push(0x10);
    expected.extend_from_slice(b"java.lang.String");
    expected.push(5);
    expected.extend_from_slice(b"hello");
    assert_bytes(enc.as_bytes(), &expected, "v4 head");
    let mut dec = Decoder::new(enc.as_bytes(), Dialect::V4);
    let head = SofaRequestHead::read(&mut dec).unwrap();
    assert_eq!(head, java_head("echo", &["java.lang.String"]));
    assert_eq!(dec.decode::<String>().unwrap(), "hello");
}

const EX6_CONTENT: &str = "\
4fbc636f6d2e616c697061792e736f66612e7270632e636f72652e72657175657374\
2e536f666152657175657374950d746172676574417070 4e616d650a6d65\
74686f644e616d65177461726765745365727669636555 6e697175654e616d65\
0c7265717565737450726f70730d6d6574686f6441726753696773 6f904e0465\
63686f14636f6d2e6578616d706c652e4563686f3a312e304d0870726f746f63\
6f6c04626f6c747a567400075b737472696e676e01106a6176612e6c616e672e\
537472696e677a026869";

#[test]
fn spec_ex6_request_body() {
    let expected = unhex(&EX6_CONTENT.replace(' ', ""));
    assert_eq!(expected.len(), 202);
    let head = SofaRequestHead {
        target_app_name: None,
        method_name: "echo".into(),
        target_service_unique_name: "com.example.Echo:1.0".into(),
        request_props: vec![("protocol".into(), Value::String("bolt".into()))],
        method_arg_sigs: vec!["java.lang.String".into()],
    };
    let mut enc = Encoder::new(Dialect::V3);
    head.write(&mut enc).unwrap();
    enc.encode("hi").unwrap();
    assert_bytes(enc.as_bytes(), &expected, "Ex6");
}

#[test]
fn spec_ex7_response_bodies() {
    let class = b"com.alipay.sofa.rpc.core.response.SofaResponse";
    let mut def = vec![0x4f, 0xbe];
    def.extend_from_slice(class);
    def.push(0x94);
    for f in ["isError", "errorMsg", "appResponse", "responseProps"] {
        def.push(f.len() as u8);
        def.extend_from_slice(f.as_bytes());
    }
    let mut ok = def.clone();
    ok.extend_from_slice(&[0x6f, 0x90, 0x46, 0x4e, 0x02, b'h', b'i', 0x4e]);
    assert_eq!(ok.len(), 100);
    let mut enc = Encoder::new(Dialect::V3);
    SofaResponse::ok("hi").write(&mut enc).unwrap();
    assert_bytes(enc.as_bytes(), &ok, "Ex7");

    let mut err = def;
    err.extend_from_slice(&[0x6f, 0x90, 0x54, 0x04]);
    err.extend_from_slice(b"boom");
    err.extend_from_slice(&[0x4e, 0x4d, 0x18]);
    err.extend_from_slice(b"sofa_head_response_error");
    err.push(0x04);
    err.extend_from_slice(b"true");
    err.push(0x7a);
    let mut enc = Encoder::new(Dialect::V3);
    SofaResponse::<()>::framework_error("boom")
        .write(&mut enc)
        .unwrap();
    assert_bytes(enc.as_bytes(), &err, "Ex7 framework error");
    let mut dec = Decoder::new(&err, Dialect::V3);
    let r = SofaResponse::<String>::read(&mut dec).unwrap();
    assert!(r.is_error);
    assert_eq!(r.error_msg.as_deref(), Some("boom"));
    assert_eq!(r.app_response, AppResponse::Null);
}

#[test]
fn constructed_java_exception_matches_java_layout() {
    // Java writes an exception without stack trace as
    // O <class> 94 detailMessage cause stackTrace suppressedExceptions,
    // o N <msg> 4a <self> V t [java.lang.StackTraceElement n 00 z
    // V t java.util.Collections$EmptyList n 00 z
    let e = JavaException::new("java.lang.IllegalStateException", Some("bad"));
    let mut enc = Encoder::new(Dialect::V3);
    SofaResponse::<()>::exception(e.clone())
        .write(&mut enc)
        .unwrap();
    let bytes = enc.into_inner();
    let text = hex(&bytes);
    assert!(text.contains(&hex(
        b"\x0ddetailMessage\x05cause\x0astackTrace\x14suppressedExceptions"
    )));
    assert!(
        text.contains(&format!("6f91{}4a01", hex(b"\x03bad"))),
        "{text}"
    );
    assert!(text.contains(&hex(b"Vt\x00\x1c[java.lang.StackTraceElementn\x00z")));
    assert!(text.contains(&hex(b"Vt\x00\x1fjava.util.Collections$EmptyListn\x00z")));
    let mut dec = Decoder::new(&bytes, Dialect::V3);
    let r = SofaResponse::<String>::read(&mut dec).unwrap();
    assert_eq!(r.app_response, AppResponse::Exception(e));
}

#[test]
fn rpc_server_exception_body() {
    // `RpcServerException` as sofa-rpc-node (hessian.js) writes it with error
    // statuses, both dialects.
    let v3 = unhex(
        "4fc834636f6d2e616c697061792e72656d6f74696e672e7270632e657863657074696f6e2e5270\
         63536572766572457863657074696f6e930d64657461696c4d6573736167650a737461636b5472\
         6163650563617573656f901d53657276657220657863657074696f6e21202e2e2e20626f6f6d3a\
         20785674001c5b6a6176612e6c616e672e537461636b5472616365456c656d656e746e007a4e",
    );
    let v4 = unhex(
        "433034636f6d2e616c697061792e72656d6f74696e672e7270632e657863657074696f6e2e5270\
         63536572766572457863657074696f6e930d64657461696c4d6573736167650a737461636b5472\
         616365056361757365601d53657276657220657863657074696f6e21202e2e2e20626f6f6d3a20\
         78701c5b6a6176612e6c616e672e537461636b5472616365456c656d656e744e",
    );
    for (bytes, d) in [(v3, Dialect::V3), (v4, Dialect::V4)] {
        let mut dec = Decoder::new(&bytes, d);
        let e = JavaException::read(&mut dec).unwrap();
        assert!(dec.is_empty());
        assert_eq!(e.class_name, crate::RPC_SERVER_EXCEPTION_CLASS);
        assert_eq!(e.message.as_deref(), Some("Server exception! ... boom: x"));
        // Re-encoding the value gives hessian.js's bytes.
        let mut enc = Encoder::new(d);
        enc.write_value(&e.value).unwrap();
        assert_bytes(enc.as_bytes(), &bytes, "RpcServerException");
    }
    // Not an exception: a clear protocol error.
    let mut dec = Decoder::new(b"\x05hello", Dialect::V3);
    assert_eq!(
        JavaException::read(&mut dec).unwrap_err().kind(),
        crate::ErrorKind::Protocol
    );
}

/// The borrowed writer a client uses per call writes what the owned head writes, in both
/// dialects, with and without arguments and props.
#[test]
fn borrowed_request_head_writes_the_owned_heads_bytes() {
    for dialect in [Dialect::V3, Dialect::V4] {
        for sigs in [
            &[][..],
            &["java.lang.String"][..],
            &["int", "[B", "java.util.Map"][..],
        ] {
            for props in [&[][..], &[("protocol", "bolt")][..]] {
                let owned = SofaRequestHead {
                    target_app_name: None,
                    method_name: "echo".into(),
                    target_service_unique_name: "com.example.EchoService:1.0".into(),
                    request_props: props
                        .iter()
                        .map(|(k, v)| (k.to_string(), Value::String(v.to_string())))
                        .collect(),
                    method_arg_sigs: sigs.iter().map(|s| s.to_string()).collect(),
                };
                let mut enc = Encoder::new(dialect);
                owned.write(&mut enc).unwrap();
                let mut borrowed = Encoder::new(dialect);
                crate::write_request_head(
                    &mut borrowed,
                    "echo",
                    "com.example.EchoService:1.0",
                    props,
                    sigs.iter(),
                )
                .unwrap();
                assert_bytes(
                    &borrowed.into_inner(),
                    &enc.into_inner(),
                    &format!("{dialect:?} {sigs:?} {props:?}"),
                );
            }
        }
    }
}
