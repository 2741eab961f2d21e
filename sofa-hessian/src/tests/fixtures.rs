//! Decode every hessian fixture frame and compare with the annotations (`*.txt`).

use super::frame::{fixture, Frame};
use crate::{AppResponse, Decoder, Dialect, SofaRequestHead, SofaResponse, Value};

struct Req {
    frame: Frame,
    dialect: Dialect,
    app: Option<&'static str>,
    method: &'static str,
    service: &'static str,
    props: Vec<(&'static str, &'static str)>,
    sigs: Vec<&'static str>,
    args: Vec<Value>,
}

fn s(v: &str) -> Value {
    Value::String(v.to_owned())
}

fn java_req(frame: Frame, method: &'static str, sigs: Vec<&'static str>, args: Vec<Value>) -> Req {
    Req {
        frame,
        dialect: Dialect::V3,
        app: Some("java-peer"),
        method,
        service: "com.example.EchoService:1.0",
        props: vec![("protocol", "bolt")],
        sigs,
        args,
    }
}

fn node_req(
    frame: Frame,
    dialect: Dialect,
    service: &'static str,
    method: &'static str,
    sigs: Vec<&'static str>,
    args: Vec<Value>,
) -> Req {
    Req {
        frame,
        dialect,
        app: None,
        method,
        service,
        props: vec![("service", service)],
        sigs,
        args,
    }
}

const SVC: &str = "com.example.EchoService:1.0";
const STR: &str = "java.lang.String";

fn requests() -> Vec<Req> {
    use Dialect::{V3, V4};
    vec![
        java_req(
            fixture!("java-java/echo.c2s-f00.hex"),
            "echo",
            vec![STR],
            vec![s("hello")],
        ),
        java_req(
            fixture!("java-java/add.c2s-f00.hex"),
            "add",
            vec!["int", "int"],
            vec![Value::Int(1), Value::Int(2)],
        ),
        java_req(
            fixture!("java-java/fail.c2s-f00.hex"),
            "fail",
            vec![STR],
            vec![s("x")],
        ),
        java_req(
            fixture!("java-java/heartbeat.c2s-f00.hex"),
            "echo",
            vec![STR],
            vec![s("warmup")],
        ),
        java_req(
            fixture!("java-java/v2.c2s-f00.hex"),
            "echo",
            vec![STR],
            vec![s("hello-v2")],
        ),
        java_req(
            fixture!("java-node/echo.c2s-f00.hex"),
            "echo",
            vec![STR],
            vec![s("hello")],
        ),
        java_req(
            fixture!("java-node/add.c2s-f00.hex"),
            "add",
            vec!["int", "int"],
            vec![Value::Int(1), Value::Int(2)],
        ),
        java_req(
            fixture!("java-node/fail.c2s-f00.hex"),
            "fail",
            vec![STR],
            vec![s("x")],
        ),
        java_req(
            fixture!("java-node/heartbeat.c2s-f00.hex"),
            "echo",
            vec![STR],
            vec![s("warmup")],
        ),
        java_req(
            fixture!("java-node/v2.c2s-f00.hex"),
            "echo",
            vec![STR],
            vec![s("hello-v2")],
        ),
        node_req(
            fixture!("node-java/echo.c2s-f00.hex"),
            V3,
            SVC,
            "echo",
            vec![STR],
            vec![s("hello")],
        ),
        node_req(
            fixture!("node-java/add.c2s-f00.hex"),
            V3,
            SVC,
            "add",
            vec!["int", "int"],
            vec![Value::Int(1), Value::Int(2)],
        ),
        node_req(
            fixture!("node-java/fail.c2s-f00.hex"),
            V3,
            SVC,
            "fail",
            vec![STR],
            vec![s("x")],
        ),
        node_req(
            fixture!("node-java/v2.c2s-f00.hex"),
            V3,
            SVC,
            "echo",
            vec![STR],
            vec![s("hello-v2")],
        ),
        node_req(
            fixture!("node-node/echo.c2s-f00.hex"),
            V3,
            SVC,
            "echo",
            vec![STR],
            vec![s("hello")],
        ),
        node_req(
            fixture!("node-node/add.c2s-f00.hex"),
            V3,
            SVC,
            "add",
            vec!["int", "int"],
            vec![Value::Int(1), Value::Int(2)],
        ),
        node_req(
            fixture!("node-node/fail.c2s-f00.hex"),
            V3,
            SVC,
            "fail",
            vec![STR],
            vec![s("x")],
        ),
        node_req(
            fixture!("node-node/failReturn.c2s-f00.hex"),
            V3,
            SVC,
            "failReturn",
            vec![STR],
            vec![s("y")],
        ),
        node_req(
            fixture!("node-node/nomethod.c2s-f00.hex"),
            V3,
            SVC,
            "nope",
            vec![STR],
            vec![s("z")],
        ),
        node_req(
            fixture!("node-node/notfound.c2s-f00.hex"),
            V3,
            "com.example.Nope:1.0",
            "echo",
            vec![STR],
            vec![s("z")],
        ),
        node_req(
            fixture!("node-node/v2.c2s-f00.hex"),
            V3,
            SVC,
            "echo",
            vec![STR],
            vec![s("hello-v2")],
        ),
        node_req(
            fixture!("node-node-h4/echo.c2s-f00.hex"),
            V4,
            SVC,
            "echo",
            vec![STR],
            vec![s("hello")],
        ),
        node_req(
            fixture!("node-node-h4/add.c2s-f00.hex"),
            V4,
            SVC,
            "add",
            vec!["int", "int"],
            vec![Value::Int(1), Value::Int(2)],
        ),
        node_req(
            fixture!("node-node-h4/fail.c2s-f00.hex"),
            V4,
            SVC,
            "fail",
            vec![STR],
            vec![s("x")],
        ),
        node_req(
            fixture!("node-node-h4/failReturn.c2s-f00.hex"),
            V4,
            SVC,
            "failReturn",
            vec![STR],
            vec![s("y")],
        ),
    ]
}

#[test]
fn every_request_fixture_decodes_to_its_annotation() {
    for req in requests() {
        let f = &req.frame;
        assert!(f.is_request);
        assert_eq!(f.class_name, "com.alipay.sofa.rpc.core.request.SofaRequest");
        assert_eq!(Dialect::detect(&f.content), Some(req.dialect));
        let mut dec = Decoder::new(&f.content, req.dialect);
        let head = SofaRequestHead::read(&mut dec).unwrap();
        assert_eq!(head.method_name, req.method);
        assert_eq!(head.target_app_name.as_deref(), req.app);
        assert_eq!(head.target_service_unique_name, req.service);
        assert_eq!(head.method_arg_sigs, req.sigs);
        let props: Vec<(String, Value)> = req
            .props
            .iter()
            .map(|(k, v)| (k.to_string(), s(v)))
            .collect();
        assert_eq!(head.request_props, props);
        // Arguments: once as Value, once through serde into the Rust type.
        let mut args = Vec::new();
        for _ in &head.method_arg_sigs {
            args.push(dec.read_value().unwrap());
        }
        assert_eq!(args, req.args, "{}", req.method);
        assert!(dec.is_empty());

        let mut dec = Decoder::new(&f.content, req.dialect);
        SofaRequestHead::read(&mut dec).unwrap();
        for (sig, expected) in head.method_arg_sigs.iter().zip(&req.args) {
            match sig.as_str() {
                "int" => assert_eq!(Value::Int(dec.decode::<i32>().unwrap()), *expected),
                _ => assert_eq!(Value::String(dec.decode::<String>().unwrap()), *expected),
            }
        }
        assert_eq!(dec.remaining(), 0);
    }
}

fn responses() -> Vec<(Frame, Dialect, Value)> {
    use Dialect::{V3, V4};
    vec![
        (fixture!("java-java/echo.s2c-f00.hex"), V3, s("hello")),
        (fixture!("java-java/add.s2c-f00.hex"), V3, Value::Int(3)),
        (fixture!("java-java/heartbeat.s2c-f00.hex"), V3, s("warmup")),
        (fixture!("java-java/v2.s2c-f00.hex"), V3, s("hello-v2")),
        (fixture!("java-node/echo.s2c-f00.hex"), V3, s("hello")),
        (fixture!("java-node/add.s2c-f00.hex"), V3, Value::Int(3)),
        (fixture!("java-node/heartbeat.s2c-f00.hex"), V3, s("warmup")),
        (fixture!("java-node/v2.s2c-f00.hex"), V3, s("hello-v2")),
        (fixture!("node-java/echo.s2c-f00.hex"), V3, s("hello")),
        (fixture!("node-java/add.s2c-f00.hex"), V3, Value::Int(3)),
        (fixture!("node-java/v2.s2c-f00.hex"), V3, s("hello-v2")),
        (fixture!("node-node/echo.s2c-f00.hex"), V3, s("hello")),
        (fixture!("node-node/add.s2c-f00.hex"), V3, Value::Int(3)),
        (fixture!("node-node/v2.s2c-f00.hex"), V3, s("hello-v2")),
        (fixture!("node-node-h4/echo.s2c-f00.hex"), V4, s("hello")),
        (fixture!("node-node-h4/add.s2c-f00.hex"), V4, Value::Int(3)),
    ]
}

#[test]
fn every_response_fixture_decodes_to_its_annotation() {
    for (f, dialect, expected) in responses() {
        assert!(!f.is_request);
        assert_eq!(
            f.class_name,
            "com.alipay.sofa.rpc.core.response.SofaResponse"
        );
        assert_eq!(Dialect::detect(&f.content), Some(dialect));
        let mut dec = Decoder::new(&f.content, dialect);
        let resp = SofaResponse::<Value>::read(&mut dec).unwrap();
        assert!(dec.is_empty());
        assert!(!resp.is_error);
        assert_eq!(resp.error_msg, None);
        assert_eq!(resp.response_props, None);
        assert_eq!(resp.app_response, AppResponse::Value(expected.clone()));

        // Typed, one pass.
        let mut dec = Decoder::new(&f.content, dialect);
        match expected {
            Value::Int(i) => {
                let r = SofaResponse::<i64>::read(&mut dec).unwrap();
                assert_eq!(r.app_response, AppResponse::Value(i64::from(i)));
            }
            Value::String(st) => {
                let r = SofaResponse::<String>::read(&mut dec).unwrap();
                assert_eq!(r.app_response, AppResponse::Value(st));
            }
            _ => unreachable!(),
        }
    }
}

#[test]
fn java_business_exception_with_self_referencing_cause() {
    for f in [
        fixture!("java-java/fail.s2c-f00.hex"),
        fixture!("node-java/fail.s2c-f00.hex"),
    ] {
        let mut dec = Decoder::new(&f.content, Dialect::V3);
        let resp = SofaResponse::<String>::read(&mut dec).unwrap();
        assert!(dec.is_empty());
        assert!(!resp.is_error);
        assert_eq!(
            resp.response_props,
            Some(vec![("sofa_head_response_error".into(), "true".into())])
        );
        let AppResponse::Exception(e) = resp.app_response else {
            panic!("expected an exception, got {:?}", resp.app_response)
        };
        assert_eq!(e.class_name, "java.lang.RuntimeException");
        assert_eq!(e.message.as_deref(), Some("boom: x"));
        assert_eq!(e.to_string(), "java.lang.RuntimeException: boom: x");
        // cause = back-reference to the exception itself.
        assert_eq!(e.value.field("cause"), Some(&Value::Ref(0)));
        let Some(Value::List { type_name, items }) = e.value.field("stackTrace") else {
            panic!("no stack trace")
        };
        assert_eq!(type_name.as_deref(), Some("[java.lang.StackTraceElement"));
        assert_eq!(items.len(), 1);
        let ste = &items[0];
        assert_eq!(ste.class_name(), Some("java.lang.StackTraceElement"));
        assert_eq!(ste.field("declaringClass"), Some(&s("peers.JavaPeer")));
        assert_eq!(ste.field("methodName"), Some(&s("fail")));
        assert_eq!(ste.field("fileName"), Some(&s("JavaPeer.java")));
        assert_eq!(ste.field("lineNumber"), Some(&Value::Int(42)));
        assert_eq!(ste.field("moduleName"), Some(&Value::Null));
        assert_eq!(
            e.value.field("suppressedExceptions"),
            Some(&Value::List {
                type_name: Some("java.util.Collections$EmptyList".into()),
                items: vec![]
            })
        );
    }
}

#[test]
fn exception_cause_reads_as_none_through_serde() {
    #[derive(serde::Deserialize, Debug)]
    #[allow(dead_code)]
    struct Throwable {
        #[serde(rename = "detailMessage")]
        detail_message: Option<String>,
        cause: Option<Box<Throwable>>,
    }
    #[derive(serde::Deserialize, Debug)]
    struct Resp {
        #[serde(rename = "appResponse")]
        app_response: Throwable,
    }
    let f = fixture!("java-java/fail.s2c-f00.hex");
    let mut dec = Decoder::new(&f.content, Dialect::V3);
    let r: Resp = dec.decode().unwrap();
    assert_eq!(r.app_response.detail_message.as_deref(), Some("boom: x"));
    assert!(r.app_response.cause.is_none());
}

#[test]
fn plain_bolt_string_frames() {
    let req = fixture!("java-java/string.c2s-f00.hex");
    assert_eq!(req.class_name, "java.lang.String");
    let mut dec = Decoder::new(&req.content, Dialect::V3);
    assert_eq!(dec.decode::<String>().unwrap(), "hello-bolt");
    let resp = fixture!("java-java/string.s2c-f00.hex");
    let mut dec = Decoder::new(&resp.content, Dialect::V4);
    assert_eq!(dec.decode::<String>().unwrap(), "java-echo:hello-bolt");
}

#[test]
fn peek_class_sees_request_and_response_classes() {
    let f = fixture!("java-java/fail.s2c-f00.hex");
    let mut dec = Decoder::new(&f.content, Dialect::V3);
    let ci = dec.peek_class().unwrap().unwrap();
    assert_eq!(ci.name(), "com.alipay.sofa.rpc.core.response.SofaResponse");
    assert_eq!(
        ci.fields().collect::<Vec<_>>(),
        ["isError", "errorMsg", "appResponse", "responseProps"]
    );
    assert!(!ci.is_throwable());
    let f = fixture!("node-node-h4/echo.c2s-f00.hex");
    let mut dec = Decoder::new(&f.content, Dialect::V4);
    let ci = dec.peek_class().unwrap().unwrap();
    assert_eq!(ci.name(), "com.alipay.sofa.rpc.core.request.SofaRequest");
    assert!(ci.has_field("methodArgSigs"));
}

/// A provider's reading of the captured requests: the same fields as the owned head, the names
/// borrowed from the frame, and the arguments where the owned reading leaves them.
#[test]
fn request_fixtures_read_with_borrowed_names() {
    use std::borrow::Cow;
    for req in requests() {
        let f = &req.frame;
        let mut owned = Decoder::new(&f.content, req.dialect);
        let want = SofaRequestHead::read_without_props(&mut owned).unwrap();
        let mut dec = Decoder::new(&f.content, req.dialect);
        let head = crate::RequestHeadRef::read_without_props(&mut dec).unwrap();
        assert_eq!(head.method_name, want.method_name);
        assert_eq!(
            head.target_service_unique_name,
            want.target_service_unique_name
        );
        assert_eq!(head.method_arg_sigs, want.method_arg_sigs);
        assert!(head.request_props.is_empty());
        assert_eq!(dec.position(), owned.position(), "{}", req.method);
        let borrowed = |s: &Cow<'_, str>| matches!(s, Cow::Borrowed(_));
        assert!(borrowed(&head.method_name), "{}", req.method);
        assert!(borrowed(&head.target_service_unique_name));
        assert!(
            head.method_arg_sigs.iter().all(borrowed),
            "{:?}",
            head.method_arg_sigs
        );
    }
}
