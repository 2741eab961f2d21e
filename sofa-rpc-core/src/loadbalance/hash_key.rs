//! The key the consistent-hash balancers hash: the first argument's string form, as Java
//! SOFARPC takes it (`String.valueOf(args[0])`), fed to MD5.
//!
//! A Rust value has a Java string form that does not depend on the JVM only when it is a
//! string, a number, a boolean, a char or a unit enum variant (Java's `Enum.name()`): for
//! those the key is byte for byte what a Java consumer hashes, so both pick the same provider.
//! Any other value has no such form in Java either (`Object.toString()` is usually a class
//! name and an identity hash), so its JSON form is hashed instead: equal arguments still go
//! to the same provider. A protobuf-only argument hashes its encoding; no argument (and a
//! `None`) hashes the empty string.

use std::fmt;
use std::fmt::Write as _;

use md5::{Digest, Md5};
use serde::ser::{Impossible, Serialize, Serializer};

use crate::invocation::Invocation;

/// Java SOFARPC's `hash(digest, 0)` of the MD5 of the key of `invocation`.
pub(crate) fn key_hash(invocation: &Invocation) -> u32 {
    let mut md5 = Md5::new();
    if let Some(arg) = invocation.args().arg(0) {
        if let Some(value) = arg.as_serde() {
            if erased_serde::serialize(value, JavaString(&mut md5)).is_err() {
                md5 = Md5::new();
                let _ = serde_json::to_writer(Feed(&mut md5), value);
            }
        } else if let Some(proto) = arg.as_proto() {
            let mut bytes = Vec::new();
            proto.encode_proto(&mut bytes);
            md5.update(&bytes);
        }
    }
    point(&md5.finalize().into(), 0)
}

/// Java SOFARPC's `hash(digest, h)`: bytes `4h..4h+4` of an MD5 digest as a little-endian
/// unsigned 32-bit number (`h` in `0..4`).
pub(crate) fn point(digest: &[u8; 16], h: usize) -> u32 {
    let at = |i: usize| digest.get(4 * h + i).copied().unwrap_or(0);
    u32::from_le_bytes([at(0), at(1), at(2), at(3)])
}

/// MD5 of a string, as Java's `MessageDigest` gives it for the string's UTF-8 bytes.
pub(crate) fn md5(text: &str) -> [u8; 16] {
    Md5::digest(text.as_bytes()).into()
}

/// Lets `serde_json` write into the digest.
struct Feed<'a>(&'a mut Md5);

impl std::io::Write for Feed<'_> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.update(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
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

/// Feeds a scalar's Java string form to the digest; refuses anything else before writing.
struct JavaString<'a>(&'a mut Md5);

impl JavaString<'_> {
    fn text(self, text: &str) -> Result<(), NoJavaString> {
        self.0.update(text.as_bytes());
        Ok(())
    }

    /// Integers print alike in Java and Rust; a stack buffer keeps this allocation-free.
    fn display(self, value: impl fmt::Display) -> Result<(), NoJavaString> {
        let mut buf = Buffer::default();
        write!(buf, "{value}").map_err(|_| NoJavaString)?;
        self.text(buf.as_str())
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
        let mut buf = Buffer::default();
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
            buf = Buffer::default();
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

/// A small text buffer on the stack (longer text spills to the heap).
struct Buffer {
    len: usize,
    /// Room for any integer (an i128 takes 40) and any float's shortest form.
    bytes: [u8; 48],
    spill: String,
}

impl Default for Buffer {
    fn default() -> Self {
        Buffer {
            len: 0,
            bytes: [0; 48],
            spill: String::new(),
        }
    }
}

impl Buffer {
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

    fn as_str(&self) -> &str {
        if self.spill.is_empty() {
            // Only whole `&str`s are ever copied in, so the bytes are UTF-8.
            std::str::from_utf8(self.bytes.get(..self.len).unwrap_or_default()).unwrap_or("")
        } else {
            &self.spill
        }
    }
}

impl fmt::Write for Buffer {
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
    use crate::invocation::{DynArgs, ServiceId};
    use std::sync::Arc;

    fn key_of(args: DynArgs) -> u32 {
        key_hash(&Invocation::new(
            ServiceId::parse("s:1.0"),
            "m",
            Arc::new(args),
        ))
    }

    fn hash_of(text: &str) -> u32 {
        point(&md5(text), 0)
    }

    #[test]
    fn md5_and_points_match_java() {
        // MD5("abc") = 900150983cd24fb0d6963f7d28e17f72; Java's hash(digest, h) reads each
        // group of four bytes little-endian.
        let digest = md5("abc");
        assert_eq!(digest[..4], [0x90, 0x01, 0x50, 0x98]);
        assert_eq!(point(&digest, 0), 0x9850_0190);
        assert_eq!(point(&digest, 3), 0x727f_e128);
    }

    #[test]
    fn scalars_hash_their_java_string_form() {
        let string = |v: &'static str| DynArgs::new().arg("java.lang.String", v);
        assert_eq!(key_of(string("user-42")), hash_of("user-42"));
        assert_eq!(key_of(DynArgs::new().arg("int", 42)), hash_of("42"));
        assert_eq!(key_of(DynArgs::new().arg("long", -7i64)), hash_of("-7"));
        assert_eq!(key_of(DynArgs::new().arg("boolean", true)), hash_of("true"));
        assert_eq!(key_of(DynArgs::new().arg("char", 'x')), hash_of("x"));
        assert_eq!(key_of(DynArgs::new().arg("double", 1.0f64)), hash_of("1.0"));
        assert_eq!(
            key_of(DynArgs::new().arg("double", 0.25f64)),
            hash_of("0.25")
        );
        assert_eq!(
            key_of(DynArgs::new().arg("double", 1e7f64)),
            hash_of("1.0E7")
        );
        assert_eq!(
            key_of(DynArgs::new().arg("double", 1.5e-5f64)),
            hash_of("1.5E-5")
        );
        assert_eq!(key_of(DynArgs::new().arg("float", 0.1f32)), hash_of("0.1"));
        assert_eq!(
            key_of(DynArgs::new().arg("java.lang.String", Some("a"))),
            hash_of("a")
        );
        // Only the first argument counts; none at all is the empty string.
        let two = DynArgs::new().arg("int", 1).arg("int", 2);
        assert_eq!(key_of(two), hash_of("1"));
        assert_eq!(key_of(DynArgs::new()), hash_of(""));
    }

    #[test]
    fn other_values_hash_their_json_form() {
        let list = DynArgs::new().arg("java.util.List", vec![1, 2]);
        assert_eq!(key_of(list), hash_of("[1,2]"));
    }
}
