//! The Hessian reader: byte-level parsing, stream context and back-references.

pub(crate) mod head;
mod read_defs;
mod read_text;
pub(crate) mod refs;

use std::borrow::Cow;

use crate::decoder::head::Head;
use crate::decoder::refs::{RefEntry, NONE};
use crate::dialect::{tag, Dialect};
use crate::encoder::DEFAULT_MAX_DEPTH;
use crate::error::{Error, ErrorKind, Result};
use crate::inline_vec::InlineVec;
use crate::value::Value;

/// Default budget of input bytes that may be re-read to resolve back-references
/// (see [`DecoderOptions::max_ref_replay_bytes`]).
pub const DEFAULT_MAX_REF_REPLAY_BYTES: usize = 1024 * 1024;

/// Resource limits of a [`Decoder`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DecoderOptions {
    /// Maximum nesting of lists, maps, objects and back-reference resolutions.
    pub max_depth: usize,
    /// A back-reference to a value read earlier is resolved by decoding that
    /// value's bytes again. This bounds the total number of bytes re-read per
    /// decoder, which defeats "billion laughs" style inputs.
    pub max_ref_replay_bytes: usize,
    /// Lists, maps and objects the decoder may read in all, counting the skipped ones. Each
    /// costs a back-reference entry (16 bytes) even when skipped, and an empty list is one
    /// byte on the wire: a reader of untrusted input sets this to what it expects. Default
    /// unbounded (the input length bounds it).
    pub max_containers: usize,
}

impl Default for DecoderOptions {
    fn default() -> Self {
        DecoderOptions {
            max_depth: DEFAULT_MAX_DEPTH,
            max_ref_replay_bytes: DEFAULT_MAX_REF_REPLAY_BYTES,
            max_containers: usize::MAX,
        }
    }
}

/// A class definition read from the stream; its field names are
/// `field_pool[start..start + len]`.
#[derive(Debug, Default, Clone)]
pub(crate) struct ClassDef<'a> {
    pub name: Cow<'a, str>,
    pub start: usize,
    pub len: usize,
}

/// Class name and field names of an object about to be read (see
/// [`Decoder::peek_class`]).
#[derive(Clone, Copy)]
pub struct ClassInfo<'d> {
    name: &'d str,
    pool: &'d InlineVec<Cow<'d, str>, FIELD_POOL_INLINE>,
    start: usize,
    len: usize,
}

impl std::fmt::Debug for ClassInfo<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ClassInfo")
            .field("name", &self.name)
            .field("fields", &self.fields().collect::<Vec<_>>())
            .finish()
    }
}

impl<'d> ClassInfo<'d> {
    /// Fully qualified Java class name.
    pub fn name(&self) -> &'d str {
        self.name
    }
    /// Field names in definition order.
    pub fn fields(&self) -> impl Iterator<Item = &'d str> + 'd {
        let pool = self.pool;
        (self.start..self.start + self.len).filter_map(move |i| pool.get(i).map(|f| &**f))
    }
    /// True if the class has a field of that name.
    pub fn has_field(&self, name: &str) -> bool {
        self.fields().any(|f| f == name)
    }
    /// True if the class looks like a Java `Throwable` (has `detailMessage`).
    pub fn is_throwable(&self) -> bool {
        self.has_field("detailMessage")
    }
}

pub(crate) const FIELD_POOL_INLINE: usize = 10;

/// Hessian reader over a byte slice, with one stream context (class definitions,
/// types and references are shared by consecutive top-level values).
///
/// After an error the decoder's position and context are unspecified; discard it.
/// Cloning copies the position and the stream context, so a clone can read a value the
/// original skips.
#[derive(Clone)]
pub struct Decoder<'a> {
    pub(crate) input: &'a [u8],
    pub(crate) pos: usize,
    pub(crate) dialect: Dialect,
    pub(crate) opts: DecoderOptions,
    pub(crate) defs: InlineVec<ClassDef<'a>, 2>,
    pub(crate) field_pool: InlineVec<Cow<'a, str>, FIELD_POOL_INLINE>,
    pub(crate) types: InlineVec<Cow<'a, str>, 2>,
    pub(crate) refs: InlineVec<RefEntry, 8>,
    /// Innermost open container (`NONE` at top level) and number of open ones.
    pub(crate) top: u32,
    pub(crate) open_count: u32,
    pub(crate) depth: usize,
    /// While re-reading a referenced value: the number the next container gets.
    pub(crate) replay_next: Option<usize>,
    pub(crate) replay_used: usize,
}

impl<'a> Decoder<'a> {
    /// Creates a decoder with default limits.
    #[inline]
    pub fn new(input: &'a [u8], dialect: Dialect) -> Self {
        Decoder::with_options(input, dialect, DecoderOptions::default())
    }

    /// Creates a decoder with explicit limits.
    #[inline]
    pub fn with_options(input: &'a [u8], dialect: Dialect, opts: DecoderOptions) -> Self {
        Decoder {
            input,
            pos: 0,
            dialect,
            opts,
            defs: InlineVec::default(),
            field_pool: InlineVec::default(),
            types: InlineVec::default(),
            refs: InlineVec::default(),
            top: NONE,
            open_count: 0,
            depth: 0,
            replay_next: None,
            replay_used: 0,
        }
    }

    /// Changes how many lists, maps and objects may be read in all (see
    /// [`DecoderOptions::max_containers`]); for example a small budget for a message head
    /// read before anything is known about the sender, and a larger one for what follows.
    pub fn set_max_containers(&mut self, max: usize) {
        self.opts.max_containers = max;
    }

    /// Lists, maps and objects read so far (skipped ones included).
    pub fn containers(&self) -> usize {
        self.refs.len()
    }

    /// The dialect being read.
    pub fn dialect(&self) -> Dialect {
        self.dialect
    }

    /// True when all input has been consumed.
    pub fn is_empty(&self) -> bool {
        self.pos >= self.input.len()
    }

    /// Number of unread bytes.
    pub fn remaining(&self) -> usize {
        self.input.len().saturating_sub(self.pos)
    }

    /// Current byte offset in the input.
    pub fn position(&self) -> usize {
        self.pos
    }

    pub(crate) fn set_position(&mut self, pos: usize) {
        self.pos = pos;
    }

    /// Decodes the next value into `T`.
    pub fn decode<T: serde::de::DeserializeOwned>(&mut self) -> Result<T> {
        self.decode_borrowed()
    }

    /// Decodes the next value into `T`, which may borrow strings and bytes from
    /// the input.
    pub fn decode_borrowed<T: serde::Deserialize<'a>>(&mut self) -> Result<T> {
        T::deserialize(&mut *self).map_err(|e| e.with_offset_if_missing(self.pos))
    }

    /// Reads the next value as a dynamic [`Value`].
    pub fn read_value(&mut self) -> Result<Value> {
        self.read_value_inner()
            .map_err(|e| e.with_offset_if_missing(self.pos))
    }

    fn read_value_inner(&mut self) -> Result<Value> {
        let head = self.next_head()?;
        Ok(match head {
            Head::Null => Value::Null,
            Head::Bool(b) => Value::Bool(b),
            Head::Int(i) => Value::Int(i),
            Head::Long(l) => Value::Long(l),
            Head::Double(d) => Value::Double(d),
            Head::Date(ms) => Value::Date(ms),
            Head::Str(c) => Value::String(self.read_str_body(c)?.into_owned()),
            Head::Bin(c) => Value::Binary(self.read_bin_body(c)?.into_owned()),
            other => self.value_from_head(other)?,
        })
    }

    /// Reads a string or `null`.
    pub(crate) fn read_opt_string(&mut self) -> Result<Option<String>> {
        Ok(self.read_opt_str()?.map(Cow::into_owned))
    }

    /// Reads a string or `null`, borrowed from the input where it is one chunk of UTF-8.
    pub(crate) fn read_opt_str(&mut self) -> Result<Option<Cow<'a, str>>> {
        // Fast paths: compact string, null.
        match self.peek_byte() {
            Some(len @ 0x00..=0x1f) => {
                self.pos += 1;
                return Ok(Some(self.read_units(usize::from(len))?));
            }
            Some(tag::NULL) => {
                self.pos += 1;
                return Ok(None);
            }
            _ => {}
        }
        let at = self.pos;
        match self.next_head()? {
            Head::Null => Ok(None),
            Head::Str(c) => Ok(Some(self.read_str_body(c)?)),
            _ => Err(Error::at(
                ErrorKind::TypeMismatch,
                at,
                "expected a string or null",
            )),
        }
    }

    /// Reads a list of strings (`null` = empty), each borrowed from the input where it can be.
    pub(crate) fn read_str_list(&mut self) -> Result<Vec<Cow<'a, str>>> {
        let at = self.pos;
        let head = self.next_head()?;
        let list = match head {
            Head::Null => return Ok(Vec::new()),
            Head::List(l) => l,
            _ => {
                self.pos = at;
                return self.decode::<Option<Vec<String>>>().map(|list| {
                    list.unwrap_or_default()
                        .into_iter()
                        .map(Cow::Owned)
                        .collect()
                });
            }
        };
        let mut out = Vec::with_capacity(list.len.unwrap_or(0).min(self.remaining()));
        loop {
            let more = match list.len {
                Some(n) => out.len() < n,
                None => !self.at_end_tag(),
            };
            if !more {
                break;
            }
            let at = self.pos;
            out.push(self.read_opt_str()?.ok_or_else(|| {
                Error::at(ErrorKind::TypeMismatch, at, "null in a list of strings")
            })?);
        }
        if list.end {
            self.expect_end_tag()?;
        }
        self.close_container();
        Ok(out)
    }

    /// Reads a map with string keys (`None` for `null`), values read by `value`.
    pub(crate) fn read_string_keyed_map<V>(
        &mut self,
        mut value: impl FnMut(&mut Self) -> Result<V>,
    ) -> Result<Option<Vec<(String, V)>>> {
        let at = self.pos;
        match self.next_head()? {
            Head::Null => return Ok(None),
            Head::Map(_) => {}
            _ => {
                return Err(Error::at(
                    ErrorKind::TypeMismatch,
                    at,
                    "expected a map with string keys",
                ))
            }
        }
        let mut out = Vec::new();
        while !self.at_end_tag() {
            let at = self.pos;
            let key = self
                .read_opt_string()?
                .ok_or_else(|| Error::at(ErrorKind::TypeMismatch, at, "null map key"))?;
            out.push((key, value(self)?));
        }
        self.expect_end_tag()?;
        self.close_container();
        Ok(Some(out))
    }

    /// Skips the next value (still registering its class definitions, types and
    /// references, which later values may use).
    pub fn skip_value(&mut self) -> Result<()> {
        self.decode_borrowed::<serde::de::IgnoredAny>().map(|_| ())
    }

    /// If the next value is an object (or a reference to one), returns its class
    /// name and field names without consuming the value. Class definitions in
    /// front of it are consumed (and registered).
    pub fn peek_class(&mut self) -> Result<Option<ClassInfo<'_>>> {
        loop {
            let Some(&t) = self.input.get(self.pos) else {
                return Ok(None);
            };
            let is_def = match self.dialect {
                Dialect::V3 => t == tag::V3_CLASS_DEF,
                Dialect::V4 => t == tag::V4_CLASS_DEF,
            };
            if is_def {
                self.pos += 1;
                self.read_class_def()?;
                continue;
            }
            let def = self.peek_instance_def(self.pos, 2)?;
            return Ok(def.and_then(|d| self.class_info(d)));
        }
    }

    pub(crate) fn class_info(&self, def: usize) -> Option<ClassInfo<'_>> {
        self.defs.get(def).map(|d| ClassInfo {
            name: &d.name,
            pool: shorten(&self.field_pool),
            start: d.start,
            len: d.len,
        })
    }

    /// Class definition index of the object starting at `at`, following at most
    /// `hops` back-references; nothing is consumed.
    fn peek_instance_def(&mut self, at: usize, hops: u32) -> Result<Option<usize>> {
        let saved = self.pos;
        self.pos = at;
        let result = self.peek_instance_def_inner(hops);
        self.pos = saved;
        result
    }

    fn peek_instance_def_inner(&mut self, hops: u32) -> Result<Option<usize>> {
        let t = self.byte()?;
        let def = match (self.dialect, t) {
            (Dialect::V3, tag::V3_OBJECT) => Some(self.read_index()?),
            (Dialect::V4, tag::V4_OBJECT) => Some(self.read_index()?),
            (Dialect::V4, 0x60..=0x6f) => Some(usize::from(t - tag::V4_OBJECT_DIRECT)),
            (Dialect::V3, tag::V3_REF_BYTE | tag::V3_REF_SHORT | tag::V3_REF_INT)
            | (Dialect::V4, tag::V4_REF) => {
                self.pos -= 1;
                let at = self.pos;
                let Head::Ref(idx) = self.next_head_inner(at)? else {
                    return Ok(None);
                };
                let offset = self.refs.get(idx).map(|e| e.offset);
                return match (offset, hops) {
                    (Some(off), 1..) => self.peek_instance_def(off, hops - 1),
                    _ => Ok(None),
                };
            }
            _ => None,
        };
        Ok(def.filter(|&d| d < self.defs.len()))
    }

    // ------------------------------------------------------------ raw reads

    pub(crate) fn eof(&self) -> Error {
        Error::at(
            ErrorKind::UnexpectedEof,
            self.pos,
            "unexpected end of input",
        )
    }

    #[inline]
    pub(crate) fn byte(&mut self) -> Result<u8> {
        let b = *self.input.get(self.pos).ok_or_else(|| self.eof())?;
        self.pos += 1;
        Ok(b)
    }

    #[inline]
    pub(crate) fn peek_byte(&self) -> Option<u8> {
        self.input.get(self.pos).copied()
    }

    #[inline]
    pub(crate) fn take<const N: usize>(&mut self) -> Result<[u8; N]> {
        let end = self.pos.checked_add(N).ok_or_else(|| self.eof())?;
        let slice = self.input.get(self.pos..end).ok_or_else(|| self.eof())?;
        let mut out = [0u8; N];
        out.copy_from_slice(slice);
        self.pos = end;
        Ok(out)
    }

    pub(crate) fn u16(&mut self) -> Result<usize> {
        Ok(usize::from(u16::from_be_bytes(self.take::<2>()?)))
    }

    pub(crate) fn i32(&mut self) -> Result<i32> {
        Ok(i32::from_be_bytes(self.take::<4>()?))
    }

    pub(crate) fn i64(&mut self) -> Result<i64> {
        Ok(i64::from_be_bytes(self.take::<8>()?))
    }

    /// Reads a Hessian int (any int encoding).
    pub(crate) fn read_int(&mut self) -> Result<i32> {
        let at = self.pos;
        let t = self.byte()?;
        let v = match t {
            0x80..=0xbf => i32::from(t) - tag::INT_ZERO,
            0xc0..=0xcf => ((i32::from(t) - tag::INT_BYTE_ZERO) << 8) + i32::from(self.byte()?),
            0xd0..=0xd7 => {
                let hi = (i32::from(t) - tag::INT_SHORT_ZERO) << 16;
                hi + self.u16()? as i32
            }
            tag::INT => self.i32()?,
            _ => {
                return Err(Error::at(
                    ErrorKind::InvalidTag,
                    at,
                    format!("expected an int, found tag 0x{t:02x}"),
                ))
            }
        };
        Ok(v)
    }

    /// Reads an int used as a count, length or index: non-negative and not larger
    /// than the remaining input (every element needs at least one byte).
    pub(crate) fn read_count(&mut self) -> Result<usize> {
        let at = self.pos;
        let v = self.read_int()?;
        self.check_count(v, at)
    }

    /// Reads an int used as an index into a table (bounds checked by the caller).
    pub(crate) fn read_index(&mut self) -> Result<usize> {
        let at = self.pos;
        let v = self.read_int()?;
        usize::try_from(v).map_err(|_| {
            Error::at(
                ErrorKind::InvalidReference,
                at,
                format!("negative index {v}"),
            )
        })
    }

    pub(crate) fn check_count(&self, v: i32, at: usize) -> Result<usize> {
        let n = usize::try_from(v)
            .map_err(|_| Error::at(ErrorKind::InvalidLength, at, format!("negative length {v}")))?;
        if n > self.remaining() {
            return Err(Error::at(
                ErrorKind::InvalidLength,
                at,
                format!(
                    "length {n} exceeds the {} remaining bytes",
                    self.remaining()
                ),
            ));
        }
        Ok(n)
    }

    pub(crate) fn bad_tag(&self, at: usize, t: u8, what: &str) -> Error {
        Error::at(
            ErrorKind::InvalidTag,
            at,
            format!(
                "unexpected tag 0x{t:02x} ({what}, {:?} dialect)",
                self.dialect
            ),
        )
    }

    /// Name of field `i` of class definition `def`.
    pub(crate) fn field_name(&self, def: usize, i: usize) -> Option<&str> {
        self.field_cow(def, i).map(|f| &**f)
    }

    /// Name of field `i` of class definition `def`, as stored.
    pub(crate) fn field_cow(&self, def: usize, i: usize) -> Option<&Cow<'a, str>> {
        let d = self.defs.get(def)?;
        if i >= d.len {
            return None;
        }
        self.field_pool.get(d.start + i)
    }

    /// Class name of definition `def`, as stored.
    pub(crate) fn class_cow(&self, def: usize) -> Option<&Cow<'a, str>> {
        self.defs.get(def).map(|d| &d.name)
    }

    /// Number of fields of class definition `def`.
    pub(crate) fn field_count(&self, def: usize) -> usize {
        self.defs.get(def).map_or(0, |d| d.len)
    }

    /// Class name of definition `def`.
    pub(crate) fn class_name(&self, def: usize) -> &str {
        self.defs.get(def).map_or("", |d| &d.name)
    }
}

/// Narrows the lifetime of the pool for [`ClassInfo`] (covariance of `Cow`).
fn shorten<'s, 'a: 's>(
    pool: &'s InlineVec<Cow<'a, str>, FIELD_POOL_INLINE>,
) -> &'s InlineVec<Cow<'s, str>, FIELD_POOL_INLINE> {
    pool
}
