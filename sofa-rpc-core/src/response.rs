//! [`Response`]: what comes back from a provider, before it is decoded into the caller's type.

use std::collections::BTreeMap;
use std::fmt;
use std::sync::Arc;

use bytes::Bytes;
use sofa_bolt::HeaderMap;
use sofa_rpc_registry::ProviderInfo;

use crate::error::{ErrorKind, Result, RpcError};
use crate::headers;
use crate::serialize::{ResponseBody, Serializer};
use crate::value::RemoteException;

/// A successful exchange with a provider: the response header and content, the serializer
/// that reads them, and which provider answered. (Oneway calls produce an empty one.)
#[derive(Clone)]
pub struct Response {
    header: HeaderMap,
    content: Bytes,
    serializer: Option<Arc<dyn Serializer>>,
    provider: Option<Arc<ProviderInfo>>,
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
        }
    }

    /// An answer made on this side, with no provider behind it (a fallback value a filter
    /// returns instead of calling): `content` as `serializer` reads it.
    pub fn local(header: HeaderMap, content: Bytes, serializer: Arc<dyn Serializer>) -> Self {
        Response {
            header,
            content,
            serializer: Some(serializer),
            provider: None,
        }
    }

    /// The response of a oneway call: nothing.
    pub fn none() -> Self {
        Response {
            header: HeaderMap::new(),
            content: Bytes::new(),
            serializer: None,
            provider: None,
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
