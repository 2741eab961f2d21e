//! [`PeerIdentity`]: who the other end proved to be.

use std::fmt;

/// The verified identity of a connection's peer: the subject and subject alternative names of
/// the certificate it presented (mutual TLS), read after the certificate chain was verified
/// against the trust roots.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct PeerIdentity {
    subject: String,
    common_name: Option<String>,
    sans: Vec<String>,
}

impl PeerIdentity {
    /// An identity with a subject (`CN=orders, O=Example`), its common name if it has one,
    /// and its subject alternative names (`DNS:orders.example`, `IP:10.0.0.5`,
    /// `URI:spiffe://example/orders`, `EMAIL:ops@example`).
    pub fn new(subject: impl Into<String>, common_name: Option<String>, sans: Vec<String>) -> Self {
        PeerIdentity {
            subject: subject.into(),
            common_name,
            sans,
        }
    }

    /// The certificate's subject, as `CN=orders, O=Example`.
    pub fn subject(&self) -> &str {
        &self.subject
    }

    /// The subject's common name (`CN`), if it has one.
    pub fn common_name(&self) -> Option<&str> {
        self.common_name.as_deref()
    }

    /// The subject alternative names, each prefixed with its kind: `DNS:`, `IP:`, `URI:` or
    /// `EMAIL:`.
    pub fn sans(&self) -> &[String] {
        &self.sans
    }

    /// Every name the peer goes by: the subject, the common name, and each alternative name
    /// both with and without its kind prefix. What an authorization rule matches against.
    pub fn names(&self) -> impl Iterator<Item = &str> {
        let bare = self
            .sans
            .iter()
            .filter_map(|s| s.split_once(':').map(|(_, name)| name));
        std::iter::once(self.subject.as_str())
            .chain(self.common_name.as_deref())
            .chain(self.sans.iter().map(String::as_str))
            .chain(bare)
    }
}

impl fmt::Display for PeerIdentity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.subject)?;
        if !self.sans.is_empty() {
            write!(f, " [{}]", self.sans.join(", "))?;
        }
        Ok(())
    }
}
