//! # sofa-hessian
//!
//! Hessian 2 serialization for SOFARPC / SOFABolt (bolt codec `1`, "hessian2"),
//! wire-compatible with Java SOFARPC (sofa-hessian) and sofa-rpc-node. It stands on its own
//! (its dependencies are serde and bytes); `sofa-rpc-core` re-exports it as `sofa_rpc_core::hessian`.
//!
//! # Dialects
//!
//! Two incompatible grammars are in use, selected with [`Dialect`]:
//!
//! * [`Dialect::V3`] (default) — the early Hessian 2.0 draft of sofa-hessian 3.x,
//!   spoken by SOFARPC 5.x and by sofa-rpc-node by default: class definitions
//!   `'O'`, instances `'o'`, lists `'V'..'z'`/`'v'`, maps `'M'..'z'`, references
//!   `0x4a`/`0x4b`/`'R'`, doubles `0x67..0x6b`, long32 `0x77`, dates `'d'`.
//! * [`Dialect::V4`] — the final Hessian 2.0 grammar of sofa-hessian 4.x
//!   (`'C'` definitions, `0x60..` instances, `0x70..` lists, `'H'` maps, `0x51`
//!   references, `0x5b..0x5f` doubles, `0x4a`/`0x4b` dates).
//!
//! The encoder writes what Java writes for the same values (byte for byte for the
//! SOFARPC messages captured from real peers), and the decoder reads every
//! construct of the selected dialect, whoever wrote it. [`Dialect::detect`]
//! guesses the dialect of a SOFARPC body from its first byte.
//!
//! # Streams
//!
//! One [`Encoder`] or [`Decoder`] is one Hessian stream: class definitions, type
//! names and object references are shared by consecutive top-level values, as in a
//! SOFARPC request (the `SofaRequest` object followed by each argument). Values go
//! through serde ([`Encoder::encode`], [`Decoder::decode`]), as dynamic
//! [`Value`]s, or through the SOFARPC helpers [`SofaRequestHead`] and
//! [`SofaResponse`]. (`sofa_rpc_core::JavaType` gives the `methodArgSigs` entry of a
//! Rust argument type.)
//!
//! Serde mapping: `bool` ↔ boolean; `i8`/`i16`/`i32`/`u8`/`u16` → int; `i64`,
//! `u32`, `u64` (≤ `i64::MAX`) → long; floats → double; `char`/strings → string;
//! bytes and `u8` sequences (`Vec<u8>`) → binary; other sequences and tuples →
//! untyped list (`ArrayList`); maps → untyped map (`HashMap`); structs → Java
//! object of class *struct name* (`#[serde(rename = "com.example.User")]`), fields
//! in declaration order; unit enum variants → Java enum object; other variants →
//! `{variant: content}`; `None`/unit → null. Reading is driven by the input
//! (`deserialize_any` works) with the usual numeric coercions; objects and maps
//! fill structs by field name, unknown fields are ignored.
//!
//! # Example
//!
//! ```
//! use sofa_hessian as hessian;
//! use hessian::{Decoder, Dialect, Encoder, SofaRequestHead, Value};
//! use serde::{Deserialize, Serialize};
//!
//! #[derive(Serialize, Deserialize, Debug, PartialEq)]
//! #[serde(rename = "com.example.User")]
//! struct User {
//!     name: String,
//!     age: i32,
//! }
//!
//! // A SOFARPC request body: the SofaRequest head, then the arguments.
//! let head = SofaRequestHead {
//!     method_name: "save".into(),
//!     target_service_unique_name: "com.example.UserService:1.0".into(),
//!     method_arg_sigs: vec!["com.example.User".into()],
//!     ..Default::default()
//! };
//! let mut enc = Encoder::new(Dialect::V3);
//! head.write(&mut enc)?;
//! enc.encode(&User { name: "Ann".into(), age: 42 })?;
//! let body = enc.into_inner();
//!
//! let mut dec = Decoder::new(&body, Dialect::detect(&body).unwrap_or_default());
//! let read = SofaRequestHead::read(&mut dec)?;
//! assert_eq!(read.method_name, "save");
//! let user: User = dec.decode()?;
//! assert_eq!(user, User { name: "Ann".into(), age: 42 });
//! assert!(dec.is_empty());
//!
//! // The same value as a dynamic tree.
//! let mut dec = Decoder::new(&body, Dialect::V3);
//! SofaRequestHead::read(&mut dec)?;
//! let value = dec.read_value()?;
//! assert_eq!(value.class_name(), Some("com.example.User"));
//! assert_eq!(value.field("age"), Some(&Value::Int(42)));
//! # Ok::<(), hessian::Error>(())
//! ```
//!
//! # Robustness
//!
//! The decoder is meant for bytes from untrusted peers:
//!
//! * no panics on any input (no `unwrap`/`expect`/unchecked indexing, checked
//!   arithmetic), and no `unsafe` code;
//! * every length or count read from the input is checked against the remaining
//!   input before anything is allocated (a list claiming 2³¹ elements fails at
//!   once);
//! * nesting of lists, maps, objects and reference resolutions is limited
//!   ([`DecoderOptions::max_depth`], default 128) with a clear error;
//! * back-references are resolved by re-reading the referenced bytes, within a
//!   budget ([`DecoderOptions::max_ref_replay_bytes`], default 1 MiB) that stops
//!   exponential "reference bombs"; a reference to a value that is still being
//!   read (e.g. a Java `Throwable` whose `cause` is itself) becomes
//!   [`Value::Ref`] in a `Value`, and unit/`None` through serde;
//! * every failure is an [`Error`] with an [`ErrorKind`] and the byte offset.
//!
//! Strings: lengths count UTF-16 units; characters outside the BMP are written
//! as surrogate pairs of 3-byte sequences (as Java does) and read back as proper
//! `char`s; an unpaired surrogate in the input is an [`ErrorKind::InvalidString`]
//! error. Long strings are split into 0x8000-unit chunks without splitting a
//! surrogate pair.

mod buffer;
mod containers;
mod de;
mod decoder;
mod dialect;
mod encoder;
mod error;
mod inline_vec;
mod known;
mod object;
mod probe;
mod ser;
mod sofa;
mod strings;
mod value;
mod value_serde;

pub use buffer::OutputBuffer;
pub use containers::{ListToken, MapToken};
pub use decoder::{ClassInfo, Decoder, DecoderOptions, DEFAULT_MAX_REF_REPLAY_BYTES};
pub use dialect::Dialect;
pub use encoder::{Encoder, DEFAULT_MAX_DEPTH};
pub use error::{Error, ErrorKind, Result};
pub use object::ObjectToken;
pub use sofa::{
    write_request_head, AppResponse, AppSlot, JavaException, RequestHeadRef, ResponseHead,
    SofaRequestHead, SofaResponse, RPC_SERVER_EXCEPTION_CLASS, SOFA_REQUEST_CLASS,
    SOFA_RESPONSE_CLASS, STRING_ARRAY_TYPE,
};
pub use value::{Value, EMPTY_LIST_TYPE, STACK_TRACE_ARRAY_TYPE};

#[cfg(test)]
mod tests;

/// The README's example, compiled and run as a doc test.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
struct ReadmeDoctests;
