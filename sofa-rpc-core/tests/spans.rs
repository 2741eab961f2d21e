//! Tracing spans: each call and each request runs in a span naming its service and method, so a
//! subscriber shows where the time goes.

#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

mod common;

use std::io::Write;
use std::sync::{Arc, Mutex};

use common::*;
use tracing_subscriber::fmt::format::FmtSpan;

#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[tokio::test]
async fn calls_requests_and_connections_have_spans() {
    let out = Captured::default();
    let writer = out.clone();
    // Spans are reported when they close; the runtime is single-threaded, so the server's
    // tasks report here too.
    let subscriber = tracing_subscriber::fmt()
        .with_max_level(tracing::Level::DEBUG)
        .with_ansi(false)
        .with_span_events(FmtSpan::CLOSE)
        .with_writer(move || writer.clone())
        .finish();
    let _guard = tracing::subscriber::set_default(subscriber);

    let server = serve(Echo::default()).await;
    let echo = client_to(&server);
    assert_eq!(echo.echo("hi".into()).await.unwrap(), "hi");
    server.shutdown().await;

    let text = String::from_utf8_lossy(&out.0.lock().unwrap()).into_owned();
    let closed = |name: &str| {
        text.lines()
            .find(|l| l.contains(name) && l.contains("close"))
            .unwrap_or_else(|| panic!("no closed {name} span in:\n{text}"))
            .to_string()
    };
    let call = closed("rpc.call");
    assert!(
        call.contains("service=com.example.EchoService:1.0"),
        "{call}"
    );
    assert!(call.contains("method=\"echo\""), "{call}");
    let request = closed("rpc.request");
    assert!(
        request.contains("service=com.example.EchoService:1.0"),
        "{request}"
    );
    assert!(request.contains("method=\"echo\""), "{request}");
    assert!(request.contains("peer=127.0.0.1:"), "{request}");
    let conn = closed("bolt.server.conn");
    assert!(conn.contains("peer=127.0.0.1:"), "{conn}");
}
