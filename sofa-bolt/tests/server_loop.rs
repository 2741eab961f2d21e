//! The connection loop's shortcuts keep its guarantees: answers given inside `process` go out
//! and free their place at once, answers from tasks still arrive beside them, shutdown is seen
//! under constant traffic, and a connection in use is never closed as idle.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::collections::HashSet;
use std::time::{Duration, Instant};

use bytes::BytesMut;
use common::*;
use sofa_bolt::{
    Connection, ConnectionConfig, ErrorKind, Frame, HeaderMap, Responder, ResponseStatus, Server,
    ServerConfig,
};

/// A server whose processor answers before `process` returns, except for bodies starting with
/// `task:`, answered from a task of their own.
async fn inline_server(config: ServerConfig) -> Server {
    Server::builder()
        .config(config)
        .processor(ECHO, |req: Frame, responder: Responder| {
            let answer = Frame::response_to(&req, ResponseStatus::SUCCESS)
                .with_content(req.content().clone());
            if req.content().starts_with(b"task:") {
                tokio::spawn(async move {
                    tokio::task::yield_now().await;
                    responder.send(answer);
                });
            } else {
                responder.send(answer);
            }
        })
        .bind("127.0.0.1:0")
        .start()
        .await
        .unwrap()
}

/// Writes `n` requests in one write, bodies from `body(i)`, and reads `n` answers: every id
/// answered once, with its own body.
async fn pipeline(server: &Server, n: i32, body: impl Fn(i32) -> String) {
    let mut s = raw_connect(server.local_addr()).await;
    let mut wire = Vec::new();
    for id in 1..=n {
        let frame = Frame::request(ECHO, HeaderMap::new(), body(id)).with_request_id(id);
        wire.extend_from_slice(&encode(&frame));
    }
    send_raw(&mut s, &wire).await;
    let mut buf = BytesMut::new();
    let mut seen = HashSet::new();
    for _ in 0..n {
        let answer = read_frame(&mut s, &mut buf).await.expect("closed early");
        assert_eq!(answer.status(), ResponseStatus::SUCCESS);
        let id = answer.request_id();
        assert_eq!(&answer.content()[..], body(id).as_bytes(), "answer to {id}");
        assert!(seen.insert(id), "{id} answered twice");
    }
    assert_eq!(seen.len(), n as usize);
}

#[tokio::test]
async fn inline_answers_free_their_place_before_the_next_request_is_taken() {
    // With one request in flight at most, 500 pipelined requests are only all answered if each
    // inline answer counts its request out before the next one is decoded.
    let server = inline_server(ServerConfig {
        max_requests_per_connection: 1,
        ..ServerConfig::default()
    })
    .await;
    tokio::time::timeout(
        Duration::from_secs(10),
        pipeline(&server, 500, |id| format!("inline {id}")),
    )
    .await
    .expect("not all answered");
    server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn inline_and_task_answers_on_one_connection_each_arrive_once() {
    let server = inline_server(ServerConfig {
        max_requests_per_connection: 8,
        ..ServerConfig::default()
    })
    .await;
    let body = |id: i32| {
        if id % 3 == 0 {
            format!("task:{id}")
        } else {
            format!("inline {id}")
        }
    };
    tokio::time::timeout(Duration::from_secs(10), pipeline(&server, 3000, body))
        .await
        .expect("not all answered");
    server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn shutdown_is_seen_promptly_under_constant_inline_traffic() {
    let server = inline_server(ServerConfig::default()).await;
    let conn = Connection::connect(server.local_addr(), ConnectionConfig::default())
        .await
        .unwrap();
    // Eight callers keep the connection busy without a pause until they are refused.
    let mut callers = Vec::new();
    for c in 0..8 {
        let conn = conn.clone();
        callers.push(tokio::spawn(async move {
            let (mut ok, mut busy_at) = (0u32, None);
            let until = Instant::now() + Duration::from_secs(10);
            while Instant::now() < until {
                let body = format!("caller {c} call {ok}");
                match conn
                    .request(
                        Frame::request(ECHO, HeaderMap::new(), body.clone()),
                        Duration::from_secs(2),
                    )
                    .await
                {
                    Ok(r) if r.status() == ResponseStatus::SUCCESS => {
                        assert_eq!(&r.content()[..], body.as_bytes());
                        ok += 1;
                    }
                    Ok(r) => {
                        assert_eq!(r.status(), ResponseStatus::SERVER_THREADPOOL_BUSY);
                        busy_at.get_or_insert_with(Instant::now);
                    }
                    Err(e) => {
                        assert_eq!(e.kind(), ErrorKind::NotSent, "{e}");
                        break;
                    }
                }
            }
            (ok, busy_at)
        }));
    }
    tokio::time::sleep(Duration::from_millis(300)).await;
    let began = Instant::now();
    let shutdown = tokio::spawn(server.shutdown());
    let mut first_busy = None;
    let mut total = 0;
    for caller in callers {
        let (ok, busy_at) = caller.await.unwrap();
        total += ok;
        if let Some(at) = busy_at {
            first_busy = Some(first_busy.map_or(at, |f: Instant| f.min(at)));
        }
    }
    shutdown.await.unwrap();
    assert!(total > 0, "no call succeeded before the shutdown");
    let first_busy = first_busy.expect("no request was answered busy");
    // Seen on the next turn of the loop; a second allows for a loaded machine.
    let seen_after = first_busy.saturating_duration_since(began);
    assert!(
        seen_after < Duration::from_secs(1),
        "busy after {seen_after:?}"
    );
}

#[tokio::test]
async fn a_connection_in_use_is_not_closed_as_idle_and_a_quiet_one_is() {
    let idle = Duration::from_millis(200);
    let server = inline_server(ServerConfig {
        idle_timeout: idle,
        ..ServerConfig::default()
    })
    .await;
    let mut s = raw_connect(server.local_addr()).await;
    let mut buf = BytesMut::new();
    // A request every 50 ms for four idle timeouts, all on the same connection.
    for id in 1..=16 {
        if id > 1 {
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        let frame = Frame::request(ECHO, HeaderMap::new(), "ping").with_request_id(id);
        send_raw(&mut s, &encode(&frame)).await;
        let answer = read_frame(&mut s, &mut buf)
            .await
            .expect("closed while in use");
        assert_eq!(answer.request_id(), id);
    }
    let quiet_from = Instant::now();
    expect_closed(&mut s).await;
    let waited = quiet_from.elapsed();
    assert!(waited >= idle, "closed after {waited:?}");
    server.shutdown().await;
}
