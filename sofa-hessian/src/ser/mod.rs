//! `serde::Serializer` for [`Encoder`].
//!
//! Type mapping: `bool` → boolean; `i8`/`i16`/`i32`/`u8`/`u16` → int; `i64`/`u32` →
//! long; `u64` → long (error above `i64::MAX`); `f32`/`f64` → double; `char`/`str` →
//! string; bytes (`serialize_bytes`, e.g. `serde_bytes`) → binary; a sequence whose
//! elements are `u8` (e.g. `Vec<u8>`) → binary (Java `byte[]`; an *empty* sequence
//! is always an empty list); other sequences and tuples → untyped list (Java
//! `ArrayList`); maps → untyped map (`HashMap`); structs → Java object whose class
//! is the struct name (use `#[serde(rename = "com.example.User")]`); unit variants →
//! Java enum (class = enum name, one field `name`); other variants → single-entry
//! map `{variant: content}`; `None`/unit/unit struct → null; newtypes → their
//! content.

pub(crate) mod compound;

use serde::ser::{self, Serialize};

use crate::buffer::OutputBuffer;
use crate::encoder::{Encoder, Pending};
use crate::error::{Error, ErrorKind, Result};
use crate::object::Name;
use crate::probe::Probe;
use crate::ser::compound::{
    ListSer, ListState, MagicKind, MapMode, MapSer, SeqSer, SeqState, StructSer, StructVariantSer,
    TupleStructInner, TupleStructSer, TupleVariantSer,
};
use crate::value_serde::magic;

impl<'a, B: OutputBuffer> ser::Serializer for &'a mut Encoder<B> {
    type Ok = ();
    type Error = Error;
    type SerializeSeq = SeqSer<'a, B>;
    type SerializeTuple = ListSer<'a, B>;
    type SerializeTupleStruct = TupleStructSer<'a, B>;
    type SerializeTupleVariant = TupleVariantSer<'a, B>;
    type SerializeMap = MapSer<'a, B>;
    type SerializeStruct = StructSer<'a, B>;
    type SerializeStructVariant = StructVariantSer<'a, B>;

    fn serialize_bool(self, v: bool) -> Result<()> {
        self.write_bool(v);
        Ok(())
    }
    fn serialize_i8(self, v: i8) -> Result<()> {
        self.write_int(i32::from(v));
        Ok(())
    }
    fn serialize_i16(self, v: i16) -> Result<()> {
        self.write_int(i32::from(v));
        Ok(())
    }
    fn serialize_i32(self, v: i32) -> Result<()> {
        self.write_int(v);
        Ok(())
    }
    fn serialize_i64(self, v: i64) -> Result<()> {
        self.write_long(v);
        Ok(())
    }
    fn serialize_i128(self, v: i128) -> Result<()> {
        let v = i64::try_from(v)
            .map_err(|_| Error::new(ErrorKind::Unsupported, "i128 value out of long range"))?;
        self.write_long(v);
        Ok(())
    }
    fn serialize_u8(self, v: u8) -> Result<()> {
        self.write_int(i32::from(v));
        Ok(())
    }
    fn serialize_u16(self, v: u16) -> Result<()> {
        self.write_int(i32::from(v));
        Ok(())
    }
    fn serialize_u32(self, v: u32) -> Result<()> {
        self.write_long(i64::from(v));
        Ok(())
    }
    fn serialize_u64(self, v: u64) -> Result<()> {
        let v = i64::try_from(v)
            .map_err(|_| Error::new(ErrorKind::Unsupported, "u64 value above i64::MAX"))?;
        self.write_long(v);
        Ok(())
    }
    fn serialize_u128(self, v: u128) -> Result<()> {
        let v = i64::try_from(v)
            .map_err(|_| Error::new(ErrorKind::Unsupported, "u128 value above i64::MAX"))?;
        self.write_long(v);
        Ok(())
    }
    fn serialize_f32(self, v: f32) -> Result<()> {
        self.write_double(f64::from(v));
        Ok(())
    }
    fn serialize_f64(self, v: f64) -> Result<()> {
        self.write_double(v);
        Ok(())
    }
    fn serialize_char(self, v: char) -> Result<()> {
        let mut b = [0u8; 4];
        self.write_str(v.encode_utf8(&mut b));
        Ok(())
    }
    fn serialize_str(self, v: &str) -> Result<()> {
        self.write_str(v);
        Ok(())
    }
    fn serialize_bytes(self, v: &[u8]) -> Result<()> {
        self.write_bytes(v);
        Ok(())
    }
    fn serialize_none(self) -> Result<()> {
        self.write_null();
        Ok(())
    }
    fn serialize_some<T: Serialize + ?Sized>(self, value: &T) -> Result<()> {
        value.serialize(self)
    }
    fn serialize_unit(self) -> Result<()> {
        self.write_null();
        Ok(())
    }
    fn serialize_unit_struct(self, _name: &'static str) -> Result<()> {
        self.write_null();
        Ok(())
    }
    fn serialize_unit_variant(
        self,
        name: &'static str,
        _variant_index: u32,
        variant: &'static str,
    ) -> Result<()> {
        // Java EnumSerializer: class definition with the single field `name`.
        let mut obj = self.begin_object_named(Name::Static(name))?;
        self.object_field_named(&mut obj, Name::Static("name"))?;
        self.write_str(variant);
        self.end_object(obj)
    }
    fn serialize_newtype_struct<T: Serialize + ?Sized>(
        self,
        name: &'static str,
        value: &T,
    ) -> Result<()> {
        if name == magic::DATE {
            let ms = Probe::i64(value)?;
            self.write_date(ms);
            Ok(())
        } else if name == magic::REF {
            let levels = Probe::u32(value)?;
            self.write_ref_to_enclosing(levels)
        } else {
            value.serialize(self)
        }
    }
    fn serialize_newtype_variant<T: Serialize + ?Sized>(
        self,
        _name: &'static str,
        _variant_index: u32,
        variant: &'static str,
        value: &T,
    ) -> Result<()> {
        let map = self.begin_map(None)?;
        self.write_str(variant);
        value.serialize(&mut *self)?;
        self.end_map(map)
    }
    fn serialize_seq(self, len: Option<usize>) -> Result<SeqSer<'a, B>> {
        match std::mem::take(&mut self.pending) {
            Pending::ListType(t) => {
                let len = len.ok_or_else(|| {
                    Error::new(ErrorKind::Unsupported, "typed list needs a known length")
                })?;
                let token = self.begin_list(len, Some(&t))?;
                Ok(SeqSer {
                    enc: self,
                    state: SeqState::List(ListState::Known { token, written: 0 }),
                })
            }
            Pending::None => Ok(SeqSer {
                enc: self,
                state: SeqState::Undecided { len },
            }),
            other => Err(misplaced(other)),
        }
    }
    fn serialize_tuple(self, len: usize) -> Result<ListSer<'a, B>> {
        let token = self.begin_list(len, None)?;
        Ok(ListSer { enc: self, token })
    }
    fn serialize_tuple_struct(
        self,
        name: &'static str,
        len: usize,
    ) -> Result<TupleStructSer<'a, B>> {
        let kind = if name == magic::TYPED_LIST {
            MagicKind::TypedList
        } else if name == magic::TYPED_MAP {
            MagicKind::TypedMap
        } else if name == magic::OBJECT {
            MagicKind::Object
        } else {
            let token = self.begin_list(len, None)?;
            return Ok(TupleStructSer(TupleStructInner::Plain(ListSer {
                enc: self,
                token,
            })));
        };
        Ok(TupleStructSer(TupleStructInner::Magic {
            enc: self,
            kind,
            name: None,
        }))
    }
    fn serialize_tuple_variant(
        self,
        _name: &'static str,
        _variant_index: u32,
        variant: &'static str,
        len: usize,
    ) -> Result<TupleVariantSer<'a, B>> {
        let map = self.begin_map(None)?;
        self.write_str(variant);
        let list = self.begin_list(len, None)?;
        Ok(TupleVariantSer {
            enc: self,
            map,
            list,
        })
    }
    fn serialize_map(self, _len: Option<usize>) -> Result<MapSer<'a, B>> {
        match std::mem::take(&mut self.pending) {
            Pending::None => {
                let token = self.begin_map(None)?;
                Ok(MapSer {
                    enc: self,
                    mode: MapMode::Map(token),
                })
            }
            Pending::MapType(t) => {
                let token = self.begin_map(Some(&t))?;
                Ok(MapSer {
                    enc: self,
                    mode: MapMode::Map(token),
                })
            }
            Pending::ObjectFields(class) => {
                let obj = self.begin_object_named(Name::Borrowed(&class))?;
                Ok(MapSer {
                    enc: self,
                    mode: MapMode::Object(obj),
                })
            }
            other => Err(misplaced(other)),
        }
    }
    fn serialize_struct(self, name: &'static str, _len: usize) -> Result<StructSer<'a, B>> {
        let obj = self.begin_object_named(Name::Static(name))?;
        Ok(StructSer { enc: self, obj })
    }
    fn serialize_struct_variant(
        self,
        _name: &'static str,
        _variant_index: u32,
        variant: &'static str,
        _len: usize,
    ) -> Result<StructVariantSer<'a, B>> {
        let outer = self.begin_map(None)?;
        self.write_str(variant);
        let inner = self.begin_map(None)?;
        Ok(StructVariantSer {
            enc: self,
            outer,
            inner,
        })
    }
}

pub(crate) fn misplaced(p: Pending) -> Error {
    Error::new(
        ErrorKind::Unsupported,
        format!("internal Value wrapper used outside its protocol: {p:?}"),
    )
}
