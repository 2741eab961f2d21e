//! Decoder: class definitions and type names.

use std::borrow::Cow;

use crate::decoder::head::Chunk;
use crate::decoder::{ClassDef, Decoder};
use crate::dialect::{tag, Dialect};
use crate::error::{Error, ErrorKind, Result};
use crate::known::known_defs;
use crate::strings::{decode_chunk, scan_units};

impl<'a> Decoder<'a> {
    pub(crate) fn read_def_index(&mut self) -> Result<usize> {
        let at = self.pos;
        let def = self.read_index()?;
        self.check_def(def, at)?;
        Ok(def)
    }

    pub(crate) fn check_def(&self, def: usize, at: usize) -> Result<()> {
        if def >= self.defs.len() {
            return Err(Error::at(
                ErrorKind::InvalidReference,
                at,
                format!("unknown class definition #{def}"),
            ));
        }
        Ok(())
    }

    /// Reads a class definition (tag already consumed) and registers it.
    pub(crate) fn read_class_def(&mut self) -> Result<()> {
        let rest = self.input.get(self.pos..).unwrap_or_default();
        if let Some(k) = known_defs(self.dialect)
            .iter()
            .find(|k| rest.starts_with(&k.bytes))
        {
            self.pos += k.bytes.len();
            if self.replay_next.is_none() {
                let start = self.field_pool.len();
                for f in k.fields {
                    self.field_pool.push(Cow::Borrowed(*f));
                }
                self.defs.push(ClassDef {
                    name: Cow::Borrowed(k.name),
                    start,
                    len: k.fields.len(),
                });
            }
            return Ok(());
        }
        let name = match self.dialect {
            Dialect::V3 => {
                let units = self.read_count()?;
                self.read_units(units)?
            }
            Dialect::V4 => self.read_string_value()?,
        };
        let count = self.read_count()?;
        let register = self.replay_next.is_none();
        let start = self.field_pool.len();
        for _ in 0..count {
            let field = self.read_string_value()?;
            if register {
                self.field_pool.push(field);
            }
        }
        if register {
            self.defs.push(ClassDef {
                name,
                start,
                len: count,
            });
        }
        Ok(())
    }

    /// Reads `units` UTF-16 units of raw text (no chunk header).
    #[inline]
    pub(crate) fn read_units(&mut self, units: usize) -> Result<Cow<'a, str>> {
        // Fast path: plain ASCII (one unit per byte).
        let at = self.pos;
        let input: &'a [u8] = self.input;
        if let Some(prefix) = at.checked_add(units).and_then(|end| input.get(at..end)) {
            if prefix.is_ascii() {
                if let Ok(s) = std::str::from_utf8(prefix) {
                    self.pos = at + units;
                    return Ok(Cow::Borrowed(s));
                }
            }
        }
        self.read_units_slow(units)
    }

    #[inline(never)]
    pub(crate) fn read_units_slow(&mut self, units: usize) -> Result<Cow<'a, str>> {
        let at = self.pos;
        let rest = self.input.get(at..).unwrap_or_default();
        let scan = scan_units(rest, units, at)?;
        let s = decode_chunk(rest, &scan, at)?;
        self.pos = at + scan.byte_len;
        Ok(s)
    }

    pub(crate) fn type_by_ref(&self, idx: usize, at: usize) -> Result<Cow<'a, str>> {
        self.types.get(idx).cloned().ok_or_else(|| {
            Error::at(
                ErrorKind::InvalidReference,
                at,
                format!("unknown type reference #{idx}"),
            )
        })
    }

    #[allow(clippy::ptr_arg)] // the Cow (with its lifetime) is cloned into the table
    pub(crate) fn register_type(&mut self, ty: &Cow<'a, str>) {
        if self.replay_next.is_none() {
            self.types.push(ty.clone());
        }
    }

    /// 3.x optional type after `V`/`M`: `t` u16 chars, or `0x75` int ref.
    pub(crate) fn read_v3_type(&mut self) -> Result<Option<Cow<'a, str>>> {
        match self.peek_byte() {
            Some(tag::V3_TYPE) => {
                self.pos += 1;
                let units = self.u16()?;
                let ty = self.read_units(units)?;
                self.register_type(&ty);
                Ok(Some(ty))
            }
            Some(tag::V3_TYPE_REF) => {
                self.pos += 1;
                let at = self.pos;
                let idx = self.read_index()?;
                Ok(Some(self.type_by_ref(idx, at)?))
            }
            _ => Ok(None),
        }
    }

    /// 4.x type: a string (registered) or an int reference.
    pub(crate) fn read_v4_type(&mut self) -> Result<Cow<'a, str>> {
        let at = self.pos;
        match self.peek_byte() {
            Some(0x00..=0x1f | 0x30..=0x33 | tag::STRING_FINAL | tag::V4_STRING_CHUNK) => {
                let ty = self.read_string_value()?;
                self.register_type(&ty);
                Ok(ty)
            }
            _ => {
                let idx = self.read_index()?;
                self.type_by_ref(idx, at)
            }
        }
    }

    /// Reads a value that must be a string (class and field names).
    pub(crate) fn read_string_value(&mut self) -> Result<Cow<'a, str>> {
        let at = self.pos;
        let t = self.byte()?;
        let chunk = match (self.dialect, t) {
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
            _ => return Err(self.bad_tag(at, t, "expected a string")),
        };
        self.read_str_body(chunk)
    }
}
