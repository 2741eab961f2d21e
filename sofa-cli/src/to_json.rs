//! Results to JSON: what a provider returned, as plain JSON a person or `jq` reads.
//!
//! | Java (Hessian) | JSON |
//! |---|---|
//! | null, boolean, int, long, double, String | the same |
//! | double NaN / ±Infinity | the string `"NaN"`, `"Infinity"`, `"-Infinity"` |
//! | List, array, Set | array |
//! | Map | object; keys that are not strings are written as their JSON text |
//! | object of class C | object with `"@class": "C"` and its fields |
//! | Date | `{"@class": "java.util.Date", "time": <ms since the epoch>}` |
//! | byte[] | array of numbers 0-255 |
//! | back-reference n | `{"@ref": n}` |
//!
//! `"@class"` is the field `sofa call` reads back in arguments, so a result can be passed
//! on as an argument unchanged.

use serde_json::{Map, Number, Value as Json};
use sofa_rpc_core::Value;

use crate::args::CLASS_FIELD;

/// Converts a dynamic result to JSON (see the module docs).
pub(crate) fn to_json(value: &Value) -> Json {
    match value {
        Value::Null => Json::Null,
        Value::Bool(b) => Json::Bool(*b),
        Value::Int(i) => Json::from(*i),
        Value::Long(l) => Json::from(*l),
        Value::Double(d) => match Number::from_f64(*d) {
            Some(n) => Json::Number(n),
            None if d.is_nan() => Json::from("NaN"),
            None if *d > 0.0 => Json::from("Infinity"),
            None => Json::from("-Infinity"),
        },
        Value::Date(ms) => {
            let mut out = Map::new();
            out.insert(CLASS_FIELD.into(), Json::from("java.util.Date"));
            out.insert("time".into(), Json::from(*ms));
            Json::Object(out)
        }
        Value::String(s) => Json::from(s.as_str()),
        Value::Binary(b) => Json::Array(b.iter().map(|b| Json::from(*b)).collect()),
        Value::List { items, .. } => Json::Array(items.iter().map(to_json).collect()),
        Value::Map { entries, .. } => {
            Json::Object(entries.iter().map(|(k, v)| (key(k), to_json(v))).collect())
        }
        Value::Object { class, fields } => {
            let mut out = Map::new();
            out.insert(CLASS_FIELD.into(), Json::from(class.as_str()));
            for (name, v) in fields {
                out.insert(name.clone(), to_json(v));
            }
            Json::Object(out)
        }
        Value::Ref(n) => {
            let mut out = Map::new();
            out.insert("@ref".into(), Json::from(*n));
            Json::Object(out)
        }
    }
}

/// A map key as a JSON object key.
fn key(k: &Value) -> String {
    match to_json(k) {
        Json::String(s) => s,
        other => other.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn objects_keep_their_class() {
        let v = Value::Object {
            class: "com.example.User".into(),
            fields: vec![
                ("name".into(), Value::String("bob".into())),
                (
                    "tags".into(),
                    Value::List {
                        type_name: None,
                        items: vec![Value::Int(1)],
                    },
                ),
            ],
        };
        assert_eq!(
            to_json(&v),
            json!({"@class": "com.example.User", "name": "bob", "tags": [1]})
        );
    }

    #[test]
    fn maps_dates_and_odd_numbers() {
        let m = Value::Map {
            type_name: None,
            entries: vec![
                (Value::Int(1), Value::Double(f64::NAN)),
                (Value::String("d".into()), Value::Date(5)),
            ],
        };
        assert_eq!(
            to_json(&m),
            json!({"1": "NaN", "d": {"@class": "java.util.Date", "time": 5}})
        );
    }
}
