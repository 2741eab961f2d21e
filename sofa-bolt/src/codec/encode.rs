//! Frame encoding.

use bytes::{BufMut, BytesMut};

use super::CodecConfig;
use crate::error::{Error, ErrorKind, Result};
use crate::frame::{Frame, Header, Protocol};

/// The largest class name or header section a peer can read: Java and Node read these
/// lengths as signed 16-bit values.
const MAX_SECTION: usize = i16::MAX as usize;

/// Appends `frame` to `dst`. Nothing is written if the frame cannot be encoded.
pub(super) fn encode(config: &CodecConfig, frame: &Frame, dst: &mut BytesMut) -> Result<()> {
    let class = frame.class();
    let header_len = frame.header_len();
    let content = frame.content();
    if class.len() > MAX_SECTION {
        return Err(too_large("class name", class.len(), MAX_SECTION));
    }
    if header_len > MAX_SECTION {
        return Err(too_large("header", header_len, MAX_SECTION));
    }
    let total = frame.encoded_len();
    if total > config.max_frame_size {
        return Err(too_large("frame", total, config.max_frame_size));
    }
    let content_len = i32::try_from(content.len())
        .map_err(|_| too_large("content", content.len(), i32::MAX as usize))?;
    // Both checked against MAX_SECTION above.
    let class_len = class.len() as u16;
    let header_len16 = header_len as u16;

    dst.reserve(total);
    let start = dst.len();
    let protocol = frame.protocol();
    dst.put_u8(protocol.code());
    if let Protocol::V2 { ver1 } = protocol {
        dst.put_u8(ver1);
    }
    dst.put_u8(frame.command_type().code());
    dst.put_u16(frame.command_code().code());
    dst.put_u8(frame.ver2());
    dst.put_i32(frame.request_id());
    dst.put_u8(frame.codec());
    if let Protocol::V2 { .. } = protocol {
        dst.put_u8(frame.switch());
    }
    if frame.is_response() {
        dst.put_u16(frame.status().code());
    } else {
        dst.put_i32(frame.timeout());
    }
    dst.put_u16(class_len);
    dst.put_u16(header_len16);
    dst.put_i32(content_len);
    dst.put_slice(class);
    match frame.header_section() {
        Header::Raw(bytes) => dst.put_slice(bytes),
        Header::Map(map) => map.encode(dst),
    }
    dst.put_slice(content);
    if frame.has_crc() {
        let crc = crc32fast::hash(dst.get(start..).unwrap_or_default());
        dst.put_u32(crc);
    }
    Ok(())
}

fn too_large(what: &str, len: usize, max: usize) -> Error {
    Error::new(
        ErrorKind::FrameTooLarge,
        format!("cannot send a {what} of {len} bytes (limit {max})"),
    )
}
