//! Response status codes.

use std::fmt;

/// The `respStatus` field of a response: wire data, with SOFABolt's exact values.
///
/// A newtype rather than an enum so that a status this crate does not know still reaches the
/// caller intact instead of failing the whole connection. Note the numbering: after `0x0009`
/// comes `0x0010`; there is no `0x000A`..`0x000F`.
///
/// ```
/// use sofa_bolt::ResponseStatus;
///
/// assert_eq!(ResponseStatus::SERVER_THREADPOOL_BUSY.code(), 0x0004);
/// assert_eq!(ResponseStatus::from(0x0010), ResponseStatus::CONNECTION_CLOSED);
/// assert!(ResponseStatus::SUCCESS.is_success());
/// assert_eq!(ResponseStatus::from(0x00ff).name(), None);
/// ```
#[derive(Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct ResponseStatus(u16);

impl ResponseStatus {
    /// `0x0000`: the call succeeded (SOFARPC also carries its errors inside a success frame).
    pub const SUCCESS: Self = Self(0x0000);
    /// `0x0001`: generic error.
    pub const ERROR: Self = Self(0x0001);
    /// `0x0002`: the server failed while processing the request.
    pub const SERVER_EXCEPTION: Self = Self(0x0002);
    /// `0x0003`: unknown failure.
    pub const UNKNOWN: Self = Self(0x0003);
    /// `0x0004`: the server's business executor is full; safe to retry elsewhere.
    pub const SERVER_THREADPOOL_BUSY: Self = Self(0x0004);
    /// `0x0005`: communication error.
    pub const ERROR_COMM: Self = Self(0x0005);
    /// `0x0006`: no processor for the request.
    pub const NO_PROCESSOR: Self = Self(0x0006);
    /// `0x0007`: timeout (normally synthesised by the client, never sent by Java servers).
    pub const TIMEOUT: Self = Self(0x0007);
    /// `0x0008`: the client could not send the request.
    pub const CLIENT_SEND_ERROR: Self = Self(0x0008);
    /// `0x0009`: encoding or decoding failed.
    pub const CODEC_EXCEPTION: Self = Self(0x0009);
    /// `0x0010`: the connection closed.
    pub const CONNECTION_CLOSED: Self = Self(0x0010);
    /// `0x0011`: the server could not serialize its response.
    pub const SERVER_SERIAL_EXCEPTION: Self = Self(0x0011);
    /// `0x0012`: the server could not deserialize the request.
    pub const SERVER_DESERIAL_EXCEPTION: Self = Self(0x0012);

    const KNOWN: [(Self, &'static str); 13] = [
        (Self::SUCCESS, "SUCCESS"),
        (Self::ERROR, "ERROR"),
        (Self::SERVER_EXCEPTION, "SERVER_EXCEPTION"),
        (Self::UNKNOWN, "UNKNOWN"),
        (Self::SERVER_THREADPOOL_BUSY, "SERVER_THREADPOOL_BUSY"),
        (Self::ERROR_COMM, "ERROR_COMM"),
        (Self::NO_PROCESSOR, "NO_PROCESSOR"),
        (Self::TIMEOUT, "TIMEOUT"),
        (Self::CLIENT_SEND_ERROR, "CLIENT_SEND_ERROR"),
        (Self::CODEC_EXCEPTION, "CODEC_EXCEPTION"),
        (Self::CONNECTION_CLOSED, "CONNECTION_CLOSED"),
        (Self::SERVER_SERIAL_EXCEPTION, "SERVER_SERIAL_EXCEPTION"),
        (Self::SERVER_DESERIAL_EXCEPTION, "SERVER_DESERIAL_EXCEPTION"),
    ];

    /// The wire value.
    pub const fn code(self) -> u16 {
        self.0
    }

    /// `true` for `SUCCESS`.
    pub const fn is_success(self) -> bool {
        self.0 == 0
    }

    /// SOFABolt's name for this status, or `None` if the value is not one SOFABolt defines.
    pub fn name(self) -> Option<&'static str> {
        Self::KNOWN
            .iter()
            .find(|(status, _)| *status == self)
            .map(|(_, name)| *name)
    }

    /// Every status SOFABolt defines, in wire order.
    pub fn all() -> impl Iterator<Item = ResponseStatus> {
        Self::KNOWN.iter().map(|(status, _)| *status)
    }
}

impl From<u16> for ResponseStatus {
    fn from(code: u16) -> Self {
        ResponseStatus(code)
    }
}

impl From<ResponseStatus> for u16 {
    fn from(status: ResponseStatus) -> Self {
        status.0
    }
}

impl fmt::Display for ResponseStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.name() {
            Some(name) => write!(f, "{name} (0x{:04x})", self.0),
            None => write!(f, "unknown status 0x{:04x}", self.0),
        }
    }
}

impl fmt::Debug for ResponseStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wire_values_are_exact() {
        let codes: Vec<u16> = ResponseStatus::all().map(ResponseStatus::code).collect();
        assert_eq!(
            codes,
            [0x00, 0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08, 0x09, 0x10, 0x11, 0x12]
        );
        assert_eq!(ResponseStatus::from(0x0a).name(), None);
        assert_eq!(
            ResponseStatus::SERVER_DESERIAL_EXCEPTION.to_string(),
            "SERVER_DESERIAL_EXCEPTION (0x0012)"
        );
        assert_eq!(
            ResponseStatus::from(0x0a).to_string(),
            "unknown status 0x000a"
        );
    }
}
