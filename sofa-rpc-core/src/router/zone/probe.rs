//! Reading one scalar out of a serde value by a field path, without building the value:
//! a serializer that follows the path and keeps only the scalar at its end, as text.

use std::fmt;

use serde::ser::{self, Serialize};

/// The scalar at `path` inside `value` as text, if there is one.
pub(crate) fn scalar_at(value: &dyn erased_serde::Serialize, path: &[Box<str>]) -> Option<String> {
    erased_serde::serialize(value, Probe { path })
        .ok()
        .flatten()
}

/// Never raised by the probe itself; serde's API needs an error type.
#[derive(Debug)]
pub(crate) struct Stop;

impl fmt::Display for Stop {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("not a routing key")
    }
}

impl std::error::Error for Stop {}

impl ser::Error for Stop {
    fn custom<T: fmt::Display>(_: T) -> Self {
        Stop
    }
}

type Found = Option<String>;

/// Follows `path`; at its end a scalar is the answer, anything else is none.
struct Probe<'p> {
    path: &'p [Box<str>],
}

impl Probe<'_> {
    fn leaf(self, text: impl FnOnce() -> String) -> Result<Found, Stop> {
        Ok(self.path.is_empty().then(text))
    }
}

/// A compound value on the path: a field, entry or element matching the next segment holds
/// the answer.
struct Inner<'p> {
    path: &'p [Box<str>],
    found: Found,
    /// The next element's index, for sequences.
    index: usize,
}

impl<'p> Inner<'p> {
    fn new(path: &'p [Box<str>]) -> Self {
        Inner {
            path,
            found: None,
            index: 0,
        }
    }

    fn visit<T: Serialize + ?Sized>(&mut self, name: &str, value: &T) {
        if self.found.is_some() {
            return;
        }
        if let Some((head, rest)) = self.path.split_first() {
            if head.as_ref() == name {
                self.found = value.serialize(Probe { path: rest }).ok().flatten();
            }
        }
    }

    fn element<T: Serialize + ?Sized>(&mut self, value: &T) {
        let index = self.index;
        self.index += 1;
        if self.found.is_none() {
            if let Some((head, rest)) = self.path.split_first() {
                if head.parse::<usize>().ok() == Some(index) {
                    self.found = value.serialize(Probe { path: rest }).ok().flatten();
                }
            }
        }
    }
}

macro_rules! scalars {
    ($($method:ident: $ty:ty),* $(,)?) => {
        $(fn $method(self, v: $ty) -> Result<Found, Stop> {
            self.leaf(|| v.to_string())
        })*
    };
}

impl<'p> ser::Serializer for Probe<'p> {
    type Ok = Found;
    type Error = Stop;
    type SerializeSeq = Inner<'p>;
    type SerializeTuple = Inner<'p>;
    type SerializeTupleStruct = Inner<'p>;
    type SerializeTupleVariant = Inner<'p>;
    type SerializeMap = MapProbe<'p>;
    type SerializeStruct = Inner<'p>;
    type SerializeStructVariant = Inner<'p>;

    scalars!(
        serialize_bool: bool, serialize_i8: i8, serialize_i16: i16, serialize_i32: i32,
        serialize_i64: i64, serialize_i128: i128, serialize_u8: u8, serialize_u16: u16,
        serialize_u32: u32, serialize_u64: u64, serialize_u128: u128, serialize_f32: f32,
        serialize_f64: f64, serialize_char: char, serialize_str: &str,
    );

    fn serialize_bytes(self, _: &[u8]) -> Result<Found, Stop> {
        Ok(None)
    }

    fn serialize_none(self) -> Result<Found, Stop> {
        Ok(None)
    }

    fn serialize_some<T: Serialize + ?Sized>(self, value: &T) -> Result<Found, Stop> {
        value.serialize(self)
    }

    fn serialize_unit(self) -> Result<Found, Stop> {
        Ok(None)
    }

    fn serialize_unit_struct(self, _: &'static str) -> Result<Found, Stop> {
        Ok(None)
    }

    fn serialize_unit_variant(
        self,
        _: &'static str,
        _: u32,
        v: &'static str,
    ) -> Result<Found, Stop> {
        self.leaf(|| v.to_string())
    }

    fn serialize_newtype_struct<T: Serialize + ?Sized>(
        self,
        _: &'static str,
        value: &T,
    ) -> Result<Found, Stop> {
        value.serialize(self)
    }

    fn serialize_newtype_variant<T: Serialize + ?Sized>(
        self,
        _: &'static str,
        _: u32,
        _: &'static str,
        value: &T,
    ) -> Result<Found, Stop> {
        value.serialize(self)
    }

    fn serialize_seq(self, _: Option<usize>) -> Result<Inner<'p>, Stop> {
        Ok(Inner::new(self.path))
    }

    fn serialize_tuple(self, _: usize) -> Result<Inner<'p>, Stop> {
        Ok(Inner::new(self.path))
    }

    fn serialize_tuple_struct(self, _: &'static str, _: usize) -> Result<Inner<'p>, Stop> {
        Ok(Inner::new(self.path))
    }

    fn serialize_tuple_variant(
        self,
        _: &'static str,
        _: u32,
        _: &'static str,
        _: usize,
    ) -> Result<Inner<'p>, Stop> {
        Ok(Inner::new(self.path))
    }

    fn serialize_map(self, _: Option<usize>) -> Result<MapProbe<'p>, Stop> {
        Ok(MapProbe {
            inner: Inner::new(self.path),
            key: None,
        })
    }

    fn serialize_struct(self, _: &'static str, _: usize) -> Result<Inner<'p>, Stop> {
        Ok(Inner::new(self.path))
    }

    fn serialize_struct_variant(
        self,
        _: &'static str,
        _: u32,
        _: &'static str,
        _: usize,
    ) -> Result<Inner<'p>, Stop> {
        Ok(Inner::new(self.path))
    }
}

macro_rules! elements {
    ($($trait:ident :: $method:ident),* $(,)?) => {
        $(impl ser::$trait for Inner<'_> {
            type Ok = Found;
            type Error = Stop;

            fn $method<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), Stop> {
                self.element(value);
                Ok(())
            }

            fn end(self) -> Result<Found, Stop> {
                Ok(self.found)
            }
        })*
    };
}

elements!(
    SerializeSeq::serialize_element,
    SerializeTuple::serialize_element,
    SerializeTupleStruct::serialize_field,
    SerializeTupleVariant::serialize_field,
);

macro_rules! fields {
    ($($trait:ident),* $(,)?) => {
        $(impl ser::$trait for Inner<'_> {
            type Ok = Found;
            type Error = Stop;

            fn serialize_field<T: Serialize + ?Sized>(
                &mut self,
                name: &'static str,
                value: &T,
            ) -> Result<(), Stop> {
                self.visit(name, value);
                Ok(())
            }

            fn end(self) -> Result<Found, Stop> {
                Ok(self.found)
            }
        })*
    };
}

fields!(SerializeStruct, SerializeStructVariant);

/// A map on the path: the entry whose key, as text, is the next segment.
pub(crate) struct MapProbe<'p> {
    inner: Inner<'p>,
    key: Option<String>,
}

impl ser::SerializeMap for MapProbe<'_> {
    type Ok = Found;
    type Error = Stop;

    fn serialize_key<T: Serialize + ?Sized>(&mut self, key: &T) -> Result<(), Stop> {
        self.key = if self.inner.found.is_none() {
            key.serialize(Probe { path: &[] }).ok().flatten()
        } else {
            None
        };
        Ok(())
    }

    fn serialize_value<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), Stop> {
        if let Some(key) = self.key.take() {
            self.inner.visit(&key, value);
        }
        Ok(())
    }

    fn end(self) -> Result<Found, Stop> {
        Ok(self.inner.found)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeMap;

    #[derive(serde::Serialize)]
    struct User {
        name: String,
        id: u64,
        tags: Vec<String>,
        extra: BTreeMap<String, i32>,
        home: Option<Address>,
    }

    #[derive(serde::Serialize)]
    struct Address {
        city: String,
    }

    fn path(p: &str) -> Vec<Box<str>> {
        p.split('.')
            .filter(|s| !s.is_empty())
            .map(Into::into)
            .collect()
    }

    #[test]
    fn follows_fields_entries_and_indexes() {
        let user = User {
            name: "ann".into(),
            id: 20210817,
            tags: vec!["a".into(), "b".into()],
            extra: BTreeMap::from([("uid".into(), 42)]),
            home: Some(Address { city: "sh".into() }),
        };
        assert_eq!(scalar_at(&user, &path("id")).as_deref(), Some("20210817"));
        assert_eq!(scalar_at(&user, &path("name")).as_deref(), Some("ann"));
        assert_eq!(scalar_at(&user, &path("tags.1")).as_deref(), Some("b"));
        assert_eq!(scalar_at(&user, &path("extra.uid")).as_deref(), Some("42"));
        assert_eq!(scalar_at(&user, &path("home.city")).as_deref(), Some("sh"));
        assert_eq!(scalar_at(&user, &path("nope")), None);
        assert_eq!(scalar_at(&user, &path("")), None, "a struct is no key");
        assert_eq!(
            scalar_at(&"B_20210817", &path("")).as_deref(),
            Some("B_20210817")
        );
        assert_eq!(scalar_at(&7u8, &path("")).as_deref(), Some("7"));
        assert_eq!(scalar_at(&Option::<u8>::None, &path("")), None);
    }
}
