//! Reading certificates, keys and trust roots from PEM files, with errors that name the file.

use std::path::Path;

use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{CertificateDer, PrivateKeyDer};
use tokio_rustls::rustls::RootCertStore;

use crate::error::{Error, ErrorKind, Result};

fn tls_error(what: &str, path: &Path, reason: impl std::fmt::Display) -> Error {
    Error::new(
        ErrorKind::Tls,
        format!("{what} {}: {reason}", path.display()),
    )
}

/// Every certificate in the PEM file at `path`, leaf first; at least one.
pub(super) fn certs(path: &Path, what: &str) -> Result<Vec<CertificateDer<'static>>> {
    let certs = CertificateDer::pem_file_iter(path)
        .map_err(|e| tls_error(what, path, e))?
        .collect::<std::result::Result<Vec<_>, _>>()
        .map_err(|e| tls_error(what, path, e))?;
    if certs.is_empty() {
        return Err(tls_error(what, path, "no CERTIFICATE section in the file"));
    }
    Ok(certs)
}

/// The private key in the PEM file at `path` (PKCS#8, PKCS#1 or SEC1).
pub(super) fn key(path: &Path) -> Result<PrivateKeyDer<'static>> {
    PrivateKeyDer::from_pem_file(path).map_err(|e| tls_error("private key", path, e))
}

/// A root store of every certificate in the PEM file at `path`.
pub(super) fn roots(path: &Path, what: &str) -> Result<RootCertStore> {
    let mut store = RootCertStore::empty();
    for cert in certs(path, what)? {
        store.add(cert).map_err(|e| tls_error(what, path, e))?;
    }
    Ok(store)
}

/// A rustls error while building a config, naming what was being built.
pub(super) fn config_error(what: &str, e: impl std::fmt::Display) -> Error {
    Error::new(ErrorKind::Tls, format!("{what}: {e}"))
}
