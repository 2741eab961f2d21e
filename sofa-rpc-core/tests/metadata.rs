//! The built-in metadata service: answered by default, in hessian2 and json, off on request.

#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

mod common;

use common::*;
use sofa_rpc_core::metadata::{ServiceDescription, UNIQUE_NAME};
use sofa_rpc_core::{Client, ConsumerConfig, DynArgs, ErrorKind, ProviderConfig};

fn generic_client(server: &sofa_rpc_core::Server, serialization: &str) -> Client {
    Client::new(
        ConsumerConfig::new()
            .direct_url(server.local_addr().to_string())
            .serialization(serialization),
    )
    .unwrap()
}

#[tokio::test]
async fn describes_exported_services_in_hessian2_and_json() {
    let server = builder()
        .service(EchoServiceServer::new(Echo::default()))
        .provider(ProviderConfig::new(EchoServiceServer::new(Echo::default())).version("2.0"))
        .start()
        .await
        .unwrap();
    for serialization in ["hessian2", "json"] {
        let metadata = generic_client(&server, serialization).generic(UNIQUE_NAME);
        let names: Vec<String> = metadata.invoke("list", DynArgs::new()).await.unwrap();
        assert_eq!(
            names,
            ["com.example.EchoService:1.0", "com.example.EchoService:2.0"]
        );

        let described: ServiceDescription = metadata
            .invoke(
                "describe",
                DynArgs::new().arg("java.lang.String", "com.example.EchoService:2.0"),
            )
            .await
            .unwrap();
        assert_eq!(described.version, "2.0");
        assert_eq!(described.serialization, "hessian2");
        assert!(described.serializations.contains(&"json".to_string()));
        let add = described.methods.iter().find(|m| m.name == "add").unwrap();
        assert_eq!(
            add.parameter_types.as_deref(),
            Some(&["int".to_string(), "int".to_string()][..])
        );
        assert_eq!(add.return_type.as_deref(), Some("int"));
        let refuse = described
            .methods
            .iter()
            .find(|m| m.name == "refuse")
            .unwrap();
        assert_eq!(refuse.return_type.as_deref(), Some("java.lang.String"));
        let hit = described.methods.iter().find(|m| m.name == "hit").unwrap();
        assert_eq!(hit.return_type.as_deref(), Some("void"));

        // Two versions exported: the bare interface is ambiguous.
        let err = metadata
            .invoke::<ServiceDescription>(
                "describe",
                DynArgs::new().arg("java.lang.String", "com.example.EchoService"),
            )
            .await
            .unwrap_err();
        assert_eq!(err.kind(), ErrorKind::ServerBiz);
        assert!(err.message().contains("IllegalArgumentException"), "{err}");
    }
    server.shutdown().await;
}

#[tokio::test]
async fn metadata_can_be_turned_off() {
    let server = builder()
        .metadata(false)
        .service(EchoServiceServer::new(Echo::default()))
        .start()
        .await
        .unwrap();
    let err = generic_client(&server, "hessian2")
        .generic(UNIQUE_NAME)
        .invoke::<Vec<String>>("list", DynArgs::new())
        .await
        .unwrap_err();
    assert_ne!(err.kind(), ErrorKind::ServerBiz, "{err}");
    assert!(server
        .services()
        .iter()
        .all(|s| s.unique_name() != UNIQUE_NAME));
    server.shutdown().await;
}
