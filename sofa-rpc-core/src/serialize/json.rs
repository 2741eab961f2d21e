//! JSON (codec 12), as SOFARPC's Jackson serializer writes it.

use std::borrow::Cow;

use bytes::Bytes;
use serde::ser::SerializeSeq;
use sofa_bolt::HeaderMap;

use super::{
    encode_error, message_error, reply_error, request_error, serde_form, Reply, RequestReader,
    ResponseBody, Serializer, ERROR_TYPE, EXCEPTION_CLASS,
};
use crate::error::Result;
use crate::headers;
use crate::invocation::{Args, Invocation};
use crate::value::{LendTo, ValueSource};

/// The JSON serializer (`json`, codec 12): the content is the JSON of the single argument, or
/// a JSON array of the arguments when there are several; the response is the JSON of the
/// result; an error is a JSON string (the message) with `sofa_head_response_error=true`.
#[derive(Clone, Copy, Debug, Default)]
pub struct Json;

impl Json {
    /// The codec byte.
    pub const CODE: u8 = 12;
    /// The registered name.
    pub const NAME: &'static str = "json";
}

struct ArgArray<'a>(&'a dyn Args);

impl serde::Serialize for ArgArray<'_> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut seq = s.serialize_seq(Some(self.0.len()))?;
        for i in 0..self.0.len() {
            let arg = self
                .0
                .arg(i)
                .ok_or_else(|| serde::ser::Error::custom(format!("argument {i} is missing")))?;
            seq.serialize_element(serde_form(&arg, "json").map_err(serde::ser::Error::custom)?)?;
        }
        seq.end()
    }
}

fn to_json(value: &dyn erased_serde::Serialize) -> Result<Vec<u8>, String> {
    let mut buf = Vec::with_capacity(64);
    let mut ser = serde_json::Serializer::new(&mut buf);
    erased_serde::serialize(value, &mut ser).map_err(|e| e.to_string())?;
    Ok(buf)
}

impl Serializer for Json {
    fn name(&self) -> &str {
        Self::NAME
    }

    fn code(&self) -> u8 {
        Self::CODE
    }

    fn encode_request(&self, invocation: &Invocation, _header: &mut HeaderMap) -> Result<Bytes> {
        let args = invocation.args();
        let bytes = if args.len() == 1 {
            let arg = args
                .arg(0)
                .ok_or_else(|| encode_error("argument 0 is missing"))?;
            to_json(serde_form(&arg, "json").map_err(encode_error)?)
        } else {
            to_json(&ArgArray(args))
        };
        Ok(bytes.map_err(encode_error)?.into())
    }

    fn read_request<'a>(
        &self,
        header: &'a HeaderMap,
        content: &'a [u8],
    ) -> Result<Box<dyn RequestReader<'a> + 'a>> {
        Ok(Box::new(Reader {
            header,
            content,
            count: None,
            args: Vec::new(),
            next: 0,
        }))
    }

    fn encode_response(
        &self,
        reply: &Reply,
        _request: &[u8],
        header: &mut HeaderMap,
    ) -> Result<Bytes> {
        let bytes = match reply {
            Reply::Value(value) => {
                let value = value.value();
                to_json(serde_form(&value, "json").map_err(reply_error)?)
            }
            Reply::AppError(e) => {
                header.insert(headers::RESPONSE_ERROR, "true");
                header.insert(EXCEPTION_CLASS, e.class_name.clone());
                to_json(&e.message)
            }
            Reply::Error(e) => {
                header.insert(headers::RESPONSE_ERROR, "true");
                header.insert(ERROR_TYPE, e.kind().code().to_string());
                to_json(&e.message())
            }
        };
        Ok(bytes.map_err(reply_error)?.into())
    }

    fn read_response<'a>(
        &self,
        header: &'a HeaderMap,
        content: &'a [u8],
    ) -> Result<ResponseBody<'a>> {
        if header.get(headers::RESPONSE_ERROR) != Some("true") {
            return Ok(ResponseBody::Value(ValueSource::from_slice(
                content, read_slice,
            )));
        }
        let message: String = serde_json::from_slice(content)
            .unwrap_or_else(|_| String::from_utf8_lossy(content).into_owned());
        Ok(message_error(header, message))
    }

    fn error_detail(&self, content: &[u8]) -> Option<String> {
        serde_json::from_slice(content).ok()
    }
}

struct Reader<'a> {
    header: &'a HeaderMap,
    content: &'a [u8],
    count: Option<usize>,
    /// With several arguments: each one's raw JSON, split out of the array.
    args: Vec<&'a serde_json::value::RawValue>,
    next: usize,
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

    fn set_arg_count(&mut self, count: usize) {
        self.count = Some(count);
    }

    fn next_arg(&mut self) -> Result<ValueSource<'_>> {
        let index = self.next;
        self.next += 1;
        if self.count == Some(1) {
            if index > 0 {
                return Err(request_error("a one-argument JSON request was read twice"));
            }
            return Ok(ValueSource::from_slice(self.content, read_slice));
        }
        if index == 0 {
            self.args = serde_json::from_slice(self.content).map_err(|e| {
                request_error(format!(
                    "a JSON request with several arguments must be an array: {e}"
                ))
            })?;
        }
        let raw = self.args.get(index).ok_or_else(|| {
            request_error(format!(
                "the JSON request has {} arguments; the method takes more",
                self.args.len()
            ))
        })?;
        Ok(ValueSource::from_slice(raw.get().as_bytes(), read_slice))
    }
}

/// Lends `visit` a deserializer over `bytes`, made on the stack (no box per value).
fn read_slice(bytes: &[u8], visit: &mut LendTo<'_>) -> Result<(), erased_serde::Error> {
    let mut de = serde_json::Deserializer::from_slice(bytes);
    visit(&mut <dyn erased_serde::Deserializer<'_>>::erase(&mut de))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::value::RemoteException;

    #[test]
    fn error_content_is_a_json_string() {
        let mut header = HeaderMap::new();
        let reply = Reply::AppError(RemoteException::new("x.Y", "bad \"input\""));
        let body = Json.encode_response(&reply, b"", &mut header).unwrap();
        assert_eq!(&body[..], br#""bad \"input\"""#);
        assert_eq!(header.get(headers::RESPONSE_ERROR), Some("true"));
        let read = Json.read_response(&header, &body).unwrap();
        match read {
            ResponseBody::AppException(e) => assert_eq!(e.message, "bad \"input\""),
            other => panic!("{other:?}"),
        };
    }
}
