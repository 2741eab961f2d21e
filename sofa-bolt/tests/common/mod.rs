//! Helpers shared by the transport tests: servers on 127.0.0.1:0, raw sockets, log capture.

#![allow(
    dead_code,
    unreachable_pub,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic
)]

pub mod pki;

use std::io::Write;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use bytes::BytesMut;
use sofa_bolt::{
    processor_fn, Codec, Connection, ConnectionConfig, Frame, ResponseStatus, Server, ServerConfig,
};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

pub const ECHO: &str = "test.Echo";

/// An echo server: answers `test.Echo` requests with their content. A content starting with
/// `sleep:<ms>:` is answered after that many milliseconds.
pub async fn echo_server(config: ServerConfig) -> Server {
    Server::builder()
        .config(config)
        .processor(
            ECHO,
            processor_fn(|req: Frame| async move {
                let body = req.content().clone();
                if let Some(rest) = body.strip_prefix(b"sleep:") {
                    let text = std::str::from_utf8(rest).unwrap();
                    let ms: u64 = text.split(':').next().unwrap().parse().unwrap();
                    tokio::time::sleep(Duration::from_millis(ms)).await;
                }
                Some(Frame::response_to(&req, ResponseStatus::SUCCESS).with_content(body))
            }),
        )
        .bind("127.0.0.1:0")
        .start()
        .await
        .unwrap()
}

pub fn encode(frame: &Frame) -> Vec<u8> {
    let mut b = BytesMut::new();
    Codec::default().encode(frame, &mut b).unwrap();
    b.to_vec()
}

/// Reads one frame from a raw socket, or `None` once the peer closed it.
pub async fn read_frame(stream: &mut TcpStream, buf: &mut BytesMut) -> Option<Frame> {
    let mut codec = Codec::default();
    loop {
        if let Some(frame) = codec.decode(buf).unwrap() {
            return Some(frame);
        }
        let n = tokio::time::timeout(Duration::from_secs(5), stream.read_buf(buf))
            .await
            .expect("read timed out")
            .unwrap_or(0);
        if n == 0 {
            return None;
        }
    }
}

/// Waits (bounded) until the peer closes the socket, discarding what it sends.
pub async fn expect_closed(stream: &mut TcpStream) {
    let mut sink = [0u8; 4096];
    loop {
        match tokio::time::timeout(Duration::from_secs(5), stream.read(&mut sink)).await {
            Ok(Ok(0)) | Ok(Err(_)) => return,
            Ok(Ok(_)) => continue,
            Err(_) => panic!("the peer did not close the connection"),
        }
    }
}

/// A client connection and the raw server-side socket it is connected to, for tests that play
/// the server by hand.
pub async fn connection_to_raw_server() -> (Connection, TcpStream) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let conn = Connection::connect(addr, ConnectionConfig::default())
        .await
        .unwrap();
    let (s, _) = listener.accept().await.unwrap();
    (conn, s)
}

pub async fn raw_connect(addr: SocketAddr) -> TcpStream {
    let s = TcpStream::connect(addr).await.unwrap();
    s.set_nodelay(true).unwrap();
    s
}

pub async fn send_raw(stream: &mut TcpStream, bytes: &[u8]) {
    stream.write_all(bytes).await.unwrap();
}

/// Captures log lines emitted on the current thread (tests run on a current-thread runtime,
/// so the server's tasks log here too).
#[derive(Clone, Default)]
pub struct Logs(Arc<Mutex<Vec<u8>>>);

impl Logs {
    pub fn install(&self) -> tracing::subscriber::DefaultGuard {
        let writer = self.clone();
        let subscriber = tracing_subscriber::fmt()
            .with_max_level(tracing::Level::DEBUG)
            .with_ansi(false)
            .with_writer(move || writer.clone())
            .finish();
        tracing::subscriber::set_default(subscriber)
    }

    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.0.lock().unwrap()).into_owned()
    }
}

impl Write for Logs {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}
