//! A serializer that extracts a single scalar from a `Serialize` value.
//!
//! Used to look at a value without writing it: to find out whether the elements of
//! a sequence are `u8` (then the sequence is written as a Hessian binary), and to
//! read the class name / type name / field names handed over by the `Value` magic
//! wrappers.

use serde::ser::{self, Impossible, Serialize};

use crate::error::{Error, ErrorKind, Result};

/// What the probe should accept.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(super) enum Want {
    U8,
    Str,
    I64,
    U32,
}

/// The scalar found by a [`Probe`].
pub(super) enum Found {
    U8(u8),
    Str(String),
    I64(i64),
    U32(u32),
}

pub(super) struct Probe(pub Want);

impl Probe {
    pub(crate) fn str<T: Serialize + ?Sized>(v: &T) -> Result<String> {
        match v.serialize(Probe(Want::Str))? {
            Found::Str(s) => Ok(s),
            _ => Err(mismatch()),
        }
    }
    pub(crate) fn i64<T: Serialize + ?Sized>(v: &T) -> Result<i64> {
        match v.serialize(Probe(Want::I64))? {
            Found::I64(i) => Ok(i),
            _ => Err(mismatch()),
        }
    }
    pub(crate) fn u32<T: Serialize + ?Sized>(v: &T) -> Result<u32> {
        match v.serialize(Probe(Want::U32))? {
            Found::U32(i) => Ok(i),
            _ => Err(mismatch()),
        }
    }
    /// `Some(byte)` if the value serializes as a `u8`, `None` otherwise.
    pub(crate) fn u8<T: Serialize + ?Sized>(v: &T) -> Option<u8> {
        match v.serialize(Probe(Want::U8)) {
            Ok(Found::U8(b)) => Some(b),
            _ => None,
        }
    }
}

fn mismatch() -> Error {
    Error::new(ErrorKind::TypeMismatch, "unexpected value kind")
}

macro_rules! reject {
    ($($name:ident($($arg:ty),*);)*) => {
        $(
            fn $name(self, $(_: $arg),*) -> Result<Found> {
                Err(mismatch())
            }
        )*
    };
}

impl ser::Serializer for Probe {
    type Ok = Found;
    type Error = Error;
    type SerializeSeq = Impossible<Found, Error>;
    type SerializeTuple = Impossible<Found, Error>;
    type SerializeTupleStruct = Impossible<Found, Error>;
    type SerializeTupleVariant = Impossible<Found, Error>;
    type SerializeMap = Impossible<Found, Error>;
    type SerializeStruct = Impossible<Found, Error>;
    type SerializeStructVariant = Impossible<Found, Error>;

    fn serialize_u8(self, v: u8) -> Result<Found> {
        match self.0 {
            Want::U8 => Ok(Found::U8(v)),
            Want::I64 => Ok(Found::I64(i64::from(v))),
            Want::U32 => Ok(Found::U32(u32::from(v))),
            Want::Str => Err(mismatch()),
        }
    }
    fn serialize_str(self, v: &str) -> Result<Found> {
        match self.0 {
            Want::Str => Ok(Found::Str(v.to_owned())),
            _ => Err(mismatch()),
        }
    }
    fn serialize_i64(self, v: i64) -> Result<Found> {
        match self.0 {
            Want::I64 => Ok(Found::I64(v)),
            Want::U32 => u32::try_from(v).map(Found::U32).map_err(|_| mismatch()),
            _ => Err(mismatch()),
        }
    }
    fn serialize_i32(self, v: i32) -> Result<Found> {
        match self.0 {
            Want::I64 | Want::U32 => self.serialize_i64(i64::from(v)),
            _ => Err(mismatch()),
        }
    }
    fn serialize_u32(self, v: u32) -> Result<Found> {
        match self.0 {
            Want::U32 => Ok(Found::U32(v)),
            Want::I64 => Ok(Found::I64(i64::from(v))),
            _ => Err(mismatch()),
        }
    }
    fn serialize_u64(self, v: u64) -> Result<Found> {
        match self.0 {
            Want::U32 => u32::try_from(v).map(Found::U32).map_err(|_| mismatch()),
            Want::I64 => i64::try_from(v).map(Found::I64).map_err(|_| mismatch()),
            _ => Err(mismatch()),
        }
    }
    fn serialize_newtype_struct<T: Serialize + ?Sized>(
        self,
        _name: &'static str,
        value: &T,
    ) -> Result<Found> {
        value.serialize(self)
    }

    reject! {
        serialize_bool(bool);
        serialize_i8(i8);
        serialize_i16(i16);
        serialize_u16(u16);
        serialize_f32(f32);
        serialize_f64(f64);
        serialize_char(char);
        serialize_bytes(&[u8]);
        serialize_none();
        serialize_unit();
        serialize_unit_struct(&'static str);
        serialize_unit_variant(&'static str, u32, &'static str);
    }

    fn serialize_some<T: Serialize + ?Sized>(self, _value: &T) -> Result<Found> {
        Err(mismatch())
    }
    fn serialize_newtype_variant<T: Serialize + ?Sized>(
        self,
        _name: &'static str,
        _variant_index: u32,
        _variant: &'static str,
        _value: &T,
    ) -> Result<Found> {
        Err(mismatch())
    }
    fn serialize_seq(self, _len: Option<usize>) -> Result<Self::SerializeSeq> {
        Err(mismatch())
    }
    fn serialize_tuple(self, _len: usize) -> Result<Self::SerializeTuple> {
        Err(mismatch())
    }
    fn serialize_tuple_struct(
        self,
        _name: &'static str,
        _len: usize,
    ) -> Result<Self::SerializeTupleStruct> {
        Err(mismatch())
    }
    fn serialize_tuple_variant(
        self,
        _name: &'static str,
        _variant_index: u32,
        _variant: &'static str,
        _len: usize,
    ) -> Result<Self::SerializeTupleVariant> {
        Err(mismatch())
    }
    fn serialize_map(self, _len: Option<usize>) -> Result<Self::SerializeMap> {
        Err(mismatch())
    }
    fn serialize_struct(self, _name: &'static str, _len: usize) -> Result<Self::SerializeStruct> {
        Err(mismatch())
    }
    fn serialize_struct_variant(
        self,
        _name: &'static str,
        _variant_index: u32,
        _variant: &'static str,
        _len: usize,
    ) -> Result<Self::SerializeStructVariant> {
        Err(mismatch())
    }
}
