//! serde access objects of the deserializer (sequences, maps, objects, enums,
//! bytes) and the `Value` protocol (see `value_serde.rs`).

use std::borrow::Cow;

use serde::de::{self, value::BorrowedStrDeserializer, DeserializeSeed, IntoDeserializer, Visitor};

use crate::de::invalid;
use crate::decoder::Decoder;
use crate::error::{Error, Result};
use crate::value_serde::magic;

// ----------------------------------------------------------------- accesses

pub(crate) struct ListAccess<'a, 'de> {
    pub(crate) de: &'a mut Decoder<'de>,
    pub(crate) remaining: Option<usize>,
}

impl<'de> de::SeqAccess<'de> for ListAccess<'_, 'de> {
    type Error = Error;

    fn next_element_seed<T: DeserializeSeed<'de>>(&mut self, seed: T) -> Result<Option<T::Value>> {
        match &mut self.remaining {
            Some(0) => return Ok(None),
            Some(n) => *n -= 1,
            None if self.de.at_end_tag() => return Ok(None),
            None => {}
        }
        seed.deserialize(&mut *self.de).map(Some)
    }

    fn size_hint(&self) -> Option<usize> {
        self.remaining.map(|n| n.min(self.de.remaining()))
    }
}

pub(crate) struct MapAccess<'a, 'de> {
    pub(crate) de: &'a mut Decoder<'de>,
}

impl<'de> de::MapAccess<'de> for MapAccess<'_, 'de> {
    type Error = Error;

    fn next_key_seed<K: DeserializeSeed<'de>>(&mut self, seed: K) -> Result<Option<K::Value>> {
        if self.de.at_end_tag() {
            return Ok(None);
        }
        seed.deserialize(&mut *self.de).map(Some)
    }

    fn next_value_seed<V: DeserializeSeed<'de>>(&mut self, seed: V) -> Result<V::Value> {
        seed.deserialize(&mut *self.de)
    }
}

pub(crate) struct ObjectAccess<'a, 'de> {
    pub(crate) de: &'a mut Decoder<'de>,
    pub(crate) def: usize,
    pub(crate) next: usize,
}

impl<'de> de::MapAccess<'de> for ObjectAccess<'_, 'de> {
    type Error = Error;

    fn next_key_seed<K: DeserializeSeed<'de>>(&mut self, seed: K) -> Result<Option<K::Value>> {
        field_key(self.de, self.def, self.next, seed)
    }

    fn next_value_seed<V: DeserializeSeed<'de>>(&mut self, seed: V) -> Result<V::Value> {
        self.next += 1;
        seed.deserialize(&mut *self.de)
    }

    fn size_hint(&self) -> Option<usize> {
        Some(self.de.field_count(self.def).saturating_sub(self.next))
    }
}

pub(crate) fn field_key<'de, K: DeserializeSeed<'de>>(
    de: &Decoder<'de>,
    def: usize,
    i: usize,
    seed: K,
) -> Result<Option<K::Value>> {
    match de.field_cow(def, i) {
        None => Ok(None),
        Some(Cow::Borrowed(name)) => seed
            .deserialize(BorrowedStrDeserializer::<Error>::new(name))
            .map(Some),
        Some(Cow::Owned(name)) => seed
            .deserialize(de::value::StrDeserializer::<Error>::new(name))
            .map(Some),
    }
}

pub(crate) struct BytesSeq<'de> {
    pub(crate) bytes: Cow<'de, [u8]>,
    pub(crate) pos: usize,
}

impl<'de> de::SeqAccess<'de> for BytesSeq<'de> {
    type Error = Error;

    fn next_element_seed<T: DeserializeSeed<'de>>(&mut self, seed: T) -> Result<Option<T::Value>> {
        match self.bytes.get(self.pos) {
            Some(&b) => {
                self.pos += 1;
                seed.deserialize(b.into_deserializer()).map(Some)
            }
            None => Ok(None),
        }
    }

    fn size_hint(&self) -> Option<usize> {
        Some(self.bytes.len().saturating_sub(self.pos))
    }
}

/// `{variant: content}` enum representation.
pub(crate) struct VariantMap<'a, 'de> {
    pub(crate) de: &'a mut Decoder<'de>,
}

impl<'a, 'de> de::EnumAccess<'de> for VariantMap<'a, 'de> {
    type Error = Error;
    type Variant = Self;

    fn variant_seed<V: DeserializeSeed<'de>>(self, seed: V) -> Result<(V::Value, Self)> {
        if self.de.at_end_tag() {
            return Err(invalid("empty map where an enum is expected"));
        }
        let v = seed.deserialize(&mut *self.de)?;
        Ok((v, self))
    }
}

impl<'de> de::VariantAccess<'de> for VariantMap<'_, 'de> {
    type Error = Error;

    fn unit_variant(self) -> Result<()> {
        self.de.skip_value()
    }

    fn newtype_variant_seed<T: DeserializeSeed<'de>>(self, seed: T) -> Result<T::Value> {
        seed.deserialize(&mut *self.de)
    }

    fn tuple_variant<V: Visitor<'de>>(self, _len: usize, visitor: V) -> Result<V::Value> {
        de::Deserializer::deserialize_seq(&mut *self.de, visitor)
    }

    fn struct_variant<V: Visitor<'de>>(
        self,
        _fields: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value> {
        de::Deserializer::deserialize_any(&mut *self.de, visitor)
    }
}

// ------------------------------------------------------------- Value magic

pub(crate) enum Magic<'de> {
    Date(i64),
    Ref(u32),
    TypedList {
        ty: Cow<'de, str>,
        remaining: Option<usize>,
    },
    /// Type name, empty for untyped maps.
    Map(Cow<'de, str>),
    Object {
        def: usize,
        next: usize,
    },
}

pub(crate) struct MagicAccess<'a, 'de> {
    pub(crate) de: &'a mut Decoder<'de>,
    pub(crate) kind: Magic<'de>,
    pub(crate) step: u8,
}

pub(crate) fn cow_str<'de, S: DeserializeSeed<'de>>(
    s: &Cow<'de, str>,
    seed: S,
) -> Result<S::Value> {
    match s {
        Cow::Borrowed(b) => seed.deserialize(BorrowedStrDeserializer::<Error>::new(b)),
        Cow::Owned(o) => seed.deserialize(de::value::StrDeserializer::<Error>::new(o)),
    }
}

impl<'de> de::MapAccess<'de> for MagicAccess<'_, 'de> {
    type Error = Error;

    fn next_key_seed<K: DeserializeSeed<'de>>(&mut self, seed: K) -> Result<Option<K::Value>> {
        let marker = match (&self.kind, self.step) {
            (Magic::Date(_), 0) => magic::K_DATE,
            (Magic::Ref(_), 0) => magic::K_REF,
            (Magic::TypedList { .. }, 0) => magic::K_LIST,
            (Magic::TypedList { .. }, 1) => magic::K_ITEMS,
            (Magic::Map(_), 0) => magic::K_MAP,
            (Magic::Object { .. }, 0) => magic::K_OBJECT,
            (Magic::Map(_), _) => {
                if self.de.at_end_tag() {
                    return Ok(None);
                }
                return seed.deserialize(&mut *self.de).map(Some);
            }
            (Magic::Object { def, next }, _) => return field_key(self.de, *def, *next, seed),
            _ => return Ok(None),
        };
        seed.deserialize(BorrowedStrDeserializer::<Error>::new(marker))
            .map(Some)
    }

    fn next_value_seed<V: DeserializeSeed<'de>>(&mut self, seed: V) -> Result<V::Value> {
        let step = self.step;
        self.step = self.step.saturating_add(1);
        match (&mut self.kind, step) {
            (Magic::Date(ms), 0) => seed.deserialize((*ms).into_deserializer()),
            (Magic::Ref(levels), 0) => seed.deserialize((*levels).into_deserializer()),
            (Magic::TypedList { ty, .. }, 0) => cow_str(ty, seed),
            (Magic::TypedList { remaining, .. }, 1) => {
                let mut acc = ListAccess {
                    de: &mut *self.de,
                    remaining: *remaining,
                };
                let v = seed.deserialize(SeqDeserializer(&mut acc));
                *remaining = acc.remaining;
                v
            }
            (Magic::Map(ty), 0) => cow_str(ty, seed),
            (Magic::Object { def, .. }, 0) => {
                let def = *def;
                match self.de.class_cow(def) {
                    Some(name) => cow_str(name, seed),
                    None => Err(invalid("unknown class definition")),
                }
            }
            (Magic::Object { next, .. }, _) => {
                *next += 1;
                seed.deserialize(&mut *self.de)
            }
            (Magic::Map(_), _) => seed.deserialize(&mut *self.de),
            _ => Err(invalid("unexpected Value protocol step")),
        }
    }
}

/// Presents a list as a sequence to whatever the seed asks for.
pub(crate) struct SeqDeserializer<'x, 'a, 'de>(&'x mut ListAccess<'a, 'de>);

impl<'de> de::Deserializer<'de> for SeqDeserializer<'_, '_, 'de> {
    type Error = Error;

    fn deserialize_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value> {
        visitor.visit_seq(&mut *self.0)
    }

    serde::forward_to_deserialize_any! {
        bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string
        bytes byte_buf option unit unit_struct newtype_struct seq tuple
        tuple_struct map struct enum identifier ignored_any
    }
}
