//! Generic calls: any service and method by name, dynamic values, no stub.

#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

mod common;

use std::collections::BTreeMap;

use common::*;
use sofa_rpc_core::{Client, ConsumerConfig, DynArgs};

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

    // A struct given as a map of fields, decoded back as a map.
    let mut user = BTreeMap::new();
    user.insert("name", rmpv_like::Value::Str("bob".into()));
    user.insert("age", rmpv_like::Value::Int(7));
    let back: BTreeMap<String, rmpv_like::Value> = echo
        .invoke("echoUser", DynArgs::new().arg("com.example.User", user))
        .await
        .unwrap();
    assert_eq!(back.get("name"), Some(&rmpv_like::Value::Str("bob".into())));
    assert_eq!(back.get("age"), Some(&rmpv_like::Value::Int(7)));
    server.shutdown().await;
}

/// A minimal dynamic value type, enough for the test.
mod rmpv_like {
    use serde::{Deserialize, Serialize};

    #[derive(Debug, PartialEq, Serialize, Deserialize)]
    #[serde(untagged)]
    pub(crate) enum Value {
        Int(i64),
        Str(String),
    }
}
