//! Encodings checked against the dialect table of the spec (§7.5), writing and
//! reading every construct of each dialect.

use super::frame::{hex, unhex};
use crate::{Decoder, Dialect, Encoder, ErrorKind, Value};

fn enc_value(d: Dialect, v: &Value) -> String {
    let mut e = Encoder::new(d);
    e.write_value(v).unwrap();
    hex(e.as_bytes())
}

fn dec(d: Dialect, h: &str) -> Value {
    let bytes = unhex(h);
    let mut de = Decoder::new(&bytes, d);
    let v = de.read_value().unwrap();
    assert!(de.is_empty(), "trailing bytes after {h}");
    v
}

fn both(v: Value, v3: &str, v4: &str) {
    assert_eq!(enc_value(Dialect::V3, &v), v3, "{v:?} v3");
    assert_eq!(enc_value(Dialect::V4, &v), v4, "{v:?} v4");
    assert_eq!(dec(Dialect::V3, v3), v, "{v:?} v3 read");
    assert_eq!(dec(Dialect::V4, v4), v, "{v:?} v4 read");
}

fn same(v: Value, h: &str) {
    both(v, h, h);
}

#[test]
fn null_and_booleans() {
    same(Value::Null, "4e");
    same(Value::Bool(true), "54");
    same(Value::Bool(false), "46");
}

#[test]
fn int_forms() {
    for (i, h) in [
        (0, "90"),
        (-16, "80"),
        (47, "bf"),
        (-17, "c7ef"),
        (48, "c830"),
        (-2048, "c000"),
        (2047, "cfff"),
        (-2049, "d3f7ff"),
        (2048, "d40800"),
        (-262144, "d00000"),
        (262143, "d7ffff"),
        (-262145, "49fffbffff"),
        (262144, "4900040000"),
        (i32::MAX, "497fffffff"),
        (i32::MIN, "4980000000"),
    ] {
        same(Value::Int(i), h);
    }
}

#[test]
fn long_forms() {
    for (l, h) in [
        (0, "e0"),
        (-8, "d8"),
        (15, "ef"),
        (-9, "f7f7"),
        (16, "f810"),
        (-2048, "f000"),
        (2047, "ffff"),
        (-2049, "3bf7ff"),
        (2048, "3c0800"),
        (-262144, "380000"),
        (262143, "3fffff"),
        (i64::MAX, "4c7fffffffffffffff"),
        (i64::MIN, "4c8000000000000000"),
        (i64::from(i32::MAX) + 1, "4c0000000080000000"),
    ] {
        same(Value::Long(l), h);
    }
    // 32-bit form: 0x77 (3.x) vs 0x59 (4.x).
    for (l, tail) in [
        (-262145i64, "fffbffff"),
        (262144, "00040000"),
        (i64::from(i32::MAX), "7fffffff"),
        (i64::from(i32::MIN), "80000000"),
    ] {
        both(Value::Long(l), &format!("77{tail}"), &format!("59{tail}"));
    }
}

#[test]
fn double_forms() {
    both(Value::Double(0.0), "67", "5b");
    both(Value::Double(1.0), "68", "5c");
    both(Value::Double(-128.0), "6980", "5d80");
    both(Value::Double(127.0), "697f", "5d7f");
    both(Value::Double(128.0), "6a0080", "5e0080");
    both(Value::Double(-32768.0), "6a8000", "5e8000");
    both(Value::Double(32767.0), "6a7fff", "5e7fff");
    // float-exact (3.x 0x6b) vs milli (4.x 0x5f)
    both(Value::Double(32768.0), "6b47000000", "5f01f40000");
    both(Value::Double(1.5), "6b3fc00000", "5f000005dc");
    both(Value::Double(-2.25), "6bc0100000", "5ffffff736");
    both(Value::Double(0.1), "443fb999999999999a", "5f00000064");
    // neither: full double in both
    let d = 1.0000001_f64;
    let full = format!("44{}", hex(&d.to_bits().to_be_bytes()));
    both(Value::Double(d), &full, &full);
    both(
        Value::Double(1e300),
        "447e37e43c8800759c",
        "447e37e43c8800759c",
    );
    // NaN is canonicalised like Java's doubleToLongBits.
    assert_eq!(
        enc_value(Dialect::V3, &Value::Double(f64::NAN)),
        "447ff8000000000000"
    );
    assert!(matches!(dec(Dialect::V4, "447ff8000000000000"), Value::Double(x) if x.is_nan()));
    // infinities are float-exact in 3.x
    assert_eq!(
        enc_value(Dialect::V3, &Value::Double(f64::INFINITY)),
        "6b7f800000"
    );
    // -0.0 collapses to the zero code (as in Java)
    assert_eq!(enc_value(Dialect::V3, &Value::Double(-0.0)), "67");
}

#[test]
fn date_forms() {
    both(
        Value::Date(1_700_000_040_123),
        "640000018bcfe604bb",
        "4a0000018bcfe604bb",
    );
    both(
        Value::Date(1_700_000_040_000),
        "640000018bcfe60440",
        "4b01b05516",
    );
    both(Value::Date(-60_000), "64ffffffffffff15a0", "4bffffffff");
}

#[test]
fn string_forms() {
    same(Value::from(""), "00");
    same(Value::from("hello"), "0568656c6c6f");
    // length counts UTF-16 units; non-BMP = surrogate pair, 3 bytes each
    same(Value::from("😀"), "02eda0bdedb880");
    same(Value::from("é中"), "02c3a9e4b8ad");
    let s32 = "a".repeat(32);
    both(
        Value::from(s32.clone()),
        &format!("530020{}", hex(s32.as_bytes())),
        &format!("3020{}", hex(s32.as_bytes())),
    );
    let s1024 = "a".repeat(1024);
    both(
        Value::from(s1024.clone()),
        &format!("530400{}", hex(s1024.as_bytes())),
        &format!("530400{}", hex(s1024.as_bytes())),
    );
    // chunked: 3.x 's', 4.x 'R'
    let big = "z".repeat(0x8001);
    let body = hex("z".repeat(0x8000).as_bytes());
    both(
        Value::from(big.clone()),
        &format!("738000{body}017a"),
        &format!("528000{body}017a"),
    );
}

#[test]
fn string_reading_accepts_other_writers() {
    // a surrogate pair split across two chunks
    assert_eq!(
        dec(
            Dialect::V3,
            "7300 01eda0bd 01edb880".replace(' ', "").as_str()
        ),
        Value::from("😀")
    );
    // 4-byte UTF-8 (not what Java writes) is accepted and counts two units
    assert_eq!(dec(Dialect::V3, "02f09f9880"), Value::from("😀"));
    // 4.x short string form
    assert_eq!(dec(Dialect::V4, "300161"), Value::from("a"));
    // unpaired surrogates are rejected
    for bad in ["01eda0bd", "01edb880", "02eda0bd61"] {
        let b = unhex(bad);
        let e = Decoder::new(&b, Dialect::V3).read_value().unwrap_err();
        assert_eq!(e.kind(), ErrorKind::InvalidString, "{bad}");
    }
}

#[test]
fn binary_forms() {
    same(Value::Binary(vec![]), "20");
    same(Value::Binary(vec![1, 2, 3]), "23010203");
    let b16 = vec![7u8; 16];
    both(
        Value::Binary(b16.clone()),
        &format!("420010{}", hex(&b16)),
        &format!("3410{}", hex(&b16)),
    );
    let b = vec![9u8; 0x8001];
    let h = enc_value(Dialect::V3, &Value::Binary(b.clone()));
    assert!(h.starts_with("628000"));
    assert!(h.ends_with("2109"));
    assert_eq!(dec(Dialect::V3, &h), Value::Binary(b.clone()));
    let h = enc_value(Dialect::V4, &Value::Binary(b.clone()));
    assert!(h.starts_with("410ffd"));
    assert_eq!(dec(Dialect::V4, &h), Value::Binary(b));
    // chunked binaries from other writers
    assert_eq!(
        dec(Dialect::V3, "6200020102210 3".replace(' ', "").as_str()),
        Value::Binary(vec![1, 2, 3])
    );
    assert_eq!(
        dec(Dialect::V4, "4100020102340103"),
        Value::Binary(vec![1, 2, 3])
    );
}

fn obj(class: &str, fields: &[(&str, Value)]) -> Value {
    Value::Object {
        class: class.into(),
        fields: fields
            .iter()
            .map(|(k, v)| (k.to_string(), v.clone()))
            .collect(),
    }
}

#[test]
fn class_definitions_and_instances() {
    let a1 = obj("a.B", &[("x", Value::Int(1))]);
    let a2 = obj("a.B", &[("x", Value::Int(2))]);
    let list = Value::List {
        type_name: None,
        items: vec![a1, a2],
    };
    // 3.x: 'O' int(len) raw-name int(count) field-strings, 'o' int(ref)
    both(
        list,
        "566e024f93612e42910178 6f9091 6f9092 7a"
            .replace(' ', "")
            .as_str(),
        "7a4303612e4291017860916092",
    );
}

#[test]
fn more_than_sixteen_classes_use_long_instance_form_in_v4() {
    let items: Vec<Value> = (0..18)
        .map(|i| obj(&format!("C{i:02}"), &[("f", Value::Null)]))
        .collect();
    let v = Value::List {
        type_name: None,
        items,
    };
    let h = enc_value(Dialect::V4, &v);
    // #16 and #17 are written as 'O' int(ref)
    assert!(h.contains("4fa04e") && h.contains("4fa14e"), "{h}");
    assert_eq!(dec(Dialect::V4, &h), v);
    assert_eq!(dec(Dialect::V3, &enc_value(Dialect::V3, &v)), v);
}

#[test]
fn typed_lists_and_type_references() {
    let strs = |items: &[&str]| Value::List {
        type_name: Some("[string".into()),
        items: items.iter().map(|s| Value::from(*s)).collect(),
    };
    let v = Value::List {
        type_name: None,
        items: vec![
            strs(&["a"]),
            strs(&["b", "c"]),
            Value::Map {
                type_name: Some("[string".into()),
                entries: vec![],
            },
        ],
    };
    // 3.x: first use `V t len name n 1 .. z`, then `v ref len ..` (no z),
    // and a type reference 0x75 in a typed map.
    both(
        v,
        "566e03 5674 0007 5b737472696e67 6e01 0161 7a 76 90 92 0162 0163 4d 75 90 7a 7a"
            .replace(' ', "")
            .as_str(),
        "7b 71 07 5b737472696e67 0161 72 90 0162 0163 4d 90 5a"
            .replace(' ', "")
            .as_str(),
    );
    // long lists
    let long: Vec<Value> = (0..300).map(Value::Int).collect();
    let v = Value::List {
        type_name: Some("[int".into()),
        items: long,
    };
    let h3 = enc_value(Dialect::V3, &v);
    assert!(
        h3.starts_with("567400045b696e746c0000012c"),
        "{}",
        &h3[..30]
    );
    let h4 = enc_value(Dialect::V4, &v);
    assert!(h4.starts_with("56045b696e74c92c"), "{}", &h4[..30]);
    assert_eq!(dec(Dialect::V3, &h3), v);
    assert_eq!(dec(Dialect::V4, &h4), v);
}

#[test]
fn list_forms_of_other_writers() {
    let ints = |v: &[i32], t: Option<&str>| Value::List {
        type_name: t.map(str::to_owned),
        items: v.iter().map(|i| Value::Int(*i)).collect(),
    };
    // 3.x variable-length list without length, with 'l' length
    assert_eq!(dec(Dialect::V3, "5691927a"), ints(&[1, 2], None));
    assert_eq!(dec(Dialect::V3, "566c0000000291927a"), ints(&[1, 2], None));
    assert_eq!(
        dec(Dialect::V3, "567400015b91927a"),
        ints(&[1, 2], Some("["))
    );
    // 4.x: 0x55 typed variable, 'V' typed fixed, 0x57 untyped variable, 0x58 untyped fixed
    assert_eq!(dec(Dialect::V4, "55015b91925a"), ints(&[1, 2], Some("[")));
    assert_eq!(dec(Dialect::V4, "56015b929192"), ints(&[1, 2], Some("[")));
    assert_eq!(dec(Dialect::V4, "5791925a"), ints(&[1, 2], None));
    assert_eq!(dec(Dialect::V4, "58929192"), ints(&[1, 2], None));
    assert_eq!(dec(Dialect::V4, "7a9192"), ints(&[1, 2], None));
    // type reference by int in 4.x
    assert_eq!(
        dec(
            Dialect::V4,
            "7a 71 015b 91 71 90 92".replace(' ', "").as_str()
        ),
        Value::List {
            type_name: None,
            items: vec![ints(&[1], Some("[")), ints(&[2], Some("["))]
        }
    );
}

#[test]
fn map_forms() {
    let m = |t: Option<&str>| Value::Map {
        type_name: t.map(str::to_owned),
        entries: vec![(Value::Int(1), Value::from("a"))],
    };
    both(m(None), "4d9101617a", "489101615a");
    both(
        m(Some("java.util.TreeMap")),
        "4d7400116a6176612e7574696c2e547265654d61709101617a",
        "4d116a6176612e7574696c2e547265654d61709101615a",
    );
}

#[test]
fn back_references() {
    // 3.x: 0x4a u8, 0x4b u16, 'R' i32; 4.x: 0x51 int. The self-referencing list
    // comes after `n` other containers, so its reference number is n + 1.
    let empty = Value::List {
        type_name: None,
        items: vec![],
    };
    for (n, v3_ref, v4_ref) in [
        (3usize, "4a04", "5194"),
        (300, "4b012d", "51c92d"),
        (70_000, "5200011171", "51d51171"),
    ] {
        let mut items = vec![empty.clone(); n];
        items.push(Value::List {
            type_name: None,
            items: vec![Value::Ref(0)],
        });
        let v = Value::List {
            type_name: None,
            items,
        };
        for (d, r) in [(Dialect::V3, v3_ref), (Dialect::V4, v4_ref)] {
            let mut e = Encoder::new(d);
            e.write_value(&v).unwrap();
            let h = hex(e.as_bytes());
            let tail = if d == Dialect::V3 { "7a7a" } else { "" };
            assert!(h.ends_with(&format!("{r}{tail}")), "{n} {d:?}");
            let mut de = Decoder::new(e.as_bytes(), d);
            assert_eq!(de.read_value().unwrap(), v, "{n} {d:?}");
        }
    }
    // A reference to an earlier, completed value is resolved into a copy.
    let h = "566e02 566e01917a 4a01 7a".replace(' ', "");
    let inner = Value::List {
        type_name: None,
        items: vec![Value::Int(1)],
    };
    assert_eq!(
        dec(Dialect::V3, &h),
        Value::List {
            type_name: None,
            items: vec![inner.clone(), inner]
        }
    );
    assert_eq!(dec(Dialect::V4, "7a 7991 5191"), {
        let inner = Value::List {
            type_name: None,
            items: vec![Value::Int(1)],
        };
        Value::List {
            type_name: None,
            items: vec![inner.clone(), inner],
        }
    });
}

#[test]
fn references_across_top_level_values() {
    // Java shares one reference table for the whole stream: the second argument
    // may refer to an object of the first.
    let bytes = unhex("4f93612e42910178 6f9091 4a00");
    let mut d = Decoder::new(&bytes, Dialect::V3);
    let first = d.read_value().unwrap();
    let second = d.read_value().unwrap();
    assert_eq!(first, second);
    assert_eq!(first, obj("a.B", &[("x", Value::Int(1))]));
}

#[test]
fn dialect_detection() {
    assert_eq!(Dialect::detect(b"O\xbc"), Some(Dialect::V3));
    assert_eq!(Dialect::detect(b"C\x30"), Some(Dialect::V4));
    assert_eq!(Dialect::detect(b"Vt"), Some(Dialect::V3));
    assert_eq!(Dialect::detect(b"H"), Some(Dialect::V4));
    assert_eq!(Dialect::detect(b"\x05hello"), None);
    assert_eq!(Dialect::detect(b""), None);
    assert_eq!(Dialect::default(), Dialect::V3);
}

#[test]
fn dialects_reject_each_others_containers() {
    // 4.x class definition is not 3.x, and vice versa.
    let v4 = unhex("4303612e4291017860 91");
    assert!(Decoder::new(&v4, Dialect::V3).read_value().is_err());
    let v3 = unhex("4f93612e42910178 6f9091");
    assert!(Decoder::new(&v3, Dialect::V4).read_value().is_err());
}
