//! `ARGS_JSON` and `--types`: the arguments of a call and the Java types they are sent as.
//!
//! Types come, in order of preference, from `--types`, from the provider's metadata service
//! (when it answers and the method's name and argument count pick one method), or are
//! inferred from each JSON value:
//!
//! | JSON | Java type |
//! |---|---|
//! | string | `java.lang.String` |
//! | integer within 32 bits | `int` |
//! | other integer | `long` |
//! | number with a fraction or exponent | `double` |
//! | `true` / `false` | `boolean` |
//! | array | `java.util.List` |
//! | object with an `"@class"` field | that class |
//! | other object | `java.util.Map` |
//! | `null` | `java.lang.Object` |
//!
//! Integers follow what Java's own JSON readers (Jackson, fastjson) do for untyped numbers:
//! `Integer` when it fits, else `Long`. Java providers find the method by these exact names,
//! so a `long` parameter needs `--types` (or the metadata service) when the value is small.

use serde_json::Value as Json;

use crate::error::{Failure, Result};

/// The field of a JSON object that names its Java class (both ways: arguments and results).
pub(crate) const CLASS_FIELD: &str = "@class";

/// Parses `ARGS_JSON`: a JSON array of arguments (absent means no arguments).
pub(crate) fn parse_args(text: Option<&str>) -> Result<Vec<Json>> {
    let Some(text) = text else {
        return Ok(Vec::new());
    };
    match serde_json::from_str::<Json>(text) {
        Ok(Json::Array(items)) => Ok(items),
        Ok(other) => Err(Failure::usage(format!(
            "ARGS_JSON must be a JSON array of arguments, e.g. '[\"hi\", 42]'; got {}",
            kind(&other)
        ))),
        Err(e) => Err(Failure::usage(format!(
            "ARGS_JSON is not valid JSON: {e} (in {text:?})"
        ))),
    }
}

/// Parses `--types`: comma-separated Java type names.
pub(crate) fn parse_types(text: &str) -> Result<Vec<String>> {
    let types: Vec<String> = text.split(',').map(|t| t.trim().to_string()).collect();
    if let Some(at) = types.iter().position(String::is_empty) {
        return Err(Failure::usage(format!(
            "--types {text:?}: type {} is empty",
            at + 1
        )));
    }
    Ok(types)
}

/// The Java types to send `args` as: `explicit` (from `--types`) if given, which must name
/// one type per argument; else `declared` (from the metadata service) when its length fits;
/// else inferred.
pub(crate) fn resolve_types(
    args: &[Json],
    explicit: Option<Vec<String>>,
    declared: Option<Vec<String>>,
) -> Result<Vec<String>> {
    if let Some(types) = explicit {
        if types.len() != args.len() {
            return Err(Failure::usage(format!(
                "--types names {} type(s) but ARGS_JSON has {} argument(s)",
                types.len(),
                args.len()
            )));
        }
        return Ok(types);
    }
    if let Some(types) = declared.filter(|t| t.len() == args.len()) {
        return Ok(types);
    }
    Ok(args.iter().map(infer).collect())
}

/// The Java type a JSON value is sent as when nothing else says (see the module docs).
pub(crate) fn infer(value: &Json) -> String {
    match value {
        Json::Null => "java.lang.Object".into(),
        Json::Bool(_) => "boolean".into(),
        Json::Number(n) => match n.as_i64() {
            Some(i) if i32::try_from(i).is_ok() => "int".into(),
            Some(_) => "long".into(),
            None if n.is_u64() => "long".into(),
            None => "double".into(),
        },
        Json::String(_) => "java.lang.String".into(),
        Json::Array(_) => "java.util.List".into(),
        Json::Object(fields) => match fields.get(CLASS_FIELD) {
            Some(Json::String(class)) => class.clone(),
            _ => "java.util.Map".into(),
        },
    }
}

/// A JSON value's kind, for messages.
pub(crate) fn kind(value: &Json) -> &'static str {
    match value {
        Json::Null => "null",
        Json::Bool(_) => "a boolean",
        Json::Number(_) => "a number",
        Json::String(_) => "a string",
        Json::Array(_) => "an array",
        Json::Object(_) => "an object",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn arguments_are_a_json_array() {
        assert_eq!(parse_args(None).unwrap(), Vec::<Json>::new());
        assert_eq!(parse_args(Some(r#"["a", 1]"#)).unwrap().len(), 2);
        let e = parse_args(Some(r#"["a", 1"#)).unwrap_err();
        assert!(
            e.to_string().starts_with("ARGS_JSON is not valid JSON"),
            "{e}"
        );
        assert!(e.to_string().contains("column"), "{e}");
        let e = parse_args(Some(r#"{"a": 1}"#)).unwrap_err();
        assert!(e.to_string().contains("got an object"), "{e}");
    }

    #[test]
    fn inference_follows_the_table() {
        let args = json!([
            "s", 1, 3_000_000_000i64, 1.5, true, [1], {"a": 1}, {"@class": "x.Y"}, null
        ]);
        let types: Vec<String> = args.as_array().unwrap().iter().map(infer).collect();
        assert_eq!(
            types,
            [
                "java.lang.String",
                "int",
                "long",
                "double",
                "boolean",
                "java.util.List",
                "java.util.Map",
                "x.Y",
                "java.lang.Object"
            ]
        );
    }

    #[test]
    fn explicit_types_must_fit_and_win() {
        let args = vec![json!(1), json!(2)];
        let e = resolve_types(&args, Some(vec!["long".into()]), None).unwrap_err();
        assert_eq!(
            e.to_string(),
            "--types names 1 type(s) but ARGS_JSON has 2 argument(s)"
        );
        let declared = Some(vec!["long".to_string(), "short".to_string()]);
        assert_eq!(
            resolve_types(&args, None, declared).unwrap(),
            ["long", "short"]
        );
        let wrong_len = Some(vec!["long".to_string()]);
        assert_eq!(
            resolve_types(&args, None, wrong_len).unwrap(),
            ["int", "int"]
        );
        assert!(parse_types("int,,long").is_err());
        assert_eq!(parse_types("int, long").unwrap(), ["int", "long"]);
    }
}
