//! Hessian string encoding helpers.
//!
//! Hessian counts string lengths in UTF-16 code units and encodes each unit as a
//! 1–3 byte UTF-8 sequence; a character outside the Basic Multilingual Plane is a
//! surrogate pair and therefore becomes two 3-byte sequences (the "CESU-8" form
//! written by Java and hessian.js). This module converts between that form and Rust
//! strings.
//!
//! Reading policy: an unpaired surrogate is an error ([`ErrorKind::InvalidString`]);
//! proper 4-byte UTF-8 sequences are accepted leniently and count as two units.

use std::borrow::Cow;

use crate::error::{Error, ErrorKind, Result};

/// Number of UTF-16 code units of `s`.
#[inline]
pub(super) fn utf16_len(s: &str) -> usize {
    if s.is_ascii() {
        return s.len();
    }
    s.chars().map(char::len_utf16).sum()
}

/// Splits `s` after at most `max_units` UTF-16 units without splitting a surrogate
/// pair. Returns the byte index and the number of units before it.
pub(super) fn split_at_units(s: &str, max_units: usize) -> (usize, usize) {
    let bytes = s.as_bytes();
    if bytes.len() >= max_units && bytes.get(..max_units).is_some_and(<[u8]>::is_ascii) {
        return (max_units, max_units);
    }
    let mut units = 0usize;
    for (idx, ch) in s.char_indices() {
        let u = ch.len_utf16();
        if units + u > max_units {
            return (idx, units);
        }
        units += u;
    }
    (s.len(), units)
}

/// Appends the Hessian (CESU-8) encoding of `s` to `out`.
pub(super) fn push_cesu8(s: &str, mut put: impl FnMut(&[u8])) {
    // UTF-8 and CESU-8 agree unless the string has supplementary characters,
    // which are exactly the 4-byte UTF-8 sequences (lead byte >= 0xF0).
    let bytes = s.as_bytes();
    if s.is_ascii() || !bytes.iter().any(|&b| b >= 0xf0) {
        put(bytes);
        return;
    }
    let mut run_start = 0usize;
    for (idx, ch) in s.char_indices() {
        if (ch as u32) < 0x10000 {
            continue;
        }
        if let Some(run) = bytes.get(run_start..idx) {
            put(run);
        }
        let mut units = [0u16; 2];
        for unit in ch.encode_utf16(&mut units).iter() {
            let u = *unit;
            put(&[
                0xe0 | (u >> 12) as u8,
                0x80 | ((u >> 6) & 0x3f) as u8,
                0x80 | (u & 0x3f) as u8,
            ]);
        }
        run_start = idx + ch.len_utf8();
    }
    if let Some(run) = bytes.get(run_start..) {
        put(run);
    }
}

/// Result of scanning `units` UTF-16 units of encoded text.
pub(super) struct Scan {
    /// Number of bytes the units occupy.
    pub byte_len: usize,
    /// True if the bytes contain 3-byte surrogate encodings (need slow decoding).
    pub has_surrogates: bool,
}

/// Finds how many bytes `units` UTF-16 units occupy at the start of `bytes`.
/// `base` is the absolute offset of `bytes` (for error messages).
pub(super) fn scan_units(bytes: &[u8], units: usize, base: usize) -> Result<Scan> {
    if let Some(prefix) = bytes.get(..units) {
        if prefix.is_ascii() {
            return Ok(Scan {
                byte_len: units,
                has_surrogates: false,
            });
        }
    }
    let mut i = 0usize;
    let mut u = 0usize;
    let mut has_surrogates = false;
    while u < units {
        let lead = *bytes
            .get(i)
            .ok_or_else(|| Error::at(ErrorKind::UnexpectedEof, base + i, "string truncated"))?;
        let (len, n_units) = match lead {
            0x00..=0x7f => (1, 1),
            0xc0..=0xdf => (2, 1),
            0xe0..=0xef => {
                if lead == 0xed && bytes.get(i + 1).is_some_and(|&b| b >= 0xa0) {
                    has_surrogates = true;
                }
                (3, 1)
            }
            0xf0..=0xf4 => (4, 2),
            _ => {
                return Err(Error::at(
                    ErrorKind::InvalidString,
                    base + i,
                    format!("invalid UTF-8 lead byte 0x{lead:02x}"),
                ))
            }
        };
        if u + n_units > units {
            return Err(Error::at(
                ErrorKind::InvalidString,
                base + i,
                "supplementary character straddles the end of a string chunk",
            ));
        }
        i += len;
        u += n_units;
    }
    if i > bytes.len() {
        return Err(Error::at(
            ErrorKind::UnexpectedEof,
            base + bytes.len(),
            "string truncated",
        ));
    }
    Ok(Scan {
        byte_len: i,
        has_surrogates,
    })
}

/// Incremental decoder of CESU-8/UTF-8 text into a `String`, pairing surrogates
/// across chunk boundaries.
#[derive(Default)]
pub(super) struct TextBuilder {
    out: String,
    pending_high: Option<u16>,
}

impl TextBuilder {
    pub(crate) fn with_capacity(cap: usize) -> Self {
        TextBuilder {
            out: String::with_capacity(cap),
            pending_high: None,
        }
    }

    /// Appends a chunk already known to be valid UTF-8 without surrogates.
    pub(crate) fn push_str(&mut self, s: &str, offset: usize) -> Result<()> {
        if self.pending_high.is_some() && !s.is_empty() {
            return Err(unpaired(offset));
        }
        self.out.push_str(s);
        Ok(())
    }

    /// Decodes `bytes` (exactly a whole number of characters) and appends them.
    pub(crate) fn push_encoded(&mut self, bytes: &[u8], base: usize) -> Result<()> {
        let mut i = 0usize;
        while let Some(&b0) = bytes.get(i) {
            let at = base + i;
            match b0 {
                0x00..=0x7f => {
                    self.push_char(b0 as char, at)?;
                    i += 1;
                }
                0xc0..=0xdf => {
                    let b1 = cont(bytes, i + 1, base)?;
                    let cp = (u32::from(b0 & 0x1f) << 6) | b1;
                    self.push_char(char_from(cp, at)?, at)?;
                    i += 2;
                }
                0xe0..=0xef => {
                    let b1 = cont(bytes, i + 1, base)?;
                    let b2 = cont(bytes, i + 2, base)?;
                    let cp = (u32::from(b0 & 0x0f) << 12) | (b1 << 6) | b2;
                    if (0xd800..=0xdfff).contains(&cp) {
                        self.push_surrogate(cp as u16, at)?;
                    } else {
                        self.push_char(char_from(cp, at)?, at)?;
                    }
                    i += 3;
                }
                0xf0..=0xf4 => {
                    let b1 = cont(bytes, i + 1, base)?;
                    let b2 = cont(bytes, i + 2, base)?;
                    let b3 = cont(bytes, i + 3, base)?;
                    let cp = (u32::from(b0 & 0x07) << 18) | (b1 << 12) | (b2 << 6) | b3;
                    self.push_char(char_from(cp, at)?, at)?;
                    i += 4;
                }
                _ => {
                    return Err(Error::at(
                        ErrorKind::InvalidString,
                        at,
                        format!("invalid UTF-8 lead byte 0x{b0:02x}"),
                    ))
                }
            }
        }
        Ok(())
    }

    fn push_char(&mut self, c: char, at: usize) -> Result<()> {
        if self.pending_high.is_some() {
            return Err(unpaired(at));
        }
        self.out.push(c);
        Ok(())
    }

    fn push_surrogate(&mut self, unit: u16, at: usize) -> Result<()> {
        match (self.pending_high.take(), unit) {
            (None, 0xd800..=0xdbff) => {
                self.pending_high = Some(unit);
                Ok(())
            }
            (Some(high), 0xdc00..=0xdfff) => {
                let cp = 0x10000 + ((u32::from(high) - 0xd800) << 10) + (u32::from(unit) - 0xdc00);
                self.out.push(char_from(cp, at)?);
                Ok(())
            }
            _ => Err(unpaired(at)),
        }
    }

    /// Finishes the string; fails if a high surrogate is left unpaired.
    pub(crate) fn finish(self, offset: usize) -> Result<String> {
        if self.pending_high.is_some() {
            return Err(unpaired(offset));
        }
        Ok(self.out)
    }
}

fn unpaired(at: usize) -> Error {
    Error::at(ErrorKind::InvalidString, at, "unpaired UTF-16 surrogate")
}

fn cont(bytes: &[u8], i: usize, base: usize) -> Result<u32> {
    match bytes.get(i) {
        Some(&b) if b & 0xc0 == 0x80 => Ok(u32::from(b & 0x3f)),
        Some(_) => Err(Error::at(
            ErrorKind::InvalidString,
            base + i,
            "invalid UTF-8 continuation byte",
        )),
        None => Err(Error::at(
            ErrorKind::UnexpectedEof,
            base + i,
            "string truncated",
        )),
    }
}

fn char_from(cp: u32, at: usize) -> Result<char> {
    char::from_u32(cp).ok_or_else(|| {
        Error::at(
            ErrorKind::InvalidString,
            at,
            format!("invalid code point U+{cp:X}"),
        )
    })
}

/// Decodes one complete chunk: borrowed when it is plain UTF-8, owned otherwise.
pub(super) fn decode_chunk<'a>(bytes: &'a [u8], scan: &Scan, base: usize) -> Result<Cow<'a, str>> {
    let slice = bytes.get(..scan.byte_len).ok_or_else(|| {
        Error::at(
            ErrorKind::UnexpectedEof,
            base + bytes.len(),
            "string truncated",
        )
    })?;
    if !scan.has_surrogates {
        if let Ok(s) = std::str::from_utf8(slice) {
            return Ok(Cow::Borrowed(s));
        }
    }
    let mut b = TextBuilder::with_capacity(slice.len());
    b.push_encoded(slice, base)?;
    b.finish(base + slice.len()).map(Cow::Owned)
}
