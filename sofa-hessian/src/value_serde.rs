//! `Serialize`/`Deserialize` for [`Value`].
//!
//! serde has no notion of dates, typed lists/maps or Java class names, so `Value`
//! talks to this module's own serializer and deserializer through private "magic"
//! names that they recognise:
//!
//! * serializing: dates and back-references are newtype structs, typed lists, typed
//!   maps and objects are tuple structs `(type or class, content)`;
//! * deserializing: `Value` asks for a newtype struct; this module's deserializer
//!   then presents dates, references, typed lists, maps and objects as maps whose
//!   first key is a magic marker.
//!
//! Other serializers see plain data (a date is an `i64`, an object is a
//! `(class, {field: value})` tuple, ...) and other deserializers produce untyped
//! values, which is the best a format without those notions can do.

use std::fmt;

use serde::de::{self, MapAccess, SeqAccess, Visitor};
use serde::ser::{self, SerializeMap, SerializeTupleStruct};

use crate::value::Value;

/// Private names shared by `Value`, `ser.rs` and `de.rs`.
pub(super) mod magic {
    pub(crate) const DATE: &str = "\0hessian::Date";
    pub(crate) const REF: &str = "\0hessian::Ref";
    pub(crate) const TYPED_LIST: &str = "\0hessian::TypedList";
    pub(crate) const TYPED_MAP: &str = "\0hessian::TypedMap";
    pub(crate) const OBJECT: &str = "\0hessian::Object";
    pub(crate) const VALUE: &str = "\0hessian::Value";

    pub(crate) const K_DATE: &str = "\0hessian:date";
    pub(crate) const K_REF: &str = "\0hessian:ref";
    pub(crate) const K_LIST: &str = "\0hessian:list";
    pub(crate) const K_ITEMS: &str = "\0hessian:items";
    pub(crate) const K_MAP: &str = "\0hessian:map";
    pub(crate) const K_OBJECT: &str = "\0hessian:object";
}

struct Entries<'v>(&'v [(Value, Value)]);

impl ser::Serialize for Entries<'_> {
    fn serialize<S: ser::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut m = s.serialize_map(Some(self.0.len()))?;
        for (k, v) in self.0 {
            m.serialize_entry(k, v)?;
        }
        m.end()
    }
}

struct Fields<'v>(&'v [(String, Value)]);

impl ser::Serialize for Fields<'_> {
    fn serialize<S: ser::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut m = s.serialize_map(Some(self.0.len()))?;
        for (k, v) in self.0 {
            m.serialize_entry(k, v)?;
        }
        m.end()
    }
}

impl ser::Serialize for Value {
    fn serialize<S: ser::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            Value::Null => s.serialize_unit(),
            Value::Bool(b) => s.serialize_bool(*b),
            Value::Int(i) => s.serialize_i32(*i),
            Value::Long(l) => s.serialize_i64(*l),
            Value::Double(d) => s.serialize_f64(*d),
            Value::Date(ms) => s.serialize_newtype_struct(magic::DATE, ms),
            Value::String(v) => s.serialize_str(v),
            Value::Binary(b) => s.serialize_bytes(b),
            Value::List {
                type_name: None,
                items,
            } => s.collect_seq(items),
            Value::List {
                type_name: Some(t),
                items,
            } => {
                let mut ts = s.serialize_tuple_struct(magic::TYPED_LIST, 2)?;
                ts.serialize_field(t)?;
                ts.serialize_field(items)?;
                ts.end()
            }
            Value::Map {
                type_name: None,
                entries,
            } => Entries(entries).serialize(s),
            Value::Map {
                type_name: Some(t),
                entries,
            } => {
                let mut ts = s.serialize_tuple_struct(magic::TYPED_MAP, 2)?;
                ts.serialize_field(t)?;
                ts.serialize_field(&Entries(entries))?;
                ts.end()
            }
            Value::Object { class, fields } => {
                let mut ts = s.serialize_tuple_struct(magic::OBJECT, 2)?;
                ts.serialize_field(class)?;
                ts.serialize_field(&Fields(fields))?;
                ts.end()
            }
            Value::Ref(levels) => s.serialize_newtype_struct(magic::REF, levels),
        }
    }
}

impl<'de> de::Deserialize<'de> for Value {
    fn deserialize<D: de::Deserializer<'de>>(d: D) -> Result<Value, D::Error> {
        d.deserialize_newtype_struct(magic::VALUE, ValueVisitor)
    }
}

pub(super) struct ValueVisitor;

impl<'de> Visitor<'de> for ValueVisitor {
    type Value = Value;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("any Hessian value")
    }

    fn visit_bool<E>(self, v: bool) -> Result<Value, E> {
        Ok(Value::Bool(v))
    }
    fn visit_i8<E>(self, v: i8) -> Result<Value, E> {
        Ok(Value::Int(i32::from(v)))
    }
    fn visit_i16<E>(self, v: i16) -> Result<Value, E> {
        Ok(Value::Int(i32::from(v)))
    }
    fn visit_i32<E>(self, v: i32) -> Result<Value, E> {
        Ok(Value::Int(v))
    }
    fn visit_i64<E>(self, v: i64) -> Result<Value, E> {
        Ok(Value::Long(v))
    }
    fn visit_u8<E>(self, v: u8) -> Result<Value, E> {
        Ok(Value::Int(i32::from(v)))
    }
    fn visit_u16<E>(self, v: u16) -> Result<Value, E> {
        Ok(Value::Int(i32::from(v)))
    }
    fn visit_u32<E>(self, v: u32) -> Result<Value, E> {
        Ok(Value::Long(i64::from(v)))
    }
    fn visit_u64<E: de::Error>(self, v: u64) -> Result<Value, E> {
        i64::try_from(v)
            .map(Value::Long)
            .map_err(|_| E::custom("integer above i64::MAX"))
    }
    fn visit_f32<E>(self, v: f32) -> Result<Value, E> {
        Ok(Value::Double(f64::from(v)))
    }
    fn visit_f64<E>(self, v: f64) -> Result<Value, E> {
        Ok(Value::Double(v))
    }
    fn visit_char<E>(self, v: char) -> Result<Value, E> {
        Ok(Value::String(v.to_string()))
    }
    fn visit_str<E>(self, v: &str) -> Result<Value, E> {
        Ok(Value::String(v.to_owned()))
    }
    fn visit_string<E>(self, v: String) -> Result<Value, E> {
        Ok(Value::String(v))
    }
    fn visit_bytes<E>(self, v: &[u8]) -> Result<Value, E> {
        Ok(Value::Binary(v.to_vec()))
    }
    fn visit_byte_buf<E>(self, v: Vec<u8>) -> Result<Value, E> {
        Ok(Value::Binary(v))
    }
    fn visit_none<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }
    fn visit_unit<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }
    fn visit_some<D: de::Deserializer<'de>>(self, d: D) -> Result<Value, D::Error> {
        de::Deserialize::deserialize(d)
    }
    fn visit_newtype_struct<D: de::Deserializer<'de>>(self, d: D) -> Result<Value, D::Error> {
        d.deserialize_any(ValueVisitor)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Value, A::Error> {
        let mut items = Vec::with_capacity(seq.size_hint().unwrap_or(0).min(4096));
        while let Some(v) = seq.next_element::<Value>()? {
            items.push(v);
        }
        Ok(Value::List {
            type_name: None,
            items,
        })
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Value, A::Error> {
        let Some(first) = map.next_key::<Value>()? else {
            return Ok(Value::Map {
                type_name: None,
                entries: Vec::new(),
            });
        };
        if let Value::String(k) = &first {
            match k.as_str() {
                magic::K_DATE => return Ok(Value::Date(map.next_value()?)),
                magic::K_REF => return Ok(Value::Ref(map.next_value()?)),
                magic::K_LIST => {
                    let ty: String = map.next_value()?;
                    let mut items = Vec::new();
                    if map.next_key::<Value>()?.is_some() {
                        items = map.next_value()?;
                    }
                    return Ok(Value::List {
                        type_name: Some(ty),
                        items,
                    });
                }
                magic::K_MAP => {
                    let ty: String = map.next_value()?;
                    let mut entries = Vec::new();
                    while let Some(k) = map.next_key::<Value>()? {
                        entries.push((k, map.next_value()?));
                    }
                    return Ok(Value::Map {
                        type_name: (!ty.is_empty()).then_some(ty),
                        entries,
                    });
                }
                magic::K_OBJECT => {
                    let class: String = map.next_value()?;
                    let mut fields = Vec::new();
                    while let Some(k) = map.next_key::<String>()? {
                        fields.push((k, map.next_value()?));
                    }
                    return Ok(Value::Object { class, fields });
                }
                _ => {}
            }
        }
        let mut entries = vec![(first, map.next_value()?)];
        while let Some(k) = map.next_key::<Value>()? {
            entries.push((k, map.next_value()?));
        }
        Ok(Value::Map {
            type_name: None,
            entries,
        })
    }
}
