//! SOFARPC over TLS: TLS servers and consumers (direct `bolt+tls://` URLs, `tls=true` in
//! URLs and in what the registry publishes), the caller's identity reaching provider filters,
//! and the `authz` filter allowing and denying by identity, service and method.
#![cfg(feature = "tls")]
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs)]

mod common;
#[path = "../../sofa-bolt/tests/common/pki.rs"]
mod pki;

use std::path::{Path, PathBuf};
use std::time::Duration;

use common::*;
use pki::Pki;
use sofa_rpc_core::bolt::tls::{
    ClientAuth, TlsAcceptor, TlsClientConfig, TlsConnector, TlsServerConfig,
};
use sofa_rpc_core::filter::{AuthzFilter, AuthzRule};
use sofa_rpc_core::{Client, ConsumerConfig, ErrorKind, ExtensionLoader, Server};

/// A CA, a server certificate for 127.0.0.1 and client certificates for `billing` and
/// `intruder`.
struct Certs {
    pki: Pki,
    server: (PathBuf, PathBuf),
    billing: (PathBuf, PathBuf),
    intruder: (PathBuf, PathBuf),
}

fn certs(name: &str) -> Certs {
    let pki = Pki::new(name);
    let server = pki.issue("server", "orders", &["127.0.0.1", "localhost"]);
    let billing = pki.issue("billing", "billing", &["spiffe://example/billing"]);
    let intruder = pki.issue("intruder", "intruder", &[]);
    Certs {
        pki,
        server,
        billing,
        intruder,
    }
}

fn acceptor(certs: &Certs) -> TlsAcceptor {
    let (cert, key) = &certs.server;
    TlsAcceptor::new(
        TlsServerConfig::new(cert, key).client_auth(ClientAuth::Required(certs.pki.ca())),
    )
    .unwrap()
}

fn connector(ca: &Path, identity: &(PathBuf, PathBuf)) -> TlsConnector {
    let (cert, key) = identity;
    TlsConnector::new(TlsClientConfig::new(ca).identity(cert, key)).unwrap()
}

fn tls_client(url: String, certs: &Certs, identity: &(PathBuf, PathBuf)) -> EchoServiceClient {
    client_with(
        ConsumerConfig::new()
            .direct_url(url)
            .tls(connector(&certs.pki.ca(), identity))
            .timeout(Duration::from_secs(5)),
    )
}

#[tokio::test]
async fn a_consumer_calls_a_tls_provider_by_bolt_tls_url_or_tls_parameter() {
    let certs = certs("core-round-trip");
    let server = builder()
        .service(EchoServiceServer::new(Echo::default()))
        .tls(acceptor(&certs))
        .start()
        .await
        .unwrap();
    let addr = server.local_addr();

    let by_scheme = tls_client(format!("bolt+tls://{addr}"), &certs, &certs.billing);
    assert_eq!(by_scheme.echo("over tls".into()).await.unwrap(), "over tls");
    assert_eq!(by_scheme.add(2, 3).await.unwrap(), 5);
    let by_param = tls_client(format!("bolt://{addr}?tls=true"), &certs, &certs.billing);
    assert_eq!(by_param.echo("again".into()).await.unwrap(), "again");

    // A consumer that trusts another CA: the call fails as never sent, saying why.
    let stranger = Pki::new("core-stranger");
    let distrustful = client_with(
        ConsumerConfig::new()
            .direct_url(format!("bolt+tls://{addr}"))
            .tls(connector(&stranger.ca(), &certs.billing))
            .timeout(Duration::from_secs(5)),
    );
    let err = distrustful.echo("refused".into()).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::ClientNetwork, "{err}");
    assert!(err.to_string().contains("TLS handshake"), "{err}");
    assert!(err.to_string().contains("UnknownIssuer"), "{err}");

    // A consumer without TLS settings is told so when it is made.
    let Err(err) = Client::new(ConsumerConfig::new().direct_url(format!("bolt+tls://{addr}")))
    else {
        panic!("a TLS provider accepted without TLS settings");
    };
    assert_eq!(err.kind(), ErrorKind::ClientUndeclared);
    assert!(err.to_string().contains("no TLS configuration"), "{err}");
    server.shutdown().await;
}

#[tokio::test]
async fn a_tls_provider_publishes_tls_true_and_registry_consumers_follow_it() {
    let certs = certs("core-registry");
    let file = certs.pki.dir().join("registry");
    let registry = format!("local://{}?scanPeriod=50", file.display());
    let server = builder()
        .service(EchoServiceServer::new(Echo::default()))
        .registry(&registry)
        .tls(acceptor(&certs))
        .start()
        .await
        .unwrap();
    let published = std::fs::read_to_string(&file).unwrap();
    assert!(published.contains("tls=true"), "{published}");

    let config = ConsumerConfig::new()
        .registry(&registry)
        .registry_cache(None)
        .timeout(Duration::from_secs(5));
    let with_tls = client_with(
        config
            .clone()
            .tls(connector(&certs.pki.ca(), &certs.billing)),
    );
    assert_eq!(with_tls.echo("found".into()).await.unwrap(), "found");

    // Without TLS settings, calls to it fail with a configuration error that says why.
    let without = client_with(config);
    let err = without.echo("plain".into()).await.unwrap_err();
    assert!(err.to_string().contains("serves over TLS"), "{err}");
    server.shutdown().await;
}

#[tokio::test]
async fn the_authz_filter_allows_and_denies_by_caller_identity_service_and_method() {
    let certs = certs("core-authz");
    let mut loader = ExtensionLoader::default();
    loader.register_filter(
        "authz",
        AuthzFilter::new([
            AuthzRule::allow(
                "spiffe://example/billing",
                "com.example.EchoService",
                "echo",
            ),
            AuthzRule::allow("intruder", "com.example.Other", "*"),
        ]),
    );
    let server = Server::builder()
        .bind("127.0.0.1:0")
        .service(EchoServiceServer::new(Echo::default()))
        .extensions(loader)
        .filters(["authz"])
        .tls(acceptor(&certs))
        .start()
        .await
        .unwrap();
    let url = format!("bolt+tls://{}", server.local_addr());

    let billing = tls_client(url.clone(), &certs, &certs.billing);
    assert_eq!(billing.echo("allowed".into()).await.unwrap(), "allowed");
    let err = billing.add(1, 2).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::ServerFilter, "{err}");
    let text = err.to_string();
    assert!(
        text.contains("access denied") && text.contains("CN=billing"),
        "{text}"
    );
    assert!(
        text.contains("com.example.EchoService") && text.contains("#add"),
        "{text}"
    );

    let intruder = tls_client(url, &certs, &certs.intruder);
    let err = intruder.echo("let me in".into()).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::ServerFilter, "{err}");
    assert!(err.to_string().contains("CN=intruder"), "{err}");
    server.shutdown().await;
}
