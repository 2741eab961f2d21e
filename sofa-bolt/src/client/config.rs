//! Client connection settings, and the connect hook ([`Connector`]) they may name.

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

use tokio::net::TcpStream;

use super::Connection;
use crate::codec::CodecConfig;
use crate::error::Result;
use crate::frame::Protocol;
use crate::observe::ConnectionObserver;

/// Settings of a client [`Connection`](super::Connection).
#[derive(Clone, Debug)]
pub struct ConnectionConfig {
    /// Protocol of the frames this connection sends. Default v1, what SOFARPC's Java consumer
    /// and every other peer speak.
    pub protocol: Protocol,
    /// Ask for a CRC32 on requests (v2 switch bit 0; only effective with `Protocol::V2 { ver1: 2 }`).
    pub crc: bool,
    /// Give up connecting after this long. Default 1 s, as SOFARPC.
    pub connect_timeout: Duration,
    /// Send a heartbeat after this long without reads or writes. Default 15 s, as Java SOFABolt.
    /// `Duration::ZERO` disables heartbeats.
    pub heartbeat_interval: Duration,
    /// A heartbeat not acknowledged within this time counts as missed. Default 1 s.
    pub heartbeat_timeout: Duration,
    /// Close the connection after this many consecutive missed heartbeats. Default 3.
    pub max_missed_heartbeats: u32,
    /// Frame limits.
    pub codec: CodecConfig,
    /// Set `TCP_NODELAY`. Default `true`.
    pub nodelay: bool,
    /// Told when the connection opens and closes. Default: nobody.
    pub observer: ConnectionObserver,
    /// Wraps the TCP stream before the connection starts (a TLS handshake, with the `tls`
    /// feature's `TlsConnector`). Default none: plain TCP.
    pub connector: Option<Arc<dyn Connector>>,
}

impl Default for ConnectionConfig {
    fn default() -> Self {
        ConnectionConfig {
            protocol: Protocol::V1,
            crc: false,
            connect_timeout: Duration::from_secs(1),
            heartbeat_interval: Duration::from_secs(15),
            heartbeat_timeout: Duration::from_secs(1),
            max_missed_heartbeats: 3,
            codec: CodecConfig::default(),
            nodelay: true,
            observer: ConnectionObserver::default(),
            connector: None,
        }
    }
}

/// The future a [`Connector`] returns.
pub type ConnectFuture<'a> = Pin<Box<dyn Future<Output = Result<Connection>> + Send + 'a>>;

/// The client's hook between connecting over TCP and starting a [`Connection`]: a TLS
/// handshake, for example. Set it in [`ConnectionConfig::connector`]; it runs within the
/// [`connect_timeout`](ConnectionConfig::connect_timeout).
///
/// An implementation wraps the stream and starts the connection with
/// [`Connection::from_io`], so that the connection task is compiled for its stream type.
pub trait Connector: fmt::Debug + Send + Sync + 'static {
    /// Wraps `tcp`, connected to `server_name` (the host part of the address dialled, or the
    /// IP address when only that is known), and starts the connection.
    fn connect<'a>(
        &'a self,
        tcp: TcpStream,
        server_name: &'a str,
        config: ConnectionConfig,
    ) -> ConnectFuture<'a>;
}
