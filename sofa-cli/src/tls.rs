//! `--cacert`, `--cert`, `--key`, `--servername`, `--insecure-skip-hostname`: how a command
//! reaches providers that serve over TLS.

use std::path::PathBuf;

use clap::Args;
use sofa_rpc_core::bolt::tls::{TlsClientConfig, TlsConnector};

use crate::error::{Failure, Result};

/// The TLS options of the commands that talk to providers.
#[derive(Debug, Clone, Default, Args)]
pub(crate) struct TlsArgs {
    /// Trust roots (PEM) for providers that serve over TLS. With it, a direct target is
    /// called over TLS, and so are registry providers published with `tls=true`.
    #[arg(long, value_name = "FILE")]
    pub(crate) cacert: Option<PathBuf>,
    /// The certificate chain (PEM) to present when the provider asks for one (mutual TLS).
    #[arg(long, value_name = "FILE", requires = "key")]
    pub(crate) cert: Option<PathBuf>,
    /// The private key (PEM) of `--cert`.
    #[arg(long, value_name = "FILE", requires = "cert")]
    pub(crate) key: Option<PathBuf>,
    /// Verify the provider's certificate against this name instead of the host dialled.
    #[arg(long, value_name = "NAME")]
    pub(crate) servername: Option<String>,
    /// Check that the provider's certificate chains to `--cacert` but not which names it
    /// carries (as Java SOFABolt does).
    #[arg(long)]
    pub(crate) insecure_skip_hostname: bool,
}

impl TlsArgs {
    /// The connector these options describe, `None` without `--cacert`; `target` is the
    /// command's target as typed, so that a `bolt+tls://` one without `--cacert` is a usage
    /// error rather than a confusing handshake failure.
    pub(crate) fn connector(&self, target: &str) -> Result<Option<TlsConnector>> {
        let Some(ca) = &self.cacert else {
            if is_tls_url(target) {
                return Err(Failure::usage(format!(
                    "{target} serves over TLS: give its trust roots with --cacert FILE"
                )));
            }
            if self.cert.is_some() || self.servername.is_some() || self.insecure_skip_hostname {
                return Err(Failure::usage(
                    "--cert, --key, --servername and --insecure-skip-hostname need --cacert",
                ));
            }
            return Ok(None);
        };
        let mut config = TlsClientConfig::new(ca.clone())
            .danger_skip_hostname_verification(self.insecure_skip_hostname);
        if let (Some(cert), Some(key)) = (&self.cert, &self.key) {
            config = config.identity(cert.clone(), key.clone());
        }
        if let Some(name) = &self.servername {
            config = config.server_name(name.clone());
        }
        TlsConnector::new(config)
            .map(Some)
            .map_err(|e| Failure::usage(format!("TLS options: {e}")))
    }
}

/// Whether `target` names the `bolt+tls` scheme.
pub(crate) fn is_tls_url(target: &str) -> bool {
    target
        .split_once("://")
        .is_some_and(|(scheme, _)| scheme.eq_ignore_ascii_case("bolt+tls"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tls_targets_need_trust_roots() {
        let none = TlsArgs::default();
        assert!(none.connector("bolt://h:1").unwrap().is_none());
        let e = none.connector("bolt+tls://h:1").unwrap_err();
        assert!(e.to_string().contains("--cacert"), "{e}");
        assert_eq!(e.exit_code(), 2);
        let cert_only = TlsArgs {
            servername: Some("x".into()),
            ..TlsArgs::default()
        };
        assert!(cert_only.connector("h:1").is_err());
    }

    #[test]
    fn a_missing_ca_file_is_named() {
        let args = TlsArgs {
            cacert: Some("/nonexistent/ca.pem".into()),
            ..TlsArgs::default()
        };
        let e = args.connector("h:1").unwrap_err();
        assert!(e.to_string().contains("/nonexistent/ca.pem"), "{e}");
    }
}
