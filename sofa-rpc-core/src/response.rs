//! [`Response`]: what comes back from a provider, before it is decoded into the caller's type.

use std::collections::BTreeMap;
use std::fmt;
use std::sync::{Arc, Mutex};

use bytes::Bytes;
use sofa_bolt::HeaderMap;
use sofa_rpc_registry::ProviderInfo;

use crate::error::{ErrorKind, Result, RpcError};
use crate::headers;
use crate::serialize::{Reply, ReplyValue, ResponseBody, Serializer};
use crate::value::RemoteException;

/// A successful exchange with a provider: the response header and content, the serializer
/// that reads them, and which provider answered. (Oneway calls produce an empty one.)
#[derive(Clone)]
pub struct Response {
    header: HeaderMap,
    content: Bytes,
    serializer: Option<Arc<dyn Serializer>>,
    provider: Option<Arc<ProviderInfo>>,
    /// The answer of an in-process provider, kept as the method left it (no content then).
    local: Option<Arc<Local>>,
    /// Bytes of the serialized request body this answers, when the transport knows it.
    request_size: Option<usize>,
}

/// What an in-process provider answered.
enum Local {
    /// The result, as its own type, until the stub takes it.
    Value(Mutex<Option<Box<dyn ReplyValue>>>),
    AppException(RemoteException),
    Error(ErrorKind, String),
}

impl Response {
    /// The answer of `provider`: its response header and content, read by `serializer`.
    ///
    /// The built-in transport makes these; a custom [`Cluster`](crate::Cluster) that answers
    /// without the network (a mock, a cache) makes its own.
    pub fn new(
        header: HeaderMap,
        content: Bytes,
        serializer: Arc<dyn Serializer>,
        provider: Arc<ProviderInfo>,
    ) -> Self {
        Response {
            header,
            content,
            serializer: Some(serializer),
            provider: Some(provider),
            local: None,
            request_size: None,
        }
    }

    /// The answer of an in-process `provider`: `reply` kept as it is, and the response
    /// baggage in the header where a remote answer carries it.
    pub(crate) fn local(
        reply: Reply,
        provider: Arc<ProviderInfo>,
        baggage: &BTreeMap<String, String>,
    ) -> Self {
        let mut header = HeaderMap::new();
        for (k, v) in baggage {
            header.insert(
                format!("{}{k}", headers::RESPONSE_BAGGAGE_PREFIX),
                v.clone(),
            );
        }
        let local = match reply {
            Reply::Value(value) => Local::Value(Mutex::new(Some(value))),
            Reply::AppError(e) => Local::AppException(e),
            Reply::Error(e) => Local::Error(e.kind(), e.message().to_string()),
        };
        Response {
            header,
            content: Bytes::new(),
            serializer: None,
            provider: Some(provider),
            local: Some(Arc::new(local)),
            request_size: None,
        }
    }

    /// Whether an in-process provider answered: the result was never serialized, and only
    /// the stub that made the call reads it.
    pub fn is_local(&self) -> bool {
        self.local.is_some()
    }

    /// The in-process result value, taken (the first reader gets it); `None` for a remote
    /// answer, an exception or an error.
    pub(crate) fn take_local_value(&self) -> Option<Box<dyn ReplyValue>> {
        match self.local.as_deref() {
            Some(Local::Value(slot)) => slot.lock().unwrap_or_else(|e| e.into_inner()).take(),
            _ => None,
        }
    }

    /// An answer made on this side, with no provider behind it (a fallback value a filter
    /// returns instead of calling): `content` as `serializer` reads it.
    pub fn fallback(header: HeaderMap, content: Bytes, serializer: Arc<dyn Serializer>) -> Self {
        Response {
            header,
            content,
            serializer: Some(serializer),
            provider: None,
            local: None,
            request_size: None,
        }
    }

    /// The response of a oneway call: nothing.
    pub fn none() -> Self {
        Response {
            header: HeaderMap::new(),
            content: Bytes::new(),
            serializer: None,
            provider: None,
            local: None,
            request_size: None,
        }
    }

    /// The response header.
    pub fn header(&self) -> &HeaderMap {
        &self.header
    }

    /// The response content, still serialized.
    pub fn content(&self) -> &Bytes {
        &self.content
    }

    /// Bytes of the serialized request body that got this answer, when known (the built-in
    /// transport records it; for metrics).
    pub fn request_size(&self) -> Option<usize> {
        self.request_size
    }

    /// Records the request's size (see [`request_size`](Self::request_size)).
    pub fn with_request_size(mut self, bytes: usize) -> Self {
        self.request_size = Some(bytes);
        self
    }

    /// The provider that answered.
    pub fn provider(&self) -> Option<&Arc<ProviderInfo>> {
        self.provider.as_ref()
    }

    /// Response baggage the provider sent back (`rpc_resp_baggage.*`).
    pub fn baggage(&self) -> BTreeMap<String, String> {
        self.header
            .iter()
            .filter_map(|(k, v)| {
                k.strip_prefix(headers::RESPONSE_BAGGAGE_PREFIX)
                    .map(|k| (k.to_string(), v.to_string()))
            })
            .collect()
    }

    /// What the content holds: the return value, an application exception or an error.
    pub fn body(&self) -> Result<ResponseBody<'_>> {
        match self.local.as_deref() {
            Some(Local::AppException(e)) => return Ok(ResponseBody::AppException(e.clone())),
            Some(Local::Error(kind, message)) => {
                return Ok(ResponseBody::Error(RpcError::new(*kind, message.clone())))
            }
            // Never serialized: there is nothing to read it from.
            Some(Local::Value(_)) => {
                return Err(crate::serialize::response_error(
                    "an in-process result is read only by the stub that made the call",
                ))
            }
            None => {}
        }
        match &self.serializer {
            Some(serializer) => serializer.read_response(&self.header, &self.content),
            None => Err(crate::serialize::response_error(
                "a oneway call has no response to read",
            )),
        }
    }
}

impl fmt::Debug for Response {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Response")
            .field("header", &self.header)
            .field("content_len", &self.content.len())
            .field(
                "serializer",
                &self.serializer.as_ref().map(|s| s.name().to_string()),
            )
            .field("provider", &self.provider.as_ref().map(|p| p.address()))
            .field("local", &self.local.is_some())
            .finish()
    }
}

/// A decoded result together with what came with it.
#[derive(Clone, Debug)]
pub struct RpcResponse<R> {
    /// The decoded result.
    pub value: R,
    /// The provider that answered.
    pub provider: Option<Arc<ProviderInfo>>,
    /// Response baggage.
    pub baggage: BTreeMap<String, String>,
}

/// The error for a response the consumer could not decode.
pub fn bad_response(message: String) -> RpcError {
    RpcError::new(ErrorKind::ClientDeserialize, message)
}

/// The error for an application exception a method's signature has no place for.
pub fn unexpected_exception(e: RemoteException) -> RpcError {
    RpcError::new(ErrorKind::ServerBiz, e.to_string())
}
