//! The crate's one error type.

use std::error::Error as StdError;
use std::fmt;

use crate::provider::ProviderParseError;

/// `Result` with this crate's [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// What went wrong, coarsely: enough to decide whether to retry.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ErrorKind {
    /// A registry or provider URL could not be parsed, or an argument is unusable.
    InvalidArgument,
    /// The URL names a backend that is unknown or not compiled in (cargo feature off).
    Unsupported,
    /// The registry server cannot be reached, or the connection or session was lost.
    /// Worth retrying; backends retry by themselves.
    Unavailable,
    /// An operation did not finish in time.
    Timeout,
    /// The server refused an operation (bad path, permissions, quota, ...).
    Rejected,
    /// Reading or writing a local registry file failed.
    Io,
    /// The registry was closed.
    Closed,
}

impl fmt::Display for ErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            ErrorKind::InvalidArgument => "invalid argument",
            ErrorKind::Unsupported => "unsupported",
            ErrorKind::Unavailable => "registry unavailable",
            ErrorKind::Timeout => "timed out",
            ErrorKind::Rejected => "rejected by the registry",
            ErrorKind::Io => "i/o error",
            ErrorKind::Closed => "registry closed",
        })
    }
}

/// An error from a registry: a [`kind`](Error::kind), a message, and the underlying cause
/// (reachable through [`std::error::Error::source`], never as a dependency's type).
pub struct Error {
    kind: ErrorKind,
    message: String,
    source: Option<Box<dyn StdError + Send + Sync + 'static>>,
}

impl Error {
    /// An error of `kind` with `message`.
    pub fn new(kind: ErrorKind, message: impl Into<String>) -> Self {
        Error {
            kind,
            message: message.into(),
            source: None,
        }
    }

    /// An error of `kind` with `message`, caused by `source`.
    pub fn with_source(
        kind: ErrorKind,
        message: impl Into<String>,
        source: impl Into<Box<dyn StdError + Send + Sync + 'static>>,
    ) -> Self {
        Error {
            kind,
            message: message.into(),
            source: Some(source.into()),
        }
    }

    /// What kind of error this is.
    pub fn kind(&self) -> ErrorKind {
        self.kind
    }

    /// The message, without the cause.
    pub fn message(&self) -> &str {
        &self.message
    }

    /// Whether retrying the operation later may succeed.
    pub fn is_retryable(&self) -> bool {
        matches!(self.kind, ErrorKind::Unavailable | ErrorKind::Timeout)
    }

    pub(crate) fn invalid(message: impl Into<String>) -> Self {
        Error::new(ErrorKind::InvalidArgument, message)
    }

    pub(crate) fn closed() -> Self {
        Error::new(ErrorKind::Closed, "the registry is closed")
    }

    /// A copy without the source (sources are not `Clone`); used to hand one outage to
    /// several subscribers. The source's text is kept in the message.
    pub(crate) fn shallow_clone(&self) -> Self {
        let message = match &self.source {
            Some(source) => format!("{}: {source}", self.message),
            None => self.message.clone(),
        };
        Error::new(self.kind, message)
    }
}

impl fmt::Debug for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut d = f.debug_struct("Error");
        d.field("kind", &self.kind).field("message", &self.message);
        if let Some(source) = &self.source {
            d.field("source", &format_args!("{source}"));
        }
        d.finish()
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.kind, self.message)?;
        if let Some(source) = &self.source {
            write!(f, ": {source}")?;
        }
        Ok(())
    }
}

impl StdError for Error {
    fn source(&self) -> Option<&(dyn StdError + 'static)> {
        self.source
            .as_ref()
            .map(|s| s.as_ref() as &(dyn StdError + 'static))
    }
}

impl From<ProviderParseError> for Error {
    fn from(e: ProviderParseError) -> Self {
        Error::with_source(ErrorKind::InvalidArgument, "bad provider url", e)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn display_and_source() {
        let io = std::io::Error::other("disk on fire");
        let e = Error::with_source(ErrorKind::Io, "writing /x", io);
        assert_eq!(e.kind(), ErrorKind::Io);
        assert_eq!(e.to_string(), "i/o error: writing /x: disk on fire");
        assert!(e.source().is_some());
        assert!(!e.is_retryable());
        let c = e.shallow_clone();
        assert_eq!(c.message(), "writing /x: disk on fire");
        assert!(Error::new(ErrorKind::Unavailable, "x").is_retryable());
    }
}
