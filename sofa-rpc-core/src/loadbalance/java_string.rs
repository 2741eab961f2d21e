//! The Java string form of a value (`String.valueOf`), where it does not depend on the JVM:
//! strings, numbers, booleans, chars and unit enum variants (Java's `Enum.name()`).

use std::fmt;
use std::fmt::Write as _;

use serde::ser::{Impossible, Serialize, Serializer};

/// Writes `value`'s Java string form into `out`; `false` (with nothing written) when it has
/// none that does not depend on the JVM: a sequence, map, struct, byte array or data-carrying
/// variant, whose `toString()` is usually a class name and an identity hash.
pub(crate) fn write(value: &dyn erased_serde::Serialize, out: &mut Text) -> bool {
    erased_serde::serialize(value, JavaString(out)).is_ok()
}

/// The value has no JVM-independent string form.
#[derive(Debug)]
struct NoJavaString;

impl fmt::Display for NoJavaString {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("no Java string form")
    }
}

impl std::error::Error for NoJavaString {}

impl serde::ser::Error for NoJavaString {
    fn custom<T: fmt::Display>(_: T) -> Self {
        NoJavaString
    }
}

/// Writes a scalar's Java string form; refuses anything else before writing.
struct JavaString<'a>(&'a mut Text);

impl JavaString<'_> {
    fn text(self, text: &str) -> Result<(), NoJavaString> {
        self.0.push_str(text);
        Ok(())
    }

    /// Integers print alike in Java and Rust.
    fn display(self, value: impl fmt::Display) -> Result<(), NoJavaString> {
        write!(self.0, "{value}").map_err(|_| NoJavaString)
    }

    /// Java's `Double.toString` / `Float.toString`: plain decimal with at least one
    /// fraction digit for magnitudes in [1e-3, 1e7), `d.dddE±n` otherwise, from the shortest
    /// digits that read back as the same number (what Java prints since JDK 19; older JDKs
    /// sometimes print an extra digit).
    fn float(
        self,
        value: f64,
        shortest: impl fmt::Display + fmt::LowerExp,
    ) -> Result<(), NoJavaString> {
        let mut buf = Text::default();
        let magnitude = value.abs();
        if value.is_nan() {
            return self.text("NaN");
        } else if value.is_infinite() {
            return self.text(if value > 0.0 { "Infinity" } else { "-Infinity" });
        } else if magnitude == 0.0 || (1e-3..1e7).contains(&magnitude) {
            write!(buf, "{shortest}").map_err(|_| NoJavaString)?;
            if !buf.as_str().contains('.') {
                buf.push_str(".0");
            }
        } else {
            write!(buf, "{shortest:e}").map_err(|_| NoJavaString)?;
            let text = buf.as_str().to_owned();
            let (mantissa, exponent) = text.split_once('e').unwrap_or((&text, "0"));
            buf = Text::default();
            buf.push_str(mantissa);
            if !mantissa.contains('.') {
                buf.push_str(".0");
            }
            buf.push_str("E");
            buf.push_str(exponent);
        }
        self.text(buf.as_str())
    }
}

/// A small text buffer on the stack (longer text spills to the heap): most keys are short,
/// and a key is made on every call.
pub(crate) struct Text {
    len: usize,
    /// Room for any integer (an i128 takes 40) and any float's shortest form.
    bytes: [u8; 48],
    spill: String,
}

impl Default for Text {
    fn default() -> Self {
        Text {
            len: 0,
            bytes: [0; 48],
            spill: String::new(),
        }
    }
}

impl Text {
    fn push_str(&mut self, s: &str) {
        if self.spill.is_empty() {
            if let Some(room) = self.bytes.get_mut(self.len..self.len + s.len()) {
                room.copy_from_slice(s.as_bytes());
                self.len += s.len();
                return;
            }
            self.spill = String::from(self.as_str());
        }
        self.spill.push_str(s);
    }

    /// The text written so far.
    pub(crate) fn as_str(&self) -> &str {
        if self.spill.is_empty() {
            // Only whole `&str`s are ever copied in, so the bytes are UTF-8.
            std::str::from_utf8(self.bytes.get(..self.len).unwrap_or_default()).unwrap_or("")
        } else {
            &self.spill
        }
    }
}

impl fmt::Write for Text {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        self.push_str(s);
        Ok(())
    }
}

type Refuse = Impossible<(), NoJavaString>;

impl Serializer for JavaString<'_> {
    type Ok = ();
    type Error = NoJavaString;
    type SerializeSeq = Refuse;
    type SerializeTuple = Refuse;
    type SerializeTupleStruct = Refuse;
    type SerializeTupleVariant = Refuse;
    type SerializeMap = Refuse;
    type SerializeStruct = Refuse;
    type SerializeStructVariant = Refuse;

    fn serialize_bool(self, v: bool) -> Result<(), NoJavaString> {
        self.text(if v { "true" } else { "false" })
    }
    fn serialize_i8(self, v: i8) -> Result<(), NoJavaString> {
        self.display(v)
    }
    fn serialize_i16(self, v: i16) -> Result<(), NoJavaString> {
        self.display(v)
    }
    fn serialize_i32(self, v: i32) -> Result<(), NoJavaString> {
        self.display(v)
    }
    fn serialize_i64(self, v: i64) -> Result<(), NoJavaString> {
        self.display(v)
    }
    fn serialize_i128(self, v: i128) -> Result<(), NoJavaString> {
        self.display(v)
    }
    fn serialize_u8(self, v: u8) -> Result<(), NoJavaString> {
        self.display(v)
    }
    fn serialize_u16(self, v: u16) -> Result<(), NoJavaString> {
        self.display(v)
    }
    fn serialize_u32(self, v: u32) -> Result<(), NoJavaString> {
        self.display(v)
    }
    fn serialize_u64(self, v: u64) -> Result<(), NoJavaString> {
        self.display(v)
    }
    fn serialize_u128(self, v: u128) -> Result<(), NoJavaString> {
        self.display(v)
    }
    fn serialize_f32(self, v: f32) -> Result<(), NoJavaString> {
        // Formatted as an f32, for Float's shortest digits, not Double's.
        self.float(f64::from(v), v)
    }
    fn serialize_f64(self, v: f64) -> Result<(), NoJavaString> {
        self.float(v, v)
    }
    fn serialize_char(self, v: char) -> Result<(), NoJavaString> {
        self.text(v.encode_utf8(&mut [0; 4]))
    }
    fn serialize_str(self, v: &str) -> Result<(), NoJavaString> {
        self.text(v)
    }
    fn serialize_bytes(self, _: &[u8]) -> Result<(), NoJavaString> {
        Err(NoJavaString)
    }
    fn serialize_none(self) -> Result<(), NoJavaString> {
        Ok(())
    }
    fn serialize_some<T: ?Sized + Serialize>(self, value: &T) -> Result<(), NoJavaString> {
        value.serialize(self)
    }
    fn serialize_unit(self) -> Result<(), NoJavaString> {
        Ok(())
    }
    fn serialize_unit_struct(self, _: &'static str) -> Result<(), NoJavaString> {
        Err(NoJavaString)
    }
    fn serialize_unit_variant(
        self,
        _: &'static str,
        _: u32,
        variant: &'static str,
    ) -> Result<(), NoJavaString> {
        self.text(variant)
    }
    fn serialize_newtype_struct<T: ?Sized + Serialize>(
        self,
        _: &'static str,
        value: &T,
    ) -> Result<(), NoJavaString> {
        value.serialize(self)
    }
    fn serialize_newtype_variant<T: ?Sized + Serialize>(
        self,
        _: &'static str,
        _: u32,
        _: &'static str,
        _: &T,
    ) -> Result<(), NoJavaString> {
        Err(NoJavaString)
    }
    fn serialize_seq(self, _: Option<usize>) -> Result<Refuse, NoJavaString> {
        Err(NoJavaString)
    }
    fn serialize_tuple(self, _: usize) -> Result<Refuse, NoJavaString> {
        Err(NoJavaString)
    }
    fn serialize_tuple_struct(self, _: &'static str, _: usize) -> Result<Refuse, NoJavaString> {
        Err(NoJavaString)
    }
    fn serialize_tuple_variant(
        self,
        _: &'static str,
        _: u32,
        _: &'static str,
        _: usize,
    ) -> Result<Refuse, NoJavaString> {
        Err(NoJavaString)
    }
    fn serialize_map(self, _: Option<usize>) -> Result<Refuse, NoJavaString> {
        Err(NoJavaString)
    }
    fn serialize_struct(self, _: &'static str, _: usize) -> Result<Refuse, NoJavaString> {
        Err(NoJavaString)
    }
    fn serialize_struct_variant(
        self,
        _: &'static str,
        _: u32,
        _: &'static str,
        _: usize,
    ) -> Result<Refuse, NoJavaString> {
        Err(NoJavaString)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn java(value: impl Serialize) -> Option<String> {
        let mut text = Text::default();
        write(&value, &mut text).then(|| text.as_str().to_owned())
    }

    #[test]
    fn scalars_print_as_java_prints_them() {
        assert_eq!(java("user-42").as_deref(), Some("user-42"));
        assert_eq!(java(42).as_deref(), Some("42"));
        assert_eq!(java(-7i64).as_deref(), Some("-7"));
        assert_eq!(
            java(i128::MIN).as_deref(),
            Some("-170141183460469231731687303715884105728")
        );
        assert_eq!(java(true).as_deref(), Some("true"));
        assert_eq!(java('x').as_deref(), Some("x"));
        assert_eq!(java(1.0f64).as_deref(), Some("1.0"));
        assert_eq!(java(-0.25f64).as_deref(), Some("-0.25"));
        assert_eq!(java(1234567.5f64).as_deref(), Some("1234567.5"));
        assert_eq!(java(1e7f64).as_deref(), Some("1.0E7"));
        assert_eq!(java(1.5e-5f64).as_deref(), Some("1.5E-5"));
        assert_eq!(java(f64::NAN).as_deref(), Some("NaN"));
        assert_eq!(java(f64::NEG_INFINITY).as_deref(), Some("-Infinity"));
        assert_eq!(java(0.1f32).as_deref(), Some("0.1"));
        assert_eq!(java(Some("a")).as_deref(), Some("a"));
        assert_eq!(java("x".repeat(100)).map(|s| s.len()), Some(100));
    }

    #[test]
    fn composites_have_no_java_string_form() {
        assert_eq!(java(vec![1, 2]), None);
        assert_eq!(java((1, 2)), None);
        assert_eq!(java(serde_bytes::Bytes::new(b"ab")), None);
    }
}
