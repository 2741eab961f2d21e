//! Java type signatures for `methodArgSigs`.
//!
//! SOFARPC finds the invoked method by name plus the exact Java type names of its
//! declared parameters (`Class.getName()` form). [`JavaType`] gives the signature a
//! Rust argument type stands for; implement it for your own structs with the
//! `java_type!` macro or by hand, or override per argument where you build the
//! `methodArgSigs`.

use std::borrow::Cow;
use std::collections::{BTreeMap, HashMap};

use crate::value::RemoteException;
use sofa_hessian::Value;

/// The Java type a Rust type is sent as.
pub trait JavaType {
    /// The `Class.getName()` of the Java parameter type, e.g. `java.lang.String`,
    /// `int`, `[B`, `java.util.List`.
    fn java_type() -> Cow<'static, str>;

    /// The type used when the value is optional (`Option<Self>`): the boxed type
    /// for primitives (`java.lang.Integer` for `int`), `java_type()` otherwise.
    fn java_boxed_type() -> Cow<'static, str> {
        Self::java_type()
    }

    /// The type of a `Vec<Self>`: `java.util.List`, except `[B` for `Vec<u8>`
    /// (which this module writes as a Hessian binary).
    fn java_vec_type() -> Cow<'static, str> {
        Cow::Borrowed("java.util.List")
    }
}

macro_rules! primitive {
    ($($t:ty => $prim:literal, $boxed:literal;)*) => {
        $(
            impl JavaType for $t {
                fn java_type() -> Cow<'static, str> {
                    Cow::Borrowed($prim)
                }
                fn java_boxed_type() -> Cow<'static, str> {
                    Cow::Borrowed($boxed)
                }
            }
        )*
    };
}

primitive! {
    bool => "boolean", "java.lang.Boolean";
    i8 => "byte", "java.lang.Byte";
    i16 => "short", "java.lang.Short";
    i32 => "int", "java.lang.Integer";
    i64 => "long", "java.lang.Long";
    f32 => "float", "java.lang.Float";
    f64 => "double", "java.lang.Double";
    char => "char", "java.lang.Character";
}

impl JavaType for u8 {
    fn java_type() -> Cow<'static, str> {
        Cow::Borrowed("byte")
    }
    fn java_boxed_type() -> Cow<'static, str> {
        Cow::Borrowed("java.lang.Byte")
    }
    fn java_vec_type() -> Cow<'static, str> {
        Cow::Borrowed("[B")
    }
}

impl JavaType for String {
    fn java_type() -> Cow<'static, str> {
        Cow::Borrowed("java.lang.String")
    }
}

impl JavaType for str {
    fn java_type() -> Cow<'static, str> {
        Cow::Borrowed("java.lang.String")
    }
}

impl<T: JavaType + ?Sized> JavaType for &T {
    fn java_type() -> Cow<'static, str> {
        T::java_type()
    }
    fn java_boxed_type() -> Cow<'static, str> {
        T::java_boxed_type()
    }
    fn java_vec_type() -> Cow<'static, str> {
        T::java_vec_type()
    }
}

impl<T: JavaType> JavaType for Option<T> {
    fn java_type() -> Cow<'static, str> {
        T::java_boxed_type()
    }
}

impl<T: JavaType> JavaType for Box<T> {
    fn java_type() -> Cow<'static, str> {
        T::java_type()
    }
    fn java_boxed_type() -> Cow<'static, str> {
        T::java_boxed_type()
    }
}

impl<T: JavaType> JavaType for Vec<T> {
    fn java_type() -> Cow<'static, str> {
        T::java_vec_type()
    }
}

impl<T: JavaType> JavaType for [T] {
    fn java_type() -> Cow<'static, str> {
        T::java_vec_type()
    }
}

impl<K, V, S> JavaType for HashMap<K, V, S> {
    fn java_type() -> Cow<'static, str> {
        Cow::Borrowed("java.util.Map")
    }
}

impl<K, V> JavaType for BTreeMap<K, V> {
    fn java_type() -> Cow<'static, str> {
        Cow::Borrowed("java.util.Map")
    }
}

impl JavaType for Value {
    fn java_type() -> Cow<'static, str> {
        Cow::Borrowed("java.lang.Object")
    }
}

impl JavaType for RemoteException {
    fn java_type() -> Cow<'static, str> {
        Cow::Borrowed("java.lang.Throwable")
    }
}

impl JavaType for () {
    fn java_type() -> Cow<'static, str> {
        Cow::Borrowed("void")
    }
}

macro_rules! unsigned {
    ($($t:ty => $prim:literal, $boxed:literal;)*) => {
        $(
            impl JavaType for $t {
                fn java_type() -> Cow<'static, str> {
                    Cow::Borrowed($prim)
                }
                fn java_boxed_type() -> Cow<'static, str> {
                    Cow::Borrowed($boxed)
                }
            }
        )*
    };
}

// Unsigned types travel as the next wider signed Java type.
unsigned! {
    u16 => "int", "java.lang.Integer";
    u32 => "long", "java.lang.Long";
    u64 => "long", "java.lang.Long";
}

impl JavaType for bytes::Bytes {
    fn java_type() -> Cow<'static, str> {
        Cow::Borrowed("[B")
    }
}

/// Java array signature of an element class: `java_array_of("java.lang.String")`
/// is `[Ljava.lang.String;`, `java_array_of("int")` is `[I`, and an array of
/// arrays nests (`java_array_of("[I")` is `[[I`).
pub fn java_array_of(element: &str) -> String {
    let prim = match element {
        "boolean" => Some('Z'),
        "byte" => Some('B'),
        "char" => Some('C'),
        "short" => Some('S'),
        "int" => Some('I'),
        "long" => Some('J'),
        "float" => Some('F'),
        "double" => Some('D'),
        _ => None,
    };
    match prim {
        Some(c) => format!("[{c}"),
        None if element.starts_with('[') => format!("[{element}"),
        None => format!("[L{element};"),
    }
}

/// Implements [`JavaType`] for types with a fixed Java class name:
/// `java_type!(MyUser => "com.example.User", MyOrder => "com.example.Order");`
///
///
/// ```
/// #[derive(serde::Serialize)]
/// #[serde(rename = "com.example.User")]
/// struct User { name: String }
///
/// sofa_rpc_core::java_type!(User => "com.example.User");
///
/// use sofa_rpc_core::JavaType;
/// assert_eq!(User::java_type(), "com.example.User");
/// assert_eq!(<Vec<User>>::java_type(), "java.util.List");
/// ```
#[macro_export]
macro_rules! java_type {
    ($($t:ty => $name:expr),+ $(,)?) => {
        $(
            impl $crate::JavaType for $t {
                fn java_type() -> ::std::borrow::Cow<'static, str> {
                    ::std::borrow::Cow::Borrowed($name)
                }
            }
        )+
    };
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use serde::Serialize;
    use sofa_hessian::{Dialect, Encoder, Value};

    fn enc<T: Serialize + ?Sized>(v: &T) -> String {
        let mut e = Encoder::new(Dialect::V3);
        e.encode(v).unwrap();
        e.as_bytes().iter().map(|b| format!("{b:02x}")).collect()
    }

    #[test]
    fn java_type_signatures() {
        use super::{java_array_of, JavaType};
        #[derive(Serialize)]
        struct MyUser;
        crate::java_type!(MyUser => "com.example.User");
        assert_eq!(String::java_type(), "java.lang.String");
        assert_eq!(<&str>::java_type(), "java.lang.String");
        assert_eq!(i32::java_type(), "int");
        assert_eq!(i64::java_type(), "long");
        assert_eq!(i16::java_type(), "short");
        assert_eq!(i8::java_type(), "byte");
        assert_eq!(bool::java_type(), "boolean");
        assert_eq!(f64::java_type(), "double");
        assert_eq!(f32::java_type(), "float");
        assert_eq!(char::java_type(), "char");
        assert_eq!(Option::<i32>::java_type(), "java.lang.Integer");
        assert_eq!(Option::<i64>::java_type(), "java.lang.Long");
        assert_eq!(Option::<bool>::java_type(), "java.lang.Boolean");
        assert_eq!(Option::<String>::java_type(), "java.lang.String");
        assert_eq!(Vec::<u8>::java_type(), "[B");
        assert_eq!(bytes::Bytes::java_type(), "[B");
        assert_eq!(Vec::<String>::java_type(), "java.util.List");
        assert_eq!(HashMap::<String, i32>::java_type(), "java.util.Map");
        assert_eq!(
            std::collections::BTreeMap::<String, i32>::java_type(),
            "java.util.Map"
        );
        assert_eq!(Value::java_type(), "java.lang.Object");
        assert_eq!(MyUser::java_type(), "com.example.User");
        assert_eq!(Option::<MyUser>::java_type(), "com.example.User");
        assert_eq!(java_array_of("java.lang.String"), "[Ljava.lang.String;");
        assert_eq!(java_array_of("int"), "[I");
        assert_eq!(java_array_of("[I"), "[[I");
        // bytes::Bytes is written as binary, matching its `[B` signature.
        assert_eq!(enc(&bytes::Bytes::from_static(b"a")), "2161");
    }
}
