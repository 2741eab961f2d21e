//! Server settings.

use std::time::Duration;

use crate::codec::CodecConfig;
use crate::observe::ConnectionObserver;

/// Settings of a [`Server`](super::Server).
#[derive(Clone, Debug)]
pub struct ServerConfig {
    /// Close a connection that neither read nor wrote for this long. Default 90 s, as Java
    /// SOFABolt (`bolt.tcp.server.idle.interval`). `Duration::ZERO` disables it.
    pub idle_timeout: Duration,
    /// Connections served at once; further ones are accepted and closed at once with a log
    /// line. Default 10 000: each connection may hold up to a megabyte of unsent responses
    /// and a share of [`max_partial_bytes`](Self::max_partial_bytes), and needs a file
    /// descriptor; 10 000 stays below the usual 65 536 descriptor limit and far above what a
    /// provider sees from its consumers (one or a few connections each), while 100 000 idle
    /// sockets alone would cost more memory than most providers have to spare.
    pub max_connections: usize,
    /// Bytes all connections together may hold in frames that have started to arrive but are
    /// not complete. A connection whose read takes the total over this is closed, with a log
    /// line. Default 64 MiB: eight maximum-size frames arriving at once. Partial frames of at
    /// most [`Self::SMALL_PARTIAL`] bytes are counted but never closed for it, so clients of
    /// ordinary-sized requests are not the ones to pay when large frames fill the budget.
    pub max_partial_bytes: usize,
    /// Time a peer has to complete a frame once its first byte arrived; a connection still
    /// holding an incomplete frame after that is closed (a sender of one byte a second would
    /// otherwise hold its buffer forever, since every byte resets the idle timer). Measured
    /// only while the server is reading from the connection, and late by up to an eighth of
    /// it. Default 5 s. `Duration::ZERO` disables it.
    pub frame_timeout: Duration,
    /// Time an accepted connection has to finish the [`Acceptor`](crate::Acceptor)'s work (the
    /// TLS handshake) before it is closed, counted while it holds its place under
    /// [`max_connections`](Self::max_connections): a peer that connects and never completes a
    /// handshake cannot hold that place for long. Default 5 s, as the frame timeout.
    pub handshake_timeout: Duration,
    /// Requests of one connection being processed at once (oneway ones included). Once that
    /// many are in flight the server stops reading from the connection until one is answered:
    /// further requests wait in the socket and TCP flow control slows the sender, so one
    /// pipelining connection cannot take every slot of the executor behind the processors,
    /// and nothing is refused that would have been served. Default 128: the most a
    /// single-connection consumer keeps in flight in the benchmarks, and below the provider's
    /// 200 executor slots. `0` means no bound.
    pub max_requests_per_connection: usize,
    /// How long [`Server::shutdown`](super::Server::shutdown) waits for in-flight requests
    /// before closing their connections anyway. Default 10 s.
    pub shutdown_timeout: Duration,
    /// Frame limits.
    pub codec: CodecConfig,
    /// Set `TCP_NODELAY` on accepted sockets. Default `true`.
    pub nodelay: bool,
    /// Told of every connection accepted and closed. Default: nobody.
    pub observer: ConnectionObserver,
}

impl ServerConfig {
    /// Partial frames up to this size never get their connection closed for the budget of
    /// [`max_partial_bytes`](Self::max_partial_bytes) (they still count towards it).
    pub const SMALL_PARTIAL: usize = 16 * 1024;
}

impl Default for ServerConfig {
    fn default() -> Self {
        ServerConfig {
            idle_timeout: Duration::from_secs(90),
            max_connections: 10_000,
            max_partial_bytes: 64 * 1024 * 1024,
            frame_timeout: Duration::from_secs(5),
            handshake_timeout: Duration::from_secs(5),
            max_requests_per_connection: 128,
            shutdown_timeout: Duration::from_secs(10),
            codec: CodecConfig::default(),
            nodelay: true,
            observer: ConnectionObserver::default(),
        }
    }
}
