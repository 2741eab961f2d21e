//! The server over real sockets: heartbeats, protocol pinning, processors, limits, idle close
//! and graceful shutdown.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use bytes::BytesMut;
use common::*;
use sofa_bolt::{
    Connection, ConnectionConfig, ErrorKind, Frame, HeaderMap, Protocol, ResponseStatus, Server,
    ServerConfig, Switch,
};

fn unhex(s: &str) -> Vec<u8> {
    let s: String = s.split_whitespace().collect();
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
        .collect()
}

#[tokio::test]
async fn heartbeats_get_exact_acks_in_v1_and_v2() {
    let server = echo_server(ServerConfig::default()).await;

    // Java-style heartbeat, id 42 (spec example 3).
    let mut s = raw_connect(server.local_addr()).await;
    send_raw(
        &mut s,
        &unhex("01 01 00 00 01 00 00 00 2a 01 ff ff ff ff 00 00 00 00 00 00 00 00"),
    )
    .await;
    let mut buf = BytesMut::new();
    let ack = read_frame(&mut s, &mut buf).await.unwrap();
    assert_eq!(
        encode(&ack),
        unhex("01 00 00 00 01 00 00 00 2a 01 00 00 00 00 00 00 00 00 00 00")
    );

    // v2 heartbeat: the ack comes back in v2 with the same ver1 and no CRC.
    let mut s = raw_connect(server.local_addr()).await;
    let hb = Frame::heartbeat(7).with_protocol(Protocol::V2_CRC);
    send_raw(&mut s, &encode(&hb)).await;
    let mut buf = BytesMut::new();
    let ack = read_frame(&mut s, &mut buf).await.unwrap();
    assert!(ack.is_heartbeat() && ack.is_response());
    assert_eq!(ack.protocol(), Protocol::V2_CRC);
    assert_eq!(ack.request_id(), 7);
    assert!(!ack.has_crc());
    server.shutdown().await;
}

#[tokio::test]
async fn answers_in_the_protocol_of_the_first_frame() {
    let server = echo_server(ServerConfig::default()).await;
    let mut s = raw_connect(server.local_addr()).await;
    let request = |id: i32, protocol: Protocol| {
        Frame::request(ECHO, HeaderMap::new(), "x")
            .with_request_id(id)
            .with_protocol(protocol)
            .with_switch(Switch::CRC)
            .with_timeout(1000)
    };
    send_raw(&mut s, &encode(&request(1, Protocol::V2_CRC))).await;
    // A later v1 frame on the same connection is still answered in v2, as Java does.
    send_raw(&mut s, &encode(&request(2, Protocol::V1))).await;
    let mut buf = BytesMut::new();
    for _ in 0..2 {
        let resp = read_frame(&mut s, &mut buf).await.unwrap();
        assert_eq!(resp.protocol(), Protocol::V2_CRC);
        // The CRC switch is copied from the request, so the v2 response carries a CRC...
        assert_eq!(resp.has_crc(), resp.request_id() == 1);
        assert_eq!(&resp.content()[..], b"x");
    }
    server.shutdown().await;
}

#[tokio::test]
async fn unknown_class_gets_server_exception_and_oneway_gets_nothing() {
    let seen = Arc::new(AtomicUsize::new(0));
    let counter = seen.clone();
    let server = Server::builder()
        .processor(
            "test.Count",
            move |req: Frame, responder: sofa_bolt::Responder| {
                counter.fetch_add(1, Ordering::SeqCst);
                responder.send(Frame::response_to(&req, ResponseStatus::SUCCESS));
            },
        )
        .bind("127.0.0.1:0")
        .start()
        .await
        .unwrap();
    let conn = Connection::connect(server.local_addr(), ConnectionConfig::default())
        .await
        .unwrap();
    let resp = conn
        .request(
            Frame::request("no.Such", HeaderMap::new(), ""),
            Duration::from_secs(2),
        )
        .await
        .unwrap();
    assert_eq!(resp.status(), ResponseStatus::SERVER_EXCEPTION);

    conn.oneway(Frame::request("test.Count", HeaderMap::new(), ""))
        .unwrap();
    // The oneway request reaches the processor (see the counter); that nothing goes back on
    // the wire for it is checked byte-level in `oneway_requests_are_never_answered_on_the_wire`.
    let resp = conn
        .request(
            Frame::request("test.Count", HeaderMap::new(), ""),
            Duration::from_secs(2),
        )
        .await
        .unwrap();
    assert!(resp.status().is_success());
    assert_eq!(seen.load(Ordering::SeqCst), 2);
    server.shutdown().await;
}

#[tokio::test]
async fn oneway_requests_are_never_answered_on_the_wire() {
    let server = echo_server(ServerConfig::default()).await;
    let mut s = raw_connect(server.local_addr()).await;
    let oneway = Frame::oneway(ECHO, HeaderMap::new(), "quiet").with_request_id(5);
    let hb = Frame::heartbeat(6);
    send_raw(&mut s, &encode(&oneway)).await;
    send_raw(&mut s, &encode(&hb)).await;
    let mut buf = BytesMut::new();
    // The first thing back is the heartbeat ack: nothing was written for the oneway request.
    let first = read_frame(&mut s, &mut buf).await.unwrap();
    assert!(first.is_heartbeat());
    assert_eq!(first.request_id(), 6);
    server.shutdown().await;
}

#[tokio::test]
async fn idle_connections_are_closed() {
    let config = ServerConfig {
        idle_timeout: Duration::from_millis(200),
        ..ServerConfig::default()
    };
    let server = echo_server(config).await;
    let mut s = raw_connect(server.local_addr()).await;
    let started = std::time::Instant::now();
    expect_closed(&mut s).await;
    let waited = started.elapsed();
    assert!(
        waited >= Duration::from_millis(200),
        "closed after {waited:?}"
    );
    server.shutdown().await;
}

#[tokio::test]
async fn connection_limit_closes_extra_connections() {
    let config = ServerConfig {
        max_connections: 1,
        ..ServerConfig::default()
    };
    let server = echo_server(config).await;
    let first = Connection::connect(server.local_addr(), ConnectionConfig::default())
        .await
        .unwrap();
    first
        .request(
            Frame::request(ECHO, HeaderMap::new(), "a"),
            Duration::from_secs(2),
        )
        .await
        .unwrap();
    assert_eq!(server.connections(), 1);
    let mut second = raw_connect(server.local_addr()).await;
    expect_closed(&mut second).await;
    // The first connection is unaffected.
    let resp = first
        .request(
            Frame::request(ECHO, HeaderMap::new(), "b"),
            Duration::from_secs(2),
        )
        .await
        .unwrap();
    assert_eq!(&resp.content()[..], b"b");
    server.shutdown().await;
}

#[tokio::test]
async fn graceful_shutdown_finishes_in_flight_requests() {
    let server = echo_server(ServerConfig::default()).await;
    let addr = server.local_addr();
    let conn = Connection::connect(addr, ConnectionConfig::default())
        .await
        .unwrap();
    let slow: Vec<_> = (0..5)
        .map(|i| {
            conn.request(
                Frame::request(ECHO, HeaderMap::new(), format!("sleep:200:{i}")),
                Duration::from_secs(5),
            )
        })
        .collect();
    // Let the requests reach the server before it is told to stop.
    tokio::time::sleep(Duration::from_millis(50)).await;
    let shutdown = tokio::spawn(server.shutdown());
    for (i, call) in slow.into_iter().enumerate() {
        let resp = call.await.expect("in-flight request completes");
        assert_eq!(resp.content(), format!("sleep:200:{i}").as_bytes());
    }
    shutdown.await.unwrap();
    conn.closed().await;
    // No longer accepting.
    let err = Connection::connect(addr, ConnectionConfig::default())
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Connect);
}

#[tokio::test]
async fn shutdown_timeout_bounds_a_stuck_request() {
    let config = ServerConfig {
        shutdown_timeout: Duration::from_millis(100),
        ..ServerConfig::default()
    };
    let server = echo_server(config).await;
    let conn = Connection::connect(server.local_addr(), ConnectionConfig::default())
        .await
        .unwrap();
    let stuck = conn.request(
        Frame::request(ECHO, HeaderMap::new(), "sleep:10000:"),
        Duration::from_secs(20),
    );
    tokio::time::sleep(Duration::from_millis(50)).await;
    let started = std::time::Instant::now();
    server.shutdown().await;
    assert!(started.elapsed() < Duration::from_secs(3));
    let err = stuck.await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::ConnectionClosed);
}

#[tokio::test]
async fn requests_arriving_during_shutdown_are_answered_busy_then_the_connection_closes() {
    let server = echo_server(ServerConfig::default()).await;
    let conn = Connection::connect(server.local_addr(), ConnectionConfig::default())
        .await
        .unwrap();
    let slow = conn.request(
        Frame::request(ECHO, HeaderMap::new(), "sleep:300:"),
        Duration::from_secs(5),
    );
    tokio::time::sleep(Duration::from_millis(50)).await;
    let shutdown = tokio::spawn(server.shutdown());
    tokio::time::sleep(Duration::from_millis(20)).await;
    // Still read, not run: the client may safely send it elsewhere.
    let late = conn
        .request(
            Frame::request(ECHO, HeaderMap::new(), "late"),
            Duration::from_secs(2),
        )
        .await
        .unwrap();
    assert_eq!(late.status(), ResponseStatus::SERVER_THREADPOOL_BUSY);
    // The answer said the server is closing: the connection sends nothing more.
    assert!(conn.is_closed());
    let refused = conn
        .request(
            Frame::request(ECHO, HeaderMap::new(), "later"),
            Duration::from_secs(2),
        )
        .await
        .unwrap_err();
    assert_eq!(refused.kind(), ErrorKind::NotSent, "{refused}");
    assert_eq!(&slow.await.unwrap().content()[..], b"sleep:300:");
    // Nothing in flight and the client quiet: the server closes its side.
    shutdown.await.unwrap();
    tokio::time::timeout(Duration::from_secs(2), conn.closed())
        .await
        .unwrap();
}

#[tokio::test]
async fn a_request_half_read_when_shutdown_begins_is_still_answered() {
    let server = echo_server(ServerConfig::default()).await;
    let mut s = raw_connect(server.local_addr()).await;
    let wire = encode(&Frame::request(ECHO, HeaderMap::new(), "x".repeat(200)));
    send_raw(&mut s, &wire[..100]).await;
    tokio::time::sleep(Duration::from_millis(50)).await;
    let shutdown = tokio::spawn(server.shutdown());
    // Longer than the quiet time after which an idle draining connection is closed.
    tokio::time::sleep(Duration::from_millis(400)).await;
    send_raw(&mut s, &wire[100..]).await;
    let mut buf = BytesMut::new();
    let reply = read_frame(&mut s, &mut buf).await.expect("an answer");
    assert_eq!(reply.status(), ResponseStatus::SERVER_THREADPOOL_BUSY);
    expect_closed(&mut s).await;
    shutdown.await.unwrap();
}
