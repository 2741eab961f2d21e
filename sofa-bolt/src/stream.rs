//! The IO seam: what a connection runs on, and the server's hook that makes one from a TCP
//! stream (the client's is [`Connector`](crate::Connector)).
//!
//! Connections are generic over [`BoltStream`], so plain TCP keeps its own split halves and
//! costs nothing extra, while other streams (TLS, or whatever an [`Acceptor`] or
//! [`Connector`](crate::Connector) makes) run the same connection code, monomorphised for
//! each.

use std::future::Future;
use std::io;
use std::sync::Arc;

use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::{tcp, TcpStream};

use crate::identity::PeerIdentity;

/// A byte stream a Bolt connection can run on.
///
/// The connection task reads and writes at the same time, so it needs two halves borrowed
/// from the stream; a TCP stream hands out its own, others can use `tokio::io::split`.
pub trait BoltStream: AsyncRead + AsyncWrite + Unpin + Send + 'static {
    /// The read half borrowed by [`halves`](Self::halves).
    type Reader<'a>: AsyncRead + Unpin + Send
    where
        Self: 'a;
    /// The write half borrowed by [`halves`](Self::halves).
    type Writer<'a>: AsyncWrite + Unpin + Send
    where
        Self: 'a;

    /// Whether written bytes may stay buffered inside the stream until it is flushed (true
    /// for TLS, whose records are sealed and written later): the connection then flushes
    /// whenever its own write buffer runs empty. A TCP stream has nothing to flush.
    const BUFFERS_WRITES: bool;

    /// Borrows a read half and a write half that can be used at the same time.
    fn halves(&mut self) -> (Self::Reader<'_>, Self::Writer<'_>);

    /// The peer's verified identity (a TLS client certificate), if the stream has one.
    fn peer_identity(&self) -> Option<Arc<PeerIdentity>> {
        None
    }
}

impl BoltStream for TcpStream {
    type Reader<'a> = tcp::ReadHalf<'a>;
    type Writer<'a> = tcp::WriteHalf<'a>;
    const BUFFERS_WRITES: bool = false;

    fn halves(&mut self) -> (Self::Reader<'_>, Self::Writer<'_>) {
        self.split()
    }
}

/// The server's hook between accepting a TCP connection and serving it: a TLS handshake,
/// for example. Runs on the connection's own task, after the connection took its place
/// under [`max_connections`](crate::ServerConfig::max_connections) and within
/// [`handshake_timeout`](crate::ServerConfig::handshake_timeout).
pub trait Acceptor: Send + Sync + 'static {
    /// The stream the connection is served on.
    type Stream: BoltStream;

    /// Turns an accepted TCP stream into the stream to serve. An error closes the connection
    /// with a log line that gives it.
    fn accept(&self, tcp: TcpStream) -> impl Future<Output = io::Result<Self::Stream>> + Send;
}

/// The default [`Acceptor`]: serves the TCP stream as it is.
#[derive(Clone, Copy, Debug, Default)]
pub struct PlainAcceptor;

impl Acceptor for PlainAcceptor {
    type Stream = TcpStream;

    fn accept(&self, tcp: TcpStream) -> impl Future<Output = io::Result<TcpStream>> + Send {
        std::future::ready(Ok(tcp))
    }
}
