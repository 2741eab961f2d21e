//! Server and provider settings.

use std::fmt;
use std::sync::Arc;

use crate::dispatch::Dispatch;
use crate::service_id::ServiceId;

/// Settings of a [`Server`](super::Server).
#[derive(Clone, Debug)]
pub struct ServerConfig {
    /// Requests run at once (SOFARPC's business pool size, `server.pool.max`). Default 200.
    pub max_concurrency: usize,
    /// Requests that may wait for a free slot beyond those (`server.pool.queue`). Default 0:
    /// a request that finds every slot taken is answered `SERVER_THREADPOOL_BUSY` at once, so
    /// the consumer's failover can try another provider.
    pub queue: usize,
    /// Provider filters, by registered name, outermost first. Default none.
    pub filters: Vec<String>,
    /// Start each request on its connection's task and give it a task of its own only when it
    /// first has to wait. Default `true`: a method that answers without waiting then costs no
    /// task switch and its answer shares a write with the others of the same read. A method that
    /// computes for a long time without awaiting holds up the other requests of its connection
    /// meanwhile: serve such methods with this off (every request then gets its own task).
    pub inline_first: bool,
    /// Transport settings (idle timeout, connection limit, frame limits, shutdown grace).
    pub bolt: sofa_bolt::ServerConfig,
    /// Serve over TLS with this acceptor (certificate, key, client certificates), and publish
    /// `tls=true` with every service so that consumers know to use TLS. Default none: plain
    /// TCP. Keep a clone to [`reload`](sofa_bolt::tls::TlsAcceptor::reload) the files.
    #[cfg(feature = "tls")]
    pub tls: Option<sofa_bolt::tls::TlsAcceptor>,
}

impl Default for ServerConfig {
    fn default() -> Self {
        ServerConfig {
            max_concurrency: 200,
            queue: 0,
            filters: Vec::new(),
            inline_first: true,
            bolt: sofa_bolt::ServerConfig::default(),
            #[cfg(feature = "tls")]
            tls: None,
        }
    }
}

/// One exported service: its implementation and the version / uniqueId to publish it under.
///
/// ```
/// use sofa_rpc_core::ProviderConfig;
/// # use sofa_rpc_core::{Dispatch, ServiceId, Prepared, RequestReader, Result};
/// # struct Echo;
/// # impl Dispatch for Echo {
/// #     fn service_id(&self) -> ServiceId { ServiceId::new("com.example.Echo", "1.0", "") }
/// #     fn methods(&self) -> &'static [&'static str] { &[] }
/// #     fn prepare(&self, m: &str, _: &mut dyn RequestReader<'_>) -> Result<Prepared> {
/// #         Err(sofa_rpc_core::RpcError::not_found(m))
/// #     }
/// # }
///
/// let blue = ProviderConfig::new(Echo).unique_id("blue");
/// assert_eq!(blue.service_id().unique_name(), "com.example.Echo:1.0:blue");
/// ```
///
/// The settings are public fields to read; the methods of the same names set them in a chain.
#[derive(Clone)]
#[non_exhaustive]
pub struct ProviderConfig {
    pub(crate) dispatch: Arc<dyn Dispatch>,
    /// The version to publish under, instead of the definition's.
    pub version: Option<String>,
    /// The uniqueId to publish under, instead of the definition's.
    pub unique_id: Option<String>,
    /// The weight registries advertise. Default 100.
    pub weight: u32,
    /// The serialization registries advertise. Default `hessian2`.
    pub serialization: String,
    /// The warm-up registries advertise: (time, weight during it).
    pub warmup: Option<(std::time::Duration, u32)>,
    /// Extra URL parameters registries advertise (`zone`, `tag`, ...), in order.
    pub params: Vec<(String, String)>,
}

impl ProviderConfig {
    /// Exports `service` under its definition's id.
    pub fn new(service: impl Dispatch) -> Self {
        ProviderConfig {
            dispatch: Arc::new(service),
            version: None,
            unique_id: None,
            weight: 100,
            serialization: "hessian2".into(),
            warmup: None,
            params: Vec::new(),
        }
    }

    /// Publishes under this version.
    pub fn version(mut self, version: impl Into<String>) -> Self {
        self.version = Some(version.into());
        self
    }

    /// Publishes under this uniqueId.
    pub fn unique_id(mut self, unique_id: impl Into<String>) -> Self {
        self.unique_id = Some(unique_id.into());
        self
    }

    /// The weight registries advertise. Default 100.
    pub fn weight(mut self, weight: u32) -> Self {
        self.weight = weight;
        self
    }

    /// The serialization registries advertise (consumers that do not choose their own use it;
    /// the server reads every codec whatever this says). Default `hessian2`, what every SOFA
    /// consumer can speak.
    pub fn serialization(mut self, name: impl Into<String>) -> Self {
        self.serialization = name.into();
        self
    }

    /// Advertises a warm-up: consumers weigh the provider `weight` instead of its weight for
    /// `time` after it starts.
    pub fn warmup(mut self, time: std::time::Duration, weight: u32) -> Self {
        self.warmup = Some((time, weight));
        self
    }

    /// Advertises the URL parameter `key` (replacing an earlier value of the same key).
    pub fn param(mut self, key: impl Into<String>, value: impl Into<String>) -> Self {
        let key = key.into();
        self.params.retain(|(k, _)| *k != key);
        self.params.push((key, value.into()));
        self
    }

    /// Advertises the zone the provider runs in (the `zone` URL parameter the `zone` router
    /// places calls by).
    pub fn zone(self, zone: impl Into<String>) -> Self {
        self.param("zone", zone)
    }

    /// Advertises a gray-release tag (the `tag` URL parameter the `tag` router selects by).
    pub fn tag(self, tag: impl Into<String>) -> Self {
        self.param("tag", tag)
    }

    /// The id the service is served under.
    pub fn service_id(&self) -> ServiceId {
        let base = self.dispatch.service_id();
        ServiceId::new(
            base.interface(),
            self.version.as_deref().unwrap_or(base.version()),
            self.unique_id.as_deref().unwrap_or(base.unique_id()),
        )
    }
}

impl fmt::Debug for ProviderConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ProviderConfig")
            .field("service", &self.service_id())
            .field("weight", &self.weight)
            .finish()
    }
}
