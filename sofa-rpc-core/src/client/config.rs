//! [`ConsumerConfig`]: how a client finds providers and calls them.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use sofa_bolt::{Connector, PoolConfig, Protocol};

use crate::event::EventBus;
use crate::fault::FaultToleranceConfig;
use crate::guard::Guard;

/// How a [`Client`](super::Client) reaches providers: where they are, the timeout, the
/// serializer, the cluster, load balancer, routers and filters (all by their registered names,
/// as in SOFARPC), and connection settings.
///
/// ```
/// use std::time::Duration;
/// use sofa_rpc_core::ConsumerConfig;
///
/// let config = ConsumerConfig::new()
///     .direct_url("bolt://127.0.0.1:12200")
///     .timeout(Duration::from_millis(500))
///     .serialization("hessian2")
///     .load_balancer("roundRobin")
///     .retries(2);
/// assert_eq!(config.retries, 2);
/// ```
///
/// The settings are public fields to read; the methods of the same names set them in a chain.
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct ConsumerConfig {
    /// Provider URLs to call directly.
    pub direct_urls: Vec<String>,
    /// The registry to find providers in.
    pub registry: Option<String>,
    /// Where provider lists from the registry are saved.
    pub registry_cache: Option<PathBuf>,
    /// The timeout of each call, unless the call sets its own.
    pub timeout: Duration,
    /// The serializer, by name; `None` follows the provider.
    pub serialization: Option<String>,
    /// The load balancer, by name.
    pub load_balancer: String,
    /// The cluster, by name.
    pub cluster: String,
    /// Extra attempts `failover` may make after the first.
    pub retries: u32,
    /// The router chain, by names, in order.
    pub routers: Vec<String>,
    /// The filters, by names, outermost first.
    pub filters: Vec<String>,
    /// This application's name, sent to providers.
    pub app_name: Option<String>,
    /// The version to call instead of the definition's.
    pub version: Option<String>,
    /// The uniqueId to call instead of the definition's.
    pub unique_id: Option<String>,
    /// Connection pool and connection settings.
    pub pool: PoolConfig,
    /// The event bus to publish on; `None` gives the client a bus of its own.
    pub events: Option<EventBus>,
    /// Automatic fault isolation (off by default).
    pub fault_tolerance: FaultToleranceConfig,
    /// Calls a provider exported in this process directly (on by default); see
    /// [`in_process`](Self::in_process).
    pub in_process: bool,
    /// How to reach providers that serve over TLS (`bolt+tls://` direct URLs, or `tls=true`
    /// in their registry URL); other providers are reached over plain TCP. Default none: a
    /// call to a TLS provider then fails with a configuration error.
    pub tls: Option<Arc<dyn Connector>>,
    /// The traffic guard: rate limits, breakers, degradation, fault injection (none by default).
    pub guard: Option<Guard>,
}

impl Default for ConsumerConfig {
    fn default() -> Self {
        ConsumerConfig {
            direct_urls: Vec::new(),
            registry: None,
            registry_cache: Some(super::cache::default_dir()),
            timeout: Duration::from_millis(3000),
            serialization: None,
            load_balancer: "random".into(),
            cluster: "failover".into(),
            retries: 0,
            routers: vec!["directUrl".into(), "registry".into()],
            filters: vec!["context".into()],
            app_name: None,
            version: None,
            unique_id: None,
            pool: PoolConfig::default(),
            events: None,
            fault_tolerance: FaultToleranceConfig::default(),
            in_process: true,
            tls: None,
            guard: None,
        }
    }
}

impl ConsumerConfig {
    /// SOFARPC's defaults: 3 s timeout, `failover` with no retries, `random`, routers
    /// `directUrl` and `registry`, the `context` filter, one connection per provider.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds provider URLs to call directly (`bolt://host:port`, or `host:port`; several may be
    /// separated by `;` or `,`).
    pub fn direct_url(mut self, urls: impl Into<String>) -> Self {
        self.direct_urls.push(urls.into());
        self
    }

    /// Finds providers through a registry, e.g. `zookeeper://127.0.0.1:2181`.
    pub fn registry(mut self, url: impl Into<String>) -> Self {
        self.registry = Some(url.into());
        self
    }

    /// Where provider lists from the registry are saved, so that a consumer started while the
    /// registry is down still finds the providers it knew. Default
    /// `$XDG_CACHE_HOME/sofa-rpc-rs/providers` (or `~/.cache/...`); `None` keeps nothing.
    pub fn registry_cache(mut self, dir: Option<PathBuf>) -> Self {
        self.registry_cache = dir;
        self
    }

    /// The timeout of each call, unless the call sets its own. Default 3 s.
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// The serializer, by name (`msgpack`, `hessian2`, `protobuf`, `json` ...). Without one, a
    /// provider's advertised serialization is used, else `msgpack`.
    pub fn serialization(mut self, name: impl Into<String>) -> Self {
        self.serialization = Some(name.into());
        self
    }

    /// The load balancer, by name. Default `random`.
    pub fn load_balancer(mut self, name: impl Into<String>) -> Self {
        self.load_balancer = name.into();
        self
    }

    /// The cluster, by name. Default `failover`.
    pub fn cluster(mut self, name: impl Into<String>) -> Self {
        self.cluster = name.into();
        self
    }

    /// Extra attempts `failover` may make after the first. Default 0.
    pub fn retries(mut self, retries: u32) -> Self {
        self.retries = retries;
        self
    }

    /// The router chain, by names, in order. Default `directUrl`, `registry`.
    pub fn routers<I, S>(mut self, names: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.routers = names.into_iter().map(Into::into).collect();
        self
    }

    /// The consumer filters, by names, outermost first. Default `context` (add `timeout` to
    /// bound your own filters by the call's deadline too).
    pub fn filters<I, S>(mut self, names: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.filters = names.into_iter().map(Into::into).collect();
        self
    }

    /// This application's name, sent to providers (header `app`).
    pub fn app_name(mut self, name: impl Into<String>) -> Self {
        self.app_name = Some(name.into());
        self
    }

    /// Calls this version of the service instead of the one its definition names.
    pub fn version(mut self, version: impl Into<String>) -> Self {
        self.version = Some(version.into());
        self
    }

    /// Calls the service published under this uniqueId.
    pub fn unique_id(mut self, unique_id: impl Into<String>) -> Self {
        self.unique_id = Some(unique_id.into());
        self
    }

    /// Connections per provider. Default 1.
    pub fn conn_num(mut self, n: usize) -> Self {
        self.pool.conn_num = n.max(1);
        self
    }

    /// Connect timeout. Default 1 s.
    pub fn connect_timeout(mut self, timeout: Duration) -> Self {
        self.pool.connection.connect_timeout = timeout;
        self
    }

    /// Bolt protocol of requests (v1 by default; `Protocol::V2_CRC` with [`crc`](Self::crc)
    /// for CRC-checked frames).
    pub fn protocol(mut self, protocol: Protocol) -> Self {
        self.pool.connection.protocol = protocol;
        self
    }

    /// Ask for CRC32 trailers (with `Protocol::V2 { ver1: 2 }`).
    pub fn crc(mut self, on: bool) -> Self {
        self.pool.connection.crc = on;
        self
    }

    /// Connection pool and connection settings, all at once.
    pub fn pool(mut self, pool: PoolConfig) -> Self {
        self.pool = pool;
        self
    }

    /// Reaches TLS providers through `connector`: with the `tls` feature, a
    /// `sofa_rpc_core::bolt::tls::TlsConnector`. See [`tls`](Self::tls).
    ///
    /// ```no_run
    /// # #[cfg(feature = "tls")]
    /// # fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// use sofa_rpc_core::bolt::tls::{TlsClientConfig, TlsConnector};
    /// use sofa_rpc_core::ConsumerConfig;
    ///
    /// let tls = TlsConnector::new(
    ///     TlsClientConfig::new("ca.pem").identity("client.pem", "client-key.pem"),
    /// )?;
    /// let config = ConsumerConfig::new()
    ///     .direct_url("bolt+tls://orders.internal:12200")
    ///     .tls(tls);
    /// # let _ = config;
    /// # Ok(())
    /// # }
    /// # #[cfg(not(feature = "tls"))]
    /// # fn main() {}
    /// ```
    pub fn tls(mut self, connector: impl Connector) -> Self {
        self.tls = Some(Arc::new(connector));
        self
    }

    /// Automatic fault isolation: providers whose timeouts and busy answers stand out get a
    /// lower weight until they recover. Off by default, as in SOFARPC.
    pub fn fault_tolerance(mut self, config: FaultToleranceConfig) -> Self {
        self.fault_tolerance = config;
        self
    }

    /// Whether to call a provider that a [`Server`](crate::Server) of this process exports
    /// directly, the way SOFABoot's `jvmFirst` does. On by default.
    ///
    /// When a server in this process exports the service (same interface, version and
    /// uniqueId) from the same `#[service]` definition, a call goes to it without serializing
    /// and without a socket: it takes precedence over the direct URLs and the registry's
    /// providers. The consumer filters, attempt filters and events still see the call; its
    /// attempt names the provider `injvm://<server address>`. Timeouts, application errors and
    /// framework errors come out as they would from the network. When the server stops, calls
    /// go to the remote providers again, and to the local one once a server exports it anew
    /// (a call that chose it in the very instant it was withdrawn fails as unsent, which
    /// `failover` retries when [`retries`](Self::retries) allow, as for a remote provider that
    /// closes).
    /// Calls with a [target URL](crate::Call::target_url), generic calls, stubs of another
    /// definition of the same service and methods whose argument types cannot be cloned always
    /// take the network, and so do all calls of a consumer whose routers are other than the
    /// built-in `directUrl` and `registry`: zone, tag, mesh and custom routers place every call.
    ///
    /// `false` sends every call over the network, as to any other provider.
    pub fn in_process(mut self, on: bool) -> Self {
        self.in_process = on;
        self
    }

    /// Guards the client's calls with `guard`: its rate limits and breakers per method run once
    /// per call, its breakers per provider once per attempt (a provider whose breaker is open is
    /// left out of the candidates), and its rules can be replaced while the client runs. With no
    /// rules a call pays one atomic load. See [`crate::guard`].
    pub fn guard(mut self, guard: Guard) -> Self {
        self.guard = Some(guard);
        self
    }

    /// Publishes the client's events on `bus` (shared with whoever else holds a clone of it)
    /// instead of a bus of its own. See [`Client::events`](super::Client::events).
    pub fn events(mut self, bus: EventBus) -> Self {
        self.events = Some(bus);
        self
    }
}
