//! SOFARPC message bodies (bolt codec 1, hessian2): `SofaRequest`, `SofaResponse`
//! and bolt's `RpcServerException`.
//!
//! A request body is one Hessian stream: the `SofaRequest` object, then each call
//! argument as an independent top-level value. Write it with
//! [`SofaRequestHead::write`] followed by [`Encoder::encode`] per argument; read it
//! with [`SofaRequestHead::read`] followed by [`Decoder::decode`] per argument.
//! A response body is a single `SofaResponse` object ([`SofaResponse`]).

use std::borrow::Cow;

use serde::de::DeserializeOwned;
use serde::Serialize;

use crate::buffer::OutputBuffer;
use crate::decoder::head::Head;
use crate::decoder::Decoder;
use crate::dialect::tag;
use crate::encoder::Encoder;
use crate::error::{Error, ErrorKind, Result};
use crate::object::Name;
use crate::value::Value;

/// Java class of the request body.
pub const SOFA_REQUEST_CLASS: &str = "com.alipay.sofa.rpc.core.request.SofaRequest";
/// Java class of the response body.
pub const SOFA_RESPONSE_CLASS: &str = "com.alipay.sofa.rpc.core.response.SofaResponse";
/// Java class of the body bolt sends with error statuses.
pub const RPC_SERVER_EXCEPTION_CLASS: &str = "com.alipay.remoting.rpc.exception.RpcServerException";
/// List type Java writes for `String[]` (`methodArgSigs`), in both dialects.
pub const STRING_ARRAY_TYPE: &str = "[string";

/// Java's serialized field order of `SofaRequest`.
const REQUEST_FIELDS: [&str; 5] = [
    "targetAppName",
    "methodName",
    "targetServiceUniqueName",
    "requestProps",
    "methodArgSigs",
];
/// Java's serialized field order of `SofaResponse`.
const RESPONSE_FIELDS: [&str; 4] = ["isError", "errorMsg", "appResponse", "responseProps"];

/// The serialized fields of a `SofaRequest` (everything but the arguments).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct SofaRequestHead {
    /// Target application name (`null` when unknown).
    pub target_app_name: Option<String>,
    /// Method to invoke.
    pub method_name: String,
    /// `interface:version[:uniqueId]`, e.g. `com.example.Echo:1.0`. A `null` on
    /// the wire reads as an empty string (the bolt header `service` is
    /// authoritative anyway).
    pub target_service_unique_name: String,
    /// `requestProps` in wire order. Empty is written as `null` (Java's default).
    pub request_props: Vec<(String, Value)>,
    /// Java type names of the declared parameters (`java.lang.String`, `int`,
    /// `[B`, ...), one per argument.
    pub method_arg_sigs: Vec<String>,
}

#[derive(Clone, Copy)]
enum RequestField {
    TargetAppName,
    MethodName,
    TargetServiceUniqueName,
    RequestProps,
    MethodArgSigs,
    Other,
}

/// Writes a `SofaRequest` object from borrowed parts: the bytes [`SofaRequestHead::write`]
/// writes for the same fields (with string-valued `requestProps`), without owned copies of the
/// names. What a client writes for every call.
///
/// ```
/// use sofa_hessian::{write_request_head, Decoder, Dialect, Encoder, SofaRequestHead};
///
/// let mut enc = Encoder::new(Dialect::V3);
/// write_request_head(
///     &mut enc,
///     "echo",
///     "com.example.Echo:1.0",
///     &[("protocol", "bolt")],
///     ["java.lang.String"].into_iter(),
/// )?;
/// let bytes = enc.into_inner();
/// let head = SofaRequestHead::read(&mut Decoder::new(&bytes, Dialect::V3))?;
/// assert_eq!(head.method_name, "echo");
/// assert_eq!(head.method_arg_sigs, ["java.lang.String"]);
/// # Ok::<(), sofa_hessian::Error>(())
/// ```
pub fn write_request_head<B, S>(
    enc: &mut Encoder<B>,
    method_name: &str,
    target_service_unique_name: &str,
    request_props: &[(&str, &str)],
    method_arg_sigs: S,
) -> Result<()>
where
    B: OutputBuffer,
    S: ExactSizeIterator,
    S::Item: AsRef<str>,
{
    write_head(
        enc,
        None,
        method_name,
        target_service_unique_name,
        request_props.len(),
        |enc| {
            for (k, v) in request_props {
                enc.write_str(k);
                enc.write_str(v);
            }
            Ok(())
        },
        method_arg_sigs,
    )
}

/// The `SofaRequest` object: Java's field order, `requestProps` as an untyped map (`null`
/// when empty, as Java writes it), `methodArgSigs` as a `[string` typed list.
fn write_head<B, S>(
    enc: &mut Encoder<B>,
    target_app_name: Option<&str>,
    method_name: &str,
    target_service_unique_name: &str,
    props: usize,
    write_props: impl FnOnce(&mut Encoder<B>) -> Result<()>,
    method_arg_sigs: S,
) -> Result<()>
where
    B: OutputBuffer,
    S: ExactSizeIterator,
    S::Item: AsRef<str>,
{
    enc.define_static_class(SOFA_REQUEST_CLASS, &REQUEST_FIELDS)?;
    let mut obj = enc.begin_object_named(Name::Static(SOFA_REQUEST_CLASS))?;
    let [app, method, service, props_field, sigs] = REQUEST_FIELDS;
    enc.object_field_named(&mut obj, Name::Static(app))?;
    match target_app_name {
        Some(s) => enc.write_str(s),
        None => enc.write_null(),
    }
    enc.object_field_named(&mut obj, Name::Static(method))?;
    enc.write_str(method_name);
    enc.object_field_named(&mut obj, Name::Static(service))?;
    enc.write_str(target_service_unique_name);
    enc.object_field_named(&mut obj, Name::Static(props_field))?;
    if props == 0 {
        enc.write_null();
    } else {
        let map = enc.begin_map(None)?;
        write_props(enc)?;
        enc.end_map(map)?;
    }
    enc.object_field_named(&mut obj, Name::Static(sigs))?;
    let list =
        enc.begin_list_named(method_arg_sigs.len(), Some(Name::Static(STRING_ARRAY_TYPE)))?;
    for sig in method_arg_sigs {
        enc.write_str(sig.as_ref());
    }
    enc.end_list(list)?;
    enc.end_object(obj)
}

impl SofaRequestHead {
    /// Writes the `SofaRequest` object with Java's field order
    /// (`targetAppName, methodName, targetServiceUniqueName, requestProps,
    /// methodArgSigs`) and `methodArgSigs` as a `[string` typed list.
    pub fn write<B: OutputBuffer>(&self, enc: &mut Encoder<B>) -> Result<()> {
        let props = &self.request_props;
        write_head(
            enc,
            self.target_app_name.as_deref(),
            &self.method_name,
            &self.target_service_unique_name,
            props.len(),
            |enc| {
                for (k, v) in props {
                    enc.write_str(k);
                    enc.write_value(v)?;
                }
                Ok(())
            },
            self.method_arg_sigs.iter(),
        )
    }

    /// Reads a `SofaRequest` object, mapping fields by name (any order, unknown
    /// fields ignored). Fails with [`ErrorKind::Protocol`] if the next value is not
    /// a `SofaRequest`.
    pub fn read(dec: &mut Decoder<'_>) -> Result<SofaRequestHead> {
        Self::read_with(dec, true)
    }

    /// Reads a `SofaRequest` object like [`read`](Self::read) but skips `requestProps`
    /// (left empty) instead of decoding it into [`Value`]s: a server that routes by the bolt
    /// header does not need it, and decoding it before anything is known about the request is
    /// where a small body of empty lists costs the most memory (each a `Value` and a vector).
    /// Skipping still counts its lists and maps against the decoder's
    /// [`max_containers`](crate::DecoderOptions::max_containers).
    pub fn read_without_props(dec: &mut Decoder<'_>) -> Result<SofaRequestHead> {
        Self::read_with(dec, false)
    }

    fn read_with(dec: &mut Decoder<'_>, props: bool) -> Result<SofaRequestHead> {
        let head = RequestHeadRef::read_with(dec, props)?;
        Ok(SofaRequestHead {
            target_app_name: head.target_app_name.map(Cow::into_owned),
            method_name: head.method_name.into_owned(),
            target_service_unique_name: head.target_service_unique_name.into_owned(),
            request_props: head.request_props,
            method_arg_sigs: head
                .method_arg_sigs
                .into_iter()
                .map(Cow::into_owned)
                .collect(),
        })
    }
}

/// The fields of a `SofaRequest` as read by a provider, its names borrowed from the request's
/// bytes wherever they are one chunk of UTF-8 (SOFA peers write them so): a server reads a head
/// per request, and owned copies of its names are allocations it does not need.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct RequestHeadRef<'a> {
    /// Target application name (`null` when unknown).
    pub target_app_name: Option<Cow<'a, str>>,
    /// Method to invoke.
    pub method_name: Cow<'a, str>,
    /// `interface:version[:uniqueId]`; a `null` reads as an empty string.
    pub target_service_unique_name: Cow<'a, str>,
    /// `requestProps`, when read (see [`read_without_props`](Self::read_without_props)).
    pub request_props: Vec<(String, Value)>,
    /// Java type names of the declared parameters, one per argument.
    pub method_arg_sigs: Vec<Cow<'a, str>>,
}

impl<'a> RequestHeadRef<'a> {
    /// Reads a `SofaRequest` object like [`SofaRequestHead::read_without_props`], keeping
    /// its names borrowed from `dec`'s input.
    pub fn read_without_props(dec: &mut Decoder<'a>) -> Result<Self> {
        Self::read_with(dec, false)
    }

    fn read_with(dec: &mut Decoder<'a>, props: bool) -> Result<Self> {
        let at = dec.position();
        let def = expect_object(dec, SOFA_REQUEST_CLASS, at)?;
        let mut head = RequestHeadRef::default();
        let mut method = None;
        for i in 0..dec.field_count(def) {
            let field = match dec.field_name(def, i) {
                Some("targetAppName") => RequestField::TargetAppName,
                Some("methodName") => RequestField::MethodName,
                Some("targetServiceUniqueName") => RequestField::TargetServiceUniqueName,
                Some("requestProps") => RequestField::RequestProps,
                Some("methodArgSigs") => RequestField::MethodArgSigs,
                _ => RequestField::Other,
            };
            match field {
                RequestField::TargetAppName => head.target_app_name = dec.read_opt_str()?,
                RequestField::MethodName => method = dec.read_opt_str()?,
                RequestField::TargetServiceUniqueName => {
                    head.target_service_unique_name = dec.read_opt_str()?.unwrap_or_default();
                }
                RequestField::RequestProps if !props => dec.skip_value()?,
                RequestField::RequestProps => {
                    head.request_props = dec
                        .read_string_keyed_map(|d| d.read_value())?
                        .unwrap_or_default();
                }
                RequestField::MethodArgSigs => head.method_arg_sigs = dec.read_str_list()?,
                RequestField::Other => dec.skip_value()?,
            }
        }
        dec.close_container();
        head.method_name = method
            .ok_or_else(|| Error::at(ErrorKind::Protocol, at, "SofaRequest without methodName"))?;
        Ok(head)
    }
}

/// Reads the next value's object header and checks its class.
fn expect_object(dec: &mut Decoder<'_>, class: &str, at: usize) -> Result<usize> {
    match dec.next_head()? {
        Head::Object(def) => {
            if dec.class_name(def) != class {
                let found = dec.class_name(def).to_owned();
                return Err(Error::at(
                    ErrorKind::Protocol,
                    at,
                    format!("expected a {class} object, found class {found}"),
                ));
            }
            Ok(def)
        }
        Head::Null => Err(Error::at(
            ErrorKind::Protocol,
            at,
            format!("expected a {class} object, found null"),
        )),
        _ => Err(Error::at(
            ErrorKind::Protocol,
            at,
            format!("expected a {class} object"),
        )),
    }
}

/// A Java exception carried in a response.
#[derive(Debug, Clone, PartialEq)]
pub struct JavaException {
    /// Fully qualified class name, e.g. `java.lang.RuntimeException`.
    pub class_name: String,
    /// `detailMessage`.
    pub message: Option<String>,
    /// The whole exception object (stack trace, cause, ...).
    pub value: Value,
}

impl JavaException {
    /// An exception with the shape Java writes (see [`Value::java_exception`]).
    pub fn new(class_name: impl Into<String>, message: Option<&str>) -> Self {
        let class_name = class_name.into();
        JavaException {
            value: Value::java_exception(class_name.clone(), message),
            message: message.map(str::to_owned),
            class_name,
        }
    }

    /// Interprets an object value as an exception (it needs a `detailMessage`
    /// field).
    pub fn from_value(value: Value) -> Option<Self> {
        let (class, msg) = value.exception_info()?;
        Some(JavaException {
            class_name: class.to_owned(),
            message: msg.map(str::to_owned),
            value,
        })
    }

    /// Reads an exception object, e.g. the `RpcServerException` body of a bolt
    /// error response (status `SERVER_EXCEPTION`, `SERVER_DESERIAL_EXCEPTION`, ...).
    pub fn read(dec: &mut Decoder<'_>) -> Result<Self> {
        let at = dec.position();
        let v = dec.read_value()?;
        let class = v.class_name().unwrap_or("<not an object>").to_owned();
        JavaException::from_value(v).ok_or_else(|| {
            Error::at(
                ErrorKind::Protocol,
                at,
                format!("expected a Java exception object, found {class}"),
            )
        })
    }
}

impl std::fmt::Display for JavaException {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.message {
            Some(m) => write!(f, "{}: {m}", self.class_name),
            None => f.write_str(&self.class_name),
        }
    }
}

/// The `appResponse` of a [`SofaResponse`].
#[derive(Debug, Clone, PartialEq)]
pub enum AppResponse<T> {
    /// `null` (a `void` method, or no value because of a framework error).
    Null,
    /// The return value.
    Value(T),
    /// The service threw: a Java `Throwable` object.
    Exception(JavaException),
}

/// A `com.alipay.sofa.rpc.core.response.SofaResponse`.
#[derive(Debug, Clone, PartialEq)]
pub struct SofaResponse<T> {
    /// True for framework errors (service/method not found, ...); the text is in
    /// `error_msg`. Application exceptions have `is_error == false`.
    pub is_error: bool,
    /// Framework error message.
    pub error_msg: Option<String>,
    /// Return value or application exception.
    pub app_response: AppResponse<T>,
    /// `responseProps` (`null` on the wire when `None`).
    pub response_props: Option<Vec<(String, String)>>,
}

impl<T> SofaResponse<T> {
    /// A successful response carrying `value`.
    pub fn ok(value: T) -> Self {
        SofaResponse {
            is_error: false,
            error_msg: None,
            app_response: AppResponse::Value(value),
            response_props: None,
        }
    }

    /// A response carrying an application exception, as a Java provider sends it
    /// (`responseProps = {sofa_head_response_error: "true"}`).
    pub fn exception(e: JavaException) -> Self {
        SofaResponse {
            is_error: false,
            error_msg: None,
            app_response: AppResponse::Exception(e),
            response_props: Some(vec![(
                "sofa_head_response_error".to_owned(),
                "true".to_owned(),
            )]),
        }
    }

    /// A framework error response (`isError = true`).
    pub fn framework_error(message: impl Into<String>) -> Self {
        SofaResponse {
            is_error: true,
            error_msg: Some(message.into()),
            app_response: AppResponse::Null,
            response_props: Some(vec![(
                "sofa_head_response_error".to_owned(),
                "true".to_owned(),
            )]),
        }
    }
}

#[derive(Clone, Copy)]
enum ResponseField {
    IsError,
    ErrorMsg,
    AppResponse,
    ResponseProps,
    Other,
}

impl<T: Serialize> SofaResponse<T> {
    /// Writes the `SofaResponse` object (fields `isError, errorMsg, appResponse,
    /// responseProps`, as Java does).
    pub fn write<B: OutputBuffer>(&self, enc: &mut Encoder<B>) -> Result<()> {
        enc.define_static_class(SOFA_RESPONSE_CLASS, &RESPONSE_FIELDS)?;
        let mut obj = enc.begin_object_named(Name::Static(SOFA_RESPONSE_CLASS))?;
        enc.object_field_named(&mut obj, Name::Static("isError"))?;
        enc.write_bool(self.is_error);
        enc.object_field_named(&mut obj, Name::Static("errorMsg"))?;
        match &self.error_msg {
            Some(m) => enc.write_str(m),
            None => enc.write_null(),
        }
        enc.object_field_named(&mut obj, Name::Static("appResponse"))?;
        match &self.app_response {
            AppResponse::Null => enc.write_null(),
            AppResponse::Value(v) => enc.encode(v)?,
            AppResponse::Exception(e) => enc.write_value(&e.value)?,
        }
        enc.object_field_named(&mut obj, Name::Static("responseProps"))?;
        match &self.response_props {
            None => enc.write_null(),
            Some(props) => {
                let map = enc.begin_map(None)?;
                for (k, v) in props {
                    enc.write_str(k);
                    enc.write_str(v);
                }
                enc.end_map(map)?;
            }
        }
        enc.end_object(obj)
    }
}

impl<T: DeserializeOwned> SofaResponse<T> {
    /// Reads a `SofaResponse`, decoding `appResponse` directly into `T` — unless it
    /// is a Java `Throwable` (an object whose class has a `detailMessage` field),
    /// which becomes [`AppResponse::Exception`], or `null` ([`AppResponse::Null`]).
    pub fn read(dec: &mut Decoder<'_>) -> Result<SofaResponse<T>> {
        let at = dec.position();
        let def = expect_object(dec, SOFA_RESPONSE_CLASS, at)?;
        let mut resp = SofaResponse {
            is_error: false,
            error_msg: None,
            app_response: AppResponse::Null,
            response_props: None,
        };
        for i in 0..dec.field_count(def) {
            let field = match dec.field_name(def, i) {
                Some("isError") => ResponseField::IsError,
                Some("errorMsg") => ResponseField::ErrorMsg,
                Some("appResponse") => ResponseField::AppResponse,
                Some("responseProps") => ResponseField::ResponseProps,
                _ => ResponseField::Other,
            };
            match field {
                ResponseField::IsError => {
                    resp.is_error = dec.decode::<Option<bool>>()?.unwrap_or(false);
                }
                ResponseField::ErrorMsg => resp.error_msg = dec.read_opt_string()?,
                ResponseField::AppResponse => resp.app_response = read_app_response(dec)?,
                ResponseField::ResponseProps => {
                    resp.response_props = dec
                        .read_string_keyed_map(|d| Ok(d.read_opt_string()?.unwrap_or_default()))?;
                }
                ResponseField::Other => dec.skip_value()?,
            }
        }
        dec.close_container();
        Ok(resp)
    }
}

/// The `appResponse` of a [`ResponseHead`], before its Rust type is known.
pub enum AppSlot<'a> {
    /// `null`.
    Null,
    /// A Java `Throwable`: the application exception.
    Exception(JavaException),
    /// A return value: a decoder positioned at it (with the stream context up to it), to
    /// decode it into whatever type the caller expects.
    Value(Box<Decoder<'a>>),
}

impl std::fmt::Debug for AppSlot<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            AppSlot::Null => f.write_str("Null"),
            AppSlot::Exception(e) => write!(f, "Exception({e})"),
            AppSlot::Value(d) => write!(f, "Value(at {})", d.position()),
        }
    }
}

/// A `SofaResponse` whose `appResponse` is left to decode later, for callers that learn the
/// return type only after looking at the response (framework error? exception?).
#[derive(Debug)]
pub struct ResponseHead<'a> {
    /// True for framework errors.
    pub is_error: bool,
    /// Framework error message.
    pub error_msg: Option<String>,
    /// Return value, exception, or null.
    pub app_response: AppSlot<'a>,
    /// `responseProps`.
    pub response_props: Option<Vec<(String, String)>>,
}

impl<'a> ResponseHead<'a> {
    /// Reads the `SofaResponse` object that `dec` is positioned at, fields in any order.
    pub fn read(mut dec: Decoder<'a>) -> Result<ResponseHead<'a>> {
        let at = dec.position();
        let def = expect_object(&mut dec, SOFA_RESPONSE_CLASS, at)?;
        let mut head = ResponseHead {
            is_error: false,
            error_msg: None,
            app_response: AppSlot::Null,
            response_props: None,
        };
        for i in 0..dec.field_count(def) {
            let field = match dec.field_name(def, i) {
                Some("isError") => ResponseField::IsError,
                Some("errorMsg") => ResponseField::ErrorMsg,
                Some("appResponse") => ResponseField::AppResponse,
                Some("responseProps") => ResponseField::ResponseProps,
                _ => ResponseField::Other,
            };
            match field {
                ResponseField::IsError => {
                    head.is_error = dec.decode::<Option<bool>>()?.unwrap_or(false);
                }
                ResponseField::ErrorMsg => head.error_msg = dec.read_opt_string()?,
                ResponseField::AppResponse => {
                    head.app_response = if dec.peek_class()?.is_some_and(|c| c.is_throwable()) {
                        match JavaException::from_value(dec.read_value()?) {
                            Some(e) => AppSlot::Exception(e),
                            None => AppSlot::Null,
                        }
                    } else if dec.peek_byte() == Some(tag::NULL) {
                        dec.skip_value()?;
                        AppSlot::Null
                    } else {
                        let value = Box::new(dec.clone());
                        dec.skip_value()?;
                        AppSlot::Value(value)
                    };
                }
                ResponseField::ResponseProps => {
                    head.response_props = dec
                        .read_string_keyed_map(|d| Ok(d.read_opt_string()?.unwrap_or_default()))?;
                }
                ResponseField::Other => dec.skip_value()?,
            }
        }
        Ok(head)
    }
}

fn read_app_response<T: DeserializeOwned>(dec: &mut Decoder<'_>) -> Result<AppResponse<T>> {
    if dec.peek_class()?.is_some_and(|c| c.is_throwable()) {
        let v = dec.read_value()?;
        return Ok(match JavaException::from_value(v) {
            Some(e) => AppResponse::Exception(e),
            None => AppResponse::Null,
        });
    }
    if dec.peek_byte() == Some(tag::NULL) {
        dec.skip_value()?;
        return Ok(AppResponse::Null);
    }
    Ok(AppResponse::Value(dec.decode()?))
}
