//! `serde::Deserializer` for [`Decoder`].
//!
//! Deserialization is driven by the input (`deserialize_any` works), with the
//! coercions serde's primitive visitors provide (an int where an `i64` is expected,
//! a long that fits where an `i32` is expected; out-of-range values are a
//! [`ErrorKind::TypeMismatch`](super::ErrorKind::TypeMismatch)). Objects and maps
//! deserialize into structs (by field name) and maps; lists into sequences; a
//! binary into bytes or a sequence of `u8`; null into `None`/unit; dates into `i64`
//! milliseconds. Enums are read from a string (unit variant), a Java enum object
//! (its `name` field) or a single-entry map `{variant: content}`.
//!
//! A back-reference to a value read earlier is resolved by decoding that value
//! again; a back-reference to an enclosing value that is still being read (a cycle)
//! is presented as unit / `None`.

pub(crate) mod access;

use std::borrow::Cow;

use serde::de::{self, value::BorrowedStrDeserializer, IntoDeserializer, Visitor};

use crate::de::access::{
    BytesSeq, ListAccess, Magic, MagicAccess, MapAccess, ObjectAccess, VariantMap,
};
use crate::decoder::head::{Head, ListHead};
use crate::decoder::refs::RefTarget;
use crate::decoder::Decoder;
use crate::dialect::tag;
use crate::error::{Error, ErrorKind, Result};
use crate::value_serde::{magic, ValueVisitor};

pub(crate) fn invalid(msg: impl Into<Cow<'static, str>>) -> Error {
    Error::new(ErrorKind::TypeMismatch, msg)
}

impl<'de> Decoder<'de> {
    fn visit_head<V: Visitor<'de>>(&mut self, head: Head<'de>, visitor: V) -> Result<V::Value> {
        match head {
            Head::Null => visitor.visit_unit(),
            Head::Bool(b) => visitor.visit_bool(b),
            Head::Int(i) => visitor.visit_i32(i),
            Head::Long(l) => visitor.visit_i64(l),
            Head::Double(d) => visitor.visit_f64(d),
            Head::Date(ms) => visitor.visit_i64(ms),
            Head::Str(c) => match self.read_str_body(c)? {
                Cow::Borrowed(s) => visitor.visit_borrowed_str(s),
                Cow::Owned(s) => visitor.visit_string(s),
            },
            Head::Bin(c) => match self.read_bin_body(c)? {
                Cow::Borrowed(b) => visitor.visit_borrowed_bytes(b),
                Cow::Owned(b) => visitor.visit_byte_buf(b),
            },
            Head::List(l) => self.visit_list(&l, visitor),
            Head::Map(_) => {
                let mut acc = MapAccess { de: self };
                let v = visitor.visit_map(&mut acc)?;
                finish_map(self)?;
                Ok(v)
            }
            Head::Object(def) => {
                let mut acc = ObjectAccess {
                    de: self,
                    def,
                    next: 0,
                };
                let v = visitor.visit_map(&mut acc)?;
                let next = acc.next;
                finish_object(self, def, next)?;
                Ok(v)
            }
            Head::Ref(idx) => match self.ref_target(idx)? {
                RefTarget::Open { .. } => visitor.visit_unit(),
                RefTarget::Closed { offset } => self.replay(idx, offset, |de| {
                    de::Deserializer::deserialize_any(de, visitor)
                }),
            },
        }
    }

    fn visit_list<V: Visitor<'de>>(&mut self, l: &ListHead<'de>, visitor: V) -> Result<V::Value> {
        let mut acc = ListAccess {
            de: self,
            remaining: l.len,
        };
        let v = visitor.visit_seq(&mut acc)?;
        let remaining = acc.remaining;
        finish_list(self, remaining, l.end)?;
        Ok(v)
    }

    /// True if the next byte starts a back-reference.
    fn at_ref_tag(&self) -> bool {
        matches!(
            (self.dialect(), self.peek_byte()),
            (
                super::Dialect::V3,
                Some(tag::V3_REF_BYTE | tag::V3_REF_SHORT | tag::V3_REF_INT)
            ) | (super::Dialect::V4, Some(tag::V4_REF))
        )
    }

    /// Deserializes a value as a Java enum (string, enum object or `{variant: ..}`).
    fn visit_enum_head<V: Visitor<'de>>(
        &mut self,
        head: Head<'de>,
        visitor: V,
    ) -> Result<V::Value> {
        match head {
            Head::Str(c) => match self.read_str_body(c)? {
                Cow::Borrowed(s) => visitor.visit_enum(BorrowedStrDeserializer::<Error>::new(s)),
                Cow::Owned(s) => visitor.visit_enum(s.into_deserializer()),
            },
            Head::Object(def) => {
                let mut name: Option<Cow<'de, str>> = None;
                for i in 0..self.field_count(def) {
                    if self.field_name(def, i) == Some("name") && name.is_none() {
                        let head = self.next_head()?;
                        match head {
                            Head::Str(c) => name = Some(self.read_str_body(c)?),
                            _ => return Err(invalid("Java enum `name` field is not a string")),
                        }
                    } else {
                        self.skip_value()?;
                    }
                }
                self.close_container();
                match name {
                    Some(Cow::Borrowed(s)) => {
                        visitor.visit_enum(BorrowedStrDeserializer::<Error>::new(s))
                    }
                    Some(Cow::Owned(s)) => visitor.visit_enum(s.into_deserializer()),
                    None => Err(invalid(format!(
                        "object of class {} is not a Java enum (no `name` field)",
                        self.class_name(def)
                    ))),
                }
            }
            Head::Map(_) => {
                let v = visitor.visit_enum(VariantMap { de: self })?;
                if !self.at_end_tag() {
                    return Err(invalid("an enum map must have exactly one entry"));
                }
                finish_map(self)?;
                Ok(v)
            }
            Head::Ref(idx) => match self.ref_target(idx)? {
                RefTarget::Open { .. } => {
                    Err(invalid("cyclic reference where an enum is expected"))
                }
                RefTarget::Closed { offset } => self.replay(idx, offset, |de| {
                    let head = de.next_head()?;
                    de.visit_enum_head(head, visitor)
                }),
            },
            other => {
                // Let the visitor report the type mismatch.
                self.visit_head(other, visitor)
            }
        }
    }

    /// The `Value` protocol (see `value_serde.rs`).
    fn visit_value_head<V: Visitor<'de>>(
        &mut self,
        head: Head<'de>,
        visitor: V,
    ) -> Result<V::Value> {
        match head {
            Head::Date(ms) => visitor.visit_map(MagicAccess {
                de: self,
                kind: Magic::Date(ms),
                step: 0,
            }),
            Head::List(ListHead {
                ty: Some(ty),
                len,
                end,
            }) => {
                let mut acc = MagicAccess {
                    de: self,
                    kind: Magic::TypedList { ty, remaining: len },
                    step: 0,
                };
                let v = visitor.visit_map(&mut acc)?;
                let remaining = match acc.kind {
                    Magic::TypedList { remaining, .. } => remaining,
                    _ => None,
                };
                finish_list(self, remaining, end)?;
                Ok(v)
            }
            Head::Map(m) => {
                let ty = m.ty.unwrap_or(Cow::Borrowed(""));
                let mut acc = MagicAccess {
                    de: self,
                    kind: Magic::Map(ty),
                    step: 0,
                };
                let v = visitor.visit_map(&mut acc)?;
                finish_map(self)?;
                Ok(v)
            }
            Head::Object(def) => {
                let mut acc = MagicAccess {
                    de: self,
                    kind: Magic::Object { def, next: 0 },
                    step: 0,
                };
                let v = visitor.visit_map(&mut acc)?;
                let next = match acc.kind {
                    Magic::Object { next, .. } => next,
                    _ => 0,
                };
                finish_object(self, def, next)?;
                Ok(v)
            }
            Head::Ref(idx) => match self.ref_target(idx)? {
                RefTarget::Open { levels_up } => visitor.visit_map(MagicAccess {
                    de: self,
                    kind: Magic::Ref(levels_up),
                    step: 0,
                }),
                RefTarget::Closed { offset } => self.replay(idx, offset, |de| {
                    let head = de.next_head()?;
                    de.visit_value_head(head, visitor)
                }),
            },
            other => self.visit_head(other, visitor),
        }
    }
}

// ---------------------------------------------------------------- finishing

pub(crate) fn finish_list(de: &mut Decoder<'_>, remaining: Option<usize>, end: bool) -> Result<()> {
    match remaining {
        Some(n) => {
            for _ in 0..n {
                de.skip_value()?;
            }
            if end {
                de.expect_end_tag()?;
            }
        }
        None => {
            while !de.at_end_tag() {
                de.skip_value()?;
            }
            de.expect_end_tag()?;
        }
    }
    de.close_container();
    Ok(())
}

pub(crate) fn finish_map(de: &mut Decoder<'_>) -> Result<()> {
    while !de.at_end_tag() {
        de.skip_value()?;
        de.skip_value()?;
    }
    de.expect_end_tag()?;
    de.close_container();
    Ok(())
}

pub(crate) fn finish_object(de: &mut Decoder<'_>, def: usize, next: usize) -> Result<()> {
    for _ in next..de.field_count(def) {
        de.skip_value()?;
    }
    de.close_container();
    Ok(())
}

// ------------------------------------------------------------- Deserializer

impl<'de> de::Deserializer<'de> for &mut Decoder<'de> {
    type Error = Error;

    fn deserialize_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value> {
        let head = self.next_head()?;
        self.visit_head(head, visitor)
    }

    fn deserialize_option<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value> {
        if self.peek_byte() == Some(tag::NULL) {
            self.next_head()?;
            return visitor.visit_none();
        }
        if self.at_ref_tag() {
            let saved = self.position();
            if let Head::Ref(idx) = self.next_head()? {
                if let RefTarget::Open { .. } = self.ref_target(idx)? {
                    return visitor.visit_none();
                }
            }
            self.rewind(saved);
        }
        visitor.visit_some(self)
    }

    fn deserialize_unit<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value> {
        self.deserialize_any(visitor)
    }

    fn deserialize_unit_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        visitor: V,
    ) -> Result<V::Value> {
        self.deserialize_any(visitor)
    }

    fn deserialize_newtype_struct<V: Visitor<'de>>(
        self,
        name: &'static str,
        visitor: V,
    ) -> Result<V::Value> {
        if name == magic::VALUE {
            let head = self.next_head()?;
            return self.visit_value_head(head, visitor);
        }
        visitor.visit_newtype_struct(self)
    }

    fn deserialize_seq<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value> {
        let head = self.next_head()?;
        match head {
            Head::Bin(c) => {
                let bytes = self.read_bin_body(c)?;
                visitor.visit_seq(BytesSeq { bytes, pos: 0 })
            }
            other => self.visit_head(other, visitor),
        }
    }

    fn deserialize_tuple<V: Visitor<'de>>(self, _len: usize, visitor: V) -> Result<V::Value> {
        self.deserialize_seq(visitor)
    }

    fn deserialize_tuple_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        _len: usize,
        visitor: V,
    ) -> Result<V::Value> {
        self.deserialize_seq(visitor)
    }

    fn deserialize_enum<V: Visitor<'de>>(
        self,
        _name: &'static str,
        _variants: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value> {
        let head = self.next_head()?;
        self.visit_enum_head(head, visitor)
    }

    fn deserialize_ignored_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value> {
        let head = self.next_head()?;
        match head {
            // No need to re-read the referenced value just to ignore it.
            Head::Ref(idx) => {
                self.ref_target(idx)?;
                visitor.visit_unit()
            }
            other => self.visit_head(other, visitor),
        }
    }

    serde::forward_to_deserialize_any! {
        bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string
        bytes byte_buf map struct identifier
    }
}

impl<'de> Decoder<'de> {
    /// Builds a [`Value`](super::Value) from a container or reference head.
    pub(crate) fn value_from_head(&mut self, head: Head<'de>) -> Result<super::Value> {
        self.visit_value_head(head, ValueVisitor)
    }

    /// Moves back to an earlier position (only used right after a peek).
    fn rewind(&mut self, pos: usize) {
        if pos <= self.position() {
            self.set_position(pos);
        }
    }
}
