//! Generic calls: any service and method by name, dynamic values, no stub.

#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

mod common;

use common::*;
use sofa_rpc_core::{Client, ConsumerConfig, DynArgs, Value};

#[tokio::test]
async fn generic_calls_with_dynamic_values() {
    let server = serve(Echo::default()).await;
    let client =
        Client::new(ConsumerConfig::new().direct_url(server.local_addr().to_string())).unwrap();
    let echo = client.generic("com.example.EchoService:1.0");

    let sum: i64 = echo
        .invoke("add", DynArgs::new().arg("int", 40).arg("int", 2))
        .await
        .unwrap();
    assert_eq!(sum, 42);

    // A struct given and read back as the crate's dynamic value: with Hessian as an object
    // whose class name travels; with msgpack (the default) as a map of its fields.
    let fields = vec![
        ("name".to_string(), Value::from("bob")),
        ("age".into(), Value::Int(7)),
    ];
    let object = Value::Object {
        class: "com.example.User".into(),
        fields: fields.clone(),
    };
    let map = Value::Map {
        type_name: None,
        entries: fields.into_iter().map(|(k, v)| (k.into(), v)).collect(),
    };
    for (serialization, user) in [("hessian2", object), ("msgpack", map)] {
        let client = Client::new(
            ConsumerConfig::new()
                .direct_url(server.local_addr().to_string())
                .serialization(serialization),
        )
        .unwrap();
        let back: Value = client
            .generic("com.example.EchoService:1.0")
            .invoke(
                "echoUser",
                DynArgs::new().arg("com.example.User", user.clone()),
            )
            .await
            .unwrap();
        println!("{serialization}: {back:?}");
        let name = match &back {
            Value::Object { .. } => back.field("name").and_then(Value::as_str),
            Value::Map { entries, .. } => entries
                .iter()
                .find(|(k, _)| k.as_str() == Some("name"))
                .and_then(|(_, v)| v.as_str()),
            other => panic!("{serialization}: not a struct: {other:?}"),
        };
        assert_eq!(name, Some("bob"), "{serialization}");
        if serialization == "hessian2" {
            assert_eq!(back.class_name(), Some("com.example.User"));
        }
    }
    server.shutdown().await;
}
