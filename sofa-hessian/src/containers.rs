//! Encoder: lists, maps, type names and back-references.

use crate::buffer::OutputBuffer;
use crate::dialect::{tag, Dialect};
use crate::encoder::Encoder;
use crate::error::{Error, ErrorKind, Result};
use crate::object::Name;
use crate::strings::utf16_len;

/// Token returned by [`Encoder::begin_list`]; pass it to [`Encoder::end_list`].
#[derive(Debug)]
#[must_use = "a list must be finished with Encoder::end_list"]
pub struct ListToken {
    pub(super) needs_end: bool,
    pub(super) len: usize,
}

/// Token returned by [`Encoder::begin_map`]; pass it to [`Encoder::end_map`].
#[derive(Debug)]
#[must_use = "a map must be finished with Encoder::end_map"]
pub struct MapToken {
    _private: (),
}

impl<B: OutputBuffer> Encoder<B> {
    // ------------------------------------------------------------- references

    /// Registers a new container (list, map or object) the way Java's `addRef`
    /// numbers them, and enters it.
    pub(super) fn push_container(&mut self) -> Result<u32> {
        if self.open.len() >= self.max_depth {
            return Err(Error::new(
                ErrorKind::DepthLimitExceeded,
                format!("more than {} nested containers", self.max_depth),
            ));
        }
        let idx = self.ref_count;
        self.ref_count = self.ref_count.wrapping_add(1);
        self.open.push(idx);
        Ok(idx)
    }

    pub(super) fn pop_container(&mut self) {
        self.open.pop();
    }

    /// Writes a back-reference to the container `levels_up` levels above the
    /// current position (`0` = the innermost open list/map/object).
    pub fn write_ref_to_enclosing(&mut self, levels_up: u32) -> Result<()> {
        let depth = self.open.len();
        let pos = depth
            .checked_sub(1)
            .and_then(|top| top.checked_sub(levels_up as usize))
            .and_then(|i| self.open.get(i).copied())
            .ok_or_else(|| {
                Error::new(
                    ErrorKind::InvalidReference,
                    format!(
                        "reference {levels_up} levels up, but only {depth} containers are open"
                    ),
                )
            })?;
        self.write_raw_ref(pos);
        Ok(())
    }

    pub(super) fn write_raw_ref(&mut self, idx: u32) {
        match self.dialect {
            Dialect::V3 => {
                if idx < 0x100 {
                    self.buf.put_slice(&[tag::V3_REF_BYTE, idx as u8]);
                } else if idx < 0x10000 {
                    self.buf
                        .put_slice(&[tag::V3_REF_SHORT, (idx >> 8) as u8, idx as u8]);
                } else {
                    self.buf.put_u8(tag::V3_REF_INT);
                    self.buf.put_slice(&idx.to_be_bytes());
                }
            }
            Dialect::V4 => {
                self.buf.put_u8(tag::V4_REF);
                self.write_int(idx as i32);
            }
        }
    }

    // ----------------------------------------------------------- lists & maps

    pub(super) fn type_index(&self, type_name: &str) -> Option<usize> {
        let found = self.types.iter().position(|t| t == type_name);
        found
    }

    /// Writes a type name, or a reference to it if it was written before.
    pub(super) fn write_type(&mut self, type_name: Name<'_>) {
        if let Some(idx) = self.type_index(type_name.as_str()) {
            if self.dialect == Dialect::V3 {
                self.buf.put_u8(tag::V3_TYPE_REF);
            }
            self.write_int(idx as i32);
            return;
        }
        self.types.push(type_name.to_cow());
        let type_name = type_name.as_str();
        match self.dialect {
            Dialect::V3 => {
                let units = utf16_len(type_name);
                self.buf
                    .put_slice(&[tag::V3_TYPE, (units >> 8) as u8, units as u8]);
                self.put_text(type_name);
            }
            Dialect::V4 => self.write_str(type_name),
        }
    }

    /// Starts a list of `len` elements; `type_name` is the Java type (`None` or
    /// empty for an untyped list such as `ArrayList`). Write exactly `len` values,
    /// then call [`Encoder::end_list`].
    pub fn begin_list(&mut self, len: usize, type_name: Option<&str>) -> Result<ListToken> {
        self.begin_list_named(len, type_name.map(Name::Borrowed))
    }

    pub(super) fn begin_list_named(
        &mut self,
        len: usize,
        type_name: Option<Name<'_>>,
    ) -> Result<ListToken> {
        let len_i32 = i32::try_from(len)
            .map_err(|_| Error::new(ErrorKind::InvalidLength, "list longer than i32::MAX"))?;
        self.push_container()?;
        let type_name = type_name.filter(|t| !t.as_str().is_empty());
        let needs_end = match self.dialect {
            Dialect::V3 => {
                if let Some(t) = type_name {
                    if let Some(idx) = self.type_index(t.as_str()) {
                        self.buf.put_u8(tag::V3_LIST_FIXED);
                        self.write_int(idx as i32);
                        self.write_int(len_i32);
                        return Ok(ListToken {
                            needs_end: false,
                            len,
                        });
                    }
                }
                self.buf.put_u8(tag::LIST_V);
                if let Some(t) = type_name {
                    self.write_type(t);
                }
                self.write_v3_length(len_i32);
                true
            }
            Dialect::V4 => {
                match type_name {
                    Some(t) if len <= tag::V4_LIST_DIRECT_MAX => {
                        self.buf.put_u8(tag::V4_LIST_DIRECT + len as u8);
                        self.write_type(t);
                    }
                    Some(t) => {
                        self.buf.put_u8(tag::LIST_V);
                        self.write_type(t);
                        self.write_int(len_i32);
                    }
                    None if len <= tag::V4_LIST_DIRECT_MAX => {
                        self.buf.put_u8(tag::V4_LIST_DIRECT_UNTYPED + len as u8);
                    }
                    None => {
                        self.buf.put_u8(tag::V4_LIST_FIXED_UNTYPED);
                        self.write_int(len_i32);
                    }
                }
                false
            }
        };
        Ok(ListToken { needs_end, len })
    }

    pub(super) fn write_v3_length(&mut self, len: i32) {
        if (0..0x100).contains(&len) {
            self.buf.put_slice(&[tag::V3_LENGTH_BYTE, len as u8]);
        } else {
            self.buf.put_u8(tag::V3_LENGTH_INT);
            self.buf.put_slice(&len.to_be_bytes());
        }
    }

    /// Finishes a list started with [`Encoder::begin_list`].
    pub fn end_list(&mut self, token: ListToken) -> Result<()> {
        if token.needs_end {
            self.buf.put_u8(tag::V3_END);
        }
        self.pop_container();
        Ok(())
    }

    /// Starts a map; `type_name` is `None` for `java.util.HashMap`. Write keys and
    /// values alternately, then call [`Encoder::end_map`].
    pub fn begin_map(&mut self, type_name: Option<&str>) -> Result<MapToken> {
        self.push_container()?;
        let type_name = type_name.filter(|t| !t.is_empty()).map(Name::Borrowed);
        match (self.dialect, type_name) {
            (Dialect::V3, t) => {
                self.buf.put_u8(tag::MAP_M);
                if let Some(t) = t {
                    self.write_type(t);
                }
            }
            (Dialect::V4, Some(t)) => {
                self.buf.put_u8(tag::MAP_M);
                self.write_type(t);
            }
            (Dialect::V4, None) => self.buf.put_u8(tag::V4_MAP_UNTYPED),
        }
        Ok(MapToken { _private: () })
    }

    /// Finishes a map started with [`Encoder::begin_map`].
    pub fn end_map(&mut self, _token: MapToken) -> Result<()> {
        self.buf.put_u8(match self.dialect {
            Dialect::V3 => tag::V3_END,
            Dialect::V4 => tag::V4_END,
        });
        self.pop_container();
        Ok(())
    }
}
