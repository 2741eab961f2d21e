//! Peers that try to hold a server's resources: slow senders and pipelining connections.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use common::{encode, expect_closed, raw_connect, ECHO};
use sofa_bolt::{
    Connection, ConnectionConfig, Frame, HeaderMap, Processor, Responder, ResponseStatus, Server,
    ServerConfig,
};
use tokio::io::AsyncWriteExt;

#[tokio::test]
async fn a_slow_sender_is_closed_at_the_frame_deadline() {
    let server = common::echo_server(ServerConfig {
        frame_timeout: Duration::from_millis(800),
        ..ServerConfig::default()
    })
    .await;
    let addr = server.local_addr();
    let wire = encode(&Frame::request(ECHO, HeaderMap::new(), "x".repeat(100)));

    // One byte every 100 ms: each resets the idle timer, none completes the frame.
    let mut slow = raw_connect(addr).await;
    let started = Instant::now();
    let dripping = async {
        for b in &wire {
            if slow.write_all(&[*b]).await.is_err() {
                return;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        panic!("the whole frame went through");
    };
    tokio::time::timeout(Duration::from_secs(5), dripping)
        .await
        .expect("closed within 5 s");
    let waited = started.elapsed();
    assert!(
        waited >= Duration::from_millis(800),
        "closed after {waited:?}"
    );

    // A frame that arrives in a few slices within the deadline is served.
    let mut good = raw_connect(addr).await;
    for part in wire.chunks(40) {
        good.write_all(part).await.unwrap();
        tokio::time::sleep(Duration::from_millis(150)).await;
    }
    let mut buf = bytes::BytesMut::new();
    let reply = common::read_frame(&mut good, &mut buf).await.unwrap();
    assert_eq!(reply.status(), ResponseStatus::SUCCESS);
    expect_closed(&mut slow).await;
    server.shutdown().await;
}

/// Holds each request for `hold`, counting how many it holds at once.
struct Holding {
    hold: Duration,
    now: Arc<AtomicUsize>,
    most: Arc<AtomicUsize>,
}

impl Processor for Holding {
    fn process(&self, request: Frame, responder: Responder) {
        let (now, most, hold) = (self.now.clone(), self.most.clone(), self.hold);
        let n = now.fetch_add(1, Ordering::SeqCst) + 1;
        most.fetch_max(n, Ordering::SeqCst);
        tokio::spawn(async move {
            tokio::time::sleep(hold).await;
            now.fetch_sub(1, Ordering::SeqCst);
            responder.send(Frame::response_to(&request, ResponseStatus::SUCCESS));
        });
    }
}

#[tokio::test]
async fn a_pipelining_connection_gets_at_most_its_share_in_flight() {
    let now = Arc::new(AtomicUsize::new(0));
    let most = Arc::new(AtomicUsize::new(0));
    let server = Server::builder()
        .config(ServerConfig {
            max_requests_per_connection: 16,
            ..ServerConfig::default()
        })
        .processor(
            "hold",
            Holding {
                hold: Duration::from_millis(100),
                now: now.clone(),
                most: most.clone(),
            },
        )
        .bind("127.0.0.1:0")
        .start()
        .await
        .unwrap();
    let hog = Connection::connect(server.local_addr(), ConnectionConfig::default())
        .await
        .unwrap();
    let calls: Vec<_> = (0..100)
        .map(|_| {
            hog.request(
                Frame::request("hold", HeaderMap::new(), ""),
                Duration::from_secs(10),
            )
        })
        .collect();
    let started = Instant::now();
    for call in calls {
        assert_eq!(call.await.unwrap().status(), ResponseStatus::SUCCESS);
    }
    // 100 requests, 16 at a time, 100 ms each: about 700 ms, and none refused.
    assert!(started.elapsed() >= Duration::from_millis(600));
    assert_eq!(most.load(Ordering::SeqCst), 16);
    server.shutdown().await;
}
