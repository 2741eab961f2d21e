//! Hessian 2 (codec 1), SOFARPC's default: `SofaRequest` + arguments, `SofaResponse`.

use std::borrow::Cow;

use bytes::Bytes;
use sofa_bolt::HeaderMap;

use super::scratch::encode_with;
use super::{
    encode_error, framework_error, reply_error, request_error, response_error, serde_form, Reply,
    RequestReader, ResponseBody, Serializer, ERROR_TYPE,
};
use crate::error::Result;
use crate::headers;
use crate::invocation::Invocation;
use crate::value::{RemoteException, ValueSource};
use sofa_hessian::{
    write_request_head, AppSlot, Decoder, Dialect, Encoder, JavaException, RequestHeadRef,
    ResponseHead, SofaResponse, Value,
};

/// Lists, maps and objects a request head may hold (the `SofaRequest` object, its
/// `requestProps` and argument types: a handful in practice). Each costs memory even when
/// skipped, and an empty list is one byte on the wire.
const HEAD_MAX_CONTAINERS: usize = 1024;

/// Bytes a request head may take, `requestProps` included (trace context and baggage:
/// kilobytes in practice).
const HEAD_MAX_BYTES: usize = 256 * 1024;

/// The Hessian 2 serializer, wire-compatible with Java SOFARPC (sofa-hessian) and
/// sofa-rpc-node.
///
/// Requests are written in one [`Dialect`] — the sofa-hessian 3.x draft by default (`hessian2`,
/// also registered as `hessian`), the final Hessian 2.0 grammar with [`Hessian2::v4`]
/// (`hessian4`); both share codec byte 1. Whatever a peer sends is read in its own dialect,
/// and a provider answers in the dialect of the request.
///
/// Application errors travel as Java throwables (`appResponse`, with the error header), as a
/// Java provider sends them; framework errors as `isError` with `errorMsg`.
#[derive(Clone, Copy, Debug)]
pub struct Hessian2 {
    dialect: Dialect,
    name: &'static str,
}

/// The null value, for decoding a `null` `appResponse` into the caller's type.
const NULL: &[u8] = b"N";

impl Default for Hessian2 {
    fn default() -> Self {
        Hessian2 {
            dialect: Dialect::V3,
            name: Self::NAME,
        }
    }
}

impl Hessian2 {
    /// The codec byte.
    pub const CODE: u8 = 1;
    /// The registered name of the default (3.x dialect) serializer.
    pub const NAME: &'static str = "hessian2";
    /// The registered name of the final-Hessian-2.0 serializer.
    pub const NAME_V4: &'static str = "hessian4";

    /// Writes the sofa-hessian 3.x dialect (what SOFARPC 5.x speaks).
    pub fn new() -> Self {
        Self::default()
    }

    /// Writes the final Hessian 2.0 grammar (sofa-hessian 4.x).
    pub fn v4() -> Self {
        Hessian2 {
            dialect: Dialect::V4,
            name: Self::NAME_V4,
        }
    }

    /// The dialect requests are written in.
    pub fn dialect(&self) -> Dialect {
        self.dialect
    }

    /// A reader over a request's content, its head read and bounded.
    fn reader<'a>(&self, content: &'a [u8]) -> Result<Reader<'a>> {
        let mut dec = Decoder::new(content, self.dialect_of(content));
        // The head is read before anything is known about the request: skip `requestProps`
        // (routing uses the bolt header) and bound what skipping may cost.
        dec.set_max_containers(HEAD_MAX_CONTAINERS);
        let head = RequestHeadRef::read_without_props(&mut dec).map_err(request_error)?;
        if dec.position() > HEAD_MAX_BYTES {
            return Err(request_error(format!(
                "the SofaRequest head takes {} bytes, more than {HEAD_MAX_BYTES}",
                dec.position()
            )));
        }
        dec.set_max_containers(usize::MAX);
        Ok(Reader { head, dec, next: 0 })
    }

    fn dialect_of(&self, content: &[u8]) -> Dialect {
        Dialect::detect(content).unwrap_or(self.dialect)
    }
}

impl Serializer for Hessian2 {
    fn name(&self) -> &str {
        self.name
    }

    fn code(&self) -> u8 {
        Self::CODE
    }

    fn encode_request(&self, invocation: &Invocation, _header: &mut HeaderMap) -> Result<Bytes> {
        let args = invocation.args();
        let arg = |i: usize| {
            args.arg(i)
                .ok_or_else(|| encode_error(format!("argument {i} is missing")))
        };
        // Checked before anything is written: the head lists every argument's type.
        (0..args.len()).try_for_each(|i| arg(i).map(drop))?;
        let sigs = (0..args.len()).map(|i| args.arg(i).map_or("", |a| a.java_type()));
        encode_hessian(self.dialect, |enc| {
            write_request_head(
                enc,
                invocation.method(),
                invocation.service().unique_name(),
                &[(headers::PROTOCOL, "bolt")],
                sigs,
            )
            .map_err(encode_error)?;
            for i in 0..args.len() {
                let value = serde_form(&arg(i)?, "hessian").map_err(encode_error)?;
                erased_serde::serialize(value, &mut *enc).map_err(encode_error)?;
            }
            Ok(())
        })
    }

    fn read_request<'a>(
        &self,
        _header: &'a HeaderMap,
        content: &'a [u8],
    ) -> Result<Box<dyn RequestReader<'a> + 'a>> {
        Ok(Box::new(self.reader(content)?))
    }

    fn lend_request<'a>(
        &self,
        _header: &'a HeaderMap,
        content: &'a [u8],
        visit: &mut dyn FnMut(&mut dyn RequestReader<'a>),
    ) -> Result<()> {
        visit(&mut self.reader(content)?);
        Ok(())
    }

    fn encode_response(
        &self,
        reply: &Reply,
        request: &[u8],
        header: &mut HeaderMap,
    ) -> Result<Bytes> {
        encode_hessian(self.dialect_of(request), |enc| {
            match reply {
                Reply::Value(value) => {
                    let value = value.value();
                    let serde = serde_form(&value, "hessian").map_err(reply_error)?;
                    SofaResponse::ok(serde).write(enc)
                }
                Reply::AppError(e) => {
                    header.insert(headers::RESPONSE_ERROR, "true");
                    let exception = JavaException::new(e.class_name.as_str(), Some(&e.message));
                    SofaResponse::<()>::exception(exception).write(enc)
                }
                Reply::Error(e) => {
                    header.insert(headers::RESPONSE_ERROR, "true");
                    let mut response = SofaResponse::<()>::framework_error(e.message());
                    let code = e.kind().code().to_string();
                    if let Some(props) = response.response_props.as_mut() {
                        props.push((ERROR_TYPE.to_string(), code.clone()));
                    }
                    header.insert(ERROR_TYPE, code);
                    response.write(enc)
                }
            }
            .map_err(reply_error)
        })
    }

    fn read_response<'a>(
        &self,
        header: &'a HeaderMap,
        content: &'a [u8],
    ) -> Result<ResponseBody<'a>> {
        let dialect = self.dialect_of(content);
        let head = ResponseHead::read(Decoder::new(content, dialect)).map_err(response_error)?;
        if head.is_error {
            let kind = header.get(ERROR_TYPE).or_else(|| {
                head.response_props
                    .as_ref()
                    .and_then(|p| p.iter().find(|(k, _)| k == ERROR_TYPE))
                    .map(|(_, v)| v.as_str())
            });
            let message = head.error_msg.unwrap_or_default();
            return Ok(ResponseBody::Error(framework_error(kind, message)));
        }
        Ok(match head.app_response {
            AppSlot::Value(dec) => ResponseBody::Value(ValueSource::from_owned_deserializer(*dec)),
            AppSlot::Null => ResponseBody::Value(ValueSource::from_owned_deserializer(
                Decoder::new(NULL, dialect),
            )),
            AppSlot::Exception(e) => ResponseBody::AppException(RemoteException::new(
                e.class_name,
                e.message.unwrap_or_default(),
            )),
        })
    }

    fn error_detail(&self, content: &[u8]) -> Option<String> {
        let mut dec = Decoder::new(content, self.dialect_of(content));
        JavaException::read(&mut dec)
            .ok()
            .and_then(|e| e.message.or(Some(e.class_name)))
    }
}

struct Reader<'a> {
    head: RequestHeadRef<'a>,
    dec: Decoder<'a>,
    next: usize,
}

impl<'a> RequestReader<'a> for Reader<'a> {
    fn target_service(&self) -> Option<&str> {
        Some(&*self.head.target_service_unique_name).filter(|s| !s.is_empty())
    }

    fn method(&self) -> Option<&str> {
        Some(&*self.head.method_name).filter(|s| !s.is_empty())
    }

    fn arg_types(&self) -> &[Cow<'a, str>] {
        &self.head.method_arg_sigs
    }

    fn next_arg(&mut self) -> Result<ValueSource<'_>> {
        if self.next >= self.head.method_arg_sigs.len() || self.dec.is_empty() {
            return Err(request_error(format!(
                "the request carries {} arguments; the method takes more",
                self.next
            )));
        }
        self.next += 1;
        Ok(ValueSource::from_deserializer(&mut self.dec))
    }
}

/// The body of a bolt-level error response (`RpcServerException`), as Java SOFABolt sends it
/// with error statuses: `detailMessage` is what clients show.
pub(crate) fn rpc_server_exception(message: &str) -> Option<Bytes> {
    let mut enc = Encoder::with_buffer(Vec::with_capacity(128), Dialect::V3);
    let exception = Value::java_exception(headers::RPC_SERVER_EXCEPTION_CLASS, Some(message));
    enc.write_value(&exception).ok()?;
    Some(enc.into_inner().into())
}

/// Runs `write` with an encoder over this thread's reused buffer (see `scratch`); the body
/// comes out as one exact-size copy.
fn encode_hessian(
    dialect: Dialect,
    write: impl FnOnce(&mut Encoder) -> Result<()>,
) -> Result<Bytes> {
    encode_with(|buf| {
        let mut enc = Encoder::with_buffer(std::mem::take(buf), dialect);
        let written = write(&mut enc);
        // The buffer goes back, written or not, for the next body.
        *buf = enc.into_inner();
        written
    })
}
