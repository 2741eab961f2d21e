//! The serde type mapping and the coercions Java peers need.

use std::collections::HashMap;

use serde::{Deserialize, Serialize};

use super::frame::{hex, unhex};
use crate::{Decoder, Dialect, Encoder, ErrorKind, Value};

fn enc<T: Serialize + ?Sized>(v: &T) -> String {
    let mut e = Encoder::new(Dialect::V3);
    e.encode(v).unwrap();
    hex(e.as_bytes())
}

fn de<'a, T: Deserialize<'a>>(bytes: &'a [u8]) -> crate::Result<T> {
    Decoder::new(bytes, Dialect::V3).decode_borrowed()
}

#[test]
fn scalar_mapping() {
    assert_eq!(enc(&true), "54");
    assert_eq!(enc(&7i8), "97");
    assert_eq!(enc(&7i16), "97");
    assert_eq!(enc(&7u8), "97");
    assert_eq!(enc(&7u16), "97");
    assert_eq!(enc(&7i32), "97");
    assert_eq!(enc(&7i64), "e7");
    assert_eq!(enc(&7u32), "e7");
    assert_eq!(enc(&7u64), "e7");
    assert_eq!(enc(&7i128), "e7");
    assert_eq!(enc(&1.0f32), "68");
    assert_eq!(enc(&'a'), "0161");
    assert_eq!(enc("ab"), "026162");
    assert_eq!(enc(&serde_bytes::Bytes::new(b"ab")), "226162");
    assert_eq!(enc(&Option::<i32>::None), "4e");
    assert_eq!(enc(&Some(1)), "91");
    assert_eq!(enc(&()), "4e");
    #[derive(Serialize)]
    struct Unit;
    assert_eq!(enc(&Unit), "4e");
    #[derive(Serialize)]
    struct Wrapper(i64);
    assert_eq!(enc(&Wrapper(1)), "e1");
    let e = Encoder::new(Dialect::V3).encode(&u64::MAX).err().unwrap();
    assert_eq!(e.kind(), ErrorKind::Unsupported);
    assert!(Encoder::new(Dialect::V3).encode(&i128::MAX).is_err());
}

#[test]
fn sequences_and_maps() {
    // Java ArrayList: V n len .. z (3.x), 0x78+len (4.x)
    assert_eq!(enc(&vec![1i32, 2]), "566e0291927a");
    assert_eq!(enc(&Vec::<String>::new()), "566e007a");
    assert_eq!(enc(&(1i32, "a")), "566e0291 01617a".replace(' ', ""));
    // Vec<u8> is a Java byte[]
    assert_eq!(enc(&vec![1u8, 2]), "220102");
    // ...but a tuple of u8 stays a list
    assert_eq!(enc(&(1u8, 2u8)), "566e0291927a");
    let mut m = HashMap::new();
    m.insert("k", 1i32);
    assert_eq!(enc(&m), "4d016b917a");
    // iterator of unknown length: placeholder header patched to the exact form
    struct Unsized(usize);
    impl Serialize for Unsized {
        fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
            s.collect_seq((0..self.0).filter(|_| true).map(|i| i as i32))
        }
    }
    assert_eq!(enc(&Unsized(2)), "566e0290917a");
    assert!(enc(&Unsized(300)).starts_with("566c0000012c9091"));
    let mut e = Encoder::new(Dialect::V4);
    e.encode(&Unsized(2)).unwrap();
    e.encode(&Unsized(9)).unwrap();
    assert!(hex(e.as_bytes()).starts_with("7a909158999091"));
    let mut d = Decoder::new(e.as_bytes(), Dialect::V4);
    assert_eq!(d.decode::<Vec<i32>>().unwrap(), vec![0, 1]);
    assert_eq!(d.decode::<Vec<i32>>().unwrap().len(), 9);
}

#[test]
fn mixing_u8_and_other_elements_is_an_error() {
    #[derive(Serialize)]
    #[serde(untagged)]
    enum Mixed {
        B(u8),
        I(i32),
    }
    let r = Encoder::new(Dialect::V3).encode(&vec![Mixed::B(1), Mixed::I(2)]);
    assert_eq!(r.unwrap_err().kind(), ErrorKind::Unsupported);
}

#[test]
fn numeric_coercions() {
    // int where i64 is expected
    assert_eq!(de::<i64>(&unhex("91")).unwrap(), 1);
    // long that fits where i32 is expected
    assert_eq!(de::<i32>(&unhex("e1")).unwrap(), 1);
    assert_eq!(de::<i32>(&unhex("77 7fffffff")).unwrap(), i32::MAX);
    // long that does not fit: clear error
    let e = de::<i32>(&unhex("4c 0000000100000000")).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::TypeMismatch);
    assert!(e.to_string().contains("i32"), "{e}");
    assert!(e.offset().is_some());
    // negative into unsigned
    assert_eq!(
        de::<u32>(&unhex("8f")).unwrap_err().kind(),
        ErrorKind::TypeMismatch
    );
    // ints into floats
    assert_eq!(de::<f64>(&unhex("92")).unwrap(), 2.0);
    // date as i64 millis
    assert_eq!(de::<i64>(&unhex("64 0000000000000005")).unwrap(), 5);
    // bool
    assert!(de::<bool>(&unhex("54")).unwrap());
    // a string is not an int
    assert_eq!(
        de::<i32>(&unhex("0131")).unwrap_err().kind(),
        ErrorKind::TypeMismatch
    );
}

#[test]
fn null_option_and_unit() {
    assert_eq!(de::<Option<String>>(&unhex("4e")).unwrap(), None);
    assert_eq!(
        de::<Option<String>>(&unhex("0161")).unwrap(),
        Some("a".into())
    );
    de::<()>(&unhex("4e")).unwrap();
    assert_eq!(
        de::<String>(&unhex("4e")).unwrap_err().kind(),
        ErrorKind::TypeMismatch
    );
}

#[test]
fn objects_into_structs_and_maps() {
    #[derive(Deserialize, Debug, PartialEq)]
    struct Pt {
        x: i32,
        y: i64,
    }
    // Java object with an extra field `z`, fields in another order.
    let bytes = unhex("4f 94 612e5074 93 017a 0179 0178 6f90 0131 92 91");
    assert_eq!(de::<Pt>(&bytes).unwrap(), Pt { x: 1, y: 2 });
    let m: HashMap<String, Value> = de(&bytes).unwrap();
    assert_eq!(m["z"], Value::from("1"));
    // untyped map into a struct
    let bytes = unhex("4d 0178 91 0179 92 7a");
    assert_eq!(de::<Pt>(&bytes).unwrap(), Pt { x: 1, y: 2 });
    // list into a tuple / tuple struct / struct
    let bytes = unhex("566e02 91 92 7a");
    assert_eq!(de::<(i32, i32)>(&bytes).unwrap(), (1, 2));
    assert_eq!(de::<Pt>(&bytes).unwrap(), Pt { x: 1, y: 2 });
    // a missing field is an error
    let bytes = unhex("4d 0178 91 7a");
    assert!(de::<Pt>(&bytes).is_err());
}

#[test]
fn binary_into_bytes_or_u8_sequences() {
    let bytes = unhex("23010203");
    assert_eq!(de::<Vec<u8>>(&bytes).unwrap(), vec![1, 2, 3]);
    assert_eq!(
        de::<serde_bytes::ByteBuf>(&bytes).unwrap().into_vec(),
        vec![1, 2, 3]
    );
    assert_eq!(de::<&[u8]>(&bytes).unwrap(), &[1, 2, 3]);
    assert_eq!(de::<[u8; 3]>(&bytes).unwrap(), [1, 2, 3]);
    // a list of ints into Vec<u8> works too
    assert_eq!(de::<Vec<u8>>(&unhex("566e0291927a")).unwrap(), vec![1, 2]);
}

#[test]
fn borrowed_strings() {
    let bytes = unhex("05 68656c6c6f");
    let s: &str = de(&bytes).unwrap();
    assert_eq!(s, "hello");
    // A string with a surrogate pair cannot be borrowed.
    let bytes = unhex("02eda0bdedb880");
    assert!(de::<&str>(&bytes).is_err());
    assert_eq!(de::<String>(&bytes).unwrap(), "😀");
}

#[test]
fn enums_from_strings_java_enum_objects_and_maps() {
    #[derive(Deserialize, Debug, PartialEq)]
    #[allow(clippy::upper_case_acronyms)]
    enum Color {
        RED,
        Other(i32),
    }
    assert_eq!(de::<Color>(&unhex("03524544")).unwrap(), Color::RED);
    // Java enum object: class def with field `name`
    let java_enum = unhex("4f 91 43 91 046e616d65 6f90 03524544");
    assert_eq!(de::<Color>(&java_enum).unwrap(), Color::RED);
    assert_eq!(
        de::<Color>(&unhex("4d 054f74686572 95 7a")).unwrap(),
        Color::Other(5)
    );
    assert!(de::<Color>(&unhex("0442 4c 55 45")).is_err());
}

#[test]
fn deserialize_any_into_value_like_targets() {
    let bytes = unhex("566e03 91 0161 4d 91 92 7a 7a");
    let v: Value = de(&bytes).unwrap();
    assert_eq!(
        v,
        Value::List {
            type_name: None,
            items: vec![
                Value::Int(1),
                Value::from("a"),
                Value::Map {
                    type_name: None,
                    entries: vec![(Value::Int(1), Value::Int(2))]
                }
            ]
        }
    );
    // IgnoredAny skips everything and leaves the decoder after the value.
    let mut d = Decoder::new(&bytes, Dialect::V3);
    d.skip_value().unwrap();
    assert!(d.is_empty());
}

#[test]
fn bytes_mut_output_buffer() {
    let mut e = Encoder::with_buffer(bytes::BytesMut::new(), Dialect::V3);
    e.encode(&vec!["a".to_string()]).unwrap();
    #[derive(Serialize)]
    #[serde(rename = "a.B")]
    struct B {
        x: i32,
    }
    e.encode(&B { x: 1 }).unwrap();
    let out = e.into_inner().freeze();
    assert_eq!(hex(&out), "566e0101617a4f93612e429101786f9091");
}

#[test]
fn field_sets_that_change_between_instances() {
    // A custom Serialize that writes different fields for the same class name.
    struct Dyn(Vec<(&'static str, i32)>);
    impl Serialize for Dyn {
        fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
            use serde::ser::SerializeStruct;
            let mut st = s.serialize_struct("a.D", self.0.len())?;
            for (k, v) in &self.0 {
                st.serialize_field(k, v)?;
            }
            st.end()
        }
    }
    let items = vec![
        Dyn(vec![("a", 1), ("b", 2)]),
        Dyn(vec![("b", 3)]),           // `a` missing: written as null
        Dyn(vec![("a", 4), ("c", 5)]), // unknown `c`: new definition
        Dyn(vec![("a", 6), ("c", 7)]), // reuses it
    ];
    for d in [Dialect::V3, Dialect::V4] {
        let mut e = Encoder::new(d);
        e.encode(&items).unwrap();
        let mut dec = Decoder::new(e.as_bytes(), d);
        let v: Vec<HashMap<String, Option<i32>>> = dec.decode().unwrap();
        assert_eq!(v[0]["b"], Some(2));
        assert_eq!(v[1]["a"], None);
        assert_eq!(v[1]["b"], Some(3));
        assert_eq!(v[2]["c"], Some(5));
        assert!(!v[2].contains_key("b"));
        assert_eq!(v[3]["a"], Some(6));
    }
}
