//! Protocol code (first byte of every frame) and the v2 protocol version.

use std::fmt;

/// Which SOFABolt protocol a frame is written in.
///
/// The first byte of every frame is the protocol code: `0x01` for v1 ("RpcProtocol") and
/// `0x02` for v2 ("RpcProtocolV2"). v2 adds a protocol version byte (`ver1`), a switch byte
/// and an optional CRC32 trailer; `ver1` is 1 (never a CRC) or 2 (CRC when the switch's
/// bit 0 is set).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Default)]
pub enum Protocol {
    /// Bolt v1: 22-byte request and 20-byte response headers, no CRC.
    #[default]
    V1,
    /// Bolt v2 with its `ver1` byte (1 or 2).
    V2 {
        /// The protocol version byte: 1 or 2.
        ver1: u8,
    },
}

impl Protocol {
    /// Protocol code of v1.
    pub const V1_CODE: u8 = 0x01;
    /// Protocol code of v2.
    pub const V2_CODE: u8 = 0x02;

    /// v2 with `ver1 = 2`, the form that carries a CRC32 when the switch asks for it.
    pub const V2_CRC: Protocol = Protocol::V2 { ver1: 2 };

    /// The first byte of a frame in this protocol.
    pub fn code(self) -> u8 {
        match self {
            Protocol::V1 => Self::V1_CODE,
            Protocol::V2 { .. } => Self::V2_CODE,
        }
    }

    /// Fixed header size of a request (including the oneway and heartbeat forms).
    pub fn request_header_len(self) -> usize {
        match self {
            Protocol::V1 => 22,
            Protocol::V2 { .. } => 24,
        }
    }

    /// Fixed header size of a response (including heartbeat acks).
    pub fn response_header_len(self) -> usize {
        match self {
            Protocol::V1 => 20,
            Protocol::V2 { .. } => 22,
        }
    }

    /// Whether a frame with this protocol and `switch` byte carries a CRC32 trailer.
    ///
    /// The rule is Java SOFABolt's: only `ver1 == 2` with switch bit 0 set. (Node's bolt looks at
    /// the switch byte alone; the two agree for every frame a correctly configured peer sends.)
    pub fn has_crc(self, switch: u8) -> bool {
        matches!(self, Protocol::V2 { ver1: 2 }) && switch & Switch::CRC != 0
    }
}

impl fmt::Display for Protocol {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Protocol::V1 => f.write_str("bolt v1"),
            Protocol::V2 { ver1 } => write!(f, "bolt v2 (ver1 {ver1})"),
        }
    }
}

/// Bits of the v2 switch byte.
#[derive(Clone, Copy, Debug)]
pub struct Switch;

impl Switch {
    /// Bit 0: a CRC32 trailer follows the content (with `ver1 == 2`).
    pub const CRC: u8 = 0x01;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn crc_rule_follows_java() {
        assert!(Protocol::V2 { ver1: 2 }.has_crc(1));
        assert!(!Protocol::V2 { ver1: 1 }.has_crc(1));
        assert!(!Protocol::V2 { ver1: 2 }.has_crc(0));
        assert!(!Protocol::V1.has_crc(1));
    }

    #[test]
    fn sizes() {
        assert_eq!(Protocol::V1.request_header_len(), 22);
        assert_eq!(Protocol::V1.response_header_len(), 20);
        assert_eq!(Protocol::V2_CRC.request_header_len(), 24);
        assert_eq!(Protocol::V2_CRC.response_header_len(), 22);
        assert_eq!(Protocol::V2_CRC.code(), 2);
    }
}
