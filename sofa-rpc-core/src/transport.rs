//! The innermost consumer step: serialize, send over a pooled Bolt connection, check the
//! status.

use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use sofa_bolt::{ConnectionPool, Connector, Frame, HeaderMap, HeaderStr, PoolConfig};
use sofa_rpc_registry::ProviderInfo;

use crate::error::{ErrorKind, Result, RpcError};
use crate::headers;
use crate::invocation::{Invocation, InvokeType};
use crate::request_head;
use crate::response::Response;
use crate::serialize::Serializers;
use crate::serialize::{common_request_header, Serializer};

/// The longest a retired provider's connection stays open for the calls still waiting on it.
const RETIRE_GRACE: Duration = Duration::from_secs(30);

/// Sends invocations to providers.
pub(crate) struct Transport {
    pool: ConnectionPool,
    /// Connections to providers that serve over TLS, if the consumer has a TLS connector.
    tls_pool: Option<ConnectionPool>,
    serializers: Serializers,
    /// The consumer's chosen serializer, if it chose one.
    chosen: Option<Arc<dyn Serializer>>,
    /// Used when neither the consumer nor the provider names a serializer we have.
    fallback: Arc<dyn Serializer>,
    app_name: Option<HeaderStr>,
    default_timeout: Duration,
}

impl Transport {
    pub(crate) fn new(
        pool: PoolConfig,
        tls: Option<Arc<dyn Connector>>,
        serializers: Serializers,
        chosen: Option<Arc<dyn Serializer>>,
        fallback: Arc<dyn Serializer>,
        app_name: Option<String>,
        default_timeout: Duration,
    ) -> Self {
        let tls_pool = tls.map(|connector| {
            let mut config = pool.clone();
            config.connection.connector = Some(connector);
            ConnectionPool::new(config)
        });
        Transport {
            pool: ConnectionPool::new(pool),
            tls_pool,
            serializers,
            chosen,
            fallback,
            app_name: app_name.map(HeaderStr::from),
            default_timeout,
        }
    }

    /// The consumer's application name, sent to providers.
    pub(crate) fn app_name(&self) -> Option<&HeaderStr> {
        self.app_name.as_ref()
    }

    /// Whether any provider address has no live connection (one atomic load).
    pub(crate) fn any_down(&self) -> bool {
        self.pool.any_down() || self.tls_pool.as_ref().is_some_and(|p| p.any_down())
    }

    /// Whether `addr` has no live connection and the last try to get one failed.
    pub(crate) fn is_down(&self, addr: &str) -> bool {
        self.pool.is_down(addr) || self.tls_pool.as_ref().is_some_and(|p| p.is_down(addr))
    }

    /// Stops using the connections to `addr`, closing them once their calls are answered.
    pub(crate) fn retire(&self, addr: &str) {
        self.pool.retire(addr, RETIRE_GRACE);
        if let Some(tls) = &self.tls_pool {
            tls.retire(addr, RETIRE_GRACE);
        }
    }

    /// The pool for `provider`: the TLS one if it serves over TLS (`bolt+tls://` or
    /// `tls=true`), which the consumer must then have.
    fn pool_for(&self, provider: &ProviderInfo) -> Result<&ConnectionPool> {
        if !needs_tls(provider) {
            return Ok(&self.pool);
        }
        self.tls_pool.as_ref().ok_or_else(|| {
            RpcError::config(format!(
                "provider {} serves over TLS ({}=true) but this consumer has no TLS \
                 configuration: set ConsumerConfig::tls",
                provider.address(),
                headers::TLS_PARAM
            ))
        })
    }

    /// The consumer's choice, else the provider's advertised serialization, else the fallback.
    fn serializer_for(&self, provider: &ProviderInfo) -> &Arc<dyn Serializer> {
        if let Some(chosen) = &self.chosen {
            return chosen;
        }
        provider
            .serialization()
            .and_then(|name| self.serializers.by_name(name))
            .unwrap_or(&self.fallback)
    }

    /// The request frame for `invocation` to `provider` (its timeout not yet set).
    fn request_frame(
        &self,
        serializer: &Arc<dyn Serializer>,
        provider: &ProviderInfo,
        invocation: &Invocation,
        timeout: Duration,
    ) -> Result<Frame> {
        let app = self.app_name.as_ref();
        let plain = request_head::is_plain(invocation)
            && !provider
                .params()
                .any(|(key, _)| key.starts_with(headers::ROUTE_HEADER_PARAM_PREFIX));
        let mut header = HeaderMap::new();
        if !plain {
            full_header(invocation, app, provider, timeout, &mut header);
        }
        let content = serializer.encode_request(invocation, &mut header)?;
        let frame = Frame::request(
            Bytes::from_static(headers::SOFA_REQUEST_CLASS.as_bytes()),
            HeaderMap::new(),
            content,
        )
        .with_codec(serializer.code());
        if !plain {
            return Ok(frame.with_header(header));
        }
        if header.is_empty() {
            return Ok(frame.with_header_bytes(request_head::fixed_section(invocation, app)));
        }
        // The format added entries of its own: they go after the fixed ones.
        let mut full = HeaderMap::with_capacity(6 + header.len());
        request_head::fixed_entries(invocation, app, &mut full);
        for (key, value) in &header {
            full.insert(key.to_string(), value.to_string());
        }
        Ok(frame.with_header(full))
    }

    pub(crate) async fn call(
        &self,
        provider: Arc<ProviderInfo>,
        invocation: Invocation,
    ) -> Result<Response> {
        let mut timeout = invocation
            .context()
            .timeout()
            .unwrap_or(self.default_timeout);
        if let Some(remaining) = invocation.context().remaining() {
            if remaining.is_zero() {
                return Err(RpcError::timeout(format!(
                    "{}#{}: the deadline passed before the call was sent",
                    invocation.service(),
                    invocation.method()
                )));
            }
            timeout = timeout.min(remaining);
        }
        let serializer = self.serializer_for(&provider);
        let timeout_ms = i32::try_from(timeout.as_millis()).unwrap_or(i32::MAX);
        let frame = self
            .request_frame(serializer, &provider, &invocation, timeout)?
            .with_timeout(timeout_ms);
        let request_size = frame.content().len();

        let addr = provider.address();
        let pool = self.pool_for(&provider)?;
        let conn = match pool.ready(addr) {
            Some(conn) => conn,
            // Connecting is bounded by the time left too. Boxed: the connect future is more
            // than a kilobyte, and unboxed it would make every call's future that large.
            None => match Box::pin(tokio::time::timeout(timeout, pool.get(addr))).await {
                Ok(conn) => conn.map_err(|e| RpcError::from_bolt(e, addr))?,
                Err(_) => {
                    return Err(RpcError::timeout(format!(
                        "{}#{}: no connection to {addr} within {} ms",
                        invocation.service(),
                        invocation.method(),
                        timeout.as_millis()
                    )))
                }
            },
        };
        if invocation.invoke_type() == InvokeType::Oneway {
            conn.oneway(frame)
                .map_err(|e| RpcError::from_bolt(e, addr))?;
            return Ok(Response::none().with_request_size(request_size));
        }
        let mut reply = conn.request(frame, timeout).await.map_err(|e| {
            if e.kind() == sofa_bolt::ErrorKind::Timeout {
                RpcError::timeout(format!(
                    "{}#{} got no response from {addr} within {} ms",
                    invocation.service(),
                    invocation.method(),
                    timeout.as_millis()
                ))
            } else {
                RpcError::from_bolt(e, addr)
            }
        })?;
        // Nearly always the format of the request: then no lookup.
        let reply_serializer = if reply.codec() == serializer.code() {
            serializer
        } else {
            self.serializers
                .by_code(reply.codec())
                .unwrap_or(serializer)
        };
        let header = reply
            .header()
            .map_err(|e| RpcError::new(ErrorKind::ClientDeserialize, format!("{addr}: {e}")))?
            .into_owned();
        // A failed status is a transport-level error, unless the provider marked the response
        // as a SOFARPC error response its serializer can read (protobuf errors travel so).
        if !reply.status().is_success() && header.get(headers::RESPONSE_ERROR) != Some("true") {
            let detail = reply_serializer
                .error_detail(reply.content())
                .or_else(|| plain_text(reply.content()));
            return Err(RpcError::from_status(reply.status(), detail));
        }
        Ok(Response::new(
            header,
            reply.take_content(),
            reply_serializer.clone(),
            provider,
        )
        .with_request_size(request_size))
    }
}

/// Whether `provider` is to be reached over TLS: a `bolt+tls://` URL, or `tls=true`.
pub(crate) fn needs_tls(provider: &ProviderInfo) -> bool {
    provider
        .protocol()
        .eq_ignore_ascii_case(headers::TLS_SCHEME)
        || provider
            .param(headers::TLS_PARAM)
            .is_some_and(|v| v.eq_ignore_ascii_case("true"))
}

/// Content that is readable text (some peers put a bare message there), for error messages.
fn plain_text(content: &[u8]) -> Option<String> {
    let text = std::str::from_utf8(content).ok()?;
    let printable = !text.is_empty() && text.chars().all(|c| !c.is_control() || c == '\n');
    printable.then(|| text.to_string())
}

/// Writes the whole header of a request that carries more than the fixed entries.
fn full_header(
    invocation: &Invocation,
    app: Option<&HeaderStr>,
    provider: &ProviderInfo,
    timeout: Duration,
    header: &mut HeaderMap,
) {
    common_request_header(invocation, header);
    if let Some(app) = app {
        header.insert(headers::CALLER_APP, app.clone());
    }
    // A gateway or sidecar a router chose is told where the call is meant to go.
    for (key, value) in provider.params() {
        if let Some(name) = key.strip_prefix(headers::ROUTE_HEADER_PARAM_PREFIX) {
            header.insert(name.to_string(), value.to_string());
        }
    }
    if invocation.context().deadline().is_some() {
        // The time left travels, so the provider (and the calls it makes) can give up when
        // the caller does.
        header.insert(headers::DEADLINE_REMAIN, timeout.as_millis().to_string());
    }
}
