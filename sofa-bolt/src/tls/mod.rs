//! TLS and mutual TLS for Bolt connections, over rustls (the `tls` feature).
//!
//! The server side is a [`TlsAcceptor`] given to
//! [`ServerBuilder::acceptor`](crate::ServerBuilder::acceptor); the client side a
//! [`TlsConnector`] set as [`ConnectionConfig::connector`](crate::ConnectionConfig::connector).
//! Both are made from PEM files. Java SOFABolt's TLS is plain TLS on the TCP stream, without
//! ALPN, and so is this: a socat or stunnel in front of a plain peer interoperates.
//!
//! What a server learns of a client that presented a certificate is in
//! [`Responder::peer_identity`](crate::Responder::peer_identity).

mod client;
mod files;
mod peer;
mod server;

pub use client::{TlsClientConfig, TlsConnector};
pub use server::{ClientAuth, TlsAcceptor, TlsServerConfig};

/// The crypto provider: ring, chosen explicitly so that another crate enabling a second rustls
/// provider in the same build cannot make the choice ambiguous.
fn provider() -> std::sync::Arc<tokio_rustls::rustls::crypto::CryptoProvider> {
    std::sync::Arc::new(tokio_rustls::rustls::crypto::ring::default_provider())
}
