//! The SOFABolt command ("frame") model.

mod command;
mod header;
mod header_str;
mod header_text;
mod protocol;
mod seen;
mod spare;
mod status;

use std::borrow::Cow;

use bytes::Bytes;

pub use command::{CommandCode, CommandType};
pub use header::{HeaderIter, HeaderMap};
pub use header_str::HeaderStr;
pub use protocol::{Protocol, Switch};
pub use status::ResponseStatus;

use crate::error::Result;

/// Serializer code of Hessian 2 (the SOFA default).
pub const CODEC_HESSIAN2: u8 = 1;
/// Serializer code of protobuf.
pub const CODEC_PROTOBUF: u8 = 11;

/// Header key a shutting-down [`Server`](crate::Server) sets (to `"true"`) on the
/// `SERVER_THREADPOOL_BUSY` answers it gives to requests that arrive while it drains. Other
/// peers ignore it; a [`Connection`](crate::Connection) that sees it sends nothing more (new
/// requests fail as [`NotSent`](crate::ErrorKind::NotSent)), so the server soon finds the
/// connection quiet and closes it without a request crossing its close on the wire.
pub const SERVER_CLOSING_HEADER: &str = "bolt_server_closing";

/// One SOFABolt command: a request, oneway request, response, heartbeat or heartbeat ack.
///
/// Every field of the wire format is kept, so a decoded frame encodes back to the same bytes.
/// The class name and content are [`Bytes`] slices of the read buffer (no copy); the header is
/// kept in its wire form until [`header`](Frame::header) parses it.
///
/// ```
/// use sofa_bolt::{Frame, HeaderMap, ResponseStatus};
///
/// let mut header = HeaderMap::new();
/// header.insert("service", "com.example.Echo:1.0");
/// let request = Frame::request("com.alipay.sofa.rpc.core.request.SofaRequest", header, "payload")
///     .with_timeout(3000);
/// let response = Frame::response_to(&request, ResponseStatus::SUCCESS).with_content("ok");
/// assert_eq!(response.request_id(), request.request_id());
/// assert!(response.is_response() && !response.is_heartbeat());
/// ```
#[derive(Clone, Debug, PartialEq)]
pub struct Frame {
    protocol: Protocol,
    ty: CommandType,
    code: CommandCode,
    ver2: u8,
    request_id: i32,
    codec: u8,
    switch: u8,
    timeout: i32,
    status: ResponseStatus,
    class: Bytes,
    header: Header,
    content: Bytes,
}

/// The header section: as read from the wire, or as built by a caller.
#[derive(Clone, Debug, PartialEq)]
pub(crate) enum Header {
    Raw(Bytes),
    Map(HeaderMap),
}

impl Header {
    pub(crate) fn encoded_len(&self) -> usize {
        match self {
            Header::Raw(b) => b.len(),
            Header::Map(m) => m.encoded_len(),
        }
    }
}

impl Frame {
    /// The command version byte every peer writes (`ver2`).
    pub const VER2: u8 = 1;

    fn new(ty: CommandType, code: CommandCode) -> Self {
        Frame {
            protocol: Protocol::V1,
            ty,
            code,
            ver2: Self::VER2,
            request_id: 0,
            codec: CODEC_HESSIAN2,
            switch: 0,
            timeout: -1,
            status: ResponseStatus::SUCCESS,
            class: Bytes::new(),
            header: Header::Raw(Bytes::new()),
            content: Bytes::new(),
        }
    }

    /// A two-way RPC request. The request id is assigned by the connection that sends it;
    /// the timeout defaults to `-1` (none) and the codec to Hessian 2.
    pub fn request(class: impl Into<Bytes>, header: HeaderMap, content: impl Into<Bytes>) -> Self {
        Frame::rpc(CommandType::Request, class.into(), header, content.into())
    }

    /// A oneway RPC request: the server never answers it. Its timeout is `-1`, as Java writes.
    pub fn oneway(class: impl Into<Bytes>, header: HeaderMap, content: impl Into<Bytes>) -> Self {
        Frame::rpc(CommandType::Oneway, class.into(), header, content.into())
    }

    /// An RPC request of type `ty`, built in place (a chain of `with_*` would move it at each
    /// step).
    fn rpc(ty: CommandType, class: Bytes, header: HeaderMap, content: Bytes) -> Self {
        Frame {
            class,
            header: Header::Map(header),
            content,
            ..Frame::new(ty, CommandCode::RpcRequest)
        }
    }

    /// A heartbeat request in the Java form (timeout `-1`, codec 1, no class/header/content).
    pub fn heartbeat(request_id: i32) -> Self {
        Frame::new(CommandType::Request, CommandCode::Heartbeat).with_request_id(request_id)
    }

    /// The ack for `heartbeat`: same protocol and id, status success, codec 1 (as Java does).
    pub fn heartbeat_ack(heartbeat: &Frame) -> Self {
        Frame::new(CommandType::Response, CommandCode::Heartbeat)
            .with_protocol(heartbeat.protocol)
            .with_request_id(heartbeat.request_id)
    }

    /// A response to `request` with `status`: same protocol, id, codec and switch byte.
    pub fn response_to(request: &Frame, status: ResponseStatus) -> Self {
        let mut frame = Frame::new(CommandType::Response, CommandCode::RpcResponse);
        frame.protocol = request.protocol;
        frame.request_id = request.request_id;
        frame.codec = request.codec;
        frame.switch = request.switch;
        frame.status = status;
        frame
    }

    pub(crate) fn from_parts(parts: Parts) -> Self {
        Frame {
            protocol: parts.protocol,
            ty: parts.ty,
            code: parts.code,
            ver2: parts.ver2,
            request_id: parts.request_id,
            codec: parts.codec,
            switch: parts.switch,
            timeout: parts.timeout,
            status: parts.status,
            class: parts.class,
            header: Header::Raw(parts.header),
            content: parts.content,
        }
    }

    /// Turns a two-way request into a oneway request (type byte `0x02`); other frames are
    /// returned unchanged.
    pub fn into_oneway(mut self) -> Self {
        if self.ty == CommandType::Request && self.code == CommandCode::RpcRequest {
            self.ty = CommandType::Oneway;
        }
        self
    }

    /// Sets the protocol (and v2 version) the frame is written in.
    #[inline]
    pub fn with_protocol(mut self, protocol: Protocol) -> Self {
        self.protocol = protocol;
        self
    }

    /// Sets the request id.
    #[inline]
    pub fn with_request_id(mut self, id: i32) -> Self {
        self.request_id = id;
        self
    }

    /// Sets the serializer code of the content.
    #[inline]
    pub fn with_codec(mut self, codec: u8) -> Self {
        self.codec = codec;
        self
    }

    /// Sets the v2 switch byte (see [`Switch`]); ignored by v1.
    #[inline]
    pub fn with_switch(mut self, switch: u8) -> Self {
        self.switch = switch;
        self
    }

    /// Sets the request timeout in milliseconds (`-1` = none); meaningless on responses.
    #[inline]
    pub fn with_timeout(mut self, timeout_ms: i32) -> Self {
        self.timeout = timeout_ms;
        self
    }

    /// Sets the response status; meaningless on requests.
    #[inline]
    pub fn with_status(mut self, status: ResponseStatus) -> Self {
        self.status = status;
        self
    }

    /// Sets the class name (UTF-8 bytes of a Java class name).
    #[inline]
    pub fn with_class(mut self, class: impl Into<Bytes>) -> Self {
        self.class = class.into();
        self
    }

    /// Sets the header map.
    #[inline]
    pub fn with_header(mut self, header: HeaderMap) -> Self {
        self.header = Header::Map(header);
        self
    }

    /// Sets the header section to bytes already in its wire form, as [`HeaderMap::encode`]
    /// writes it: a sender that sends the same section again and again encodes it once and
    /// shares it. The bytes are sent as they are; [`header`](Self::header) reports them as
    /// malformed if they are not a header section.
    ///
    /// ```
    /// use sofa_bolt::{Frame, HeaderMap};
    ///
    /// # fn main() -> Result<(), sofa_bolt::Error> {
    /// let mut map = HeaderMap::new();
    /// map.insert("service", "com.example.Echo:1.0");
    /// let mut section = bytes::BytesMut::new();
    /// map.encode(&mut section);
    /// let frame = Frame::request("", HeaderMap::new(), "").with_header_bytes(section.freeze());
    /// assert_eq!(frame.header()?.get("service"), Some("com.example.Echo:1.0"));
    /// # Ok(())
    /// # }
    /// ```
    #[inline]
    pub fn with_header_bytes(mut self, section: Bytes) -> Self {
        self.header = Header::Raw(section);
        self
    }

    /// Sets the content (the serialized payload).
    #[inline]
    pub fn with_content(mut self, content: impl Into<Bytes>) -> Self {
        self.content = content.into();
        self
    }

    /// Sets the command version byte (`ver2`; every known peer writes 1).
    #[inline]
    pub fn with_ver2(mut self, ver2: u8) -> Self {
        self.ver2 = ver2;
        self
    }

    /// The protocol the frame was read in, or will be written in.
    pub fn protocol(&self) -> Protocol {
        self.protocol
    }

    /// The type byte.
    pub fn command_type(&self) -> CommandType {
        self.ty
    }

    /// The command code.
    pub fn command_code(&self) -> CommandCode {
        self.code
    }

    /// The command version byte.
    pub fn ver2(&self) -> u8 {
        self.ver2
    }

    /// The request id this frame carries (echoed in responses and acks).
    pub fn request_id(&self) -> i32 {
        self.request_id
    }

    /// The serializer code of the content.
    pub fn codec(&self) -> u8 {
        self.codec
    }

    /// The v2 switch byte (0 on v1 frames).
    pub fn switch(&self) -> u8 {
        self.switch
    }

    /// The request timeout in milliseconds; `-1` or `0` means none.
    pub fn timeout(&self) -> i32 {
        self.timeout
    }

    /// The response status (`SUCCESS` on requests).
    pub fn status(&self) -> ResponseStatus {
        self.status
    }

    /// The class name bytes.
    pub fn class(&self) -> &Bytes {
        &self.class
    }

    /// The class name as text, if it is UTF-8.
    pub fn class_str(&self) -> Option<&str> {
        std::str::from_utf8(&self.class).ok()
    }

    /// The content bytes.
    pub fn content(&self) -> &Bytes {
        &self.content
    }

    /// Takes the content out of the frame, leaving it empty.
    pub fn take_content(&mut self) -> Bytes {
        std::mem::take(&mut self.content)
    }

    /// The header map, parsed from the wire form if the frame was decoded.
    ///
    /// Parsing happens here rather than in the codec so that a bad header fails one request
    /// (the server can answer it) instead of the whole connection.
    pub fn header(&self) -> Result<Cow<'_, HeaderMap>> {
        match &self.header {
            Header::Raw(bytes) => HeaderMap::decode(bytes).map(Cow::Owned),
            Header::Map(map) => Ok(Cow::Borrowed(map)),
        }
    }

    /// The header section's length on the wire.
    pub fn header_len(&self) -> usize {
        self.header.encoded_len()
    }

    pub(crate) fn header_section(&self) -> &Header {
        &self.header
    }

    /// `true` for heartbeats and heartbeat acks.
    pub fn is_heartbeat(&self) -> bool {
        self.code == CommandCode::Heartbeat
    }

    /// `true` for responses and heartbeat acks.
    pub fn is_response(&self) -> bool {
        self.ty == CommandType::Response
    }

    /// `true` for requests and heartbeats, two-way or oneway.
    pub fn is_request(&self) -> bool {
        self.ty != CommandType::Response
    }

    /// `true` for oneway requests.
    pub fn is_oneway(&self) -> bool {
        self.ty == CommandType::Oneway
    }

    /// Whether the frame carries (or will carry) a CRC32 trailer.
    pub fn has_crc(&self) -> bool {
        self.protocol.has_crc(self.switch)
    }

    /// The fixed header length of this frame's protocol and direction.
    pub fn fixed_len(&self) -> usize {
        if self.is_response() {
            self.protocol.response_header_len()
        } else {
            self.protocol.request_header_len()
        }
    }

    /// The frame's total size on the wire.
    pub fn encoded_len(&self) -> usize {
        self.fixed_len()
            + self.class.len()
            + self.header.encoded_len()
            + self.content.len()
            + if self.has_crc() { 4 } else { 0 }
    }
}

/// Decoded fields, handed from the decoder to [`Frame::from_parts`].
pub(crate) struct Parts {
    pub(crate) protocol: Protocol,
    pub(crate) ty: CommandType,
    pub(crate) code: CommandCode,
    pub(crate) ver2: u8,
    pub(crate) request_id: i32,
    pub(crate) codec: u8,
    pub(crate) switch: u8,
    pub(crate) timeout: i32,
    pub(crate) status: ResponseStatus,
    pub(crate) class: Bytes,
    pub(crate) header: Bytes,
    pub(crate) content: Bytes,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn heartbeat_and_ack_shapes() {
        let hb = Frame::heartbeat(42);
        assert!(hb.is_heartbeat() && hb.is_request());
        assert_eq!(hb.timeout(), -1);
        assert_eq!(hb.encoded_len(), 22);
        let ack = Frame::heartbeat_ack(&hb.clone().with_protocol(Protocol::V2_CRC));
        assert!(ack.is_heartbeat() && ack.is_response());
        assert_eq!(ack.request_id(), 42);
        assert_eq!(ack.protocol(), Protocol::V2_CRC);
        assert_eq!(ack.encoded_len(), 22);
    }

    #[test]
    fn response_copies_request_identity() {
        let req = Frame::request("C", HeaderMap::new(), "x")
            .with_protocol(Protocol::V2_CRC)
            .with_switch(Switch::CRC)
            .with_codec(CODEC_PROTOBUF)
            .with_request_id(-5);
        let resp = Frame::response_to(&req, ResponseStatus::SERVER_THREADPOOL_BUSY);
        assert_eq!(resp.request_id(), -5);
        assert_eq!(resp.codec(), CODEC_PROTOBUF);
        assert!(resp.has_crc());
        assert_eq!(resp.status(), ResponseStatus::SERVER_THREADPOOL_BUSY);
        assert_eq!(resp.encoded_len(), 22 + 4);
    }

    #[test]
    fn oneway_is_request_without_answer() {
        let f = Frame::oneway("C", HeaderMap::new(), "x");
        assert!(f.is_oneway() && f.is_request() && !f.is_response());
        assert_eq!(f.timeout(), -1);
    }
}
