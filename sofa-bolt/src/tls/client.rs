//! The client side: [`TlsClientConfig`] and [`TlsConnector`].

use std::path::PathBuf;
use std::sync::Arc;

use rustls_pki_types::{CertificateDer, ServerName, UnixTime};
use tokio::net::TcpStream;
use tokio_rustls::rustls::client::danger::{
    HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier,
};
use tokio_rustls::rustls::client::WebPkiServerVerifier;
use tokio_rustls::rustls::{
    CertificateError, ClientConfig, DigitallySignedStruct, SignatureScheme,
};

use super::files::{certs, config_error, key, roots};
use crate::client::{ConnectFuture, Connector};
use crate::client::{Connection, ConnectionConfig};
use crate::error::{Error, ErrorKind, Result};

/// What a TLS client trusts and presents. Files are PEM, read when the [`TlsConnector`] is
/// made.
///
/// The server's certificate must chain to a root in [`ca`](Self::ca) and, unless
/// [`danger_skip_hostname_verification`](Self::danger_skip_hostname_verification) is set, be
/// valid for the name dialled (the host of `host:port`, or [`server_name`](Self::server_name)),
/// which is also sent as SNI when it is a DNS name.
///
/// ```no_run
/// use std::sync::Arc;
/// use sofa_bolt::tls::{TlsClientConfig, TlsConnector};
/// use sofa_bolt::{ConnectionPool, PoolConfig};
///
/// # fn main() -> sofa_bolt::Result<()> {
/// let tls = TlsConnector::new(
///     TlsClientConfig::new("/etc/orders/tls/ca.pem")
///         // Mutual TLS: the certificate this client presents.
///         .identity("/etc/orders/tls/client.pem", "/etc/orders/tls/client-key.pem"),
/// )?;
/// let mut config = PoolConfig::default();
/// config.connection.connector = Some(Arc::new(tls));
/// let pool = ConnectionPool::new(config);
/// # let _ = pool;
/// # Ok(())
/// # }
/// ```
#[derive(Clone, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct TlsClientConfig {
    /// Trust roots: a PEM file of one or more CA certificates. Required: there are no
    /// built-in or system roots.
    pub ca: Option<PathBuf>,
    /// The certificate chain and key to present when the server asks (mutual TLS).
    pub identity: Option<(PathBuf, PathBuf)>,
    /// The name to verify the server's certificate against (and send as SNI) instead of the
    /// host dialled.
    pub server_name: Option<String>,
    /// Accept a server certificate that chains to a trusted root whatever names it carries,
    /// as Java SOFABolt does (it checks no host name). Off by default: only for peers whose
    /// certificates do not name the addresses they are reached at.
    pub danger_skip_hostname_verification: bool,
}

impl TlsClientConfig {
    /// A client that trusts the CA certificates in the PEM file `ca`.
    pub fn new(ca: impl Into<PathBuf>) -> Self {
        TlsClientConfig {
            ca: Some(ca.into()),
            ..Default::default()
        }
    }

    /// Presents the chain in `cert_chain` with the key in `key` when the server asks.
    pub fn identity(mut self, cert_chain: impl Into<PathBuf>, key: impl Into<PathBuf>) -> Self {
        self.identity = Some((cert_chain.into(), key.into()));
        self
    }

    /// Verifies the server's certificate against `name` instead of the host dialled.
    pub fn server_name(mut self, name: impl Into<String>) -> Self {
        self.server_name = Some(name.into());
        self
    }

    /// See [`danger_skip_hostname_verification`](Self::danger_skip_hostname_verification).
    pub fn danger_skip_hostname_verification(mut self, skip: bool) -> Self {
        self.danger_skip_hostname_verification = skip;
        self
    }

    fn build(&self) -> Result<ClientConfig> {
        let Some(ca) = &self.ca else {
            return Err(Error::new(
                ErrorKind::Tls,
                "TLS client: no trust roots (set a CA file)",
            ));
        };
        let provider = super::provider();
        let roots = Arc::new(roots(ca, "server trust roots")?);
        let builder = ClientConfig::builder_with_provider(provider.clone())
            .with_safe_default_protocol_versions()
            .map_err(|e| config_error("TLS client", e))?;
        let builder = if self.danger_skip_hostname_verification {
            let inner = WebPkiServerVerifier::builder_with_provider(roots, provider)
                .build()
                .map_err(|e| config_error("server certificate verifier", e))?;
            builder
                .dangerous()
                .with_custom_certificate_verifier(Arc::new(AnyName { inner }))
        } else {
            builder.with_root_certificates(roots)
        };
        match &self.identity {
            None => Ok(builder.with_no_client_auth()),
            Some((chain, key_path)) => {
                let chain_certs = certs(chain, "client certificate chain")?;
                let key = key(key_path)?;
                builder
                    .with_client_auth_cert(chain_certs, key)
                    .map_err(|e| {
                        config_error(&format!("client certificate {}", chain.display()), e)
                    })
            }
        }
    }
}

/// Opens TLS client connections: a [`Connector`] for
/// [`ConnectionConfig::connector`](crate::ConnectionConfig::connector).
#[derive(Clone)]
pub struct TlsConnector {
    connector: tokio_rustls::TlsConnector,
    server_name: Option<String>,
}

impl TlsConnector {
    /// Reads the files of `config`; an error names the file and what is wrong with it.
    pub fn new(config: TlsClientConfig) -> Result<Self> {
        let built = config.build()?;
        Ok(TlsConnector {
            connector: Arc::new(built).into(),
            server_name: config.server_name,
        })
    }
}

impl Connector for TlsConnector {
    fn connect<'a>(
        &'a self,
        tcp: TcpStream,
        server_name: &'a str,
        config: ConnectionConfig,
    ) -> ConnectFuture<'a> {
        Box::pin(async move {
            let name = self.server_name.as_deref().unwrap_or(server_name);
            let server = ServerName::try_from(name.to_string()).map_err(|e| {
                Error::new(
                    ErrorKind::Tls,
                    format!("invalid TLS server name {name:?}: {e}"),
                )
            })?;
            let peer = tcp
                .peer_addr()
                .map_err(|e| Error::io("reading the peer address", e))?;
            let local = tcp
                .local_addr()
                .map_err(|e| Error::io("reading the local address", e))?;
            let stream = self.connector.connect(server, tcp).await.map_err(|e| {
                Error::new(
                    ErrorKind::Tls,
                    format!("TLS handshake with {name} ({peer}) failed: {e}"),
                )
            })?;
            Ok(Connection::from_io(stream, peer, local, config))
        })
    }
}

impl std::fmt::Debug for TlsConnector {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TlsConnector")
            .field("server_name", &self.server_name)
            .finish()
    }
}

/// Verifies the chain as usual but accepts any name in a certificate that chains to a trusted
/// root (what `danger_skip_hostname_verification` asks for). The name check comes after the
/// chain and validity checks, so its error means everything else passed.
#[derive(Debug)]
struct AnyName {
    inner: Arc<WebPkiServerVerifier>,
}

impl ServerCertVerifier for AnyName {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        server_name: &ServerName<'_>,
        ocsp_response: &[u8],
        now: UnixTime,
    ) -> std::result::Result<ServerCertVerified, tokio_rustls::rustls::Error> {
        match self.inner.verify_server_cert(
            end_entity,
            intermediates,
            server_name,
            ocsp_response,
            now,
        ) {
            Err(tokio_rustls::rustls::Error::InvalidCertificate(
                CertificateError::NotValidForName | CertificateError::NotValidForNameContext { .. },
            )) => Ok(ServerCertVerified::assertion()),
            other => other,
        }
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> std::result::Result<HandshakeSignatureValid, tokio_rustls::rustls::Error> {
        self.inner.verify_tls12_signature(message, cert, dss)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> std::result::Result<HandshakeSignatureValid, tokio_rustls::rustls::Error> {
        self.inner.verify_tls13_signature(message, cert, dss)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.inner.supported_verify_schemes()
    }
}
