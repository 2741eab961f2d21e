//! The frame codec: bytes to [`Frame`]s and back.

mod decode;
mod encode;

use bytes::BytesMut;

use crate::error::{Error, Result};
use crate::frame::Frame;

/// Limits the codec enforces on what it reads (and, for the frame size, on what it writes).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CodecConfig {
    /// Largest accepted frame, all sections and the CRC included. Default 8 MiB.
    pub max_frame_size: usize,
    /// Largest accepted class name and header section, each. Default 32767 bytes, the most a
    /// Java or Node peer can produce.
    pub max_header_size: usize,
}

impl CodecConfig {
    /// The default maximum frame size: 8 MiB, SOFARPC's `transport.payload.max`.
    pub const DEFAULT_MAX_FRAME_SIZE: usize = 8 * 1024 * 1024;
    /// The default maximum class name / header size.
    pub const DEFAULT_MAX_HEADER_SIZE: usize = i16::MAX as usize;
}

impl Default for CodecConfig {
    fn default() -> Self {
        CodecConfig {
            max_frame_size: Self::DEFAULT_MAX_FRAME_SIZE,
            max_header_size: Self::DEFAULT_MAX_HEADER_SIZE,
        }
    }
}

/// Encodes and decodes SOFABolt v1 and v2 frames.
///
/// The protocol of each incoming frame is detected from its first byte. Every length is checked
/// against [`CodecConfig`] before any memory is reserved for it; an incomplete buffer is never an
/// error (`Ok(None)`), while bytes that cannot start a valid frame are.
///
/// It implements `tokio_util::codec::{Decoder, Encoder}`, so it also works with `Framed`.
///
/// ```
/// use bytes::BytesMut;
/// use sofa_bolt::{Codec, Frame};
///
/// # fn main() -> Result<(), Box<dyn std::error::Error>> {
/// let mut codec = Codec::default();
/// let mut wire = BytesMut::new();
/// codec.encode(&Frame::heartbeat(42), &mut wire)?;
/// assert_eq!(wire.len(), 22);
///
/// let mut partial = wire.split_to(10);
/// assert!(codec.decode(&mut partial)?.is_none()); // need more
/// partial.unsplit(wire);
/// let frame = codec.decode(&mut partial)?.ok_or("a whole frame is there")?;
/// assert!(frame.is_heartbeat());
/// assert_eq!(frame.request_id(), 42);
/// # Ok(())
/// # }
/// ```
#[derive(Clone, Copy, Debug, Default)]
pub struct Codec {
    config: CodecConfig,
}

impl Codec {
    /// A codec enforcing `config`.
    pub fn new(config: CodecConfig) -> Self {
        Codec { config }
    }

    /// The limits in force.
    pub fn config(&self) -> &CodecConfig {
        &self.config
    }

    /// Removes one complete frame from the front of `src`, or returns `Ok(None)` if `src` does
    /// not hold a whole frame yet.
    pub fn decode(&mut self, src: &mut BytesMut) -> Result<Option<Frame>> {
        decode::decode(&self.config, src)
    }

    /// The length of the frame `src` starts with, once its fixed header has arrived: `Ok(None)`
    /// before that, an error if the header is invalid or announces more than the limits allow.
    /// Lets a reader decide how much room to make without decoding.
    pub fn frame_len(&self, src: &[u8]) -> Result<Option<usize>> {
        decode::frame_len(&self.config, src)
    }

    /// Appends the wire form of `frame` to `dst`. Class names and headers over 32767 bytes and
    /// frames over the configured maximum are refused and nothing is written.
    pub fn encode(&mut self, frame: &Frame, dst: &mut BytesMut) -> Result<()> {
        encode::encode(&self.config, frame, dst)
    }
}

impl tokio_util::codec::Decoder for Codec {
    type Item = Frame;
    type Error = Error;

    fn decode(&mut self, src: &mut BytesMut) -> Result<Option<Frame>> {
        Codec::decode(self, src)
    }
}

impl tokio_util::codec::Encoder<Frame> for Codec {
    type Error = Error;

    fn encode(&mut self, frame: Frame, dst: &mut BytesMut) -> Result<()> {
        Codec::encode(self, &frame, dst)
    }
}

impl tokio_util::codec::Encoder<&Frame> for Codec {
    type Error = Error;

    fn encode(&mut self, frame: &Frame, dst: &mut BytesMut) -> Result<()> {
        Codec::encode(self, frame, dst)
    }
}

#[cfg(test)]
mod tests;
