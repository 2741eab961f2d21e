//! MessagePack (codec 13), the default between Rust peers.
//!
//! Request content is a MessagePack array of the arguments; the target service and method
//! travel in the header, as for every non-Hessian SOFARPC codec. Structs are written as maps
//! (field names included), so adding a field on one side does not break the other. Response
//! content is the return value; an error response carries `sofa_head_response_error=true` and
//! a map `{app, class_name, message, kind}` that tells application exceptions from framework
//! errors.

use std::borrow::Cow;

use bytes::Bytes;
use serde::ser::SerializeSeq;
use sofa_bolt::HeaderMap;

use super::scratch::encode_with;
use super::{
    encode_error, reply_error, request_error, response_error, Reply, RequestReader, ResponseBody,
    Serializer,
};
use crate::error::{ErrorKind, Result, RpcError};
use crate::headers;
use crate::invocation::{Args, Invocation};
use crate::value::{LendTo, RemoteException, SliceFormat, ValueRef, ValueSource};

/// The MessagePack serializer (`msgpack`, codec 13).
#[derive(Clone, Copy, Debug, Default)]
pub struct Msgpack;

impl Msgpack {
    /// The codec byte.
    pub const CODE: u8 = 13;
    /// The registered name.
    pub const NAME: &'static str = "msgpack";
}

#[derive(serde::Serialize, serde::Deserialize)]
struct ErrorBody {
    app: bool,
    class_name: String,
    message: String,
    kind: u16,
}

fn write_value(buf: &mut Vec<u8>, value: &dyn erased_serde::Serialize) -> Result<(), String> {
    let mut ser = rmp_serde::Serializer::new(buf).with_struct_map();
    erased_serde::serialize(value, &mut ser).map_err(|e| e.to_string())
}

fn serde_of<'a>(value: &ValueRef<'a>) -> Result<&'a dyn erased_serde::Serialize, String> {
    super::serde_form(value, "msgpack")
}

/// The arguments as one MessagePack array.
struct ArgList<'a>(&'a dyn Args);

impl serde::Serialize for ArgList<'_> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut seq = s.serialize_seq(Some(self.0.len()))?;
        for i in 0..self.0.len() {
            let arg = self
                .0
                .arg(i)
                .ok_or_else(|| serde::ser::Error::custom(format!("argument {i} is missing")))?;
            let value = serde_of(&arg).map_err(serde::ser::Error::custom)?;
            seq.serialize_element(value)?;
        }
        seq.end()
    }
}

impl Serializer for Msgpack {
    fn name(&self) -> &str {
        Self::NAME
    }

    fn code(&self) -> u8 {
        Self::CODE
    }

    fn encode_request(&self, invocation: &Invocation, _header: &mut HeaderMap) -> Result<Bytes> {
        encode_with(|buf| write_value(buf, &ArgList(invocation.args()))).map_err(encode_error)
    }

    fn read_request<'a>(
        &self,
        header: &'a HeaderMap,
        content: &'a [u8],
    ) -> Result<Box<dyn RequestReader<'a> + 'a>> {
        Ok(Box::new(Reader::new(header, content)?))
    }

    fn lend_request<'a>(
        &self,
        header: &'a HeaderMap,
        content: &'a [u8],
        visit: &mut dyn FnMut(&mut dyn RequestReader<'a>),
    ) -> Result<()> {
        visit(&mut Reader::new(header, content)?);
        Ok(())
    }

    fn encode_response(
        &self,
        reply: &Reply,
        _request: &[u8],
        header: &mut HeaderMap,
    ) -> Result<Bytes> {
        let returned;
        let error;
        let body: &dyn erased_serde::Serialize = match reply {
            Reply::Value(value) => {
                returned = value.value();
                serde_of(&returned).map_err(reply_error)?
            }
            Reply::AppError(e) => {
                header.insert(headers::RESPONSE_ERROR, "true");
                error = ErrorBody {
                    app: true,
                    class_name: e.class_name.clone(),
                    message: e.message.clone(),
                    kind: 0,
                };
                &error
            }
            Reply::Error(e) => {
                header.insert(headers::RESPONSE_ERROR, "true");
                error = ErrorBody {
                    app: false,
                    class_name: String::new(),
                    message: e.message().to_string(),
                    kind: e.kind().code(),
                };
                &error
            }
        };
        encode_with(|buf| write_value(buf, body)).map_err(reply_error)
    }

    fn read_response<'a>(
        &self,
        header: &'a HeaderMap,
        content: &'a [u8],
    ) -> Result<ResponseBody<'a>> {
        if header.get(headers::RESPONSE_ERROR) == Some("true") {
            let body: ErrorBody = rmp_serde::from_slice(content).map_err(response_error)?;
            return Ok(if body.app {
                ResponseBody::AppException(RemoteException::new(body.class_name, body.message))
            } else {
                let kind = ErrorKind::from_code(body.kind).unwrap_or(ErrorKind::ServerUndeclared);
                ResponseBody::Error(RpcError::new(kind, body.message))
            });
        }
        Ok(ResponseBody::Value(ValueSource::from_format(
            content,
            read_slice,
            SliceFormat::Msgpack,
        )))
    }

    fn error_detail(&self, content: &[u8]) -> Option<String> {
        rmp_serde::from_slice::<ErrorBody>(content)
            .ok()
            .map(|b| b.message)
    }
}

/// Parses a MessagePack array header: (length, the bytes after it).
fn array_header(content: &[u8]) -> Option<(usize, &[u8])> {
    let (&first, rest) = content.split_first()?;
    match first {
        0x90..=0x9f => Some((usize::from(first & 0x0f), rest)),
        0xdc => {
            let (len, rest) = rest.split_first_chunk::<2>()?;
            Some((usize::from(u16::from_be_bytes(*len)), rest))
        }
        0xdd => {
            let (len, rest) = rest.split_first_chunk::<4>()?;
            Some((usize::try_from(u32::from_be_bytes(*len)).ok()?, rest))
        }
        _ => None,
    }
}

/// The length of the MessagePack value at the front of `buf`, found without decoding it (no
/// recursion, no allocation); `None` if `buf` does not start with a whole value.
fn value_len(buf: &[u8]) -> Option<usize> {
    let mut pos = 0usize;
    // Values still to step over; each needs at least one more byte.
    let mut pending: usize = 1;
    while pending > 0 {
        pending -= 1;
        let b = *buf.get(pos)?;
        pos += 1;
        let be = |n: usize| -> Option<usize> {
            let bytes = buf.get(pos..pos.checked_add(n)?)?;
            Some(
                bytes
                    .iter()
                    .fold(0usize, |acc, b| acc << 8 | usize::from(*b)),
            )
        };
        // (bytes of header and payload after the marker, nested values)
        let (skip, items) = match b {
            0x00..=0x7f | 0xc0 | 0xc2 | 0xc3 | 0xe0..=0xff => (0, 0),
            0x80..=0x8f => (0, 2 * usize::from(b & 0x0f)),
            0x90..=0x9f => (0, usize::from(b & 0x0f)),
            0xa0..=0xbf => (usize::from(b & 0x1f), 0),
            0xc4 | 0xd9 => (1 + be(1)?, 0),
            0xc5 | 0xda => (2 + be(2)?, 0),
            0xc6 | 0xdb => (4 + be(4)?, 0),
            0xc7 => (2 + be(1)?, 0),
            0xc8 => (3 + be(2)?, 0),
            0xc9 => (5 + be(4)?, 0),
            0xcc | 0xd0 => (1, 0),
            0xcd | 0xd1 => (2, 0),
            0xca | 0xce | 0xd2 => (4, 0),
            0xcb | 0xcf | 0xd3 => (8, 0),
            0xd4 => (2, 0),
            0xd5 => (3, 0),
            0xd6 => (5, 0),
            0xd7 => (9, 0),
            0xd8 => (17, 0),
            0xdc => (2, be(2)?),
            0xdd => (4, be(4)?),
            0xde => (2, be(2)?.checked_mul(2)?),
            0xdf => (4, be(4)?.checked_mul(2)?),
            // 0xc1 is never used.
            _ => return None,
        };
        pos = pos.checked_add(skip)?;
        pending = pending.checked_add(items)?;
        if pos > buf.len() || pending > buf.len() - pos {
            return None;
        }
    }
    Some(pos)
}

struct Reader<'a> {
    header: &'a HeaderMap,
    remaining: usize,
    /// The arguments not read yet.
    rest: &'a [u8],
}

impl<'a> Reader<'a> {
    /// A reader over `content`, which must be an array of the arguments.
    fn new(header: &'a HeaderMap, content: &'a [u8]) -> Result<Self> {
        let (len, rest) = array_header(content)
            .ok_or_else(|| request_error("msgpack request content is not an argument array"))?;
        Ok(Reader {
            header,
            remaining: len,
            rest,
        })
    }
}

impl<'a> RequestReader<'a> for Reader<'a> {
    fn target_service(&self) -> Option<&str> {
        None
    }

    fn method(&self) -> Option<&str> {
        self.header.get(headers::METHOD_NAME)
    }

    fn arg_types(&self) -> &[Cow<'a, str>] {
        &[]
    }

    fn next_arg(&mut self) -> Result<ValueSource<'_>> {
        if self.remaining == 0 {
            return Err(request_error(
                "the request has fewer arguments than the method",
            ));
        }
        self.remaining -= 1;
        // Each argument gets a deserializer of its own, over exactly its bytes: rmp-serde
        // (1.3) does not restore its nesting depth counter after an error, so a deserializer
        // that failed once (behind an argument type that swallows errors) would read the next
        // nested value with a broken depth limit (a debug-build panic, unbounded recursion in
        // release). It also keeps one argument's error from shifting where the next one starts.
        let len = value_len(self.rest)
            .ok_or_else(|| request_error("a msgpack argument is truncated or malformed"))?;
        let (arg, rest) = self.rest.split_at(len);
        self.rest = rest;
        Ok(ValueSource::from_format(
            arg,
            read_slice,
            SliceFormat::Msgpack,
        ))
    }
}

/// Lends `visit` a deserializer over `bytes`, made on the stack (no box per value).
fn read_slice(bytes: &[u8], visit: &mut LendTo<'_>) -> Result<(), erased_serde::Error> {
    let mut de = rmp_serde::Deserializer::from_read_ref(bytes);
    visit(&mut <dyn erased_serde::Deserializer<'_>>::erase(&mut de))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn array_headers() {
        assert_eq!(
            array_header(&[0x92, 1, 2]).map(|(n, r)| (n, r.len())),
            Some((2, 2))
        );
        assert_eq!(array_header(&[0xdc, 0, 20]).map(|(n, _)| n), Some(20));
        assert_eq!(
            array_header(&[0xdd, 0, 1, 0, 0]).map(|(n, _)| n),
            Some(65536)
        );
        assert!(array_header(&[0xdc, 0]).is_none());
        assert!(array_header(&[0x80]).is_none());
        assert!(array_header(&[]).is_none());
    }

    #[test]
    fn value_lengths() {
        #[derive(serde::Serialize)]
        struct S {
            a: Vec<Option<u64>>,
            b: std::collections::BTreeMap<String, (f64, bool)>,
            #[serde(with = "serde_bytes")]
            c: Vec<u8>,
        }
        let value = S {
            a: vec![Some(1), None, Some(u64::MAX)],
            b: [("x".repeat(40), (1.5, true))].into_iter().collect(),
            c: vec![7; 300],
        };
        let mut buf = Vec::new();
        write_value(&mut buf, &value).unwrap();
        let whole = buf.len();
        buf.extend_from_slice(&[0xc3, 0x01]);
        assert_eq!(value_len(&buf), Some(whole));
        for cut in 0..whole {
            assert_eq!(value_len(&buf[..cut]), None, "cut at {cut}");
        }
        // An array announcing more elements than there are bytes left.
        assert_eq!(value_len(&[0xdd, 0xff, 0xff, 0xff, 0xff, 0x01]), None);
        assert_eq!(value_len(&[0xc1]), None);
    }

    /// Takes whatever it is given, even what it cannot read: the kind of lenient argument type
    /// that lets reading go on after a decode error.
    #[derive(Debug)]
    struct Lenient(Option<Vec<u32>>);

    impl<'de> serde::Deserialize<'de> for Lenient {
        fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
            Ok(Lenient(Vec::<u32>::deserialize(d).ok()))
        }
    }

    #[test]
    fn an_argument_that_failed_to_decode_does_not_affect_the_next() {
        // First argument: [[["not a number"]]] read as Vec<u32> fails three levels deep.
        // Second argument: nested arrays, read after the failure.
        let mut content = vec![0x92];
        write_value(&mut content, &vec![vec![vec!["not a number"]]]).unwrap();
        let nested = vec![vec![vec![vec![1u32, 2], vec![3]]]];
        write_value(&mut content, &nested).unwrap();

        let header = HeaderMap::new();
        let mut reader = Msgpack.read_request(&header, &content).unwrap();
        let first = reader
            .next_arg()
            .unwrap()
            .deserialize_serde(|d| erased_serde::deserialize::<Lenient>(d))
            .unwrap();
        assert!(first.0.is_none());
        let second = reader
            .next_arg()
            .unwrap()
            .deserialize_serde(|d| erased_serde::deserialize::<Vec<Vec<Vec<Vec<u32>>>>>(d))
            .unwrap();
        assert_eq!(second, nested);
        assert!(reader.next_arg().is_err(), "only two arguments");
    }

    #[test]
    fn values_decode_the_same_straight_or_type_erased() {
        #[derive(Debug, PartialEq, serde::Serialize, serde::Deserialize)]
        struct Sample {
            name: String,
            blob: bytes::Bytes,
            scores: Vec<Option<u32>>,
        }
        let sample = Sample {
            name: "n".repeat(40),
            blob: bytes::Bytes::from(vec![7; 300]),
            scores: vec![Some(1), None, Some(u32::MAX)],
        };
        let mut wire = Vec::new();
        write_value(&mut wire, &sample).unwrap();
        let straight = |bytes: &[u8]| {
            crate::__private::decode!(
                Sample,
                ValueSource::from_format(bytes, read_slice, SliceFormat::Msgpack)
            )
        };
        let erased = |bytes: &[u8]| {
            crate::__private::decode!(Sample, ValueSource::from_slice(bytes, read_slice))
        };
        assert_eq!(straight(&wire).unwrap(), sample);
        assert_eq!(erased(&wire).unwrap(), sample);
        // Bad input fails alike, with the same message, either way.
        for bad in [&wire[..wire.len() - 1], &[0xc1][..], &[0x92, 1, 2][..]] {
            let (a, b) = (straight(bad).unwrap_err(), erased(bad).unwrap_err());
            assert!(a.contains("Sample"), "{a}");
            assert_eq!(a, b);
        }
    }
}
