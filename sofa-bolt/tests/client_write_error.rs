//! A client connection whose writes fail still delivers the answers already sent to it, and
//! fails the requests it never wrote as not sent.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::time::Duration;

use bytes::BytesMut;
use common::*;
use sofa_bolt::{ErrorKind, Frame, HeaderMap, ResponseStatus};
use tokio::io::AsyncWriteExt;

fn echo(body: impl Into<bytes::Bytes>) -> Frame {
    Frame::request(ECHO, HeaderMap::new(), body)
}

#[tokio::test]
async fn answers_sent_before_the_server_went_away_are_not_lost() {
    // The order in which the client sees the answers and the reset varies from run to run:
    // play the scene several times.
    for round in 0..10 {
        let (conn, mut s) = connection_to_raw_server().await;
        let answered: Vec<_> = (0..5)
            .map(|i| conn.request(echo(format!("{i}")), Duration::from_secs(5)))
            .collect();
        let mut buf = BytesMut::new();
        let mut frames = Vec::new();
        for _ in 0..5 {
            frames.push(read_frame(&mut s, &mut buf).await.unwrap());
        }
        // A request too large for the socket buffers, which the server never reads, and one
        // queued behind it.
        let large = conn.request(echo(vec![0u8; 6 << 20]), Duration::from_secs(5));
        let behind = conn.request(echo("behind"), Duration::from_secs(5));
        tokio::time::sleep(Duration::from_millis(20)).await;
        // Answer the five, then close with unread bytes: the kernel resets the connection, and
        // the client's next write fails.
        let mut out = Vec::new();
        for req in &frames {
            out.extend(encode(
                &Frame::response_to(req, ResponseStatus::SUCCESS)
                    .with_content(req.content().clone()),
            ));
        }
        s.write_all(&out).await.unwrap();
        drop(s);

        for (i, call) in answered.into_iter().enumerate() {
            let resp = call
                .await
                .unwrap_or_else(|e| panic!("round {round}: answered call {i} failed: {e}"));
            assert_eq!(resp.content(), format!("{i}").as_bytes());
        }
        let err = large.await.unwrap_err();
        assert_ne!(err.kind(), ErrorKind::NotSent, "part of it went out: {err}");
        let err = behind.await.unwrap_err();
        assert_eq!(err.kind(), ErrorKind::NotSent, "round {round}: {err}");
        conn.closed().await;
        let err = conn
            .request(echo("after"), Duration::from_secs(1))
            .await
            .unwrap_err();
        assert_eq!(err.kind(), ErrorKind::NotSent, "{err}");
    }
}
