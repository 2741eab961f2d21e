//! Decoder: reading the tag (and header) that starts each value, per dialect.

use std::borrow::Cow;

use crate::decoder::Decoder;
use crate::dialect::{tag, Dialect};
use crate::error::{Error, ErrorKind, Result};

/// First chunk of a string or binary.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Chunk {
    pub len: usize,
    pub last: bool,
}

/// The start of a value, with its tag (and, for containers, header) consumed.
pub(crate) enum Head<'a> {
    Null,
    Bool(bool),
    Int(i32),
    Long(i64),
    Double(f64),
    Date(i64),
    Str(Chunk),
    Bin(Chunk),
    /// Container already registered and entered; call `close_container` after it.
    List(ListHead<'a>),
    /// Container already registered and entered; call `close_container` after it.
    Map(MapHead<'a>),
    /// Container already registered and entered; call `close_container` after it.
    Object(usize),
    /// Back-reference to container number `.0`.
    Ref(usize),
}

pub(crate) struct ListHead<'a> {
    pub ty: Option<Cow<'a, str>>,
    /// Element count, `None` for a list terminated by an end tag.
    pub len: Option<usize>,
    /// True if an end tag follows the elements (also after a counted 3.x `V` list).
    pub end: bool,
}

pub(crate) struct MapHead<'a> {
    pub ty: Option<Cow<'a, str>>,
}

impl<'a> Decoder<'a> {
    /// Reads the start of the next value (consuming class definitions in front).
    pub(crate) fn next_head(&mut self) -> Result<Head<'a>> {
        loop {
            let at = self.pos;
            let t = *self.input.get(at).ok_or_else(|| self.eof())?;
            let is_def = match self.dialect {
                Dialect::V3 => t == tag::V3_CLASS_DEF,
                Dialect::V4 => t == tag::V4_CLASS_DEF,
            };
            if is_def {
                self.pos += 1;
                self.read_class_def()?;
                continue;
            }
            return self.next_head_inner(at);
        }
    }

    pub(crate) fn next_head_inner(&mut self, at: usize) -> Result<Head<'a>> {
        let t = self.byte()?;
        let head = match t {
            tag::NULL => Head::Null,
            tag::TRUE => Head::Bool(true),
            tag::FALSE => Head::Bool(false),
            0x80..=0xbf => Head::Int(i32::from(t) - tag::INT_ZERO),
            0xc0..=0xcf => {
                Head::Int(((i32::from(t) - tag::INT_BYTE_ZERO) << 8) + i32::from(self.byte()?))
            }
            0xd0..=0xd7 => {
                let hi = (i32::from(t) - tag::INT_SHORT_ZERO) << 16;
                Head::Int(hi + self.u16()? as i32)
            }
            tag::INT => Head::Int(self.i32()?),
            0xd8..=0xef => Head::Long(i64::from(t) - tag::LONG_ZERO),
            0xf0..=0xff => {
                Head::Long(((i64::from(t) - tag::LONG_BYTE_ZERO) << 8) + i64::from(self.byte()?))
            }
            0x38..=0x3f => {
                let hi = (i64::from(t) - tag::LONG_SHORT_ZERO) << 16;
                Head::Long(hi + self.u16()? as i64)
            }
            tag::LONG => Head::Long(self.i64()?),
            tag::DOUBLE => Head::Double(f64::from_bits(self.i64()? as u64)),
            0x00..=0x1f => Head::Str(Chunk {
                len: usize::from(t),
                last: true,
            }),
            tag::STRING_FINAL => Head::Str(Chunk {
                len: self.u16()?,
                last: true,
            }),
            0x20..=0x2f => Head::Bin(Chunk {
                len: usize::from(t - tag::BINARY_DIRECT),
                last: true,
            }),
            tag::BINARY_FINAL => Head::Bin(Chunk {
                len: self.u16()?,
                last: true,
            }),
            _ => match self.dialect {
                Dialect::V3 => self.head_v3(t, at)?,
                Dialect::V4 => self.head_v4(t, at)?,
            },
        };
        Ok(head)
    }

    pub(crate) fn head_v3(&mut self, t: u8, at: usize) -> Result<Head<'a>> {
        Ok(match t {
            tag::V3_LONG_INT => Head::Long(i64::from(self.i32()?)),
            tag::V3_DOUBLE_ZERO => Head::Double(0.0),
            tag::V3_DOUBLE_ONE => Head::Double(1.0),
            tag::V3_DOUBLE_BYTE => Head::Double(f64::from(self.byte()? as i8)),
            tag::V3_DOUBLE_SHORT => Head::Double(f64::from(self.u16()? as u16 as i16)),
            tag::V3_DOUBLE_FLOAT => Head::Double(f64::from(f32::from_bits(self.i32()? as u32))),
            tag::V3_DATE => Head::Date(self.i64()?),
            tag::V3_STRING_CHUNK => Head::Str(Chunk {
                len: self.u16()?,
                last: false,
            }),
            tag::V3_BINARY_CHUNK => Head::Bin(Chunk {
                len: self.u16()?,
                last: false,
            }),
            tag::V3_OBJECT => {
                let def = self.read_def_index()?;
                self.open_container(at)?;
                Head::Object(def)
            }
            tag::LIST_V => {
                let ty = self.read_v3_type()?;
                let len = match self.peek_byte() {
                    Some(tag::V3_LENGTH_BYTE) => {
                        self.pos += 1;
                        let n = usize::from(self.byte()?);
                        Some(self.check_count(n as i32, self.pos)?)
                    }
                    Some(tag::V3_LENGTH_INT) => {
                        self.pos += 1;
                        let p = self.pos;
                        let n = self.i32()?;
                        Some(self.check_count(n, p)?)
                    }
                    _ => None,
                };
                self.open_container(at)?;
                Head::List(ListHead { ty, len, end: true })
            }
            tag::V3_LIST_FIXED => {
                let p = self.pos;
                let idx = self.read_index()?;
                let ty = self.type_by_ref(idx, p)?;
                let len = self.read_count()?;
                self.open_container(at)?;
                Head::List(ListHead {
                    ty: Some(ty),
                    len: Some(len),
                    end: false,
                })
            }
            tag::MAP_M => {
                let ty = self.read_v3_type()?;
                self.open_container(at)?;
                Head::Map(MapHead { ty })
            }
            tag::V3_REF_BYTE => Head::Ref(usize::from(self.byte()?)),
            tag::V3_REF_SHORT => Head::Ref(self.u16()?),
            tag::V3_REF_INT => {
                let p = self.pos;
                let v = self.i32()?;
                Head::Ref(
                    usize::try_from(v).map_err(|_| {
                        Error::at(ErrorKind::InvalidReference, p, "negative reference")
                    })?,
                )
            }
            _ => return Err(self.bad_tag(at, t, "value")),
        })
    }

    pub(crate) fn head_v4(&mut self, t: u8, at: usize) -> Result<Head<'a>> {
        Ok(match t {
            tag::V4_LONG_INT => Head::Long(i64::from(self.i32()?)),
            tag::V4_DOUBLE_ZERO => Head::Double(0.0),
            tag::V4_DOUBLE_ONE => Head::Double(1.0),
            tag::V4_DOUBLE_BYTE => Head::Double(f64::from(self.byte()? as i8)),
            tag::V4_DOUBLE_SHORT => Head::Double(f64::from(self.u16()? as u16 as i16)),
            tag::V4_DOUBLE_MILL => Head::Double(0.001 * f64::from(self.i32()?)),
            tag::V4_DATE => Head::Date(self.i64()?),
            tag::V4_DATE_MINUTE => Head::Date(i64::from(self.i32()?) * 60_000),
            tag::V4_STRING_CHUNK => Head::Str(Chunk {
                len: self.u16()?,
                last: false,
            }),
            0x30..=0x33 => Head::Str(Chunk {
                len: (usize::from(t - tag::V4_STRING_SHORT) << 8) + usize::from(self.byte()?),
                last: true,
            }),
            tag::V4_BINARY_CHUNK => Head::Bin(Chunk {
                len: self.u16()?,
                last: false,
            }),
            0x34..=0x37 => Head::Bin(Chunk {
                len: (usize::from(t - tag::V4_BINARY_SHORT) << 8) + usize::from(self.byte()?),
                last: true,
            }),
            0x60..=0x6f => {
                let def = usize::from(t - tag::V4_OBJECT_DIRECT);
                self.check_def(def, at)?;
                self.open_container(at)?;
                Head::Object(def)
            }
            tag::V4_OBJECT => {
                let def = self.read_def_index()?;
                self.open_container(at)?;
                Head::Object(def)
            }
            tag::V4_LIST_VARIABLE => {
                let ty = Some(self.read_v4_type()?);
                self.open_container(at)?;
                Head::List(ListHead {
                    ty,
                    len: None,
                    end: true,
                })
            }
            tag::LIST_V => {
                let ty = Some(self.read_v4_type()?);
                let len = Some(self.read_count()?);
                self.open_container(at)?;
                Head::List(ListHead {
                    ty,
                    len,
                    end: false,
                })
            }
            tag::V4_LIST_VARIABLE_UNTYPED => {
                self.open_container(at)?;
                Head::List(ListHead {
                    ty: None,
                    len: None,
                    end: true,
                })
            }
            tag::V4_LIST_FIXED_UNTYPED => {
                let len = Some(self.read_count()?);
                self.open_container(at)?;
                Head::List(ListHead {
                    ty: None,
                    len,
                    end: false,
                })
            }
            0x70..=0x77 => {
                let ty = Some(self.read_v4_type()?);
                let len = Some(self.check_count(i32::from(t - tag::V4_LIST_DIRECT), at)?);
                self.open_container(at)?;
                Head::List(ListHead {
                    ty,
                    len,
                    end: false,
                })
            }
            0x78..=0x7f => {
                let len = Some(self.check_count(i32::from(t - tag::V4_LIST_DIRECT_UNTYPED), at)?);
                self.open_container(at)?;
                Head::List(ListHead {
                    ty: None,
                    len,
                    end: false,
                })
            }
            tag::V4_MAP_UNTYPED => {
                self.open_container(at)?;
                Head::Map(MapHead { ty: None })
            }
            tag::MAP_M => {
                let ty = Some(self.read_v4_type()?);
                self.open_container(at)?;
                Head::Map(MapHead { ty })
            }
            tag::V4_REF => {
                let p = self.pos;
                let v = self.read_int()?;
                Head::Ref(
                    usize::try_from(v).map_err(|_| {
                        Error::at(ErrorKind::InvalidReference, p, "negative reference")
                    })?,
                )
            }
            _ => return Err(self.bad_tag(at, t, "value")),
        })
    }

    /// True if the next byte is the end tag of a list or map.
    pub(crate) fn at_end_tag(&self) -> bool {
        let end = match self.dialect {
            Dialect::V3 => tag::V3_END,
            Dialect::V4 => tag::V4_END,
        };
        self.peek_byte() == Some(end)
    }

    /// Consumes the end tag of a list or map.
    pub(crate) fn expect_end_tag(&mut self) -> Result<()> {
        let at = self.pos;
        let t = self.byte()?;
        let end = match self.dialect {
            Dialect::V3 => tag::V3_END,
            Dialect::V4 => tag::V4_END,
        };
        if t != end {
            return Err(self.bad_tag(at, t, "expected end of list/map"));
        }
        Ok(())
    }
}
