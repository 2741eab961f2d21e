//! The Hessian writer.

use std::borrow::Cow;

use crate::buffer::OutputBuffer;
use crate::dialect::{tag, Dialect};
use crate::error::Result;
use crate::inline_vec::InlineVec;
use crate::strings::{push_cesu8, split_at_units, utf16_len};
use crate::value::Value;

/// Default maximum nesting depth of containers, for both reading and writing.
pub const DEFAULT_MAX_DEPTH: usize = 128;

/// Field names of a class definition.
#[derive(Debug, Clone, PartialEq)]
pub(super) enum Fields {
    Static(&'static [&'static str]),
    Owned(Vec<Cow<'static, str>>),
}

impl Default for Fields {
    fn default() -> Self {
        Fields::Static(&[])
    }
}

impl Fields {
    pub(crate) fn len(&self) -> usize {
        match self {
            Fields::Static(f) => f.len(),
            Fields::Owned(f) => f.len(),
        }
    }
    pub(crate) fn get(&self, i: usize) -> Option<&str> {
        match self {
            Fields::Static(f) => f.get(i).copied(),
            Fields::Owned(f) => f.get(i).map(|c| &**c),
        }
    }
    /// Position of `name` at or after `from`.
    pub(crate) fn position_from(&self, from: usize, name: &str) -> Option<usize> {
        (from..self.len()).find(|&i| self.get(i) == Some(name))
    }
    pub(crate) fn same_as_static(&self, other: &[&str]) -> bool {
        self.len() == other.len()
            && other
                .iter()
                .enumerate()
                .all(|(i, f)| self.get(i) == Some(f))
    }
    pub(crate) fn same_as(&self, other: &[Cow<'static, str>]) -> bool {
        self.len() == other.len()
            && other
                .iter()
                .enumerate()
                .all(|(i, f)| self.get(i) == Some(f))
    }
}

/// A class definition already written to the stream.
#[derive(Default)]
pub(super) struct EncClassDef {
    pub name: Cow<'static, str>,
    pub fields: Fields,
    /// Reserved for an instance whose definition is inserted when it ends.
    pub pending: bool,
}

/// Instruction from a `Value` magic wrapper to the next `serialize_seq` /
/// `serialize_map` call (see `ser.rs`).
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub(super) enum Pending {
    #[default]
    None,
    /// The next `serialize_seq` writes a list of this Java type.
    ListType(String),
    /// The next `serialize_map` writes a map of this Java type.
    MapType(String),
    /// The next `serialize_map` writes the fields of an object of this class.
    ObjectFields(String),
}

/// Hessian writer with one stream context (class definitions, type names and
/// object references are shared by all values written with the same encoder).
///
/// Values are written either through serde ([`Encoder::encode`]), as a dynamic
/// [`Value`] ([`Encoder::write_value`]) or with the low-level `write_*`/`begin_*`
/// methods. The output follows what sofa-hessian (3.x or 4.x, per [`Dialect`])
/// writes for the same Java values.
pub struct Encoder<B: OutputBuffer = Vec<u8>> {
    pub(super) buf: B,
    pub(super) dialect: Dialect,
    pub(super) defs: InlineVec<EncClassDef, 4>,
    pub(super) types: InlineVec<Cow<'static, str>, 2>,
    pub(super) ref_count: u32,
    pub(super) open: InlineVec<u32, 16>,
    pub(super) max_depth: usize,
    pub(super) pending: Pending,
    pub(super) scratch: Vec<u8>,
}

impl Encoder<Vec<u8>> {
    /// Creates an encoder writing into a new `Vec<u8>`.
    pub fn new(dialect: Dialect) -> Self {
        Encoder::with_buffer(Vec::new(), dialect)
    }
}

impl<B: OutputBuffer> Encoder<B> {
    /// Creates an encoder appending to an existing buffer (e.g. a reused `Vec<u8>`
    /// or a `bytes::BytesMut` frame buffer).
    pub fn with_buffer(buf: B, dialect: Dialect) -> Self {
        Encoder {
            buf,
            dialect,
            defs: InlineVec::default(),
            types: InlineVec::default(),
            ref_count: 0,
            open: InlineVec::default(),
            max_depth: DEFAULT_MAX_DEPTH,
            pending: Pending::None,
            scratch: Vec::new(),
        }
    }

    /// Sets the maximum container nesting depth (default [`DEFAULT_MAX_DEPTH`]).
    pub fn set_max_depth(&mut self, max_depth: usize) {
        self.max_depth = max_depth;
    }

    /// The dialect being written.
    pub fn dialect(&self) -> Dialect {
        self.dialect
    }

    /// The bytes written so far.
    pub fn as_bytes(&self) -> &[u8] {
        &self.buf
    }

    /// Number of bytes in the buffer.
    pub fn len(&self) -> usize {
        self.buf.len()
    }

    /// True if nothing has been written.
    pub fn is_empty(&self) -> bool {
        self.buf.is_empty()
    }

    /// Returns the output buffer.
    pub fn into_inner(self) -> B {
        self.buf
    }

    /// Empties the buffer and forgets the stream context, keeping all allocations:
    /// the cheapest way to encode many independent bodies with one encoder.
    pub fn clear(&mut self) {
        self.buf.truncate_to(0);
        self.reset_context();
    }

    /// Forgets the stream context (class definitions, types, references) so the
    /// encoder can start an independent stream; the buffer is kept as is.
    pub fn reset_context(&mut self) {
        self.defs.clear();
        self.types.clear();
        self.ref_count = 0;
        self.open.clear();
        self.pending = Pending::None;
    }

    // ------------------------------------------------------------------ scalars

    /// Writes `null`.
    pub fn write_null(&mut self) {
        self.buf.put_u8(tag::NULL);
    }

    /// Writes a boolean.
    pub fn write_bool(&mut self, v: bool) {
        self.buf.put_u8(if v { tag::TRUE } else { tag::FALSE });
    }

    /// Writes an int using the shortest encoding.
    pub fn write_int(&mut self, v: i32) {
        let b = &mut self.buf;
        if (-0x10..=0x2f).contains(&v) {
            b.put_u8((v + tag::INT_ZERO) as u8);
        } else if (-0x800..=0x7ff).contains(&v) {
            b.put_slice(&[(tag::INT_BYTE_ZERO + (v >> 8)) as u8, v as u8]);
        } else if (-0x40000..=0x3ffff).contains(&v) {
            b.put_slice(&[
                (tag::INT_SHORT_ZERO + (v >> 16)) as u8,
                (v >> 8) as u8,
                v as u8,
            ]);
        } else {
            b.put_u8(tag::INT);
            b.put_slice(&v.to_be_bytes());
        }
    }

    /// Writes a long using the shortest encoding of the dialect.
    pub fn write_long(&mut self, v: i64) {
        let long_int = match self.dialect {
            Dialect::V3 => tag::V3_LONG_INT,
            Dialect::V4 => tag::V4_LONG_INT,
        };
        let b = &mut self.buf;
        if (-0x08..=0x0f).contains(&v) {
            b.put_u8((v + tag::LONG_ZERO) as u8);
        } else if (-0x800..=0x7ff).contains(&v) {
            b.put_slice(&[(tag::LONG_BYTE_ZERO + (v >> 8)) as u8, v as u8]);
        } else if (-0x40000..=0x3ffff).contains(&v) {
            b.put_slice(&[
                (tag::LONG_SHORT_ZERO + (v >> 16)) as u8,
                (v >> 8) as u8,
                v as u8,
            ]);
        } else if let Ok(i) = i32::try_from(v) {
            b.put_u8(long_int);
            b.put_slice(&i.to_be_bytes());
        } else {
            b.put_u8(tag::LONG);
            b.put_slice(&v.to_be_bytes());
        }
    }

    /// Writes a double using the compact forms of the dialect (as Java does).
    pub fn write_double(&mut self, v: f64) {
        let (zero, one, byte, short) = match self.dialect {
            Dialect::V3 => (
                tag::V3_DOUBLE_ZERO,
                tag::V3_DOUBLE_ONE,
                tag::V3_DOUBLE_BYTE,
                tag::V3_DOUBLE_SHORT,
            ),
            Dialect::V4 => (
                tag::V4_DOUBLE_ZERO,
                tag::V4_DOUBLE_ONE,
                tag::V4_DOUBLE_BYTE,
                tag::V4_DOUBLE_SHORT,
            ),
        };
        // Java: `(int) value == value` (saturating cast, NaN -> 0).
        let iv = v as i32;
        if f64::from(iv) == v {
            match iv {
                0 => return self.buf.put_u8(zero),
                1 => return self.buf.put_u8(one),
                -0x80..=0x7f => return self.buf.put_slice(&[byte, iv as u8]),
                -0x8000..=0x7fff => {
                    return self.buf.put_slice(&[short, (iv >> 8) as u8, iv as u8]);
                }
                _ => {}
            }
        }
        match self.dialect {
            Dialect::V3 => {
                let f = v as f32;
                if f64::from(f) == v {
                    self.buf.put_u8(tag::V3_DOUBLE_FLOAT);
                    self.buf.put_slice(&f.to_bits().to_be_bytes());
                    return;
                }
            }
            Dialect::V4 => {
                let mills = (v * 1000.0) as i32;
                if 0.001 * f64::from(mills) == v {
                    self.buf.put_u8(tag::V4_DOUBLE_MILL);
                    self.buf.put_slice(&mills.to_be_bytes());
                    return;
                }
            }
        }
        // Java's doubleToLongBits canonicalises NaN.
        let bits = if v.is_nan() {
            0x7ff8_0000_0000_0000
        } else {
            v.to_bits()
        };
        self.buf.put_u8(tag::DOUBLE);
        self.buf.put_slice(&bits.to_be_bytes());
    }

    /// Writes a `java.util.Date` (milliseconds since the epoch).
    pub fn write_date(&mut self, millis: i64) {
        match self.dialect {
            Dialect::V3 => self.buf.put_u8(tag::V3_DATE),
            Dialect::V4 => {
                if millis % 60_000 == 0 {
                    if let Ok(minutes) = i32::try_from(millis / 60_000) {
                        self.buf.put_u8(tag::V4_DATE_MINUTE);
                        self.buf.put_slice(&minutes.to_be_bytes());
                        return;
                    }
                }
                self.buf.put_u8(tag::V4_DATE);
            }
        }
        self.buf.put_slice(&millis.to_be_bytes());
    }

    /// Writes a string (chunked at 0x8000 UTF-16 units, never splitting a
    /// surrogate pair, characters outside the BMP as surrogate pairs).
    pub fn write_str(&mut self, s: &str) {
        let mut rest = s;
        let mut remaining = utf16_len(s);
        let chunk_tag = match self.dialect {
            Dialect::V3 => tag::V3_STRING_CHUNK,
            Dialect::V4 => tag::V4_STRING_CHUNK,
        };
        while remaining > tag::CHUNK_SIZE {
            let (split, units) = split_at_units(rest, tag::CHUNK_SIZE);
            let (head, tail) = rest.split_at(split);
            self.buf
                .put_slice(&[chunk_tag, (units >> 8) as u8, units as u8]);
            self.put_text(head);
            rest = tail;
            remaining -= units;
        }
        if remaining <= tag::STRING_DIRECT_MAX {
            self.buf.put_u8(remaining as u8);
        } else if self.dialect == Dialect::V4 && remaining <= tag::V4_STRING_SHORT_MAX {
            self.buf.put_slice(&[
                tag::V4_STRING_SHORT + (remaining >> 8) as u8,
                remaining as u8,
            ]);
        } else {
            self.buf
                .put_slice(&[tag::STRING_FINAL, (remaining >> 8) as u8, remaining as u8]);
        }
        self.put_text(rest);
    }

    pub(super) fn put_text(&mut self, s: &str) {
        let buf = &mut self.buf;
        push_cesu8(s, |bytes| buf.put_slice(bytes));
    }

    /// Writes a byte array (Java `byte[]`).
    pub fn write_bytes(&mut self, data: &[u8]) {
        let mut rest = data;
        match self.dialect {
            Dialect::V3 => {
                while rest.len() > tag::CHUNK_SIZE {
                    let (head, tail) = rest.split_at(tag::CHUNK_SIZE);
                    self.buf.put_slice(&[tag::V3_BINARY_CHUNK, 0x80, 0x00]);
                    self.buf.put_slice(head);
                    rest = tail;
                }
                let n = rest.len();
                if n <= tag::BINARY_DIRECT_MAX {
                    self.buf.put_u8(tag::BINARY_DIRECT + n as u8);
                } else {
                    self.buf
                        .put_slice(&[tag::BINARY_FINAL, (n >> 8) as u8, n as u8]);
                }
            }
            Dialect::V4 => {
                if rest.len() > tag::BINARY_DIRECT_MAX {
                    while rest.len() > tag::V4_BINARY_CHUNK_SIZE {
                        let (head, tail) = rest.split_at(tag::V4_BINARY_CHUNK_SIZE);
                        let n = head.len();
                        self.buf
                            .put_slice(&[tag::V4_BINARY_CHUNK, (n >> 8) as u8, n as u8]);
                        self.buf.put_slice(head);
                        rest = tail;
                    }
                }
                let n = rest.len();
                if n <= tag::BINARY_DIRECT_MAX {
                    self.buf.put_u8(tag::BINARY_DIRECT + n as u8);
                } else if n <= tag::V4_BINARY_SHORT_MAX {
                    self.buf
                        .put_slice(&[tag::V4_BINARY_SHORT + (n >> 8) as u8, n as u8]);
                } else {
                    self.buf
                        .put_slice(&[tag::BINARY_FINAL, (n >> 8) as u8, n as u8]);
                }
            }
        }
        self.buf.put_slice(rest);
    }

    // ------------------------------------------------------------------ values

    /// Writes a dynamic [`Value`].
    pub fn write_value(&mut self, value: &Value) -> Result<()> {
        match value {
            Value::Null => self.write_null(),
            Value::Bool(b) => self.write_bool(*b),
            Value::Int(i) => self.write_int(*i),
            Value::Long(l) => self.write_long(*l),
            Value::Double(d) => self.write_double(*d),
            Value::Date(ms) => self.write_date(*ms),
            Value::String(s) => self.write_str(s),
            Value::Binary(b) => self.write_bytes(b),
            Value::List { type_name, items } => {
                let token = self.begin_list(items.len(), type_name.as_deref())?;
                for item in items {
                    self.write_value(item)?;
                }
                self.end_list(token)?;
            }
            Value::Map { type_name, entries } => {
                let token = self.begin_map(type_name.as_deref())?;
                for (k, v) in entries {
                    self.write_value(k)?;
                    self.write_value(v)?;
                }
                self.end_map(token)?;
            }
            Value::Object { class, fields } => {
                let mut obj = self.begin_object(class)?;
                for (name, v) in fields {
                    self.object_field(&mut obj, name)?;
                    self.write_value(v)?;
                }
                self.end_object(obj)?;
            }
            Value::Ref(levels) => self.write_ref_to_enclosing(*levels)?,
        }
        Ok(())
    }

    /// Serializes any `serde::Serialize` value as one Hessian value (see the module
    /// documentation for the type mapping).
    pub fn encode<T: serde::Serialize + ?Sized>(&mut self, value: &T) -> Result<()> {
        self.pending = Pending::None;
        let result = value.serialize(&mut *self);
        if result.is_err() {
            self.pending = Pending::None;
        }
        result
    }
}
