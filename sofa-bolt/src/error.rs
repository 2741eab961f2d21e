//! The crate's one error type.

use std::fmt;
use std::sync::Arc;

/// A specialized `Result` whose error defaults to this crate's [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// What went wrong, coarse enough to branch on.
///
/// Framing kinds (`UnknownProtocol` ... `CrcMismatch`) mean the peer sent bytes that are not a
/// SOFABolt frame; the connection that carried them is closed.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ErrorKind {
    /// The first byte of a frame is neither `0x01` (v1) nor `0x02` (v2).
    UnknownProtocol,
    /// A header field holds a value the protocol does not allow (type byte, command code,
    /// v2 version, switch byte, a negative length ...).
    InvalidFrame,
    /// A frame, or its header or class name, is larger than the configured maximum.
    FrameTooLarge,
    /// A v2 frame's CRC32 trailer does not match its bytes.
    CrcMismatch,
    /// The header map section is not a sequence of length-prefixed UTF-8 strings.
    InvalidHeader,
    /// No response arrived within the call's timeout.
    Timeout,
    /// The connection closed (or was closed) before the call completed.
    ConnectionClosed,
    /// A TCP connection could not be established (or is in reconnect back-off).
    Connect,
    /// A socket read or write failed.
    Io,
    /// The server is shutting down or refused the connection.
    Shutdown,
    /// The request never left this process: the connection failed or closed before it was
    /// written. Sending it on another connection cannot run it twice.
    NotSent,
    /// TLS: a certificate, key or trust file is missing or invalid, or a handshake failed.
    Tls,
}

impl ErrorKind {
    /// A short lowercase name, used in messages.
    pub fn as_str(self) -> &'static str {
        match self {
            ErrorKind::UnknownProtocol => "unknown protocol",
            ErrorKind::InvalidFrame => "invalid frame",
            ErrorKind::FrameTooLarge => "frame too large",
            ErrorKind::CrcMismatch => "crc mismatch",
            ErrorKind::InvalidHeader => "invalid header",
            ErrorKind::Timeout => "timeout",
            ErrorKind::ConnectionClosed => "connection closed",
            ErrorKind::Connect => "connect failed",
            ErrorKind::Io => "i/o error",
            ErrorKind::Shutdown => "shutdown",
            ErrorKind::NotSent => "not sent",
            ErrorKind::Tls => "tls",
        }
    }

    /// `true` for the kinds that mean the peer sent something that is not valid SOFABolt.
    pub fn is_malformed_input(self) -> bool {
        matches!(
            self,
            ErrorKind::UnknownProtocol
                | ErrorKind::InvalidFrame
                | ErrorKind::FrameTooLarge
                | ErrorKind::CrcMismatch
                | ErrorKind::InvalidHeader
        )
    }
}

impl fmt::Display for ErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// An error from the codec or the transport.
///
/// Cheap to clone: one failure (a dropped connection) is handed to every call that was waiting
/// on it.
#[derive(Clone)]
pub struct Error {
    inner: Arc<Inner>,
}

struct Inner {
    kind: ErrorKind,
    message: String,
    source: Option<Box<dyn std::error::Error + Send + Sync>>,
}

impl Error {
    /// Creates an error of `kind` with a human readable `message`.
    pub fn new(kind: ErrorKind, message: impl Into<String>) -> Self {
        Error {
            inner: Arc::new(Inner {
                kind,
                message: message.into(),
                source: None,
            }),
        }
    }

    /// Creates an error of `kind` that wraps `source`.
    pub fn with_source(
        kind: ErrorKind,
        message: impl Into<String>,
        source: impl std::error::Error + Send + Sync + 'static,
    ) -> Self {
        Error {
            inner: Arc::new(Inner {
                kind,
                message: message.into(),
                source: Some(Box::new(source)),
            }),
        }
    }

    /// What kind of failure this is.
    pub fn kind(&self) -> ErrorKind {
        self.inner.kind
    }

    /// The message, without the kind prefix or source.
    pub fn message(&self) -> &str {
        &self.inner.message
    }

    pub(crate) fn io(context: impl Into<String>, err: std::io::Error) -> Self {
        Error::with_source(ErrorKind::Io, context, err)
    }

    pub(crate) fn invalid(message: impl Into<String>) -> Self {
        Error::new(ErrorKind::InvalidFrame, message)
    }

    pub(crate) fn closed(message: impl Into<String>) -> Self {
        Error::new(ErrorKind::ConnectionClosed, message)
    }

    /// The same failure, for a request that was never written.
    pub(crate) fn not_sent(&self) -> Self {
        Error::new(
            ErrorKind::NotSent,
            format!("request not sent: {}", self.inner.message),
        )
    }
}

impl fmt::Debug for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut d = f.debug_struct("Error");
        d.field("kind", &self.inner.kind)
            .field("message", &self.inner.message);
        if let Some(source) = &self.inner.source {
            d.field("source", source);
        }
        d.finish()
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.inner.kind, self.inner.message)?;
        if let Some(source) = &self.inner.source {
            write!(f, ": {source}")?;
        }
        Ok(())
    }
}

impl std::error::Error for Error {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        self.inner
            .source
            .as_ref()
            .map(|s| s.as_ref() as &(dyn std::error::Error + 'static))
    }
}

impl From<std::io::Error> for Error {
    fn from(err: std::io::Error) -> Self {
        Error::io("socket", err)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn display_has_kind_message_and_source() {
        let e = Error::with_source(
            ErrorKind::Io,
            "reading frame",
            std::io::Error::other("reset"),
        );
        assert_eq!(e.to_string(), "i/o error: reading frame: reset");
        assert_eq!(e.kind(), ErrorKind::Io);
        assert!(std::error::Error::source(&e).is_some());
        let copy = e.clone();
        assert_eq!(copy.message(), "reading frame");
    }

    #[test]
    fn malformed_kinds() {
        assert!(ErrorKind::CrcMismatch.is_malformed_input());
        assert!(!ErrorKind::Timeout.is_malformed_input());
    }
}
