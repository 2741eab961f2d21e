//! MessagePack (codec 13), the default between Rust peers.
//!
//! Request content is a MessagePack array of the arguments; the target service and method
//! travel in the header, as for every non-Hessian SOFARPC codec. Structs are written as maps
//! (field names included), so adding a field on one side does not break the other. Response
//! content is the return value; an error response carries `sofa_head_response_error=true` and
//! a map `{app, class_name, message, kind}` that tells application exceptions from framework
//! errors.

use bytes::Bytes;
use serde::ser::SerializeSeq;
use sofa_bolt::HeaderMap;

use super::{
    encode_error, reply_error, request_error, response_error, Reply, RequestReader, ResponseBody,
    Serializer,
};
use crate::error::{ErrorKind, Result, RpcError};
use crate::headers;
use crate::invocation::{Args, Invocation};
use crate::value::{RemoteException, ValueRef, ValueSource};

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
        let mut buf = Vec::with_capacity(64);
        write_value(&mut buf, &ArgList(invocation.args())).map_err(encode_error)?;
        Ok(buf.into())
    }

    fn read_request<'a>(
        &self,
        header: &'a HeaderMap,
        content: &'a [u8],
    ) -> Result<Box<dyn RequestReader<'a> + 'a>> {
        let (len, rest) = array_header(content)
            .ok_or_else(|| request_error("msgpack request content is not an argument array"))?;
        Ok(Box::new(Reader {
            header,
            remaining: len,
            de: rmp_serde::Deserializer::from_read_ref(rest),
        }))
    }

    fn encode_response(
        &self,
        reply: &Reply,
        _request: &[u8],
        header: &mut HeaderMap,
    ) -> Result<Bytes> {
        let mut buf = Vec::with_capacity(64);
        match reply {
            Reply::Value(value) => {
                let value = value.value();
                write_value(&mut buf, serde_of(&value).map_err(reply_error)?)
                    .map_err(reply_error)?
            }
            Reply::AppError(e) => {
                header.insert(headers::RESPONSE_ERROR, "true");
                let body = ErrorBody {
                    app: true,
                    class_name: e.class_name.clone(),
                    message: e.message.clone(),
                    kind: 0,
                };
                write_value(&mut buf, &body).map_err(reply_error)?
            }
            Reply::Error(e) => {
                header.insert(headers::RESPONSE_ERROR, "true");
                let body = ErrorBody {
                    app: false,
                    class_name: String::new(),
                    message: e.message().to_string(),
                    kind: e.kind().code(),
                };
                write_value(&mut buf, &body).map_err(reply_error)?
            }
        }
        Ok(buf.into())
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
        let de = rmp_serde::Deserializer::from_read_ref(content);
        Ok(ResponseBody::Value(ValueSource::from_owned_deserializer(
            de,
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

struct Reader<'a> {
    header: &'a HeaderMap,
    remaining: usize,
    de: rmp_serde::Deserializer<rmp_serde::decode::ReadRefReader<'a, [u8]>>,
}

impl<'a> RequestReader<'a> for Reader<'a> {
    fn target_service(&self) -> Option<&str> {
        None
    }

    fn method(&self) -> Option<&str> {
        self.header.get(headers::METHOD_NAME)
    }

    fn arg_types(&self) -> &[String] {
        &[]
    }

    fn next_arg(&mut self) -> Result<ValueSource<'_>> {
        if self.remaining == 0 {
            return Err(request_error(
                "the request has fewer arguments than the method",
            ));
        }
        self.remaining -= 1;
        Ok(ValueSource::from_deserializer(&mut self.de))
    }
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
}
