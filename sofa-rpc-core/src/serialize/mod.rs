//! The Serializer extension point: how invocations and results become frame content.

mod hessian2;
mod json;
mod msgpack;
mod protobuf;
mod scratch;
mod serializers;

use std::borrow::Cow;
use std::fmt;

use bytes::Bytes;
use sofa_bolt::{HeaderMap, ResponseStatus};

pub(crate) use hessian2::rpc_server_exception;
pub use hessian2::Hessian2;
pub use json::Json;
pub use msgpack::Msgpack;
pub use protobuf::Protobuf;
pub(crate) use serializers::Serializers;

use crate::error::{ErrorKind, Result, RpcError};
use crate::invocation::Invocation;
use crate::value::{RemoteException, ValueRef, ValueSource};

/// Turns invocations and results into the content (and header entries) of Bolt frames, and
/// back. One implementation per wire format; the codec byte of the frame says which.
///
/// Implementations are registered by name in an
/// [`ExtensionLoader`](crate::ExtensionLoader) and chosen per consumer; providers pick the one
/// whose [`code`](Self::code) matches each request.
pub trait Serializer: Send + Sync + 'static {
    /// The name consumers select it by, e.g. `msgpack` or `hessian2`.
    fn name(&self) -> &str;

    /// The codec byte written in frames, e.g. 13 for msgpack.
    fn code(&self) -> u8;

    /// Consumer side: the request content for `invocation`. Header entries this format needs
    /// (the target service, the method ...) are added to `header`.
    fn encode_request(&self, invocation: &Invocation, header: &mut HeaderMap) -> Result<Bytes>;

    /// Provider side: a reader over a request's content.
    fn read_request<'a>(
        &self,
        header: &'a HeaderMap,
        content: &'a [u8],
    ) -> Result<Box<dyn RequestReader<'a> + 'a>>;

    /// Provider side: lends `visit` a reader over a request's content, once. The default
    /// lends the one [`read_request`](Self::read_request) makes; a format whose reader can
    /// live on the stack overrides it and saves the box.
    fn lend_request<'a>(
        &self,
        header: &'a HeaderMap,
        content: &'a [u8],
        visit: &mut dyn FnMut(&mut dyn RequestReader<'a>),
    ) -> Result<()> {
        let mut reader = self.read_request(header, content)?;
        visit(&mut *reader);
        Ok(())
    }

    /// Provider side: the response content for `reply` to a request whose content was
    /// `request` (a format with dialects answers in the request's); header entries (such as
    /// the error flag) are added to `header`.
    fn encode_response(
        &self,
        reply: &Reply,
        request: &[u8],
        header: &mut HeaderMap,
    ) -> Result<Bytes>;

    /// Provider side: the frame status to send `reply` with. `SUCCESS` for everything by
    /// default (SOFARPC carries its errors inside the response); a format whose peers only
    /// notice errors by status says otherwise.
    fn reply_status(&self, reply: &Reply) -> ResponseStatus {
        let _ = reply;
        ResponseStatus::SUCCESS
    }

    /// Consumer side: what a response's content holds.
    fn read_response<'a>(
        &self,
        header: &'a HeaderMap,
        content: &'a [u8],
    ) -> Result<ResponseBody<'a>>;

    /// The message inside the content of a response with a non-success status, if this
    /// format can find one (used to explain bolt-level errors).
    fn error_detail(&self, content: &[u8]) -> Option<String> {
        let _ = content;
        None
    }
}

impl fmt::Debug for dyn Serializer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Serializer({}, code {})", self.name(), self.code())
    }
}

/// A request being read on the provider: what it targets, then its arguments in order.
pub trait RequestReader<'a> {
    /// The target service unique name the content names, if it names one (Hessian bodies do).
    fn target_service(&self) -> Option<&str>;

    /// The method name.
    fn method(&self) -> Option<&str>;

    /// The Java type names of the arguments, where the format carries them (borrowed from the
    /// request's bytes where they can be).
    fn arg_types(&self) -> &[Cow<'a, str>];

    /// Tells the reader how many arguments the method takes, before the first
    /// [`next_arg`](Self::next_arg) (formats that write a single argument differently from
    /// several need it).
    fn set_arg_count(&mut self, count: usize) {
        let _ = count;
    }

    /// The next argument.
    fn next_arg(&mut self) -> Result<ValueSource<'_>>;
}

/// The outcome of a provider's method, on its way to the serializer.
pub enum Reply {
    /// The method returned a value.
    Value(Box<dyn ReplyValue>),
    /// The method returned an application error.
    AppError(RemoteException),
    /// The framework could not run the method (no such service or method, a filter refused,
    /// the arguments could not be decoded ...).
    Error(RpcError),
}

impl fmt::Debug for Reply {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Reply::Value(v) => write!(f, "Reply::Value({:?})", v.value()),
            Reply::AppError(e) => write!(f, "Reply::AppError({e})"),
            Reply::Error(e) => write!(f, "Reply::Error({e})"),
        }
    }
}

/// A returned value, owned, that serializers can view in the forms its type supports.
pub trait ReplyValue: Send + 'static {
    /// The value.
    fn value(&self) -> ValueRef<'_>;

    /// The value as its own type, for an in-process consumer to take without serializing it.
    /// The default, `None`, suits values that only ever travel.
    fn into_any(self: Box<Self>) -> Option<Box<dyn std::any::Any + Send>> {
        None
    }
}

/// What a response's content holds.
pub enum ResponseBody<'a> {
    /// The return value.
    Value(ValueSource<'a>),
    /// An application exception raised by the method.
    AppException(RemoteException),
    /// A framework error reported by the provider.
    Error(RpcError),
}

impl fmt::Debug for ResponseBody<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ResponseBody::Value(v) => write!(f, "ResponseBody::Value({v:?})"),
            ResponseBody::AppException(e) => write!(f, "ResponseBody::AppException({e})"),
            ResponseBody::Error(e) => write!(f, "ResponseBody::Error({e})"),
        }
    }
}

/// A client-side serialization failure.
pub(crate) fn encode_error(what: impl fmt::Display) -> RpcError {
    RpcError::new(ErrorKind::ClientSerialize, what.to_string())
}

/// A failure to read a request on the provider.
pub(crate) fn request_error(what: impl fmt::Display) -> RpcError {
    RpcError::new(ErrorKind::ServerDeserialize, what.to_string())
}

/// A failure to read a response on the consumer.
pub(crate) fn response_error(what: impl fmt::Display) -> RpcError {
    RpcError::new(ErrorKind::ClientDeserialize, what.to_string())
}

/// A failure to write a response on the provider.
pub(crate) fn reply_error(what: impl fmt::Display) -> RpcError {
    RpcError::new(ErrorKind::ServerSerialize, what.to_string())
}

/// The SOFARPC error kind of a framework error, as our providers send it alongside
/// `sofa_head_response_error` (peers that do not know the key ignore it).
pub(crate) const ERROR_TYPE: &str = "sofa_head_error_type";

/// The Java class of an application exception, sent alongside the message by formats whose
/// error content is the message alone (protobuf, JSON).
pub(crate) const EXCEPTION_CLASS: &str = "sofa_head_exception_class";

/// The error a header-flagged message-only response stands for: a framework error when our
/// provider named its kind, else the method's exception (of the class named, if any).
pub(crate) fn message_error<'a>(header: &HeaderMap, message: String) -> ResponseBody<'a> {
    match header.get(ERROR_TYPE) {
        Some(kind) => ResponseBody::Error(framework_error(Some(kind), message)),
        None => ResponseBody::AppException(RemoteException::new(
            header
                .get(EXCEPTION_CLASS)
                .unwrap_or(RemoteException::DEFAULT_CLASS),
            message,
        )),
    }
}

/// The framework error a response reports, with the kind our providers name (else
/// `SERVER_UNDECLARED_ERROR`, as SOFARPC reports provider-side failures).
pub(crate) fn framework_error(kind_code: Option<&str>, message: String) -> RpcError {
    let kind = kind_code
        .and_then(|c| c.parse().ok())
        .and_then(ErrorKind::from_code)
        .unwrap_or(ErrorKind::ServerUndeclared);
    RpcError::new(kind, message)
}

/// The value serde can write, or why not.
pub(crate) fn serde_form<'a>(
    value: &ValueRef<'a>,
    format: &str,
) -> Result<&'a dyn erased_serde::Serialize, String> {
    value.as_serde().ok_or_else(|| {
        format!(
            "a value of Java type {} cannot be written as {format}: its Rust type does not implement serde's Serialize",
            value.java_type()
        )
    })
}

/// Adds the header entries every request carries, whatever its format: the target service
/// (under both keys), the method, the invoke type, and the context's baggage and attachments.
pub(crate) fn common_request_header(invocation: &Invocation, header: &mut HeaderMap) {
    use crate::headers;
    crate::request_head::fixed_entries(invocation, None, header);
    let ctx = invocation.context();
    for (k, v) in ctx.attachments() {
        header.insert(k.clone(), v.clone());
    }
    for (k, v) in ctx.baggage() {
        header.insert(format!("{}{k}", headers::REQUEST_BAGGAGE_PREFIX), v.clone());
    }
    if let Some(trace) = ctx.trace() {
        trace.write(header);
    }
}
