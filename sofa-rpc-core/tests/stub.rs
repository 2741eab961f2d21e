//! Generated stubs on their own: `connect` by URL and per-stub timeout, version and uniqueId.

#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

mod common;

use std::time::Duration;

use common::*;
use sofa_rpc_core::{ErrorKind, ProviderConfig};

#[tokio::test]
async fn a_stub_connects_by_url_and_carries_its_own_settings() {
    let server = builder()
        .provider(ProviderConfig::new(EchoServiceServer::new(Echo::default())).version("2.0"))
        .provider(ProviderConfig::new(EchoServiceServer::new(Echo::default())).unique_id("blue"))
        .start()
        .await
        .unwrap();
    let url = format!("bolt://{}", server.local_addr());
    let stub = EchoServiceClient::connect(&url).unwrap();

    // The definition's id (1.0, no uniqueId) is not exported here.
    let err = stub.echo("x".into()).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::ServerNotFoundInvoker, "{err}");

    let v2 = stub.clone().with_version("2.0");
    assert_eq!(v2.service_id().unique_name(), "com.example.EchoService:2.0");
    assert_eq!(v2.echo("two".into()).await.unwrap(), "two");
    let blue = stub.clone().with_unique_id("blue");
    assert_eq!(blue.echo("blue".into()).await.unwrap(), "blue");

    // The stub's timeout applies to its calls; a call's own timeout still wins.
    let hasty = v2.clone().with_timeout(Duration::from_millis(50));
    let err = hasty.sleep(400).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::ClientTimeout, "{err}");
    assert_eq!(
        hasty
            .sleep(100)
            .timeout(Duration::from_secs(2))
            .await
            .unwrap(),
        100
    );
    server.shutdown().await;
}

#[test]
fn connect_rejects_an_unknown_scheme_clearly() {
    let err = EchoServiceClient::connect("http://127.0.0.1:1").unwrap_err();
    assert_eq!(err.kind(), ErrorKind::ClientUndeclared);
    assert!(err.message().contains("http://127.0.0.1:1"), "{err}");
}
