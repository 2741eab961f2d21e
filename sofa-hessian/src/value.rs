//! A dynamic Hessian value.

/// Class name of a Java `StackTraceElement` array as written by Java.
pub const STACK_TRACE_ARRAY_TYPE: &str = "[java.lang.StackTraceElement";
/// List type Java writes for `Throwable.suppressedExceptions` when there are none.
pub const EMPTY_LIST_TYPE: &str = "java.util.Collections$EmptyList";

/// Any Hessian value, as read from or written to the wire.
///
/// Back-references on the wire are resolved while reading: a reference to a value
/// that was completely read earlier in the stream yields a copy of that value. A
/// reference to a container that is *still being read* (a cycle, e.g. a Java
/// `Throwable` whose `cause` is itself) cannot be expressed in a tree and is kept as
/// [`Value::Ref`], which counts enclosing containers: `Ref(0)` is the innermost
/// list, map or object that contains the reference. Writing a `Value::Ref` produces
/// the matching back-reference, so such values round-trip byte for byte.
#[derive(Debug, Clone, PartialEq, Default)]
pub enum Value {
    /// `null`.
    #[default]
    Null,
    /// A boolean.
    Bool(bool),
    /// A 32-bit int (Java `int`/`Integer`, also `short`/`byte`).
    Int(i32),
    /// A 64-bit long.
    Long(i64),
    /// A double (Java `float` values are widened).
    Double(f64),
    /// A `java.util.Date`, milliseconds since the Unix epoch (UTC).
    Date(i64),
    /// A string.
    String(String),
    /// A byte array (Java `byte[]`).
    Binary(Vec<u8>),
    /// A list or array. `type_name` is the Java type written on the wire
    /// (e.g. `[string`, `java.util.HashSet`), `None` for untyped lists such as
    /// `java.util.ArrayList`.
    List {
        /// Java type name, if the list is typed.
        type_name: Option<String>,
        /// The elements.
        items: Vec<Value>,
    },
    /// A map. `type_name` is `None` for `java.util.HashMap` (written untyped).
    Map {
        /// Java type name, if the map is typed.
        type_name: Option<String>,
        /// The entries, in wire order.
        entries: Vec<(Value, Value)>,
    },
    /// A Java object: class name and fields in class-definition order.
    Object {
        /// Fully qualified Java class name.
        class: String,
        /// Field names and values.
        fields: Vec<(String, Value)>,
    },
    /// A back-reference to an enclosing container (see the type documentation).
    Ref(u32),
}

impl Value {
    /// Returns the string if this is a [`Value::String`].
    pub fn as_str(&self) -> Option<&str> {
        match self {
            Value::String(s) => Some(s),
            _ => None,
        }
    }

    /// Returns the value as `i64` if it is an int or a long.
    pub fn as_i64(&self) -> Option<i64> {
        match *self {
            Value::Int(i) => Some(i64::from(i)),
            Value::Long(l) => Some(l),
            _ => None,
        }
    }

    /// Returns the boolean if this is a [`Value::Bool`].
    pub fn as_bool(&self) -> Option<bool> {
        match *self {
            Value::Bool(b) => Some(b),
            _ => None,
        }
    }

    /// True for [`Value::Null`].
    pub fn is_null(&self) -> bool {
        matches!(self, Value::Null)
    }

    /// The class name if this is an object.
    pub fn class_name(&self) -> Option<&str> {
        match self {
            Value::Object { class, .. } => Some(class),
            _ => None,
        }
    }

    /// Looks up a field of an object (or a string key of a map) by name.
    pub fn field(&self, name: &str) -> Option<&Value> {
        match self {
            Value::Object { fields, .. } => fields.iter().find(|(k, _)| k == name).map(|(_, v)| v),
            Value::Map { entries, .. } => entries
                .iter()
                .find(|(k, _)| k.as_str() == Some(name))
                .map(|(_, v)| v),
            _ => None,
        }
    }

    /// Builds a Java exception object with the shape Java's serializer produces for
    /// a `Throwable` without stack trace: fields `detailMessage`, `cause` (a
    /// reference to the exception itself, Java's "no cause set" marker),
    /// `stackTrace` (an empty `[java.lang.StackTraceElement` array) and
    /// `suppressedExceptions` (an empty `java.util.Collections$EmptyList`).
    pub fn java_exception(class: impl Into<String>, message: Option<&str>) -> Value {
        Value::Object {
            class: class.into(),
            fields: vec![
                (
                    "detailMessage".to_owned(),
                    message.map_or(Value::Null, |m| Value::String(m.to_owned())),
                ),
                ("cause".to_owned(), Value::Ref(0)),
                (
                    "stackTrace".to_owned(),
                    Value::List {
                        type_name: Some(STACK_TRACE_ARRAY_TYPE.to_owned()),
                        items: Vec::new(),
                    },
                ),
                (
                    "suppressedExceptions".to_owned(),
                    Value::List {
                        type_name: Some(EMPTY_LIST_TYPE.to_owned()),
                        items: Vec::new(),
                    },
                ),
            ],
        }
    }

    /// True if this is an object that looks like a Java `Throwable` (it has a
    /// `detailMessage` field).
    pub fn is_java_exception(&self) -> bool {
        match self {
            Value::Object { fields, .. } => fields.iter().any(|(k, _)| k == "detailMessage"),
            _ => false,
        }
    }

    /// For a Java exception object, returns `(class name, detailMessage)`.
    pub fn exception_info(&self) -> Option<(&str, Option<&str>)> {
        match self {
            Value::Object { class, fields } => {
                let (_, msg) = fields.iter().find(|(k, _)| k == "detailMessage")?;
                Some((class, msg.as_str()))
            }
            _ => None,
        }
    }
}

impl From<bool> for Value {
    fn from(v: bool) -> Self {
        Value::Bool(v)
    }
}
impl From<i32> for Value {
    fn from(v: i32) -> Self {
        Value::Int(v)
    }
}
impl From<i64> for Value {
    fn from(v: i64) -> Self {
        Value::Long(v)
    }
}
impl From<f64> for Value {
    fn from(v: f64) -> Self {
        Value::Double(v)
    }
}
impl From<&str> for Value {
    fn from(v: &str) -> Self {
        Value::String(v.to_owned())
    }
}
impl From<String> for Value {
    fn from(v: String) -> Self {
        Value::String(v)
    }
}
impl From<Vec<u8>> for Value {
    fn from(v: Vec<u8>) -> Self {
        Value::Binary(v)
    }
}
impl<T: Into<Value>> From<Option<T>> for Value {
    fn from(v: Option<T>) -> Self {
        v.map_or(Value::Null, Into::into)
    }
}
