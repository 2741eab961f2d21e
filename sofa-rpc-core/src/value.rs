//! Values crossing the serializer boundary: typed on one side, bytes on the other.
//!
//! Serializers are chosen at run time, per consumer, so the typed arguments and return values
//! of a service reach them type-erased: as a [`ValueRef`] going out (with whatever encodings
//! the Rust type supports: serde, protobuf) and as a [`ValueSource`] coming in.

use std::fmt;

/// A protobuf message that can be encoded without knowing its type (implemented for every
/// `prost::Message`).
pub trait ProtoEncode {
    /// Appends the message's wire form to `buf`.
    fn encode_proto(&self, buf: &mut Vec<u8>);
}

impl<T: prost::Message> ProtoEncode for T {
    fn encode_proto(&self, buf: &mut Vec<u8>) {
        buf.reserve(self.encoded_len());
        // A Vec grows as needed, so encoding into it cannot run out of space.
        let _ = self.encode(buf);
    }
}

/// An outgoing value (an argument or a return value) in the forms its type supports.
#[derive(Clone, Copy)]
pub struct ValueRef<'a> {
    serde: Option<&'a dyn erased_serde::Serialize>,
    proto: Option<&'a dyn ProtoEncode>,
    java_type: &'a str,
}

impl<'a> ValueRef<'a> {
    /// A value with the given encodings and Java type name (for Hessian's `methodArgSigs`).
    pub fn new(
        serde: Option<&'a dyn erased_serde::Serialize>,
        proto: Option<&'a dyn ProtoEncode>,
        java_type: &'a str,
    ) -> Self {
        ValueRef {
            serde,
            proto,
            java_type,
        }
    }

    /// A serde value.
    pub fn serde<T: serde::Serialize>(value: &'a T, java_type: &'a str) -> Self {
        ValueRef::new(Some(value), None, java_type)
    }

    /// The serde form, if the type implements `Serialize`.
    pub fn as_serde(&self) -> Option<&'a dyn erased_serde::Serialize> {
        self.serde
    }

    /// The protobuf form, if the type is a protobuf message.
    pub fn as_proto(&self) -> Option<&'a dyn ProtoEncode> {
        self.proto
    }

    /// The Java type name, e.g. `java.lang.String` or `int`.
    pub fn java_type(&self) -> &'a str {
        self.java_type
    }
}

impl fmt::Debug for ValueRef<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ValueRef")
            .field("serde", &self.serde.is_some())
            .field("proto", &self.proto.is_some())
            .field("java_type", &self.java_type)
            .finish()
    }
}

/// An incoming value, ready to be decoded into whatever type the receiver expects.
pub enum ValueSource<'a> {
    /// A self-describing value read through serde.
    Serde(SerdeInput<'a>),
    /// The bytes of one protobuf message.
    Proto(&'a [u8]),
}

impl<'a> ValueSource<'a> {
    /// A value read by the serde deserializer `de` (taken by value, e.g. `&mut Decoder`).
    pub fn from_deserializer<'de, D>(de: D) -> Self
    where
        D: serde::Deserializer<'de> + 'a,
    {
        ValueSource::Serde(SerdeInput(Input::Boxed(Box::new(ByValue(de)))))
    }

    /// A value read by a deserializer that works through `&mut` (as most owned ones do).
    pub fn from_owned_deserializer<'de, D>(de: D) -> Self
    where
        D: 'a,
        for<'x> &'x mut D: serde::Deserializer<'de>,
    {
        ValueSource::Serde(SerdeInput(Input::Boxed(Box::new(ByMut(de)))))
    }

    /// A value in `bytes`, read by `read` (which makes a deserializer over them and lends it):
    /// nothing is boxed, so a format that reads from a byte slice costs no allocation here.
    pub fn from_slice(bytes: &'a [u8], read: ReadSlice) -> Self {
        ValueSource::Serde(SerdeInput(Input::Slice {
            bytes,
            read,
            format: None,
        }))
    }

    /// A value in `bytes` of `format`, read by `read`; a receiver that knows the format may
    /// decode the bytes directly instead (see [`bytes_of`](Self::bytes_of)).
    pub(crate) fn from_format(bytes: &'a [u8], read: ReadSlice, format: SliceFormat) -> Self {
        ValueSource::Serde(SerdeInput(Input::Slice {
            bytes,
            read,
            format: Some(format),
        }))
    }

    /// The value's bytes, when they are in `format`.
    pub(crate) fn bytes_of(&self, format: SliceFormat) -> Option<&'a [u8]> {
        match self {
            ValueSource::Serde(SerdeInput(Input::Slice {
                bytes,
                format: Some(f),
                ..
            })) if *f == format => Some(bytes),
            _ => None,
        }
    }

    /// Decodes the value through serde with `decode` (which must accept any input lifetime,
    /// as decoders of owned types do).
    pub fn deserialize_serde<T>(
        self,
        decode: for<'de> fn(
            &mut dyn erased_serde::Deserializer<'de>,
        ) -> Result<T, erased_serde::Error>,
    ) -> Result<T, String> {
        match self {
            ValueSource::Serde(source) => {
                let mut out = None;
                source
                    .deserialize_with(&mut |de| {
                        out = Some(decode(de)?);
                        Ok(())
                    })
                    .map_err(|e| e.to_string())?;
                out.ok_or_else(|| "the deserializer produced no value".to_string())
            }
            ValueSource::Proto(_) => {
                Err("the value is a protobuf message, not a serde value".into())
            }
        }
    }
}

/// Lends `visit` a deserializer over `bytes`, once: how [`ValueSource::from_slice`] reads.
pub(crate) type ReadSlice = fn(&[u8], &mut LendTo<'_>) -> Result<(), erased_serde::Error>;

/// What a deserializer is lent to.
pub(crate) type LendTo<'v> =
    dyn FnMut(&mut dyn erased_serde::Deserializer<'_>) -> Result<(), erased_serde::Error> + 'v;

/// The input of a serde value: a deserializer of any kind behind a box, or a byte slice with
/// the function that reads it (no box).
pub struct SerdeInput<'a>(Input<'a>);

enum Input<'a> {
    Boxed(Box<dyn SerdeSource + 'a>),
    Slice {
        bytes: &'a [u8],
        read: ReadSlice,
        /// The format, when a receiver may decode the bytes into its own type directly.
        format: Option<SliceFormat>,
    },
}

/// Formats whose bytes a generated stub can decode straight into the type it expects,
/// without going through a type-erased deserializer (which boxes each value it hands back
/// that is larger than two words).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum SliceFormat {
    /// MessagePack, as `rmp_serde` reads it.
    Msgpack,
}

impl SerdeInput<'_> {
    /// Lends the deserializer to `visit`, once.
    pub fn deserialize_with(self, visit: &mut LendTo<'_>) -> Result<(), erased_serde::Error> {
        match self.0 {
            Input::Boxed(source) => source.deserialize_with(visit),
            Input::Slice { bytes, read, .. } => read(bytes, visit),
        }
    }
}

/// One serde value, behind a type-erased deserializer that lives only as long as it is read.
pub(crate) trait SerdeSource {
    /// Lends the deserializer to `visit`, once.
    fn deserialize_with(
        self: Box<Self>,
        visit: &mut dyn FnMut(
            &mut dyn erased_serde::Deserializer<'_>,
        ) -> Result<(), erased_serde::Error>,
    ) -> Result<(), erased_serde::Error>;
}

struct ByValue<D>(D);

impl<'de, D: serde::Deserializer<'de>> SerdeSource for ByValue<D> {
    fn deserialize_with(
        self: Box<Self>,
        visit: &mut dyn FnMut(
            &mut dyn erased_serde::Deserializer<'_>,
        ) -> Result<(), erased_serde::Error>,
    ) -> Result<(), erased_serde::Error> {
        visit(&mut <dyn erased_serde::Deserializer<'de>>::erase(self.0))
    }
}

struct ByMut<D>(D);

impl<'de, D> SerdeSource for ByMut<D>
where
    for<'x> &'x mut D: serde::Deserializer<'de>,
{
    fn deserialize_with(
        mut self: Box<Self>,
        visit: &mut dyn FnMut(
            &mut dyn erased_serde::Deserializer<'_>,
        ) -> Result<(), erased_serde::Error>,
    ) -> Result<(), erased_serde::Error> {
        visit(&mut <dyn erased_serde::Deserializer<'de>>::erase(
            &mut self.0,
        ))
    }
}

impl fmt::Debug for ValueSource<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ValueSource::Serde(_) => f.write_str("ValueSource::Serde"),
            ValueSource::Proto(b) => write!(f, "ValueSource::Proto({} bytes)", b.len()),
        }
    }
}

/// An exception raised by a provider's method: a Java class name and a message.
///
/// This is how application errors cross languages: a Java provider's thrown exception arrives
/// as one, and an `Err` returned by a Rust method goes out as one (through [`AppError`]).
#[derive(Clone, Debug, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
pub struct RemoteException {
    /// The exception's Java class, e.g. `java.lang.IllegalArgumentException`.
    pub class_name: String,
    /// The exception's message (Java's `detailMessage`).
    pub message: String,
}

impl RemoteException {
    /// The class Rust application errors are reported as when they name none.
    pub const DEFAULT_CLASS: &'static str = "java.lang.RuntimeException";

    /// An exception of `class_name` with `message`.
    pub fn new(class_name: impl Into<String>, message: impl Into<String>) -> Self {
        RemoteException {
            class_name: class_name.into(),
            message: message.into(),
        }
    }
}

impl fmt::Display for RemoteException {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.class_name, self.message)
    }
}

impl std::error::Error for RemoteException {}

/// An application error type a service method may return in `Result<T, E>`.
///
/// Converting to and from [`RemoteException`] is what lets the error travel to Java or Node
/// peers (as a thrown exception) and back.
///
/// ```
/// use sofa_rpc_core::{AppError, RemoteException};
///
/// #[derive(Debug, PartialEq)]
/// struct Insufficient { needed: u64 }
///
/// impl AppError for Insufficient {
///     fn to_exception(&self) -> RemoteException {
///         RemoteException::new("com.bank.InsufficientFunds", self.needed.to_string())
///     }
///     fn from_exception(e: RemoteException) -> Self {
///         Insufficient { needed: e.message.parse().unwrap_or(0) }
///     }
/// }
///
/// let e = Insufficient { needed: 5 };
/// assert_eq!(Insufficient::from_exception(e.to_exception()), e);
/// ```
pub trait AppError: Sized + Send + 'static {
    /// The exception sent to the caller.
    fn to_exception(&self) -> RemoteException;
    /// The error rebuilt from an exception a provider sent.
    fn from_exception(exception: RemoteException) -> Self;
}

impl AppError for RemoteException {
    fn to_exception(&self) -> RemoteException {
        self.clone()
    }

    fn from_exception(exception: RemoteException) -> Self {
        exception
    }
}

impl AppError for String {
    fn to_exception(&self) -> RemoteException {
        RemoteException::new(RemoteException::DEFAULT_CLASS, self.clone())
    }

    fn from_exception(exception: RemoteException) -> Self {
        exception.message
    }
}

/// A Java type name for a value whose Rust type does not say.
pub(crate) const OBJECT: &str = "java.lang.Object";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn string_app_errors() {
        let e = "boom".to_string().to_exception();
        assert_eq!(e.class_name, RemoteException::DEFAULT_CLASS);
        assert_eq!(String::from_exception(e), "boom");
    }
}
