//! Decoder: string and binary bodies (all chunk forms of both dialects).

use std::borrow::Cow;

use crate::decoder::head::Chunk;
use crate::decoder::Decoder;
use crate::dialect::{tag, Dialect};
use crate::error::Result;
use crate::strings::{scan_units, TextBuilder};

impl<'a> Decoder<'a> {
    /// Reads the text of a string whose first chunk header was consumed.
    #[inline]
    pub(crate) fn read_str_body(&mut self, first: Chunk) -> Result<Cow<'a, str>> {
        if first.last {
            return self.read_units(first.len);
        }
        let cap = self.remaining().min(first.len.saturating_mul(3));
        let mut text = TextBuilder::with_capacity(cap);
        let mut chunk = first;
        loop {
            let at = self.pos;
            let rest = self.input.get(at..).unwrap_or_default();
            let scan = scan_units(rest, chunk.len, at)?;
            let bytes = rest.get(..scan.byte_len).ok_or_else(|| self.eof())?;
            match (scan.has_surrogates, std::str::from_utf8(bytes)) {
                (false, Ok(s)) => text.push_str(s, at)?,
                _ => text.push_encoded(bytes, at)?,
            }
            self.pos = at + scan.byte_len;
            if chunk.last {
                break;
            }
            chunk = self.next_string_chunk()?;
        }
        text.finish(self.pos).map(Cow::Owned)
    }

    pub(crate) fn next_string_chunk(&mut self) -> Result<Chunk> {
        let at = self.pos;
        let t = self.byte()?;
        Ok(match (self.dialect, t) {
            (_, 0x00..=0x1f) => Chunk {
                len: usize::from(t),
                last: true,
            },
            (_, tag::STRING_FINAL) => Chunk {
                len: self.u16()?,
                last: true,
            },
            (Dialect::V3, tag::V3_STRING_CHUNK) | (Dialect::V4, tag::V4_STRING_CHUNK) => Chunk {
                len: self.u16()?,
                last: false,
            },
            (Dialect::V4, 0x30..=0x33) => Chunk {
                len: (usize::from(t - tag::V4_STRING_SHORT) << 8) + usize::from(self.byte()?),
                last: true,
            },
            _ => return Err(self.bad_tag(at, t, "expected a string chunk")),
        })
    }

    /// Reads the bytes of a binary whose first chunk header was consumed.
    pub(crate) fn read_bin_body(&mut self, first: Chunk) -> Result<Cow<'a, [u8]>> {
        let mut chunk = first;
        let mut out: Option<Vec<u8>> = None;
        loop {
            let end = self.pos.checked_add(chunk.len).ok_or_else(|| self.eof())?;
            let bytes = self.input.get(self.pos..end).ok_or_else(|| self.eof())?;
            self.pos = end;
            if chunk.last && out.is_none() {
                return Ok(Cow::Borrowed(bytes));
            }
            let buf = out.get_or_insert_with(|| Vec::with_capacity(chunk.len));
            buf.extend_from_slice(bytes);
            if chunk.last {
                return Ok(Cow::Owned(out.unwrap_or_default()));
            }
            chunk = self.next_binary_chunk()?;
        }
    }

    pub(crate) fn next_binary_chunk(&mut self) -> Result<Chunk> {
        let at = self.pos;
        let t = self.byte()?;
        Ok(match (self.dialect, t) {
            (_, 0x20..=0x2f) => Chunk {
                len: usize::from(t - tag::BINARY_DIRECT),
                last: true,
            },
            (_, tag::BINARY_FINAL) => Chunk {
                len: self.u16()?,
                last: true,
            },
            (Dialect::V3, tag::V3_BINARY_CHUNK) | (Dialect::V4, tag::V4_BINARY_CHUNK) => Chunk {
                len: self.u16()?,
                last: false,
            },
            (Dialect::V4, 0x34..=0x37) => Chunk {
                len: (usize::from(t - tag::V4_BINARY_SHORT) << 8) + usize::from(self.byte()?),
                last: true,
            },
            _ => return Err(self.bad_tag(at, t, "expected a binary chunk")),
        })
    }
}
