//! The header section a consumer writes, read off the wire by a bare socket: the fixed entries
//! in SOFARPC's order, the caller's application, and anything a call adds, for each method and
//! consumer (the fixed part is encoded once per method and shared between calls).

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::time::Duration;

use bytes::BytesMut;
use common::*;
use sofa_bolt::{Codec, Frame};
use sofa_rpc_core::{Client, ConsumerConfig};
use tokio::io::AsyncReadExt;
use tokio::net::TcpListener;
use tokio::sync::mpsc;

/// A socket that reads requests and never answers; sends each request it reads.
async fn listener() -> (String, mpsc::UnboundedReceiver<Frame>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap().to_string();
    let (tx, rx) = mpsc::unbounded_channel();
    tokio::spawn(async move {
        while let Ok((mut socket, _)) = listener.accept().await {
            let tx = tx.clone();
            tokio::spawn(async move {
                let mut codec = Codec::default();
                let mut buf = BytesMut::new();
                while socket.read_buf(&mut buf).await.is_ok_and(|n| n > 0) {
                    while let Some(frame) = codec.decode(&mut buf).unwrap() {
                        if !frame.is_heartbeat() {
                            tx.send(frame).unwrap();
                        }
                    }
                }
            });
        }
    });
    (addr, rx)
}

fn entries(frame: &Frame) -> Vec<(String, String)> {
    frame
        .header()
        .unwrap()
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

fn fixed(method: &str, invoke_type: &str, app: Option<&str>) -> Vec<(String, String)> {
    let service = "com.example.EchoService:1.0";
    let mut expected = vec![
        ("service", service),
        ("sofa_head_target_service", service),
        ("sofa_head_method_name", method),
        ("type", invoke_type),
        ("protocol", "bolt"),
    ];
    expected.extend(app.map(|app| ("app", app)));
    expected
        .into_iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

#[tokio::test]
async fn each_call_carries_its_own_method_application_and_additions() {
    let (addr, mut seen) = listener().await;
    let config = || {
        ConsumerConfig::new()
            .direct_url(addr.clone())
            .timeout(Duration::from_millis(50))
    };
    let shop = EchoServiceClient::new(Client::new(config().app_name("shop")).unwrap());
    let anonymous = EchoServiceClient::new(Client::new(config()).unwrap());

    // Twice over, so that the second round uses what the first remembered.
    for _ in 0..2 {
        let _ = shop.echo("x".into()).await;
        assert_eq!(
            entries(&seen.recv().await.unwrap()),
            fixed("echo", "sync", Some("shop"))
        );
        let _ = shop.add(1, 2).await;
        assert_eq!(
            entries(&seen.recv().await.unwrap()),
            fixed("add", "sync", Some("shop"))
        );
        let _ = anonymous.echo("x".into()).await;
        assert_eq!(
            entries(&seen.recv().await.unwrap()),
            fixed("echo", "sync", None)
        );
        shop.hit().oneway().await.unwrap();
        assert_eq!(
            entries(&seen.recv().await.unwrap()),
            fixed("hit", "oneway", Some("shop"))
        );
        // A call that adds an entry writes its header whole: the application comes last.
        let _ = shop.echo("x".into()).attachment("k", "v").await;
        let mut expected = fixed("echo", "sync", None);
        expected.push(("k".into(), "v".into()));
        expected.push(("app".into(), "shop".into()));
        assert_eq!(entries(&seen.recv().await.unwrap()), expected);
    }
}
