//! Client connections and the pool over real sockets: multiplexing, timeouts, heartbeats,
//! failure of pending calls, callbacks, eviction and back-off.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use bytes::BytesMut;
use common::*;
use futures::future::join_all;
use sofa_bolt::{
    Codec, Connection, ConnectionConfig, ConnectionPool, ErrorKind, Frame, HeaderMap, PoolConfig,
    Protocol, ResponseStatus, ServerConfig,
};
use tokio::io::AsyncWriteExt;
use tokio::net::TcpListener;

fn echo(body: impl Into<bytes::Bytes>) -> Frame {
    Frame::request(ECHO, HeaderMap::new(), body)
}

#[tokio::test]
async fn many_outstanding_requests_answered_out_of_order() {
    let server = echo_server(ServerConfig::default()).await;
    let conn = Connection::connect(server.local_addr(), ConnectionConfig::default())
        .await
        .unwrap();
    // Later requests sleep less, so responses come back in reverse order.
    let calls: Vec<_> = (0..200)
        .map(|i| {
            let body = format!("sleep:{}:{i}", (200 - i) / 4);
            conn.request(echo(body), Duration::from_secs(5))
        })
        .collect();
    assert!(conn.pending_requests() > 0);
    for (i, resp) in join_all(calls).await.into_iter().enumerate() {
        let resp = resp.unwrap();
        assert_eq!(
            resp.content(),
            format!("sleep:{}:{i}", (200 - i) / 4).as_bytes()
        );
    }
    assert_eq!(conn.pending_requests(), 0);
    server.shutdown().await;
}

/// Calls from tasks on two worker threads, more of them in flight than the connection has
/// slots, some given up before their answer: every answer reaches its own caller, and nothing
/// stays registered.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn calls_from_many_threads_each_get_their_own_answer() {
    let server = echo_server(ServerConfig::default()).await;
    let conn = Connection::connect(server.local_addr(), ConnectionConfig::default())
        .await
        .unwrap();
    let tasks: Vec<_> = (0..8)
        .map(|t| {
            let conn = conn.clone();
            tokio::spawn(async move {
                let mut answered = 0;
                for round in 0..20 {
                    let calls: Vec<_> = (0..64)
                        .map(|i| {
                            // A few sleep so that answers overtake one another.
                            let body = format!("sleep:{}:{t}/{round}/{i}", (i % 5 == 0) as u8);
                            (
                                body.clone(),
                                conn.request(echo(body), Duration::from_secs(5)),
                            )
                        })
                        .collect();
                    let mut kept = Vec::new();
                    for (i, call) in calls.into_iter().enumerate() {
                        // Every seventh caller gives up before its answer comes.
                        if i % 7 != 3 {
                            kept.push(call);
                        }
                    }
                    for (body, call) in kept {
                        assert_eq!(call.await.unwrap().content(), body.as_bytes());
                        answered += 1;
                    }
                }
                answered
            })
        })
        .collect();
    let mut answered = 0;
    for task in join_all(tasks).await {
        answered += task.unwrap();
    }
    assert_eq!(answered, 8 * 20 * (64 - 9));
    assert_eq!(conn.pending_requests(), 0);
    server.shutdown().await;
}

#[tokio::test]
async fn responses_arriving_in_one_write_all_reach_their_callers() {
    let (conn, mut s) = connection_to_raw_server().await;
    let calls: Vec<_> = (0..50)
        .map(|i| conn.request(echo(format!("{i}")), Duration::from_secs(5)))
        .collect();
    let answers = tokio::spawn(async move {
        let mut buf = BytesMut::new();
        let mut frames = Vec::new();
        for _ in 0..50 {
            frames.push(read_frame(&mut s, &mut buf).await.unwrap());
        }
        // Every answer in a single write, last request first.
        let mut out = Vec::new();
        for req in frames.iter().rev() {
            let resp = Frame::response_to(req, ResponseStatus::SUCCESS)
                .with_content(req.content().clone());
            out.extend(encode(&resp));
        }
        s.write_all(&out).await.unwrap();
        s
    });
    let results = tokio::time::timeout(Duration::from_secs(5), join_all(calls))
        .await
        .expect("some callers never got their response");
    for (i, resp) in results.into_iter().enumerate() {
        assert_eq!(resp.unwrap().content(), format!("{i}").as_bytes());
    }
    drop(answers.await.unwrap());
}

#[tokio::test]
async fn v2_with_crc_round_trip() {
    let server = echo_server(ServerConfig::default()).await;
    let config = ConnectionConfig {
        protocol: Protocol::V2_CRC,
        crc: true,
        ..ConnectionConfig::default()
    };
    let conn = Connection::connect(server.local_addr(), config)
        .await
        .unwrap();
    let resp = conn
        .request(echo("crc"), Duration::from_secs(2))
        .await
        .unwrap();
    assert_eq!(resp.protocol(), Protocol::V2_CRC);
    assert!(resp.has_crc());
    assert_eq!(&resp.content()[..], b"crc");
    server.shutdown().await;
}

#[tokio::test]
async fn timeout_frees_the_slot_and_late_responses_are_dropped() {
    let server = echo_server(ServerConfig::default()).await;
    let conn = Connection::connect(server.local_addr(), ConnectionConfig::default())
        .await
        .unwrap();
    let err = conn
        .request(echo("sleep:300:"), Duration::from_millis(50))
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Timeout);
    assert_eq!(conn.pending_requests(), 0);
    // The late response arrives and is discarded; the connection keeps working.
    tokio::time::sleep(Duration::from_millis(350)).await;
    let resp = conn
        .request(echo("after"), Duration::from_secs(2))
        .await
        .unwrap();
    assert_eq!(&resp.content()[..], b"after");

    // Dropping a future also frees its slot.
    let pending = conn.request(echo("sleep:300:"), Duration::from_secs(5));
    assert_eq!(conn.pending_requests(), 1);
    drop(pending);
    assert_eq!(conn.pending_requests(), 0);
    server.shutdown().await;
}

#[tokio::test]
async fn lone_calls_reach_the_server_and_time_out_after_the_connection_went_quiet() {
    let (conn, mut s) = connection_to_raw_server().await;
    let mut buf = BytesMut::new();
    for round in 0..3 {
        // Each call is alone on the connection: its caller writes it, and the connection's
        // timeout checks, stopped while no call waited, start again for it.
        let call = conn.request(echo(format!("{round}")), Duration::from_millis(40));
        let err = tokio::time::timeout(Duration::from_secs(5), call)
            .await
            .expect("the call timed out on its own")
            .unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Timeout, "round {round}: {err}");
        let seen = read_frame(&mut s, &mut buf)
            .await
            .expect("the request arrived");
        assert_eq!(&seen.content()[..], format!("{round}").as_bytes());
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    // Answered, a lone call completes as ever.
    let call = conn.request(echo("answered"), Duration::from_secs(5));
    let answering = async {
        let seen = read_frame(&mut s, &mut buf)
            .await
            .expect("the request arrived");
        let reply =
            Frame::response_to(&seen, ResponseStatus::SUCCESS).with_content(seen.content().clone());
        send_raw(&mut s, &encode(&reply)).await;
    };
    let (resp, ()) = tokio::join!(call, answering);
    assert_eq!(&resp.unwrap().content()[..], b"answered");
    assert_eq!(conn.pending_requests(), 0);
}

#[tokio::test]
async fn a_closed_connection_closes_its_socket_while_handles_remain() {
    let (conn, mut s) = connection_to_raw_server().await;
    // A lone call, written by its caller through the connection's socket.
    let call = conn.request(echo("once"), Duration::from_secs(5));
    let mut buf = BytesMut::new();
    let seen = read_frame(&mut s, &mut buf)
        .await
        .expect("the request arrived");
    assert_eq!(&seen.content()[..], b"once");
    conn.close();
    assert_eq!(call.await.unwrap_err().kind(), ErrorKind::ConnectionClosed);
    conn.closed().await;
    // `conn` is still held: the server must see the end of the stream all the same.
    assert!(
        read_frame(&mut s, &mut buf).await.is_none(),
        "the socket stayed open"
    );
    assert!(conn.is_closed());
}

/// A lone caller writes its requests to the socket while the connection task, on another
/// thread, answers the server's heartbeats on the same socket: every frame must arrive whole.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn lone_calls_and_the_tasks_own_frames_never_interleave() {
    const CALLS: usize = 500;
    // Small socket buffers, so that the socket takes most requests in part.
    let listening = tokio::net::TcpSocket::new_v4().unwrap();
    listening.set_recv_buffer_size(4096).unwrap();
    listening.bind("127.0.0.1:0".parse().unwrap()).unwrap();
    let listener = listening.listen(1).unwrap();
    let connecting = tokio::net::TcpSocket::new_v4().unwrap();
    connecting.set_send_buffer_size(4096).unwrap();
    let (stream, accepted) = tokio::join!(
        connecting.connect(listener.local_addr().unwrap()),
        listener.accept()
    );
    let conn = Connection::from_stream(stream.unwrap(), ConnectionConfig::default()).unwrap();
    let (mut rd, mut wr) = accepted.unwrap().0.into_split();
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel::<Frame>();
    let writer = tokio::spawn(async move {
        while let Some(frame) = rx.recv().await {
            wr.write_all(&encode(&frame)).await.unwrap();
        }
    });
    // Heartbeats to the client every half millisecond, while the calls run.
    let beats = {
        let tx = tx.clone();
        tokio::spawn(async move {
            for id in 1_000_000.. {
                if tx.send(Frame::heartbeat(id)).is_err() {
                    return;
                }
                tokio::time::sleep(Duration::from_micros(500)).await;
            }
        })
    };
    // The server side: echo every request, count the acks; any decode error fails here.
    let server = tokio::spawn(async move {
        let mut codec = Codec::default();
        let mut buf = BytesMut::new();
        let (mut requests, mut acks) = (0, 0);
        loop {
            while let Some(frame) = codec.decode(&mut buf).expect("whole frames only") {
                if frame.is_heartbeat() {
                    assert!(
                        frame.is_response(),
                        "only acks are heartbeats from the client"
                    );
                    acks += 1;
                } else {
                    requests += 1;
                    let echo = Frame::response_to(&frame, ResponseStatus::SUCCESS)
                        .with_content(frame.content().clone());
                    tx.send(echo).unwrap();
                }
            }
            if requests == CALLS {
                break;
            }
            let n = tokio::io::AsyncReadExt::read_buf(&mut rd, &mut buf)
                .await
                .unwrap();
            assert!(n > 0, "the client closed");
        }
        acks
    });
    for i in 0..CALLS {
        let body = format!("call {i} {}", "x".repeat(16 * 1024));
        let resp = conn
            .request(echo(body.clone()), Duration::from_secs(5))
            .await
            .unwrap();
        assert_eq!(resp.content(), body.as_bytes());
    }
    let acks = tokio::time::timeout(Duration::from_secs(10), server)
        .await
        .expect("the server saw every call")
        .unwrap();
    assert!(acks > 0, "no heartbeat was answered during the calls");
    beats.abort();
    writer.abort();
}

#[tokio::test]
async fn calls_given_up_while_the_server_does_not_read_are_not_sent() {
    let (conn, mut server) = connection_to_raw_server().await;
    // More than the socket buffers and the connection's write buffer hold: the connection
    // stalls, and what is queued from then on waits.
    let body = bytes::Bytes::from(vec![7u8; 1 << 20]);
    let stalling: Vec<_> = (0..24)
        .map(|_| conn.request(echo(body.clone()), Duration::from_secs(30)))
        .collect();
    tokio::time::sleep(Duration::from_millis(200)).await;
    let given_up: Vec<_> = (0..8)
        .map(|_| conn.request(echo(body.clone()), Duration::from_millis(100)))
        .collect();
    let given_up_ids: Vec<i32> = given_up.iter().map(|f| f.request_id()).collect();
    for outcome in join_all(given_up).await {
        assert_eq!(outcome.unwrap_err().kind(), ErrorKind::Timeout);
    }
    let live = conn.request(echo("live"), Duration::from_secs(30));
    let live_id = live.request_id();

    // The server reads again, and answers the last call.
    let reader = tokio::spawn(async move {
        let mut buf = BytesMut::new();
        let mut seen = Vec::new();
        loop {
            let frame = read_frame(&mut server, &mut buf).await.expect("a frame");
            seen.push(frame.request_id());
            if &frame.content()[..] == b"live" {
                let answer = Frame::response_to(&frame, ResponseStatus::SUCCESS).with_content("ok");
                send_raw(&mut server, &encode(&answer)).await;
                return (seen, server);
            }
        }
    });
    let answer = live.await.unwrap();
    assert_eq!(&answer.content()[..], b"ok");
    let (seen, _server) = reader.await.unwrap();
    let stalling_ids: Vec<i32> = stalling.iter().map(|f| f.request_id()).collect();
    assert_eq!(
        seen[..24],
        stalling_ids[..],
        "the calls still waiting all went out"
    );
    assert_eq!(seen[24..], [live_id], "none of {given_up_ids:?} went out");
}

#[tokio::test]
async fn a_request_too_large_to_encode_fails_at_once_and_the_connection_goes_on() {
    let (conn, mut server) = connection_to_raw_server().await;
    let too_large = bytes::Bytes::from(vec![0u8; 9 << 20]);
    let err = conn
        .request(echo(too_large.clone()), Duration::from_secs(5))
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::FrameTooLarge);
    assert_eq!(conn.pending_requests(), 0);
    let oneway = Frame::oneway(ECHO, HeaderMap::new(), too_large);
    assert_eq!(
        conn.oneway(oneway).unwrap_err().kind(),
        ErrorKind::FrameTooLarge
    );

    let call = conn.request(echo("next"), Duration::from_secs(5));
    let mut buf = BytesMut::new();
    let frame = read_frame(&mut server, &mut buf)
        .await
        .expect("the next request");
    assert_eq!(&frame.content()[..], b"next");
    let answer = Frame::response_to(&frame, ResponseStatus::SUCCESS).with_content("ok");
    send_raw(&mut server, &encode(&answer)).await;
    assert_eq!(&call.await.unwrap().content()[..], b"ok");
}

#[tokio::test]
async fn the_timeout_field_tells_the_server_the_deadline() {
    let (conn, mut s) = connection_to_raw_server().await;
    let call = conn.request(echo("t"), Duration::from_millis(1500));
    let mut buf = BytesMut::new();
    let seen = read_frame(&mut s, &mut buf).await.unwrap();
    assert_eq!(seen.timeout(), 1500);
    let reply = Frame::response_to(&seen, ResponseStatus::SUCCESS).with_content("ok");
    s.write_all(&encode(&reply)).await.unwrap();
    assert_eq!(&call.await.unwrap().content()[..], b"ok");
}

#[tokio::test]
async fn pending_calls_fail_when_the_connection_drops() {
    let (conn, mut s) = connection_to_raw_server().await;
    let calls: Vec<_> = (0..10)
        .map(|i| conn.request(echo(format!("{i}")), Duration::from_secs(10)))
        .collect();
    // Wait until all ten are on the wire, then drop the server side.
    let mut buf = BytesMut::new();
    for _ in 0..10 {
        read_frame(&mut s, &mut buf).await.unwrap();
    }
    drop(s);
    for result in join_all(calls).await {
        let err = result.unwrap_err();
        assert_eq!(err.kind(), ErrorKind::ConnectionClosed);
        assert!(err.message().contains("peer closed"), "{err}");
    }
    conn.closed().await;
    assert!(conn.is_closed());
    // Requests made afterwards never leave: they say so, and so may be sent elsewhere.
    let err = conn
        .request(echo("late"), Duration::from_secs(1))
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::NotSent);
    assert!(err.message().contains("peer closed"), "{err}");
    assert_eq!(
        conn.oneway(echo("late")).unwrap_err().kind(),
        ErrorKind::NotSent
    );
}

#[tokio::test]
async fn callbacks_receive_the_outcome() {
    let server = echo_server(ServerConfig::default()).await;
    let conn = Connection::connect(server.local_addr(), ConnectionConfig::default())
        .await
        .unwrap();
    let (tx, rx) = tokio::sync::oneshot::channel();
    conn.request_with_callback(echo("cb"), Duration::from_secs(2), move |result| {
        let _ = tx.send(result.map(|f| f.content().clone()));
    });
    assert_eq!(&rx.await.unwrap().unwrap()[..], b"cb");
    server.shutdown().await;
}

#[test]
fn a_callback_asked_for_outside_a_runtime_is_told_nothing_was_sent() {
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let (server, conn) = runtime.block_on(async {
        let server = echo_server(ServerConfig::default()).await;
        let conn = Connection::connect(server.local_addr(), ConnectionConfig::default())
            .await
            .unwrap();
        (server, conn)
    });
    let (tx, rx) = std::sync::mpsc::channel();
    conn.request_with_callback(echo("x"), Duration::from_secs(5), move |outcome| {
        tx.send(outcome.map(|f| f.content().clone())).unwrap();
    });
    let outcome = rx.recv_timeout(Duration::from_secs(5)).unwrap();
    assert_eq!(outcome.unwrap_err().kind(), ErrorKind::NotSent);

    // A plain request needs no runtime where it is made: the connection's task runs on its own.
    let answer = futures::executor::block_on(conn.request(echo("y"), Duration::from_secs(5)));
    assert_eq!(&answer.unwrap().content()[..], b"y");
    runtime.block_on(server.shutdown());
}

#[tokio::test]
async fn heartbeats_after_idle_and_close_after_missed_acks() {
    // A hand-written server that counts heartbeats and acks only the first two.
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let beats = Arc::new(AtomicUsize::new(0));
    let counter = beats.clone();
    tokio::spawn(async move {
        let (mut s, _) = listener.accept().await.unwrap();
        let mut buf = BytesMut::new();
        while let Some(frame) = read_frame(&mut s, &mut buf).await {
            assert!(frame.is_heartbeat() && frame.is_request());
            assert_eq!(frame.timeout(), -1);
            if counter.fetch_add(1, Ordering::SeqCst) < 2 {
                s.write_all(&encode(&Frame::heartbeat_ack(&frame)))
                    .await
                    .unwrap();
            }
        }
    });
    let config = ConnectionConfig {
        heartbeat_interval: Duration::from_millis(40),
        heartbeat_timeout: Duration::from_millis(40),
        max_missed_heartbeats: 3,
        ..ConnectionConfig::default()
    };
    let conn = Connection::connect(addr, config).await.unwrap();
    tokio::time::timeout(Duration::from_secs(5), conn.closed())
        .await
        .expect("closed after missed heartbeats");
    // Two acked, then three missed.
    assert_eq!(beats.load(Ordering::SeqCst), 5);
    let err = conn
        .request(echo("x"), Duration::from_secs(1))
        .await
        .unwrap_err();
    assert!(
        err.message().contains("3 heartbeats went unanswered"),
        "{err}"
    );
}

#[tokio::test]
async fn heartbeats_on_demand_get_their_ack() {
    let server = echo_server(ServerConfig::default()).await;
    for protocol in [Protocol::V1, Protocol::V2_CRC] {
        let config = ConnectionConfig {
            protocol,
            ..ConnectionConfig::default()
        };
        let conn = Connection::connect(server.local_addr(), config)
            .await
            .unwrap();
        let ack = conn.heartbeat(Duration::from_secs(2)).await.unwrap();
        assert!(ack.is_heartbeat() && ack.is_response());
        assert_eq!(ack.protocol(), protocol);
        assert_eq!(conn.pending_requests(), 0);
    }
    server.shutdown().await;
}

#[tokio::test]
async fn pool_keeps_conn_num_connections_and_evicts_dead_ones() {
    let server = echo_server(ServerConfig::default()).await;
    let addr = server.local_addr().to_string();
    let pool = ConnectionPool::new(PoolConfig {
        conn_num: 2,
        ..PoolConfig::default()
    });
    let a = pool.get(&addr).await.unwrap();
    let b = pool.get(&addr).await.unwrap();
    assert_ne!(a.local_addr(), b.local_addr());
    assert_eq!(pool.connections(&addr), 2);
    // Further gets reuse the two.
    for _ in 0..4 {
        let c = pool.get(&addr).await.unwrap();
        assert!(c.local_addr() == a.local_addr() || c.local_addr() == b.local_addr());
    }
    a.close();
    a.closed().await;
    assert_eq!(pool.connections(&addr), 1);
    let c = pool.get(&addr).await.unwrap();
    assert_ne!(c.local_addr(), a.local_addr());
    assert_eq!(pool.connections(&addr), 2);
    let resp = c
        .request(echo("pooled"), Duration::from_secs(2))
        .await
        .unwrap();
    assert_eq!(&resp.content()[..], b"pooled");
    pool.close();
    server.shutdown().await;
}

#[tokio::test]
async fn pool_backs_off_and_reconnects_when_the_server_returns() {
    // Reserve a port, then free it so nothing listens there.
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    drop(listener);
    let pool = ConnectionPool::new(PoolConfig {
        backoff_initial: Duration::from_millis(200),
        ..PoolConfig::default()
    });
    let key = addr.to_string();
    let first = pool.get(&key).await.unwrap_err();
    assert_eq!(first.kind(), ErrorKind::Connect);
    // Within the back-off window the pool answers at once, naming the back-off.
    let second = pool.get(&key).await.unwrap_err();
    assert!(second.message().contains("back-off"), "{second}");

    let listener = TcpListener::bind(addr).await.unwrap();
    let server = sofa_bolt::Server::builder()
        .processor(
            ECHO,
            sofa_bolt::processor_fn(|req: Frame| async move {
                Some(Frame::response_to(&req, ResponseStatus::SUCCESS))
            }),
        )
        .serve(listener)
        .unwrap();
    tokio::time::sleep(Duration::from_millis(250)).await;
    let conn = pool.get(&key).await.unwrap();
    assert!(conn
        .request(echo(""), Duration::from_secs(2))
        .await
        .unwrap()
        .status()
        .is_success());
    pool.remove(&key);
    conn.closed().await;
    server.shutdown().await;
}

/// A call made on a runtime that shuts down before the answer fails, instead of waiting forever.
#[test]
fn calls_fail_when_the_connection_runtime_shuts_down() {
    let other = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let (listener, addr) = other.block_on(async {
        let l = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = l.local_addr().unwrap();
        (l, addr)
    });
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let (conn, call) = runtime.block_on(async {
        let conn = Connection::connect(addr, ConnectionConfig::default())
            .await
            .unwrap();
        let call = conn.request(echo("never answered"), Duration::from_secs(60));
        // Let the connection task write it.
        tokio::time::sleep(Duration::from_millis(20)).await;
        (conn, call)
    });
    drop(runtime);
    let outcome = other.block_on(async {
        tokio::time::timeout(Duration::from_secs(5), call)
            .await
            .expect("the call still waits after its connection's runtime is gone")
    });
    let err = outcome.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::ConnectionClosed, "{err}");
    assert!(err.to_string().contains("runtime shut down"), "{err}");
    drop((conn, listener));
}
