//! TLS streams as [`BoltStream`]s, and the peer's identity read from its certificate.

use std::sync::Arc;

use tokio::io::{split, ReadHalf, WriteHalf};
use tokio::net::TcpStream;
use tokio_rustls::{client, server};
use x509_parser::extensions::GeneralName;

use crate::identity::PeerIdentity;
use crate::stream::BoltStream;

// A TLS stream has no halves of its own: `split` shares it behind a lock, taken once per read
// or write of the connection task, which is the only user and never contends for it.
impl BoltStream for server::TlsStream<TcpStream> {
    type Reader<'a> = ReadHalf<&'a mut Self>;
    type Writer<'a> = WriteHalf<&'a mut Self>;
    const BUFFERS_WRITES: bool = true;

    fn halves(&mut self) -> (Self::Reader<'_>, Self::Writer<'_>) {
        split(self)
    }

    fn peer_identity(&self) -> Option<Arc<PeerIdentity>> {
        let leaf = self.get_ref().1.peer_certificates()?.first()?;
        identity_of(leaf.as_ref()).map(Arc::new)
    }
}

impl BoltStream for client::TlsStream<TcpStream> {
    type Reader<'a> = ReadHalf<&'a mut Self>;
    type Writer<'a> = WriteHalf<&'a mut Self>;
    const BUFFERS_WRITES: bool = true;

    fn halves(&mut self) -> (Self::Reader<'_>, Self::Writer<'_>) {
        split(self)
    }

    fn peer_identity(&self) -> Option<Arc<PeerIdentity>> {
        let leaf = self.get_ref().1.peer_certificates()?.first()?;
        identity_of(leaf.as_ref()).map(Arc::new)
    }
}

/// The subject and alternative names of a DER certificate that rustls already verified;
/// `None` if it cannot be parsed (it then carries no identity to authorize).
pub(super) fn identity_of(der: &[u8]) -> Option<PeerIdentity> {
    let (_, cert) = x509_parser::parse_x509_certificate(der).ok()?;
    let subject = cert.subject();
    let common_name = subject
        .iter_common_name()
        .next()
        .and_then(|cn| cn.as_str().ok())
        .map(str::to_string);
    let mut sans = Vec::new();
    if let Ok(Some(ext)) = cert.subject_alternative_name() {
        for name in &ext.value.general_names {
            match name {
                GeneralName::DNSName(dns) => sans.push(format!("DNS:{dns}")),
                GeneralName::RFC822Name(mail) => sans.push(format!("EMAIL:{mail}")),
                GeneralName::URI(uri) => sans.push(format!("URI:{uri}")),
                GeneralName::IPAddress(ip) => {
                    if let Some(ip) = ip_of(ip) {
                        sans.push(format!("IP:{ip}"));
                    }
                }
                _ => {}
            }
        }
    }
    Some(PeerIdentity::new(subject.to_string(), common_name, sans))
}

fn ip_of(bytes: &[u8]) -> Option<std::net::IpAddr> {
    if let Ok(v4) = <[u8; 4]>::try_from(bytes) {
        return Some(v4.into());
    }
    <[u8; 16]>::try_from(bytes).ok().map(Into::into)
}
