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
    /// line. Default 100 000 (SOFARPC's `accepts`).
    pub max_connections: usize,
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

impl Default for ServerConfig {
    fn default() -> Self {
        ServerConfig {
            idle_timeout: Duration::from_secs(90),
            max_connections: 100_000,
            shutdown_timeout: Duration::from_secs(10),
            codec: CodecConfig::default(),
            nodelay: true,
            observer: ConnectionObserver::default(),
        }
    }
}
