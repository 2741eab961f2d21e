//! The server side: [`TlsServerConfig`] and the reloadable [`TlsAcceptor`].

use std::future::Future;
use std::io;
use std::path::PathBuf;
use std::sync::{Arc, RwLock};

use tokio::net::TcpStream;
use tokio_rustls::rustls::server::WebPkiClientVerifier;
use tokio_rustls::rustls::ServerConfig;
use tokio_rustls::server::TlsStream;

use super::files::{certs, config_error, key, roots};
use crate::error::Result;
use crate::stream::Acceptor;

/// Whether the server asks clients for a certificate, and which roots it must chain to.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub enum ClientAuth {
    /// Clients are not asked for a certificate (plain TLS). The default.
    #[default]
    None,
    /// Clients may present a certificate, which must then chain to a root in this PEM file;
    /// clients without one are served too, with no identity.
    Optional(PathBuf),
    /// Clients must present a certificate that chains to a root in this PEM file (mutual TLS);
    /// a client without one, or with an untrusted one, fails the handshake.
    Required(PathBuf),
}

/// Where a TLS server finds its certificate chain and key, and how it treats client
/// certificates. Files are PEM; they are read when the [`TlsAcceptor`] is made and again on
/// each [`reload`](TlsAcceptor::reload).
///
/// ```no_run
/// use sofa_bolt::tls::{ClientAuth, TlsAcceptor, TlsServerConfig};
/// use sofa_bolt::{processor_fn, Frame, ResponseStatus, Server};
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> sofa_bolt::Result<()> {
/// let tls = TlsAcceptor::new(
///     TlsServerConfig::new("/etc/orders/tls/chain.pem", "/etc/orders/tls/key.pem")
///         .client_auth(ClientAuth::Required("/etc/orders/tls/clients-ca.pem".into())),
/// )?;
/// let server = Server::builder()
///     .processor("demo.Echo", processor_fn(|req: Frame| async move {
///         Some(Frame::response_to(&req, ResponseStatus::SUCCESS))
///     }))
///     .acceptor(tls.clone())
///     .bind("0.0.0.0:12200")
///     .start()
///     .await?;
/// // Later, after the files were renewed: new connections get the new pair.
/// tls.reload()?;
/// # server.shutdown().await;
/// # Ok(())
/// # }
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct TlsServerConfig {
    /// The server's certificate chain, leaf first.
    pub cert_chain: PathBuf,
    /// The private key of the leaf certificate (PKCS#8, PKCS#1 or SEC1).
    pub key: PathBuf,
    /// Client certificates: not asked for (default), optional, or required.
    pub client_auth: ClientAuth,
}

impl TlsServerConfig {
    /// A server presenting the chain in `cert_chain` with the key in `key`.
    pub fn new(cert_chain: impl Into<PathBuf>, key: impl Into<PathBuf>) -> Self {
        TlsServerConfig {
            cert_chain: cert_chain.into(),
            key: key.into(),
            client_auth: ClientAuth::None,
        }
    }

    /// Whether and how clients are asked for certificates.
    pub fn client_auth(mut self, client_auth: ClientAuth) -> Self {
        self.client_auth = client_auth;
        self
    }

    /// Reads the files and builds the rustls configuration.
    fn build(&self) -> Result<ServerConfig> {
        let provider = super::provider();
        let builder = ServerConfig::builder_with_provider(provider.clone())
            .with_safe_default_protocol_versions()
            .map_err(|e| config_error("TLS server", e))?;
        let builder = match &self.client_auth {
            ClientAuth::None => builder.with_no_client_auth(),
            ClientAuth::Optional(ca) | ClientAuth::Required(ca) => {
                let roots = Arc::new(roots(ca, "client trust roots")?);
                let verifier = WebPkiClientVerifier::builder_with_provider(roots, provider);
                let verifier = if matches!(self.client_auth, ClientAuth::Optional(_)) {
                    verifier.allow_unauthenticated()
                } else {
                    verifier
                };
                let verifier = verifier
                    .build()
                    .map_err(|e| config_error("client certificate verifier", e))?;
                builder.with_client_cert_verifier(verifier)
            }
        };
        let chain = certs(&self.cert_chain, "server certificate chain")?;
        let key = key(&self.key)?;
        builder.with_single_cert(chain, key).map_err(|e| {
            config_error(
                &format!(
                    "server certificate {} with key {}",
                    self.cert_chain.display(),
                    self.key.display()
                ),
                e,
            )
        })
    }
}

/// Turns accepted TCP connections into TLS streams: an [`Acceptor`] for
/// [`ServerBuilder::acceptor`](crate::ServerBuilder::acceptor).
///
/// Clones share the configuration, so one kept aside can [`reload`](Self::reload) the files
/// while the server uses another: connections accepted afterwards get the new certificate
/// and key (and client roots); connections already open keep theirs.
#[derive(Clone)]
pub struct TlsAcceptor {
    inner: Arc<Shared>,
}

struct Shared {
    config: TlsServerConfig,
    current: RwLock<tokio_rustls::TlsAcceptor>,
}

impl TlsAcceptor {
    /// Reads the files of `config`; an error names the file and what is wrong with it.
    pub fn new(config: TlsServerConfig) -> Result<Self> {
        let built = config.build()?;
        Ok(TlsAcceptor {
            inner: Arc::new(Shared {
                config,
                current: RwLock::new(Arc::new(built).into()),
            }),
        })
    }

    /// Reads the files again and uses them for the connections accepted from now on. If a
    /// file is missing or invalid, returns the error and keeps the configuration in use.
    pub fn reload(&self) -> Result<()> {
        let built = self.inner.config.build()?;
        let mut current = self
            .inner
            .current
            .write()
            .unwrap_or_else(|e| e.into_inner());
        *current = Arc::new(built).into();
        tracing::info!(cert = %self.inner.config.cert_chain.display(), "TLS certificate reloaded");
        Ok(())
    }

    /// The configuration the files are read from.
    pub fn config(&self) -> &TlsServerConfig {
        &self.inner.config
    }
}

impl Acceptor for TlsAcceptor {
    type Stream = TlsStream<TcpStream>;

    fn accept(&self, tcp: TcpStream) -> impl Future<Output = io::Result<Self::Stream>> + Send {
        let acceptor = self
            .inner
            .current
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .clone();
        acceptor.accept(tcp)
    }
}

impl std::fmt::Debug for TlsAcceptor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TlsAcceptor")
            .field("config", &self.inner.config)
            .finish()
    }
}
