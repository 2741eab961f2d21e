//! Error type of the Hessian module.

use std::borrow::Cow;
use std::fmt;

/// Result alias used throughout the Hessian module.
pub type Result<T> = std::result::Result<T, Error>;

/// Broad classification of an [`Error`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ErrorKind {
    /// The input ended in the middle of a value.
    UnexpectedEof,
    /// A byte that is not a valid tag at this position (for the selected dialect).
    InvalidTag,
    /// A malformed string (bad UTF-8/CESU-8 sequence, unpaired surrogate, bad chunk).
    InvalidString,
    /// A length or count that is negative, overflows, or exceeds the remaining input.
    InvalidLength,
    /// A class definition, type or object reference that does not exist.
    InvalidReference,
    /// Nesting deeper than the configured limit.
    DepthLimitExceeded,
    /// Another configured resource limit (reference replay budget) was exceeded.
    LimitExceeded,
    /// The value on the wire does not fit the requested Rust type.
    TypeMismatch,
    /// A value that cannot be represented in Hessian (or in the selected dialect).
    Unsupported,
    /// A SOFARPC-level protocol violation (e.g. not a `SofaRequest` object).
    Protocol,
    /// A message produced by a serde `Serialize`/`Deserialize` implementation.
    Custom,
}

impl ErrorKind {
    fn as_str(self) -> &'static str {
        match self {
            ErrorKind::UnexpectedEof => "unexpected end of input",
            ErrorKind::InvalidTag => "invalid tag",
            ErrorKind::InvalidString => "invalid string",
            ErrorKind::InvalidLength => "invalid length",
            ErrorKind::InvalidReference => "invalid reference",
            ErrorKind::DepthLimitExceeded => "nesting depth limit exceeded",
            ErrorKind::LimitExceeded => "limit exceeded",
            ErrorKind::TypeMismatch => "type mismatch",
            ErrorKind::Unsupported => "unsupported",
            ErrorKind::Protocol => "protocol error",
            ErrorKind::Custom => "error",
        }
    }
}

/// Error returned by every fallible operation of the Hessian module.
///
/// Carries a [`ErrorKind`], the byte offset in the input where decoding failed
/// (when known) and a human-readable message.
///
/// The details are boxed so that `Result<T, Error>` stays small on the hot path.
#[derive(Clone, PartialEq, Eq)]
pub struct Error {
    inner: Box<Inner>,
}

#[derive(Clone, PartialEq, Eq)]
struct Inner {
    kind: ErrorKind,
    offset: Option<usize>,
    message: Cow<'static, str>,
}

impl Error {
    /// Creates an error of the given kind with a message.
    pub fn new(kind: ErrorKind, message: impl Into<Cow<'static, str>>) -> Self {
        Error {
            inner: Box::new(Inner {
                kind,
                offset: None,
                message: message.into(),
            }),
        }
    }

    /// Creates an error of the given kind at a byte offset of the input.
    pub fn at(kind: ErrorKind, offset: usize, message: impl Into<Cow<'static, str>>) -> Self {
        Error {
            inner: Box::new(Inner {
                kind,
                offset: Some(offset),
                message: message.into(),
            }),
        }
    }

    /// The kind of the error.
    pub fn kind(&self) -> ErrorKind {
        self.inner.kind
    }

    /// The byte offset in the decoded input, if known.
    pub fn offset(&self) -> Option<usize> {
        self.inner.offset
    }

    /// The error message (without kind or offset).
    pub fn message(&self) -> &str {
        &self.inner.message
    }

    /// Sets the offset if none is recorded yet.
    pub(super) fn with_offset_if_missing(mut self, offset: usize) -> Self {
        if self.inner.offset.is_none() {
            self.inner.offset = Some(offset);
        }
        self
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "hessian {}: {}",
            self.inner.kind.as_str(),
            self.inner.message
        )?;
        if let Some(offset) = self.inner.offset {
            write!(f, " (at byte {offset})")?;
        }
        Ok(())
    }
}

impl fmt::Debug for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

impl std::error::Error for Error {}

impl serde::ser::Error for Error {
    fn custom<T: fmt::Display>(msg: T) -> Self {
        Error::new(ErrorKind::Custom, msg.to_string())
    }
}

impl serde::de::Error for Error {
    fn custom<T: fmt::Display>(msg: T) -> Self {
        Error::new(ErrorKind::Custom, msg.to_string())
    }

    fn invalid_type(unexp: serde::de::Unexpected<'_>, exp: &dyn serde::de::Expected) -> Self {
        Error::new(
            ErrorKind::TypeMismatch,
            format!("invalid type: {unexp}, expected {exp}"),
        )
    }

    fn invalid_value(unexp: serde::de::Unexpected<'_>, exp: &dyn serde::de::Expected) -> Self {
        Error::new(
            ErrorKind::TypeMismatch,
            format!("invalid value: {unexp}, expected {exp}"),
        )
    }

    fn invalid_length(len: usize, exp: &dyn serde::de::Expected) -> Self {
        Error::new(
            ErrorKind::TypeMismatch,
            format!("invalid length {len}, expected {exp}"),
        )
    }
}
