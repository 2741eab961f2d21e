//! TLS and mutual TLS over real sockets: round trips, client certificates required, trusted
//! or not, host name checks, certificate reload and the handshake timeout. Certificates are
//! made by each test (see `common/pki.rs`).
#![cfg(feature = "tls")]
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::sync::Arc;
use std::time::Duration;

use common::pki::Pki;
use sofa_bolt::tls::{ClientAuth, TlsAcceptor, TlsClientConfig, TlsConnector, TlsServerConfig};
use sofa_bolt::{
    Connection, ConnectionConfig, ConnectionPool, ErrorKind, Frame, HeaderMap, PoolConfig,
    Responder, ResponseStatus, Server, ServerConfig,
};
use tokio::io::AsyncWriteExt;

const WHOAMI: &str = "test.WhoAmI";
const TIMEOUT: Duration = Duration::from_secs(5);

/// A TLS server that answers `test.WhoAmI` with the identity the client proved ("anonymous"
/// without one), and with the request's content after a `|`.
async fn whoami_server(tls: TlsAcceptor, config: ServerConfig) -> Server {
    Server::builder()
        .config(config)
        .processor(WHOAMI, |req: Frame, responder: Responder| {
            let who = responder
                .peer_identity()
                .map_or_else(|| "anonymous".to_string(), |id| id.to_string());
            let body = format!("{who}|{}", String::from_utf8_lossy(req.content()));
            responder.send(Frame::response_to(&req, ResponseStatus::SUCCESS).with_content(body));
        })
        .acceptor(tls)
        .bind("127.0.0.1:0")
        .start()
        .await
        .unwrap()
}

fn client_config(tls: TlsClientConfig) -> ConnectionConfig {
    ConnectionConfig {
        connector: Some(Arc::new(TlsConnector::new(tls).unwrap())),
        ..Default::default()
    }
}

async fn ask(conn: &Connection, what: &str) -> sofa_bolt::Result<String> {
    let reply = conn
        .request(
            Frame::request(WHOAMI, HeaderMap::new(), what.to_string()),
            TIMEOUT,
        )
        .await?;
    assert_eq!(reply.status(), ResponseStatus::SUCCESS);
    Ok(String::from_utf8(reply.content().to_vec()).unwrap())
}

/// Connects and makes one call; the error of whichever step failed.
async fn connect_and_ask(addr: &str, config: ConnectionConfig) -> sofa_bolt::Result<String> {
    let conn = Connection::connect_to(addr, config).await?;
    ask(&conn, "hello").await
}

/// Waits (boundedly) until the server serves `n` connections.
async fn wait_for_connections(server: &Server, n: usize) {
    let deadline = tokio::time::Instant::now() + TIMEOUT;
    while server.connections() != n {
        assert!(
            tokio::time::Instant::now() < deadline,
            "{} connections, not {n}",
            server.connections()
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

/// Reads (and drops, a TLS alert say) until the server closes the connection, within the bound.
async fn closed_by_server(stream: &mut tokio::net::TcpStream) {
    let mut buf = [0u8; 256];
    let closed = tokio::time::timeout(TIMEOUT, async {
        loop {
            match tokio::io::AsyncReadExt::read(stream, &mut buf).await {
                Ok(0) | Err(_) => return,
                Ok(_) => {}
            }
        }
    })
    .await;
    assert!(closed.is_ok(), "the server did not close the connection");
}

#[tokio::test]
async fn tls_round_trip_through_a_pool_with_large_and_many_frames() {
    let pki = Pki::new("round-trip");
    let (cert, key) = pki.issue("server", "orders", &["localhost", "127.0.0.1"]);
    let tls = TlsAcceptor::new(TlsServerConfig::new(cert, key)).unwrap();
    let server = whoami_server(tls, ServerConfig::default()).await;
    let addr = server.local_addr().to_string();

    let pool = ConnectionPool::new(PoolConfig {
        connection: client_config(TlsClientConfig::new(pki.ca())),
        ..Default::default()
    });
    let conn = pool.get(&addr).await.unwrap();
    assert_eq!(ask(&conn, "hello").await.unwrap(), "anonymous|hello");
    // The client sees who the server proved to be.
    let server_id = conn
        .peer_identity()
        .expect("the server presented a certificate");
    assert_eq!(server_id.common_name(), Some("orders"));
    assert!(server_id.sans().contains(&"IP:127.0.0.1".to_string()));

    // A frame larger than one TLS record, and many calls in flight at once.
    let big = "x".repeat(300 * 1024);
    assert_eq!(
        ask(&conn, &big).await.unwrap().len(),
        big.len() + "anonymous|".len()
    );
    let calls = (0..200).map(|i| {
        let conn = conn.clone();
        async move { ask(&conn, &i.to_string()).await.unwrap() == format!("anonymous|{i}") }
    });
    let all = futures::future::join_all(calls).await;
    assert!(all.into_iter().all(|ok| ok));
    server.shutdown().await;
}

#[tokio::test]
async fn mutual_tls_gives_the_server_the_client_identity() {
    let pki = Pki::new("mtls-good");
    let (cert, key) = pki.issue("server", "orders", &["127.0.0.1"]);
    let (client_cert, client_key) = pki.issue(
        "client",
        "billing",
        &["billing.internal", "spiffe://example/billing"],
    );
    let tls = TlsAcceptor::new(
        TlsServerConfig::new(cert, key).client_auth(ClientAuth::Required(pki.ca())),
    )
    .unwrap();
    let server = whoami_server(tls, ServerConfig::default()).await;
    let addr = server.local_addr().to_string();

    let config = client_config(TlsClientConfig::new(pki.ca()).identity(client_cert, client_key));
    let answer = connect_and_ask(&addr, config).await.unwrap();
    assert!(answer.contains("CN=billing"), "{answer}");
    assert!(answer.contains("DNS:billing.internal"), "{answer}");
    assert!(answer.contains("URI:spiffe://example/billing"), "{answer}");
    server.shutdown().await;
}

#[tokio::test]
async fn optional_client_auth_serves_anonymous_and_identified_clients() {
    let pki = Pki::new("mtls-optional");
    let (cert, key) = pki.issue("server", "orders", &["127.0.0.1"]);
    let (client_cert, client_key) = pki.issue("client", "billing", &[]);
    let tls = TlsAcceptor::new(
        TlsServerConfig::new(cert, key).client_auth(ClientAuth::Optional(pki.ca())),
    )
    .unwrap();
    let server = whoami_server(tls, ServerConfig::default()).await;
    let addr = server.local_addr().to_string();

    let anonymous = connect_and_ask(&addr, client_config(TlsClientConfig::new(pki.ca())));
    assert!(anonymous.await.unwrap().starts_with("anonymous|"));
    let config = client_config(TlsClientConfig::new(pki.ca()).identity(client_cert, client_key));
    assert!(connect_and_ask(&addr, config)
        .await
        .unwrap()
        .contains("CN=billing"));
    server.shutdown().await;
}

#[tokio::test]
async fn a_server_certificate_for_another_name_is_refused_unless_told_otherwise() {
    let pki = Pki::new("hostname");
    let (cert, key) = pki.issue("server", "orders", &["orders.example"]);
    let tls = TlsAcceptor::new(TlsServerConfig::new(cert, key)).unwrap();
    let server = whoami_server(tls, ServerConfig::default()).await;
    let addr = server.local_addr().to_string();

    let err = connect_and_ask(&addr, client_config(TlsClientConfig::new(pki.ca())))
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Tls, "{err}");
    assert!(err.to_string().contains("not valid for name"), "{err}");

    // The name the certificate carries, given explicitly.
    let named = TlsClientConfig::new(pki.ca()).server_name("orders.example");
    assert!(connect_and_ask(&addr, client_config(named)).await.is_ok());
    // Or no name check at all, as SOFABolt peers do: the chain is still verified.
    let skip = TlsClientConfig::new(pki.ca()).danger_skip_hostname_verification(true);
    assert!(connect_and_ask(&addr, client_config(skip)).await.is_ok());
    let stranger = Pki::new("hostname-stranger");
    let skip_untrusted =
        TlsClientConfig::new(stranger.ca()).danger_skip_hostname_verification(true);
    let err = connect_and_ask(&addr, client_config(skip_untrusted))
        .await
        .unwrap_err();
    assert!(err.to_string().contains("UnknownIssuer"), "{err}");
    server.shutdown().await;
}

#[tokio::test]
async fn reload_gives_new_connections_the_new_certificate_and_keeps_the_old_on_bad_files() {
    let pki = Pki::new("reload");
    let (cert, key) = pki.issue("server", "first", &["127.0.0.1"]);
    let tls = TlsAcceptor::new(TlsServerConfig::new(&cert, &key)).unwrap();
    let server = whoami_server(tls.clone(), ServerConfig::default()).await;
    let addr = server.local_addr().to_string();
    let config = client_config(TlsClientConfig::new(pki.ca()));

    let before = Connection::connect_to(&addr, config.clone()).await.unwrap();
    assert_eq!(before.peer_identity().unwrap().common_name(), Some("first"));

    let (new_cert, new_key) = pki.issue_pem("second", &["127.0.0.1"]);
    std::fs::write(&cert, new_cert).unwrap();
    std::fs::write(&key, new_key).unwrap();
    tls.reload().unwrap();
    let after = Connection::connect_to(&addr, config.clone()).await.unwrap();
    assert_eq!(after.peer_identity().unwrap().common_name(), Some("second"));
    // The connection opened before keeps working.
    assert!(ask(&before, "still").await.unwrap().ends_with("|still"));

    // A broken key: the reload fails, says which file, and the pair in use stays.
    std::fs::write(&key, "not a key").unwrap();
    let err = tls.reload().unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Tls);
    assert!(
        err.to_string().contains(&key.display().to_string()),
        "{err}"
    );
    let again = Connection::connect_to(&addr, config).await.unwrap();
    assert_eq!(again.peer_identity().unwrap().common_name(), Some("second"));
    server.shutdown().await;
}

#[tokio::test]
async fn a_peer_that_never_handshakes_loses_its_place_after_the_handshake_timeout() {
    let pki = Pki::new("handshake-timeout");
    let (cert, key) = pki.issue("server", "orders", &["127.0.0.1"]);
    let tls = TlsAcceptor::new(TlsServerConfig::new(cert, key)).unwrap();
    let config = ServerConfig {
        max_connections: 1,
        handshake_timeout: Duration::from_millis(300),
        ..Default::default()
    };
    let server = whoami_server(tls, config).await;
    let addr = server.local_addr().to_string();

    // Connects and says nothing: it holds the only place, for now. (The clock starts before
    // the connect, so a slow machine cannot make the close look early.)
    let started = tokio::time::Instant::now();
    let mut silent = tokio::net::TcpStream::connect(&addr).await.unwrap();
    wait_for_connections(&server, 1).await;
    // Closed by the server after the handshake timeout, which frees the place.
    closed_by_server(&mut silent).await;
    assert!(
        started.elapsed() >= Duration::from_millis(250),
        "closed before the timeout"
    );
    wait_for_connections(&server, 0).await;
    let config = client_config(TlsClientConfig::new(pki.ca()));
    assert!(connect_and_ask(&addr, config).await.is_ok());

    // Plain Bolt bytes sent to a TLS port fail the handshake at once.
    let mut plain = tokio::net::TcpStream::connect(&addr).await.unwrap();
    plain.write_all(&[0x01; 64]).await.unwrap();
    closed_by_server(&mut plain).await;
    server.shutdown().await;
}
