//! Malformed input on one connection: what was read before it is still answered, a bad header
//! map fails only its request, and a server sending garbage fails the client's calls.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::time::Duration;

use common::*;
use sofa_bolt::{ErrorKind, Frame, HeaderMap, ServerConfig};
use tokio::io::AsyncWriteExt;

#[tokio::test]
async fn requests_before_a_bad_frame_are_still_answered() {
    let server = echo_server(ServerConfig::default()).await;
    let mut s = raw_connect(server.local_addr()).await;
    let mut stream = encode(
        &Frame::request(ECHO, HeaderMap::new(), "sleep:50:first")
            .with_request_id(1)
            .with_timeout(1000),
    );
    stream.extend_from_slice(&[0x07; 30]);
    send_raw(&mut s, &stream).await;
    let mut buf = bytes::BytesMut::new();
    let resp = read_frame(&mut s, &mut buf).await.expect("response first");
    assert_eq!(&resp.content()[..], b"sleep:50:first");
    expect_closed(&mut s).await;
    server.shutdown().await;
}

#[tokio::test]
async fn a_bad_header_map_fails_the_request_not_the_connection() {
    // The header is parsed lazily, so the processor sees the error and the connection lives.
    let server = sofa_bolt::Server::builder()
        .processor(
            ECHO,
            sofa_bolt::processor_fn(|req: Frame| async move {
                let status = match req.header() {
                    Ok(_) => sofa_bolt::ResponseStatus::SUCCESS,
                    Err(_) => sofa_bolt::ResponseStatus::SERVER_DESERIAL_EXCEPTION,
                };
                Some(Frame::response_to(&req, status))
            }),
        )
        .bind("127.0.0.1:0")
        .start()
        .await
        .unwrap();
    let mut s = raw_connect(server.local_addr()).await;
    // classLen 9 ("test.Echo"), headerLen 3: a truncated length prefix.
    let mut bad = vec![
        1, 1, 0, 1, 1, 0, 0, 0, 1, 1, 0, 0, 3, 0xe8, 0, 9, 0, 3, 0, 0, 0, 0,
    ];
    bad.extend_from_slice(ECHO.as_bytes());
    bad.extend_from_slice(&[0, 0, 0]);
    send_raw(&mut s, &bad).await;
    let mut buf = bytes::BytesMut::new();
    let resp = read_frame(&mut s, &mut buf).await.unwrap();
    assert_eq!(
        resp.status(),
        sofa_bolt::ResponseStatus::SERVER_DESERIAL_EXCEPTION
    );
    send_raw(&mut s, &encode(&Frame::heartbeat(2))).await;
    assert!(read_frame(&mut s, &mut buf).await.unwrap().is_heartbeat());
    server.shutdown().await;
}

#[tokio::test]
async fn a_server_sending_garbage_fails_the_clients_calls_with_the_reason() {
    let (conn, mut s) = connection_to_raw_server().await;
    let call = conn.request(
        Frame::request(ECHO, HeaderMap::new(), ""),
        Duration::from_secs(5),
    );
    s.write_all(&[0x09; 40]).await.unwrap();
    let err = call.await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::ConnectionClosed);
    assert!(
        err.message().contains("malformed input from server"),
        "{err}"
    );
    assert!(err.message().contains("0x09"), "{err}");
}
