//! Protobuf (codec 11): one message argument, method and service in the header.

use std::borrow::Cow;

use bytes::Bytes;
use sofa_bolt::{HeaderMap, ResponseStatus};

use super::{
    encode_error, message_error, reply_error, request_error, Reply, RequestReader, ResponseBody,
    Serializer, ERROR_TYPE, EXCEPTION_CLASS,
};
use crate::error::Result;
use crate::headers;
use crate::invocation::Invocation;
use crate::value::ValueSource;

/// The protobuf serializer (`protobuf`, codec 11), as SOFARPC's: the content is the bare
/// encoding of the single argument (a `prost::Message`), the target service and method travel in
/// the header, and the response content is the bare return message.
///
/// Errors: the content is the UTF-8 message with `sofa_head_response_error=true` in the header,
/// sent with status `SERVER_EXCEPTION`. Java SOFARPC sends status `SUCCESS` with the header
/// flag, but sofa-rpc-node and anthunder clients ignore that flag and would decode the message
/// as a protobuf result; with `SERVER_EXCEPTION` every peer sees an error (a Java consumer sees
/// it as a server exception). Responses of either form are read.
#[derive(Clone, Copy, Debug, Default)]
pub struct Protobuf;

impl Protobuf {
    /// The codec byte.
    pub const CODE: u8 = 11;
    /// The registered name.
    pub const NAME: &'static str = "protobuf";
}

impl Serializer for Protobuf {
    fn name(&self) -> &str {
        Self::NAME
    }

    fn code(&self) -> u8 {
        Self::CODE
    }

    fn encode_request(&self, invocation: &Invocation, _header: &mut HeaderMap) -> Result<Bytes> {
        let args = invocation.args();
        if args.len() != 1 {
            return Err(encode_error(format!(
                "protobuf calls take exactly one message argument; {}#{} has {}",
                invocation.service(),
                invocation.method(),
                args.len()
            )));
        }
        let arg = args
            .arg(0)
            .ok_or_else(|| encode_error("argument 0 is missing"))?;
        let message = arg.as_proto().ok_or_else(|| {
            encode_error(format!(
                "the argument of {}#{} is not a protobuf message",
                invocation.service(),
                invocation.method()
            ))
        })?;
        let mut buf = Vec::new();
        message.encode_proto(&mut buf);
        Ok(buf.into())
    }

    fn read_request<'a>(
        &self,
        header: &'a HeaderMap,
        content: &'a [u8],
    ) -> Result<Box<dyn RequestReader<'a> + 'a>> {
        Ok(Box::new(Reader {
            header,
            content,
            taken: false,
        }))
    }

    fn encode_response(
        &self,
        reply: &Reply,
        _request: &[u8],
        header: &mut HeaderMap,
    ) -> Result<Bytes> {
        match reply {
            Reply::Value(value) => {
                let value = value.value();
                let message = value.as_proto().ok_or_else(|| {
                    reply_error(format!(
                        "a result of Java type {} is not a protobuf message",
                        value.java_type()
                    ))
                })?;
                let mut buf = Vec::new();
                message.encode_proto(&mut buf);
                header.insert(headers::RESPONSE_ERROR, "false");
                Ok(buf.into())
            }
            Reply::AppError(e) => {
                header.insert(headers::RESPONSE_ERROR, "true");
                header.insert(EXCEPTION_CLASS, e.class_name.clone());
                Ok(Bytes::from(e.message.clone()))
            }
            Reply::Error(e) => {
                header.insert(headers::RESPONSE_ERROR, "true");
                header.insert(ERROR_TYPE, e.kind().code().to_string());
                Ok(Bytes::from(e.message().to_string()))
            }
        }
    }

    fn reply_status(&self, reply: &Reply) -> ResponseStatus {
        match reply {
            Reply::Value(_) => ResponseStatus::SUCCESS,
            Reply::AppError(_) | Reply::Error(_) => ResponseStatus::SERVER_EXCEPTION,
        }
    }

    fn read_response<'a>(
        &self,
        header: &'a HeaderMap,
        content: &'a [u8],
    ) -> Result<ResponseBody<'a>> {
        if header.get(headers::RESPONSE_ERROR) != Some("true") {
            return Ok(ResponseBody::Value(ValueSource::Proto(content)));
        }
        let message = String::from_utf8_lossy(content).into_owned();
        // Our providers name framework errors; anything else is the method's exception (a Java
        // provider's protobuf errors do not say which it was).
        Ok(message_error(header, message))
    }

    fn error_detail(&self, content: &[u8]) -> Option<String> {
        std::str::from_utf8(content)
            .ok()
            .filter(|s| !s.is_empty())
            .map(str::to_string)
    }
}

struct Reader<'a> {
    header: &'a HeaderMap,
    content: &'a [u8],
    taken: bool,
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
        if std::mem::replace(&mut self.taken, true) {
            return Err(request_error(
                "protobuf requests carry one argument; the method takes more",
            ));
        }
        Ok(ValueSource::Proto(self.content))
    }
}
