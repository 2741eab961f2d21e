//! Mutual TLS refusing clients: without a certificate, or with one no trusted root signed.
//! Both ends get a clear error, the server logs why, and it goes on serving good clients.
//! (Alone in its test binary: it reads the log of the current thread, which the server's
//! once-a-second log limit shares across the process.)
#![cfg(feature = "tls")]
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::sync::Arc;
use std::time::Duration;

use common::pki::Pki;
use common::Logs;
use sofa_bolt::tls::{ClientAuth, TlsAcceptor, TlsClientConfig, TlsConnector, TlsServerConfig};
use sofa_bolt::{
    processor_fn, Connection, ConnectionConfig, Frame, HeaderMap, ResponseStatus, Server,
};

const ECHO: &str = "test.Echo";
const TIMEOUT: Duration = Duration::from_secs(5);

fn client_config(tls: TlsClientConfig) -> ConnectionConfig {
    ConnectionConfig {
        connector: Some(Arc::new(TlsConnector::new(tls).unwrap())),
        ..Default::default()
    }
}

/// Connects and makes one call; the error of whichever step failed. (With TLS 1.3 the client
/// finishes its handshake before the server has checked its certificate, so a refusal may
/// arrive as the connection's first read.)
async fn call(addr: &str, config: ConnectionConfig) -> sofa_bolt::Result<Frame> {
    let conn = Connection::connect_to(addr, config).await?;
    conn.request(Frame::request(ECHO, HeaderMap::new(), "hi"), TIMEOUT)
        .await
}

async fn wait_for_log(logs: &Logs, needle: &str) -> String {
    let deadline = tokio::time::Instant::now() + TIMEOUT;
    loop {
        let text = logs.text();
        if text.contains(needle) || tokio::time::Instant::now() > deadline {
            return text;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[tokio::test]
async fn clients_without_a_trusted_certificate_are_refused_and_others_still_served() {
    let logs = Logs::default();
    let _guard = logs.install();
    let pki = Pki::new("mtls-refuse");
    let (cert, key) = pki.issue("server", "orders", &["127.0.0.1"]);
    let (good_cert, good_key) = pki.issue("good", "billing", &[]);
    let stranger = Pki::new("mtls-stranger");
    let (bad_cert, bad_key) = stranger.issue("bad", "intruder", &[]);
    let tls = TlsAcceptor::new(
        TlsServerConfig::new(cert, key).client_auth(ClientAuth::Required(pki.ca())),
    )
    .unwrap();
    let server = Server::builder()
        .processor(
            ECHO,
            processor_fn(|req: Frame| async move {
                let body = req.content().clone();
                Some(Frame::response_to(&req, ResponseStatus::SUCCESS).with_content(body))
            }),
        )
        .acceptor(tls)
        .bind("127.0.0.1:0")
        .start()
        .await
        .unwrap();
    let addr = server.local_addr().to_string();
    let good = client_config(TlsClientConfig::new(pki.ca()).identity(good_cert, good_key));

    // No certificate at all.
    let err = call(&addr, client_config(TlsClientConfig::new(pki.ca())))
        .await
        .unwrap_err();
    assert!(err.to_string().contains("CertificateRequired"), "{err}");
    let text = wait_for_log(&logs, "handshake failed").await;
    assert!(text.contains("handshake failed"), "{text}");
    assert!(text.contains("peer sent no certificates"), "{text}");
    assert!(call(&addr, good.clone()).await.is_ok());

    // The server's log line limit is one a second.
    tokio::time::sleep(Duration::from_millis(1100)).await;
    // A certificate from a CA the server does not trust.
    let untrusted = TlsClientConfig::new(pki.ca()).identity(bad_cert, bad_key);
    let err = call(&addr, client_config(untrusted)).await.unwrap_err();
    assert!(
        err.to_string().contains("UnknownCA") || err.to_string().contains("BadCertificate"),
        "{err}"
    );
    let text = wait_for_log(&logs, "UnknownIssuer").await;
    assert!(text.contains("UnknownIssuer"), "{text}");
    assert!(call(&addr, good).await.is_ok());
    server.shutdown().await;
}
