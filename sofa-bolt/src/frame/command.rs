//! The type byte and the command code of a frame.

use std::fmt;

/// The type byte: response, two-way request or oneway request.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum CommandType {
    /// `0x00`: a response (or a heartbeat ack).
    Response,
    /// `0x01`: a request that expects a response (or a heartbeat).
    Request,
    /// `0x02`: a request that must not be answered.
    Oneway,
}

impl CommandType {
    /// The wire value.
    pub fn code(self) -> u8 {
        match self {
            CommandType::Response => 0x00,
            CommandType::Request => 0x01,
            CommandType::Oneway => 0x02,
        }
    }

    /// Parses the wire value; `None` for anything but 0, 1 and 2.
    pub fn from_code(code: u8) -> Option<Self> {
        match code {
            0x00 => Some(CommandType::Response),
            0x01 => Some(CommandType::Request),
            0x02 => Some(CommandType::Oneway),
            _ => None,
        }
    }
}

/// The command code: heartbeat, RPC request or RPC response.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum CommandCode {
    /// `0x0000`: heartbeat request or heartbeat ack.
    Heartbeat,
    /// `0x0001`: an RPC request (two-way or oneway).
    RpcRequest,
    /// `0x0002`: an RPC response.
    RpcResponse,
}

impl CommandCode {
    /// The wire value.
    pub fn code(self) -> u16 {
        match self {
            CommandCode::Heartbeat => 0x0000,
            CommandCode::RpcRequest => 0x0001,
            CommandCode::RpcResponse => 0x0002,
        }
    }

    /// Parses the wire value; `None` for unknown codes.
    pub fn from_code(code: u16) -> Option<Self> {
        match code {
            0x0000 => Some(CommandCode::Heartbeat),
            0x0001 => Some(CommandCode::RpcRequest),
            0x0002 => Some(CommandCode::RpcResponse),
            _ => None,
        }
    }

    /// Whether this code may appear with the given type byte: requests carry heartbeat or RPC
    /// request codes, responses carry heartbeat (ack) or RPC response codes.
    pub fn fits(self, ty: CommandType) -> bool {
        match ty {
            CommandType::Response => self != CommandCode::RpcRequest,
            CommandType::Request | CommandType::Oneway => self != CommandCode::RpcResponse,
        }
    }
}

impl fmt::Display for CommandCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            CommandCode::Heartbeat => "HEARTBEAT",
            CommandCode::RpcRequest => "RPC_REQUEST",
            CommandCode::RpcResponse => "RPC_RESPONSE",
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_round_trip() {
        for t in [
            CommandType::Response,
            CommandType::Request,
            CommandType::Oneway,
        ] {
            assert_eq!(CommandType::from_code(t.code()), Some(t));
        }
        for c in [
            CommandCode::Heartbeat,
            CommandCode::RpcRequest,
            CommandCode::RpcResponse,
        ] {
            assert_eq!(CommandCode::from_code(c.code()), Some(c));
        }
        assert_eq!(CommandType::from_code(3), None);
        assert_eq!(CommandCode::from_code(3), None);
    }

    #[test]
    fn code_must_fit_type() {
        assert!(CommandCode::RpcRequest.fits(CommandType::Oneway));
        assert!(CommandCode::Heartbeat.fits(CommandType::Response));
        assert!(!CommandCode::RpcResponse.fits(CommandType::Request));
        assert!(!CommandCode::RpcRequest.fits(CommandType::Response));
    }
}
