//! # sofa-bolt
//!
//! The SOFABolt binary protocol and its tokio transport, wire-compatible with Java SOFABolt,
//! sofa-bolt-node, anthunder (Python) and MOSN. This crate knows frames, connections and
//! processors; it knows nothing of services or serialization (see `sofa-rpc-core` for that).
//!
//! | piece | what it does |
//! |---|---|
//! | [`Frame`], [`HeaderMap`], [`ResponseStatus`] | every field of a v1/v2 request, oneway request, response, heartbeat and ack |
//! | [`Codec`] | bytes to frames and back; protocol detected by the first byte; CRC32 written and verified; lengths bounded by [`CodecConfig`] before allocation |
//! | [`Server`] | accept loop, one task per connection, a [`Processor`] per class name, heartbeat acks, idle close (90 s), connection limit (10,000), a server-wide budget for partial frames (64 MiB), a deadline to complete a frame (5 s), at most 128 requests in flight per connection, graceful shutdown that answers late requests busy |
//! | [`Connection`] | one task owns the socket (a lone call writes its own request); request-id multiplexing, out-of-order responses, per-call timeout, heartbeats after 15 s idle, close after 3 missed acks; after a failed write it still reads the answers on their way, and requests never written fail as [`ErrorKind::NotSent`] |
//! | [`ConnectionPool`] | `conn_num` connections per address, connect timeout, reconnect with back-off, dead connections evicted |
//! | [`Acceptor`], [`Connector`], [`BoltStream`] | the IO seam: a server or client connection runs on any stream an acceptor or connector makes of the TCP stream, compiled for that stream type (plain TCP pays nothing for it) |
//! | `tls` (cargo feature) | `tls::TlsAcceptor` and `tls::TlsConnector` over rustls: PEM files, mutual TLS, host name checks, certificate reload; the client's verified [`PeerIdentity`] in [`Responder::peer_identity`] |
//!
//! Malformed input (unknown protocol byte, bad type or command code, negative or oversized
//! lengths, CRC mismatch) closes only the connection that carried it, with a log line giving
//! the reason; nothing a peer sends can panic the process. Read buffers grow with the bytes
//! that arrive, never with what a header announces.
//!
//! ## Example
//!
//! ```
//! use std::time::Duration;
//! use sofa_bolt::{processor_fn, ConnectionConfig, ConnectionPool, Frame, HeaderMap, PoolConfig,
//!                 ResponseStatus, Server};
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> sofa_bolt::Result<()> {
//! // A server that upper-cases the content of `demo.Upper` requests.
//! let server = Server::builder()
//!     .processor("demo.Upper", processor_fn(|req: Frame| async move {
//!         let upper = req.content().to_ascii_uppercase();
//!         Some(Frame::response_to(&req, ResponseStatus::SUCCESS).with_content(upper))
//!     }))
//!     .bind("127.0.0.1:0")
//!     .start()
//!     .await?;
//!
//! let pool = ConnectionPool::new(PoolConfig::default());
//! let conn = pool.get(&server.local_addr().to_string()).await?;
//! let mut header = HeaderMap::new();
//! header.insert("service", "demo.Upper:1.0");
//! let response = conn
//!     .request(Frame::request("demo.Upper", header, "hello"), Duration::from_secs(3))
//!     .await?;
//! assert_eq!(response.status(), ResponseStatus::SUCCESS);
//! assert_eq!(&response.content()[..], b"HELLO");
//! server.shutdown().await;
//! # Ok(())
//! # }
//! ```

mod client;
mod codec;
mod error;
mod frame;
mod identity;
mod io;
mod log_limit;
mod observe;
mod server;
mod stream;
#[cfg(feature = "tls")]
pub mod tls;

pub use client::{
    ConnectFuture, Connection, ConnectionConfig, ConnectionPool, Connector, PoolConfig,
    ResponseFuture,
};
pub use codec::{Codec, CodecConfig};
pub use error::{Error, ErrorKind, Result};
pub use frame::{
    CommandCode, CommandType, Frame, HeaderIter, HeaderMap, HeaderStr, Protocol, ResponseStatus,
    Switch, CODEC_HESSIAN2, CODEC_PROTOBUF, SERVER_CLOSING_HEADER,
};
pub use identity::PeerIdentity;
pub use log_limit::LogLimit;
pub use observe::{ConnectionEvent, ConnectionObserver, Side};
pub use server::{processor_fn, Processor, Responder, Server, ServerBuilder, ServerConfig};
pub use stream::{Acceptor, BoltStream, PlainAcceptor};
