//! JSON arguments to the values a Java method expects: the declared type decides the wire
//! form (`int` goes as a Hessian int, `long` as a long, a class as a typed object).

use serde_json::{Map, Value as Json};
use sofa_rpc_core::Value;

use crate::args::{kind, CLASS_FIELD};
use crate::error::{Failure, Result};

/// Converts argument number `index` (0-based) to the form its Java type `java` needs.
pub(crate) fn argument(json: &Json, java: &str, index: usize) -> Result<Value> {
    typed(json, java).map_err(|why| {
        Failure::usage(format!(
            "argument {} ({java}): {why}, got {}",
            index + 1,
            short(json)
        ))
    })
}

/// The value for Java type `java`; `Err` says what was expected.
fn typed(json: &Json, java: &str) -> std::result::Result<Value, String> {
    let boxed = java.contains('.');
    if json.is_null() {
        return if boxed || java.starts_with('[') {
            Ok(Value::Null)
        } else {
            Err(format!("a {java} cannot be null"))
        };
    }
    match java {
        "int" | "java.lang.Integer" => integer(json, i64::from(i32::MIN), i64::from(i32::MAX)),
        "short" | "java.lang.Short" => integer(json, i64::from(i16::MIN), i64::from(i16::MAX)),
        "byte" | "java.lang.Byte" => integer(json, i64::from(i8::MIN), i64::from(i8::MAX)),
        "long" | "java.lang.Long" => json
            .as_i64()
            .map(Value::Long)
            .ok_or_else(|| "expected an integer within 64 bits".to_string()),
        "double" | "java.lang.Double" | "float" | "java.lang.Float" => json
            .as_f64()
            .map(Value::Double)
            .ok_or_else(|| "expected a number".to_string()),
        "boolean" | "java.lang.Boolean" => json
            .as_bool()
            .map(Value::Bool)
            .ok_or_else(|| "expected true or false".to_string()),
        "char" | "java.lang.Character" => match json.as_str() {
            Some(s) if s.chars().count() == 1 => Ok(Value::String(s.to_string())),
            _ => Err("expected a string of one character".into()),
        },
        "java.lang.String" => json
            .as_str()
            .map(|s| Value::String(s.to_string()))
            .ok_or_else(|| "expected a string".to_string()),
        "java.util.Date" => json
            .as_i64()
            .map(Value::Date)
            .ok_or_else(|| "expected milliseconds since the epoch".to_string()),
        "[B" => bytes(json),
        "java.lang.Object" => Ok(untyped(json)),
        _ if is_list(java) => match json {
            Json::Array(items) => Ok(list(items)),
            _ => Err("expected an array".into()),
        },
        _ if is_map(java) => match json {
            Json::Object(fields) => Ok(map(fields)),
            _ => Err("expected an object".into()),
        },
        class => match json {
            // A class of the provider's: a typed object, unless the JSON names a subclass.
            Json::Object(fields) => Ok(object(class, fields)),
            other => Ok(untyped(other)),
        },
    }
}

fn integer(json: &Json, min: i64, max: i64) -> std::result::Result<Value, String> {
    match json.as_i64() {
        Some(i) if (min..=max).contains(&i) => {
            // Within i32 by the range check.
            Ok(Value::Int(i32::try_from(i).unwrap_or_default()))
        }
        _ => Err(format!("expected an integer from {min} to {max}")),
    }
}

fn bytes(json: &Json) -> std::result::Result<Value, String> {
    let items = json.as_array().ok_or("expected an array of bytes")?;
    items
        .iter()
        .map(|b| match b.as_i64() {
            Some(b @ 0..=255) => Ok(b as u8),
            Some(b @ -128..=-1) => Ok(b as u8),
            _ => Err("expected an array of bytes (-128 to 255)".to_string()),
        })
        .collect::<std::result::Result<Vec<u8>, _>>()
        .map(Value::Binary)
}

fn is_list(java: &str) -> bool {
    java.starts_with('[')
        || matches!(
            java,
            "java.util.List"
                | "java.util.ArrayList"
                | "java.util.LinkedList"
                | "java.util.Collection"
                | "java.util.Set"
                | "java.util.HashSet"
        )
}

fn is_map(java: &str) -> bool {
    matches!(
        java,
        "java.util.Map" | "java.util.HashMap" | "java.util.LinkedHashMap" | "java.util.TreeMap"
    )
}

/// A value without a declared type: the JSON kinds as [`crate::args::infer`] names them.
pub(crate) fn untyped(json: &Json) -> Value {
    match json {
        Json::Null => Value::Null,
        Json::Bool(b) => Value::Bool(*b),
        Json::Number(n) => match n.as_i64() {
            Some(i) => i32::try_from(i).map_or(Value::Long(i), Value::Int),
            None => Value::Double(n.as_f64().unwrap_or(f64::NAN)),
        },
        Json::String(s) => Value::String(s.clone()),
        Json::Array(items) => list(items),
        Json::Object(fields) => match fields.get(CLASS_FIELD) {
            Some(Json::String(class)) => object(class, fields),
            _ => map(fields),
        },
    }
}

fn list(items: &[Json]) -> Value {
    Value::List {
        type_name: None,
        items: items.iter().map(untyped).collect(),
    }
}

fn map(fields: &Map<String, Json>) -> Value {
    Value::Map {
        type_name: None,
        entries: fields
            .iter()
            .map(|(k, v)| (Value::String(k.clone()), untyped(v)))
            .collect(),
    }
}

fn object(class: &str, fields: &Map<String, Json>) -> Value {
    let class = match fields.get(CLASS_FIELD) {
        Some(Json::String(named)) => named.clone(),
        _ => class.to_string(),
    };
    Value::Object {
        class,
        fields: fields
            .iter()
            .filter(|(k, _)| k.as_str() != CLASS_FIELD)
            .map(|(k, v)| (k.clone(), untyped(v)))
            .collect(),
    }
}

/// The start of a value for a message: long arguments would swamp the line.
fn short(json: &Json) -> String {
    let text = json.to_string();
    if text.chars().count() <= 40 {
        text
    } else {
        format!(
            "{} ({}…)",
            kind(json),
            text.chars().take(30).collect::<String>()
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn declared_types_choose_the_wire_form() {
        assert_eq!(argument(&json!(7), "int", 0).unwrap(), Value::Int(7));
        assert_eq!(argument(&json!(7), "long", 0).unwrap(), Value::Long(7));
        assert_eq!(
            argument(&json!(7), "double", 0).unwrap(),
            Value::Double(7.0)
        );
        assert_eq!(
            argument(&json!(null), "java.lang.Long", 0).unwrap(),
            Value::Null
        );
        assert_eq!(
            argument(&json!([1, -1]), "[B", 0).unwrap(),
            Value::Binary(vec![1, 255])
        );
        let user = argument(&json!({"name": "bob"}), "com.example.User", 0).unwrap();
        assert_eq!(
            user,
            Value::Object {
                class: "com.example.User".into(),
                fields: vec![("name".into(), Value::String("bob".into()))]
            }
        );
    }

    #[test]
    fn mismatches_name_the_argument() {
        let e = argument(&json!("x"), "int", 1).unwrap_err();
        assert_eq!(
            e.to_string(),
            "argument 2 (int): expected an integer from -2147483648 to 2147483647, got \"x\""
        );
        let e = argument(&json!(null), "long", 0).unwrap_err();
        assert!(e.to_string().contains("cannot be null"), "{e}");
        assert!(argument(&json!(1), "java.util.List", 0).is_err());
    }

    #[test]
    fn untyped_values_follow_json() {
        assert_eq!(untyped(&json!(1)), Value::Int(1));
        assert_eq!(untyped(&json!(1i64 << 40)), Value::Long(1 << 40));
        let m = untyped(&json!({"k": [true]}));
        assert_eq!(
            m,
            Value::Map {
                type_name: None,
                entries: vec![(
                    Value::String("k".into()),
                    Value::List {
                        type_name: None,
                        items: vec![Value::Bool(true)]
                    }
                )]
            }
        );
    }
}
