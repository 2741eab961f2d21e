//! Frame decoding: validate the fixed header, bound every length, then slice the body.

use bytes::{Buf, Bytes, BytesMut};

use super::CodecConfig;
use crate::error::{Error, ErrorKind, Result};
use crate::frame::{CommandCode, CommandType, Frame, Parts, Protocol, ResponseStatus};

/// Decodes one frame from the front of `src`.
///
/// Returns `Ok(None)` while `src` holds only a valid prefix of a frame (reserving nothing for
/// the rest), and an error as soon as the bytes cannot be the start of a valid frame.
pub(super) fn decode(config: &CodecConfig, src: &mut BytesMut) -> Result<Option<Frame>> {
    let Some(Head {
        protocol,
        ty,
        code,
        ver2,
        request_id,
        codec,
        switch,
        timeout,
        status,
        fixed,
        class_len,
        header_len,
        crc_len,
        total,
    }) = head(config, src)?
    else {
        return Ok(None);
    };
    if src.len() < total {
        // Nothing is reserved for the rest: a header is cheap to send and the frame it
        // announces may never come. The reader grows the buffer as bytes arrive.
        return Ok(None);
    }

    let mut frame = src.split_to(total);
    let body_end = total - crc_len;
    if crc_len != 0 {
        let expected = frame
            .get(body_end..)
            .and_then(|b| <[u8; 4]>::try_from(b).ok())
            .map(u32::from_be_bytes)
            .unwrap_or_default();
        let actual = crc32fast::hash(frame.get(..body_end).unwrap_or_default());
        if expected != actual {
            return Err(Error::new(
                ErrorKind::CrcMismatch,
                format!("crc32 trailer 0x{expected:08x} does not match the frame's 0x{actual:08x}"),
            ));
        }
    }
    // The parts are split off the frame's own buffer: one shared count per non-empty part,
    // and none for the content, which keeps the buffer the frame was split into.
    frame.truncate(body_end);
    frame.advance(fixed);
    let class = split_part(&mut frame, class_len);
    let header = split_part(&mut frame, header_len);
    Ok(Some(Frame::from_parts(Parts {
        protocol,
        ty,
        code,
        ver2,
        request_id,
        codec,
        switch,
        timeout,
        status,
        class,
        header,
        content: frame.freeze(),
    })))
}

/// The first `len` bytes of `frame`, split off it (an empty part costs nothing).
fn split_part(frame: &mut BytesMut, len: usize) -> Bytes {
    if len == 0 {
        Bytes::new()
    } else {
        frame.split_to(len).freeze()
    }
}

/// What the fixed header of the frame at the front of a buffer says.
struct Head {
    protocol: Protocol,
    ty: CommandType,
    code: CommandCode,
    ver2: u8,
    request_id: i32,
    codec: u8,
    switch: u8,
    timeout: i32,
    status: ResponseStatus,
    fixed: usize,
    class_len: usize,
    header_len: usize,
    crc_len: usize,
    /// The whole frame, CRC included; within the configured maximum.
    total: usize,
}

/// The length of the frame at the front of `src`, once its fixed header is there and valid.
pub(super) fn frame_len(config: &CodecConfig, src: &[u8]) -> Result<Option<usize>> {
    Ok(head(config, src)?.map(|h| h.total))
}

/// Parses and checks the fixed header; `Ok(None)` while it is incomplete.
fn head(config: &CodecConfig, src: &[u8]) -> Result<Option<Head>> {
    let Some(&code) = src.first() else {
        return Ok(None);
    };
    // v2 inserts `ver1` after the protocol code; every later offset shifts by one.
    let (protocol, at) = match code {
        Protocol::V1_CODE => (Protocol::V1, 1),
        Protocol::V2_CODE => {
            let Some(&ver1) = src.get(1) else {
                return Ok(None);
            };
            if ver1 != 1 && ver1 != 2 {
                return Err(Error::invalid(format!(
                    "bolt v2 protocol version {ver1} (only 1 and 2 exist)"
                )));
            }
            (Protocol::V2 { ver1 }, 2)
        }
        other => {
            return Err(Error::new(
                ErrorKind::UnknownProtocol,
                format!("first byte 0x{other:02x} is not a SOFABolt protocol code (1 or 2)"),
            ))
        }
    };
    let Some(&type_byte) = src.get(at) else {
        return Ok(None);
    };
    let ty = CommandType::from_code(type_byte)
        .ok_or_else(|| Error::invalid(format!("unknown command type 0x{type_byte:02x}")))?;
    let fixed = match ty {
        CommandType::Response => protocol.response_header_len(),
        CommandType::Request | CommandType::Oneway => protocol.request_header_len(),
    };
    if src.len() < fixed {
        return Ok(None);
    }

    let mut r = Reader {
        buf: &src[..fixed],
        pos: at + 1,
    };
    let raw_code = r.u16();
    let code = CommandCode::from_code(raw_code)
        .ok_or_else(|| Error::invalid(format!("unknown command code 0x{raw_code:04x}")))?;
    if !code.fits(ty) {
        return Err(Error::invalid(format!(
            "command code {code} in a frame of type {ty:?}"
        )));
    }
    let ver2 = r.u8();
    let request_id = r.i32();
    let codec = r.u8();
    let switch = match protocol {
        Protocol::V1 => 0,
        Protocol::V2 { .. } => {
            let switch = r.u8();
            if switch >= 0x80 {
                return Err(Error::invalid(format!(
                    "switch byte 0x{switch:02x} has its sign bit set"
                )));
            }
            switch
        }
    };
    let (timeout, status) = match ty {
        CommandType::Response => (0, ResponseStatus::from(r.u16())),
        CommandType::Request | CommandType::Oneway => (r.i32(), ResponseStatus::SUCCESS),
    };
    let class_len = usize::from(r.u16());
    let header_len = usize::from(r.u16());
    let content_len = r.i32();

    if class_len > config.max_header_size {
        return Err(Error::new(
            ErrorKind::FrameTooLarge,
            format!(
                "class name of {class_len} bytes exceeds the limit of {}",
                config.max_header_size
            ),
        ));
    }
    if header_len > config.max_header_size {
        return Err(Error::new(
            ErrorKind::FrameTooLarge,
            format!(
                "header of {header_len} bytes exceeds the limit of {}",
                config.max_header_size
            ),
        ));
    }
    let content_len = usize::try_from(content_len)
        .map_err(|_| Error::invalid(format!("negative content length {content_len}")))?;
    let crc_len = if protocol.has_crc(switch) { 4 } else { 0 };
    // All terms are bounded (u16, u16, i32 >= 0), so this cannot overflow a 64-bit usize; use
    // saturating arithmetic anyway so 32-bit targets reject instead of wrapping.
    let total = fixed
        .saturating_add(class_len)
        .saturating_add(header_len)
        .saturating_add(content_len)
        .saturating_add(crc_len);
    if total > config.max_frame_size {
        return Err(Error::new(
            ErrorKind::FrameTooLarge,
            format!(
                "frame of {total} bytes exceeds the limit of {} bytes",
                config.max_frame_size
            ),
        ));
    }
    Ok(Some(Head {
        protocol,
        ty,
        code,
        ver2,
        request_id,
        codec,
        switch,
        timeout,
        status,
        fixed,
        class_len,
        header_len,
        crc_len,
        total,
    }))
}

/// Big-endian reads from the fixed header, whose length was checked before any read.
struct Reader<'a> {
    buf: &'a [u8],
    pos: usize,
}

impl Reader<'_> {
    fn take<const N: usize>(&mut self) -> [u8; N] {
        let bytes = self
            .buf
            .get(self.pos..self.pos + N)
            .and_then(|b| <[u8; N]>::try_from(b).ok())
            .unwrap_or([0; N]);
        self.pos += N;
        bytes
    }

    fn u8(&mut self) -> u8 {
        self.take::<1>()[0]
    }

    fn u16(&mut self) -> u16 {
        u16::from_be_bytes(self.take())
    }

    fn i32(&mut self) -> i32 {
        i32::from_be_bytes(self.take())
    }
}
