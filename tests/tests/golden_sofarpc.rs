//! SOFARPC conventions against frames captured between Java, Node and Python peers: our
//! server answers the captured requests with the captured responses, byte for byte, and our
//! serializers read every captured request and response to the right call and result.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::Path;
use std::time::Duration;

use bytes::BytesMut;
use prost::Message;
use sofa_bolt::{Codec, Frame};
use sofa_rpc_core::serialize::{Hessian2, Protobuf};
use sofa_rpc_core::{ResponseBody, Serializer, Server, ValueSource};
use sofa_rpc_tests::interop::*;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

fn vector(name: &str) -> Vec<u8> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("fixtures/vectors")
        .join(format!("{name}.hex"));
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let text = text.trim();
    (0..text.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&text[i..i + 2], 16).unwrap())
        .collect()
}

fn frame(name: &str) -> Frame {
    let mut buf = BytesMut::from(&vector(name)[..]);
    Codec::default().decode(&mut buf).unwrap().unwrap()
}

fn decode_string(source: ValueSource<'_>) -> String {
    source
        .deserialize_serde(|d| erased_serde::deserialize::<String>(d))
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn our_server_answers_captured_requests_with_the_captured_bytes() {
    let server = Server::builder()
        .bind("127.0.0.1:0")
        // Over the network, even from this process.
        .in_process(false)
        .service(EchoServiceServer::new(Echo))
        .start()
        .await
        .unwrap();
    let cases = [
        ("java-java/echo.c2s-f00", "java-java/echo.s2c-f00"),
        ("java-java/add.c2s-f00", "java-java/add.s2c-f00"),
        ("java-java/v2.c2s-f00", "java-java/v2.s2c-f00"),
        ("node-node/echo.c2s-f00", "node-node/echo.s2c-f00"),
        ("node-node/add.c2s-f00", "node-node/add.s2c-f00"),
        ("node-node/v2.c2s-f00", "node-node/v2.s2c-f00"),
        ("node-node-h4/echo.c2s-f00", "node-node-h4/echo.s2c-f00"),
        ("node-node-h4/add.c2s-f00", "node-node-h4/add.s2c-f00"),
    ];
    for (request, response) in cases {
        let mut stream = TcpStream::connect(server.local_addr()).await.unwrap();
        stream.write_all(&vector(request)).await.unwrap();
        let expected = vector(response);
        let mut got = vec![0u8; expected.len()];
        tokio::time::timeout(Duration::from_secs(5), stream.read_exact(&mut got))
            .await
            .unwrap()
            .unwrap();
        assert_eq!(
            hex(&got),
            hex(&expected),
            "our answer to {request} differs from the captured {response}"
        );
    }
    server.shutdown().await;
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[test]
fn captured_hessian_requests_read_as_their_calls() {
    let cases = [
        ("java-java/echo.c2s-f00", "echo", vec!["java.lang.String"]),
        ("java-java/fail.c2s-f00", "fail", vec!["java.lang.String"]),
        ("node-java/echo.c2s-f00", "echo", vec!["java.lang.String"]),
        ("node-node/echo.c2s-f00", "echo", vec!["java.lang.String"]),
        (
            "node-node-h4/echo.c2s-f00",
            "echo",
            vec!["java.lang.String"],
        ),
        ("java-java/add.c2s-f00", "add", vec!["int", "int"]),
        ("node-node-h4/add.c2s-f00", "add", vec!["int", "int"]),
    ];
    for (name, method, sigs) in cases {
        let f = frame(name);
        let header = f.header().unwrap().into_owned();
        assert_eq!(
            header.get("service"),
            Some("com.example.EchoService:1.0"),
            "{name}"
        );
        let mut reader = Hessian2::new().read_request(&header, f.content()).unwrap();
        assert_eq!(reader.method(), Some(method), "{name}");
        assert_eq!(
            reader.target_service(),
            Some("com.example.EchoService:1.0"),
            "{name}"
        );
        assert_eq!(reader.arg_types(), &sigs[..], "{name}");
        if method == "add" {
            let a = reader
                .next_arg()
                .unwrap()
                .deserialize_serde(|d| erased_serde::deserialize::<i32>(d))
                .unwrap();
            let b = reader
                .next_arg()
                .unwrap()
                .deserialize_serde(|d| erased_serde::deserialize::<i32>(d))
                .unwrap();
            assert_eq!((a, b), (1, 2), "{name}");
        } else {
            let arg = decode_string(reader.next_arg().unwrap());
            assert!(["hello", "x"].contains(&arg.as_str()), "{name}: {arg}");
        }
        assert!(reader.next_arg().is_err(), "{name}: no extra argument");
    }
}

#[test]
fn captured_hessian_responses_read_as_their_results() {
    for name in [
        "java-java/echo.s2c-f00",
        "java-node/echo.s2c-f00",
        "node-java/echo.s2c-f00",
        "node-node-h4/echo.s2c-f00",
    ] {
        let f = frame(name);
        let header = f.header().unwrap().into_owned();
        let body = Hessian2::new().read_response(&header, f.content()).unwrap();
        match body {
            ResponseBody::Value(v) => assert_eq!(decode_string(v), "hello", "{name}"),
            other => panic!("{name}: {other:?}"),
        };
    }
    // Java's application exception: status SUCCESS, error header, a RuntimeException whose
    // cause refers back to itself.
    let f = frame("java-java/fail.s2c-f00");
    let header = f.header().unwrap().into_owned();
    assert_eq!(header.get("sofa_head_response_error"), Some("true"));
    let body = Hessian2::new().read_response(&header, f.content()).unwrap();
    match body {
        ResponseBody::AppException(e) => {
            assert_eq!(e.class_name, "java.lang.RuntimeException");
            assert_eq!(e.message, "boom: x");
        }
        other => panic!("{other:?}"),
    };
}

#[test]
fn captured_protobuf_frames_read_as_their_calls_and_results() {
    for (name, who) in [
        ("node-node/proto.c2s-f00", "peer"),
        ("py-node/proto.c2s-f00", "anthunder"),
        ("py-py/proto.c2s-f00", "anthunder"),
    ] {
        let f = frame(name);
        let header = f.header().unwrap().into_owned();
        let mut reader = Protobuf.read_request(&header, f.content()).unwrap();
        assert_eq!(reader.method(), Some("echoObj"), "{name}");
        let ValueSource::Proto(bytes) = reader.next_arg().unwrap() else {
            panic!("{name}: not a protobuf argument");
        };
        let request = EchoRequest::decode(bytes).unwrap();
        assert_eq!(request.name, who, "{name}");
        assert_eq!(request.group, Group::B as i32, "{name}");
    }
    let f = frame("node-node/proto.s2c-f00");
    let header = f.header().unwrap().into_owned();
    let ResponseBody::Value(ValueSource::Proto(bytes)) =
        Protobuf.read_response(&header, f.content()).unwrap()
    else {
        panic!("not a protobuf result");
    };
    let reply = EchoResponse::decode(bytes).unwrap();
    assert_eq!(reply.code, 200);
    assert_eq!(reply.message, "hello peer, you are in B");
    // Node's protobuf error: SERVER_EXCEPTION, the error header, the message as content.
    let f = frame("node-node/protofail.s2c-f00");
    assert_eq!(f.status(), sofa_bolt::ResponseStatus::SERVER_EXCEPTION);
    let header = f.header().unwrap().into_owned();
    let body = Protobuf.read_response(&header, f.content()).unwrap();
    match body {
        ResponseBody::AppException(e) => assert_eq!(e.message, "proto boom: bad"),
        other => panic!("{other:?}"),
    };
}
