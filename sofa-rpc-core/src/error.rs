//! [`RpcError`]: every framework failure, with SOFARPC's error kinds.

use std::fmt;

use sofa_bolt::ResponseStatus;

/// A specialized `Result` whose error defaults to [`RpcError`].
pub type Result<T, E = RpcError> = std::result::Result<T, E>;

/// What kind of failure an [`RpcError`] is, with SOFARPC's `RpcErrorType` codes.
///
/// Server kinds (1xx) were reported by the provider; client kinds (2xx) happened on this side.
/// Application errors are not here: they stay in the method's own return type.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ErrorKind {
    /// 100: the provider's business executor is full (bolt status `0x0004`). Retryable.
    ServerBusy,
    /// 101: the provider is shutting down.
    ServerClosed,
    /// 110: the provider has no such service or method.
    ServerNotFoundInvoker,
    /// 120: the provider could not serialize its response.
    ServerSerialize,
    /// 130: the provider could not deserialize the request.
    ServerDeserialize,
    /// 160: the method raised an application exception that its Rust signature has no place
    /// for (it does not return `Result<_, E: AppError>`).
    ServerBiz,
    /// 170: a provider filter failed.
    ServerFilter,
    /// 199: any other failure on the provider.
    ServerUndeclared,
    /// 200: no response within the timeout. Retryable.
    ClientTimeout,
    /// 210: no provider to send the call to.
    ClientRouter,
    /// 220: the request could not be serialized.
    ClientSerialize,
    /// 230: the response could not be deserialized.
    ClientDeserialize,
    /// 250: the network failed (connect, send, or the connection closed with the call pending).
    ClientNetwork,
    /// 260: a consumer filter failed.
    ClientFilter,
    /// 270: the consumer's own rate limit refused the call (the traffic guard). Not retried:
    /// another provider would meet the same limit.
    ClientRateLimited,
    /// 271: a circuit breaker is open (the traffic guard). A provider's open breaker is
    /// retryable on another provider: the request never left.
    ClientCircuitOpen,
    /// 299: any other failure on this side (including bad configuration).
    ClientUndeclared,
}

impl ErrorKind {
    /// SOFARPC's numeric error type.
    pub fn code(self) -> u16 {
        match self {
            ErrorKind::ServerBusy => 100,
            ErrorKind::ServerClosed => 101,
            ErrorKind::ServerNotFoundInvoker => 110,
            ErrorKind::ServerSerialize => 120,
            ErrorKind::ServerDeserialize => 130,
            ErrorKind::ServerBiz => 160,
            ErrorKind::ServerFilter => 170,
            ErrorKind::ServerUndeclared => 199,
            ErrorKind::ClientTimeout => 200,
            ErrorKind::ClientRouter => 210,
            ErrorKind::ClientSerialize => 220,
            ErrorKind::ClientDeserialize => 230,
            ErrorKind::ClientNetwork => 250,
            ErrorKind::ClientFilter => 260,
            ErrorKind::ClientRateLimited => 270,
            ErrorKind::ClientCircuitOpen => 271,
            ErrorKind::ClientUndeclared => 299,
        }
    }

    /// The kind with SOFARPC's numeric error type `code`.
    pub fn from_code(code: u16) -> Option<Self> {
        Self::ALL.iter().copied().find(|k| k.code() == code)
    }

    /// The kind with SOFARPC's constant name `name` (e.g. `SERVER_BUSY`).
    pub fn from_name(name: &str) -> Option<Self> {
        Self::ALL.iter().copied().find(|k| k.name() == name)
    }

    const ALL: [ErrorKind; 17] = [
        ErrorKind::ServerBusy,
        ErrorKind::ServerClosed,
        ErrorKind::ServerNotFoundInvoker,
        ErrorKind::ServerSerialize,
        ErrorKind::ServerDeserialize,
        ErrorKind::ServerBiz,
        ErrorKind::ServerFilter,
        ErrorKind::ServerUndeclared,
        ErrorKind::ClientTimeout,
        ErrorKind::ClientRouter,
        ErrorKind::ClientSerialize,
        ErrorKind::ClientDeserialize,
        ErrorKind::ClientNetwork,
        ErrorKind::ClientFilter,
        ErrorKind::ClientRateLimited,
        ErrorKind::ClientCircuitOpen,
        ErrorKind::ClientUndeclared,
    ];

    /// SOFARPC's constant name, e.g. `SERVER_BUSY`.
    pub fn name(self) -> &'static str {
        match self {
            ErrorKind::ServerBusy => "SERVER_BUSY",
            ErrorKind::ServerClosed => "SERVER_CLOSED",
            ErrorKind::ServerNotFoundInvoker => "SERVER_NOT_FOUND_INVOKER",
            ErrorKind::ServerSerialize => "SERVER_SERIALIZE",
            ErrorKind::ServerDeserialize => "SERVER_DESERIALIZE",
            ErrorKind::ServerBiz => "SERVER_BIZ",
            ErrorKind::ServerFilter => "SERVER_FILTER",
            ErrorKind::ServerUndeclared => "SERVER_UNDECLARED_ERROR",
            ErrorKind::ClientTimeout => "CLIENT_TIMEOUT",
            ErrorKind::ClientRouter => "CLIENT_ROUTER",
            ErrorKind::ClientSerialize => "CLIENT_SERIALIZE",
            ErrorKind::ClientDeserialize => "CLIENT_DESERIALIZE",
            ErrorKind::ClientNetwork => "CLIENT_NETWORK",
            ErrorKind::ClientFilter => "CLIENT_FILTER",
            ErrorKind::ClientRateLimited => "CLIENT_RATE_LIMITED",
            ErrorKind::ClientCircuitOpen => "CLIENT_CIRCUIT_OPEN",
            ErrorKind::ClientUndeclared => "CLIENT_UNDECLARED_ERROR",
        }
    }

    /// `true` for kinds reported by the provider.
    pub fn is_server_side(self) -> bool {
        self.code() < 200
    }
}

impl fmt::Display for ErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} ({})", self.name(), self.code())
    }
}

/// A failure of the framework: the call did not reach the method, or its answer did not make
/// it back.
///
/// [`is_retryable`](Self::is_retryable) says whether another provider may be tried, which is
/// what the `failover` cluster reads.
///
/// ```
/// use sofa_rpc_core::{ErrorKind, RpcError};
///
/// let e = RpcError::new(ErrorKind::ServerBusy, "executor full");
/// assert!(e.is_retryable());
/// assert_eq!(e.to_string(), "SERVER_BUSY (100): executor full");
/// assert!(!RpcError::new(ErrorKind::ServerDeserialize, "bad body").is_retryable());
/// ```
pub struct RpcError {
    inner: Box<Inner>,
}

struct Inner {
    kind: ErrorKind,
    message: String,
    /// For `ClientNetwork`: the request provably never left this process, so retrying it
    /// elsewhere cannot run it twice.
    unsent: bool,
    source: Option<Box<dyn std::error::Error + Send + Sync>>,
}

impl RpcError {
    /// An error of `kind` with `message`.
    pub fn new(kind: ErrorKind, message: impl Into<String>) -> Self {
        RpcError {
            inner: Box::new(Inner {
                kind,
                message: message.into(),
                unsent: false,
                source: None,
            }),
        }
    }

    /// Attaches the underlying cause.
    pub fn with_source(mut self, source: impl std::error::Error + Send + Sync + 'static) -> Self {
        self.inner.source = Some(Box::new(source));
        self
    }

    /// No response within the timeout.
    pub fn timeout(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::ClientTimeout, message)
    }

    /// No provider could be selected.
    pub fn no_provider(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::ClientRouter, message)
    }

    /// The provider could not be reached and the request was not sent.
    pub fn unavailable(message: impl Into<String>) -> Self {
        let mut e = Self::new(ErrorKind::ClientNetwork, message);
        e.inner.unsent = true;
        e
    }

    /// Bad configuration or use of the API.
    pub fn config(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::ClientUndeclared, message)
    }

    /// The service or method does not exist on the provider.
    pub fn not_found(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::ServerNotFoundInvoker, message)
    }

    /// What kind of failure this is.
    pub fn kind(&self) -> ErrorKind {
        self.inner.kind
    }

    /// The message, without the kind.
    pub fn message(&self) -> &str {
        &self.inner.message
    }

    /// Whether the call may be retried on another provider: the provider was busy, the call
    /// timed out (SOFARPC's failover rule), the request never left this process, or the
    /// provider's circuit breaker is open.
    pub fn is_retryable(&self) -> bool {
        match self.inner.kind {
            ErrorKind::ServerBusy | ErrorKind::ClientTimeout | ErrorKind::ClientCircuitOpen => true,
            ErrorKind::ClientNetwork => self.inner.unsent,
            _ => false,
        }
    }

    /// The error a response status stands for, when it is not `SUCCESS`; `detail` is the
    /// message the provider put in the body, if any.
    pub fn from_status(status: ResponseStatus, detail: Option<String>) -> Self {
        let kind = match status {
            ResponseStatus::SERVER_THREADPOOL_BUSY => ErrorKind::ServerBusy,
            ResponseStatus::SERVER_DESERIAL_EXCEPTION => ErrorKind::ServerDeserialize,
            ResponseStatus::SERVER_SERIAL_EXCEPTION => ErrorKind::ServerSerialize,
            ResponseStatus::NO_PROCESSOR => ErrorKind::ServerNotFoundInvoker,
            ResponseStatus::TIMEOUT => ErrorKind::ClientTimeout,
            ResponseStatus::CONNECTION_CLOSED => ErrorKind::ClientNetwork,
            ResponseStatus::SERVER_EXCEPTION | ResponseStatus::UNKNOWN => {
                ErrorKind::ServerUndeclared
            }
            _ => ErrorKind::ClientUndeclared,
        };
        let message = match detail.filter(|d| !d.is_empty()) {
            Some(detail) => format!("provider answered {status}: {detail}"),
            None => format!("provider answered {status}"),
        };
        Self::new(kind, message)
    }

    /// The transport error, as SOFARPC classifies it.
    pub fn from_bolt(err: sofa_bolt::Error, peer: &str) -> Self {
        use sofa_bolt::ErrorKind as B;
        let message = format!("{peer}: {err}");
        match err.kind() {
            B::Timeout => Self::timeout(message),
            // The request never left: another provider may safely run it.
            B::Connect | B::NotSent => Self::unavailable(message),
            B::FrameTooLarge => Self::new(ErrorKind::ClientSerialize, message),
            _ => Self::new(ErrorKind::ClientNetwork, message),
        }
        .with_source(err)
    }
}

impl Clone for RpcError {
    /// The source, which need not be `Clone`, is kept as text in the message.
    fn clone(&self) -> Self {
        let message = match &self.inner.source {
            Some(source) if !self.inner.message.contains(&source.to_string()) => {
                format!("{}: {source}", self.inner.message)
            }
            _ => self.inner.message.clone(),
        };
        let mut e = RpcError::new(self.inner.kind, message);
        e.inner.unsent = self.inner.unsent;
        e
    }
}

impl fmt::Debug for RpcError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RpcError")
            .field("kind", &self.inner.kind)
            .field("message", &self.inner.message)
            .field("source", &self.inner.source)
            .finish()
    }
}

impl fmt::Display for RpcError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.inner.kind, self.inner.message)
    }
}

impl std::error::Error for RpcError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        self.inner
            .source
            .as_ref()
            .map(|s| s.as_ref() as &(dyn std::error::Error + 'static))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn failover_rule() {
        assert!(RpcError::timeout("t").is_retryable());
        assert!(RpcError::unavailable("connect refused").is_retryable());
        assert!(!RpcError::new(ErrorKind::ClientNetwork, "reset mid-call").is_retryable());
        assert!(!RpcError::not_found("x").is_retryable());
        assert!(RpcError::unavailable("x").clone().is_retryable());
        // A request the transport never wrote may go elsewhere; one that was written may not.
        let unsent = sofa_bolt::Error::new(sofa_bolt::ErrorKind::NotSent, "never written");
        assert!(RpcError::from_bolt(unsent, "p").is_retryable());
        let closed = sofa_bolt::Error::new(sofa_bolt::ErrorKind::ConnectionClosed, "closed");
        assert!(!RpcError::from_bolt(closed, "p").is_retryable());
        let busy = RpcError::from_status(ResponseStatus::SERVER_THREADPOOL_BUSY, None);
        assert!(busy.is_retryable());
    }

    #[test]
    fn statuses_map_to_kinds() {
        let busy = RpcError::from_status(ResponseStatus::SERVER_THREADPOOL_BUSY, None);
        assert_eq!(busy.kind(), ErrorKind::ServerBusy);
        assert!(busy.is_retryable());
        let e = RpcError::from_status(ResponseStatus::SERVER_EXCEPTION, Some("boom".into()));
        assert_eq!(e.kind(), ErrorKind::ServerUndeclared);
        assert!(e.message().ends_with("boom"));
        assert_eq!(
            RpcError::from_status(ResponseStatus::SERVER_DESERIAL_EXCEPTION, None).kind(),
            ErrorKind::ServerDeserialize
        );
    }

    #[test]
    fn kinds_have_sofarpc_codes() {
        assert_eq!(ErrorKind::ServerBusy.code(), 100);
        assert_eq!(ErrorKind::ClientTimeout.code(), 200);
        assert!(ErrorKind::ServerDeserialize.is_server_side());
        assert!(!ErrorKind::ClientNetwork.is_server_side());
        for kind in ErrorKind::ALL {
            assert_eq!(ErrorKind::from_code(kind.code()), Some(kind));
        }
    }
}
