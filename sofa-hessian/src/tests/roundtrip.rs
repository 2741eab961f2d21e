//! Round trips of many values through serde and `Value`, in both dialects.

use std::collections::{BTreeMap, HashMap};
use std::fmt::Debug;

use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

use crate::{Decoder, Dialect, Encoder, Value};

const DIALECTS: [Dialect; 2] = [Dialect::V3, Dialect::V4];

fn rt<T: Serialize + DeserializeOwned + PartialEq + Debug>(v: &T) {
    for d in DIALECTS {
        let mut enc = Encoder::new(d);
        enc.encode(v).unwrap();
        let bytes = enc.into_inner();
        let mut dec = Decoder::new(&bytes, d);
        let back: T = dec.decode().unwrap();
        assert_eq!(&back, v, "{d:?}");
        assert!(dec.is_empty(), "{d:?} trailing bytes");
        // The dynamic path reads the same bytes, and re-encoding it is identical.
        let mut dec = Decoder::new(&bytes, d);
        let value = dec.read_value().unwrap();
        let mut enc = Encoder::new(d);
        enc.write_value(&value).unwrap();
        assert_eq!(enc.as_bytes(), &bytes[..], "{d:?} value re-encode of {v:?}");
    }
}

fn rt_value(v: &Value) {
    for d in DIALECTS {
        let mut enc = Encoder::new(d);
        enc.write_value(v).unwrap();
        let direct = enc.into_inner();
        let mut enc = Encoder::new(d);
        enc.encode(v).unwrap();
        assert_eq!(
            enc.as_bytes(),
            &direct[..],
            "{d:?} serde vs direct for {v:?}"
        );
        let mut dec = Decoder::new(&direct, d);
        assert_eq!(&dec.read_value().unwrap(), v, "{d:?}");
        let mut dec = Decoder::new(&direct, d);
        assert_eq!(&dec.decode::<Value>().unwrap(), v, "{d:?} via decode");
    }
}

#[test]
fn integers_at_every_boundary() {
    for i in [
        0,
        1,
        -1,
        -16,
        -17,
        47,
        48,
        -2048,
        -2049,
        2047,
        2048,
        -262144,
        -262145,
        262143,
        262144,
        i32::MIN,
        i32::MAX,
    ] {
        rt(&i);
        rt_value(&Value::Int(i));
        rt(&(i as i16));
        rt(&(i as i8));
    }
    for l in [
        0i64,
        -8,
        -9,
        15,
        16,
        -2048,
        -2049,
        2047,
        2048,
        -262144,
        -262145,
        262143,
        262144,
        i64::from(i32::MIN),
        i64::from(i32::MIN) - 1,
        i64::from(i32::MAX),
        i64::from(i32::MAX) + 1,
        i64::MIN,
        i64::MAX,
    ] {
        rt(&l);
        rt_value(&Value::Long(l));
    }
    for u in [0u32, 1, u32::MAX] {
        rt(&u);
    }
    for u in [0u64, u64::try_from(i64::MAX).unwrap()] {
        rt(&u);
    }
    rt(&u8::MAX);
    rt(&u16::MAX);
}

#[test]
fn doubles() {
    for d in [
        0.0,
        1.0,
        -1.0,
        127.0,
        -128.0,
        128.0,
        32767.0,
        -32768.0,
        32768.0,
        1.5,
        0.1,
        -0.001,
        2147483.647,
        1e10,
        1e300,
        f64::MIN_POSITIVE,
        f64::MAX,
        f64::INFINITY,
        f64::NEG_INFINITY,
        std::f64::consts::PI,
    ] {
        rt(&d);
        rt_value(&Value::Double(d));
    }
    rt(&1.25f32);
    rt(&f32::MAX);
}

#[test]
fn strings_of_every_length_class() {
    for n in [
        0usize, 1, 31, 32, 1023, 1024, 0x7fff, 0x8000, 0x8001, 0x10000, 0x10001,
    ] {
        rt(&"x".repeat(n));
    }
    // non-BMP characters count as two units; put them across chunk boundaries
    for prefix in [0x7ffe, 0x7fff, 0x8000] {
        let s = format!("{}😀{}", "a".repeat(prefix), "é".repeat(40));
        rt(&s);
    }
    rt(&"😀".repeat(0x4001));
    rt(&"中文 héllo 😀 \u{0} \u{ffff} \u{10ffff}".to_string());
    rt(&'é');
    rt(&'😀');
}

#[test]
fn binaries() {
    for n in [
        0usize, 1, 15, 16, 1023, 1024, 4093, 4094, 0x8000, 0x8001, 100_000,
    ] {
        let b: Vec<u8> = (0..n).map(|i| (i % 251) as u8).collect();
        rt(&serde_bytes::ByteBuf::from(b.clone()));
        rt_value(&Value::Binary(b.clone()));
        if n > 0 {
            // Vec<u8> is written as a binary (Java byte[]) too.
            rt(&b);
        }
    }
}

#[derive(Serialize, Deserialize, Debug, PartialEq, Clone)]
#[serde(rename = "com.example.Address")]
struct Address {
    city: String,
    zip: Option<i32>,
}

#[derive(Serialize, Deserialize, Debug, PartialEq, Clone)]
#[serde(rename = "com.example.Person")]
struct Person {
    name: String,
    age: i32,
    id: i64,
    score: f64,
    active: bool,
    tags: Vec<String>,
    home: Option<Address>,
    others: Vec<Address>,
    attrs: BTreeMap<String, i64>,
    #[serde(with = "serde_bytes")]
    avatar: Vec<u8>,
    kind: Kind,
    nick: Option<String>,
}

#[derive(Serialize, Deserialize, Debug, PartialEq, Clone, Copy)]
#[serde(rename = "com.example.Kind")]
enum Kind {
    Admin,
    User,
}

fn person(i: i32) -> Person {
    Person {
        name: format!("p{i}"),
        age: i,
        id: i64::from(i) << 40,
        score: f64::from(i) / 3.0,
        active: i % 2 == 0,
        tags: (0..i).map(|t| format!("t{t}")).collect(),
        home: (i % 3 != 0).then(|| Address {
            city: "Hangzhou".into(),
            zip: Some(310000 + i),
        }),
        others: vec![
            Address {
                city: "A".into(),
                zip: None
            };
            (i % 4) as usize
        ],
        attrs: (0..i)
            .map(|k| (format!("k{k}"), i64::from(k) * 1000))
            .collect(),
        avatar: vec![i as u8; (i * 3) as usize],
        kind: if i % 2 == 0 { Kind::Admin } else { Kind::User },
        nick: None,
    }
}

#[test]
fn nested_structs_lists_maps_enums_options() {
    for i in 0..12 {
        rt(&person(i));
    }
    rt(&(0..12).map(person).collect::<Vec<_>>());
    let mut m = HashMap::new();
    m.insert("a".to_string(), vec![Some(1i32), None, Some(3)]);
    rt(&m);
    rt(&vec![vec![1i64, 2], vec![], vec![3]]);
    rt(&(1i32, "two".to_string(), 3.5f64, Kind::User));
    rt(&Some(Kind::Admin));
    rt(&Option::<String>::None);
    rt(&());
    let mut nested: BTreeMap<i32, BTreeMap<String, Vec<bool>>> = BTreeMap::new();
    nested
        .entry(1)
        .or_default()
        .insert("x".into(), vec![true, false]);
    rt(&nested);
}

#[test]
fn class_definitions_are_shared_across_top_level_values() {
    for d in DIALECTS {
        let mut enc = Encoder::new(d);
        enc.encode(&person(1)).unwrap();
        let first_len = enc.len();
        enc.encode(&person(2)).unwrap();
        enc.encode(&person(3)).unwrap();
        let bytes = enc.into_inner();
        // The second value reuses the definitions: no class name repeated.
        let second = &bytes[first_len..];
        assert!(
            !second.windows(18).any(|w| w == b"com.example.Person"),
            "{d:?}"
        );
        let mut dec = Decoder::new(&bytes, d);
        for i in 1..=3 {
            assert_eq!(dec.decode::<Person>().unwrap(), person(i));
        }
        assert!(dec.is_empty());
    }
}

#[derive(Serialize, Deserialize, Debug, PartialEq)]
#[serde(rename = "com.example.Node")]
struct TreeNode {
    value: i32,
    children: Vec<TreeNode>,
    next: Option<Box<TreeNode>>,
}

#[test]
fn recursive_types() {
    let leaf = |v| TreeNode {
        value: v,
        children: vec![],
        next: None,
    };
    let t = TreeNode {
        value: 1,
        children: vec![leaf(2), leaf(3)],
        next: Some(Box::new(TreeNode {
            value: 4,
            children: vec![leaf(5)],
            next: Some(Box::new(leaf(6))),
        })),
    };
    rt(&t);
}

#[derive(Serialize, Deserialize, Debug, PartialEq)]
#[serde(rename = "com.example.Sparse")]
struct Sparse {
    a: i32,
    #[serde(skip_serializing_if = "Option::is_none")]
    b: Option<String>,
    c: i32,
}

#[test]
fn skipped_fields_become_nulls_so_instances_share_one_definition() {
    let items = vec![
        Sparse {
            a: 1,
            b: None,
            c: 2,
        },
        Sparse {
            a: 3,
            b: Some("x".into()),
            c: 4,
        },
    ];
    rt(&items);
}

#[derive(Serialize, Deserialize, Debug, PartialEq)]
enum Shape {
    Unit,
    Circle(f64),
    Rect(i32, i32),
    Named { w: i32, h: i32 },
}

#[test]
fn enum_variant_kinds() {
    rt(&vec![
        Shape::Unit,
        Shape::Circle(1.5),
        Shape::Rect(2, 3),
        Shape::Named { w: 4, h: 5 },
    ]);
}

#[test]
fn values_of_every_kind() {
    let obj = Value::Object {
        class: "a.Obj".into(),
        fields: vec![
            ("i".into(), Value::Int(1)),
            ("self".into(), Value::Ref(0)),
            (
                "list".into(),
                Value::List {
                    type_name: Some("java.util.LinkedList".into()),
                    items: vec![Value::Ref(1), Value::Date(86_400_000)],
                },
            ),
        ],
    };
    let v = Value::List {
        type_name: None,
        items: vec![
            Value::Null,
            Value::Bool(true),
            Value::Int(-5),
            Value::Long(1 << 40),
            Value::Double(2.5),
            Value::Date(1_700_000_000_000),
            Value::String("s".into()),
            Value::Binary(vec![1, 2]),
            obj.clone(),
            obj,
            Value::Map {
                type_name: Some("java.util.TreeMap".into()),
                entries: vec![(Value::Int(1), Value::Null)],
            },
            Value::Map {
                type_name: None,
                entries: vec![(Value::Null, Value::Bool(false))],
            },
            Value::java_exception("java.lang.Exception", Some("m")),
        ],
    };
    rt_value(&v);
}

#[derive(Serialize, Deserialize, Debug, PartialEq)]
#[serde(rename = "x.Holder")]
struct Holder {
    any: Value,
    list: Vec<Value>,
}

#[test]
fn values_embedded_in_typed_structs() {
    rt(&Holder {
        any: Value::java_exception("java.lang.Error", None),
        list: vec![
            Value::Date(5),
            Value::Object {
                class: "x.Y".into(),
                fields: vec![],
            },
        ],
    });
}
