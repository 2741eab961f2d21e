//! The [`Registry`] trait and what it is asked to publish and find.

use std::fmt;
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use futures::future::BoxFuture;
use futures::Stream;
use tokio::sync::{mpsc, watch};

use crate::change::ProviderChange;
use crate::error::Result;
use crate::provider::{now_ms, ProviderInfo, RPC_VERSION};
use crate::url::encode_component;

/// A service registry: publishes providers and tells consumers where providers are.
///
/// Object safe; backends are used as `Arc<dyn Registry>` (see [`open`](crate::open)). Every
/// method returns a boxed future, so the trait needs no `async-trait`.
///
/// Backends keep what they were told: registrations are re-published and subscriptions
/// re-established after the backend loses its connection, session or lease, until
/// [`unregister`](Registry::unregister), [`unsubscribe`](Registry::unsubscribe) or
/// [`close`](Registry::close). Call `close` when done. Dropping the last handle without it
/// stops the backend's tasks and ends its streams; its registrations go as well (ZooKeeper:
/// the session is closed; etcd: the lease is revoked; Nacos: deregistered in the background)
/// except for `local`, whose lines stay until the process exits. A process that dies
/// without either is removed by the backend's liveness rule: ZooKeeper session timeout,
/// etcd lease TTL, Nacos connection loss, `local` pid check.
pub trait Registry: Send + Sync {
    /// The backend's name as the factory knows it (`local`, `zookeeper`, `etcd`, `nacos`).
    fn name(&self) -> &'static str;

    /// Publishes a provider. Registering the same provider again (same interface, version,
    /// uniqueId and [`identity`](ProviderInfo::identity)) replaces the earlier URL.
    fn register<'a>(&'a self, registration: &'a Registration) -> BoxFuture<'a, Result<()>>;

    /// Withdraws a provider published by [`register`](Registry::register) on this registry.
    /// Unknown registrations are ignored.
    fn unregister<'a>(&'a self, registration: &'a Registration) -> BoxFuture<'a, Result<()>>;

    /// Starts watching the providers that match `subscription` (see
    /// [`Subscription::matches`]).
    ///
    /// The stream first yields [`ProviderChange::Snapshot`] with the complete current list,
    /// then changes. When the registry becomes unreachable it yields one `Err` (kind
    /// [`Unavailable`](crate::ErrorKind::Unavailable)) and keeps going: keep the last list.
    /// Once the backend has recovered it yields a fresh `Snapshot`. The stream ends only on
    /// [`unsubscribe`](Registry::unsubscribe) or [`close`](Registry::close); dropping it
    /// stops the subscription.
    fn subscribe<'a>(
        &'a self,
        subscription: &'a Subscription,
    ) -> BoxFuture<'a, Result<ProviderStream>>;

    /// Ends every stream of subscriptions with the same interface, version, uniqueId and
    /// protocol, and withdraws the consumer entry where the backend publishes one.
    fn unsubscribe<'a>(&'a self, subscription: &'a Subscription) -> BoxFuture<'a, Result<()>>;

    /// Withdraws every registration, ends every subscription stream and disconnects.
    /// Later calls fail with [`Closed`](crate::ErrorKind::Closed).
    fn close(&self) -> BoxFuture<'_, Result<()>>;

    /// Reads once what is published, for tools that show it (`sofa list`): every interface
    /// with its providers, or only `interface`'s. Unlike [`subscribe`](Registry::subscribe) it
    /// watches nothing, writes no consumer entry and does not filter by uniqueId or protocol.
    ///
    /// The default answers [`Unsupported`](crate::ErrorKind::Unsupported); `local`,
    /// `zookeeper` and `etcd` list everything, `nacos` one named interface.
    fn list<'a>(&'a self, interface: Option<&'a str>) -> BoxFuture<'a, Result<Listing>> {
        let _ = interface;
        Box::pin(futures::future::ready(Err(crate::Error::new(
            crate::ErrorKind::Unsupported,
            format!("the {} registry cannot list its providers", self.name()),
        ))))
    }
}

/// What [`Registry::list`] finds: providers by interface, interfaces sorted.
pub type Listing = std::collections::BTreeMap<String, Vec<ProviderInfo>>;

/// A provider to publish: the interface and the provider URL with SOFARPC's parameters.
///
/// Version, uniqueId and application name are read from (and written to) the URL's
/// `version`, `uniqueId` and `appName` parameters, so what is published is what is described.
///
/// ```
/// use std::time::Duration;
/// use sofa_rpc_registry::Registration;
///
/// let reg = Registration::sofa("com.example.Echo", "10.0.0.5", 12200)
///     .with_unique_id("blue")
///     .with_app_name("demo")
///     .with_weight(50)
///     .with_warmup(Duration::from_secs(60), 5);
/// assert_eq!(reg.unique_id(), "blue");
/// assert_eq!(reg.provider().param("warmupTime"), Some("60000"));
/// assert_eq!(reg.provider().weight(), 50);
/// assert_eq!(reg.provider().effective_weight(), 5); // still warming up
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Registration {
    interface: String,
    provider: ProviderInfo,
}

impl Registration {
    /// A registration of `provider` for `interface`. The URL gets `interface`, `version`
    /// (`1.0`) and `uniqueId` (empty) parameters if it lacks them.
    pub fn new(interface: impl Into<String>, provider: ProviderInfo) -> Self {
        let interface = interface.into();
        let mut provider = provider;
        if provider.param("interface").is_none() {
            provider.set_param("interface", interface.clone());
        }
        if provider.param("version").is_none() {
            provider.set_param("version", "1.0");
        }
        if provider.param("uniqueId").is_none() {
            provider.set_param("uniqueId", "");
        }
        Registration {
            interface,
            provider,
        }
    }

    /// A `bolt` provider of `interface` at `host:port` with all of SOFARPC's standard
    /// parameters ([`ProviderInfo::sofa_provider`]).
    pub fn sofa(interface: impl Into<String>, host: impl Into<String>, port: u16) -> Self {
        let interface = interface.into();
        let provider = ProviderInfo::sofa_provider(host, port, interface.clone());
        Registration::new(interface, provider)
    }

    /// Sets the service version (`version`).
    pub fn with_version(self, version: impl Into<String>) -> Self {
        self.with_param("version", version)
    }

    /// Sets the uniqueId (`uniqueId`; empty means none).
    pub fn with_unique_id(self, unique_id: impl Into<String>) -> Self {
        self.with_param("uniqueId", unique_id)
    }

    /// Sets the application name (`appName`).
    pub fn with_app_name(self, app_name: impl Into<String>) -> Self {
        self.with_param("appName", app_name)
    }

    /// Sets the weight (`weight`).
    pub fn with_weight(self, weight: u32) -> Self {
        self.with_param("weight", weight.to_string())
    }

    /// Sets the warm-up window: `warmupWeight` applies until `startTime + warmupTime`.
    pub fn with_warmup(self, time: Duration, weight: u32) -> Self {
        let ms = u64::try_from(time.as_millis()).unwrap_or(u64::MAX);
        self.with_param("warmupTime", ms.to_string())
            .with_param("warmupWeight", weight.to_string())
    }

    /// Sets the serialization the provider prefers (`serialization`).
    pub fn with_serialization(self, serialization: impl Into<String>) -> Self {
        self.with_param("serialization", serialization)
    }

    /// Sets the provider's default timeout (`timeout`, milliseconds).
    pub fn with_timeout(self, timeout: Duration) -> Self {
        let ms = u64::try_from(timeout.as_millis()).unwrap_or(u64::MAX);
        self.with_param("timeout", ms.to_string())
    }

    /// Sets any URL parameter.
    pub fn with_param(mut self, key: impl Into<String>, value: impl Into<String>) -> Self {
        self.provider.set_param(key, value);
        self
    }

    /// The interface (service name without version).
    pub fn interface(&self) -> &str {
        &self.interface
    }

    /// The version (`version` parameter, `1.0` by default).
    pub fn version(&self) -> &str {
        self.provider.param("version").unwrap_or("1.0")
    }

    /// The uniqueId (`uniqueId` parameter; empty for none).
    pub fn unique_id(&self) -> &str {
        self.provider.unique_id().unwrap_or("")
    }

    /// The application name (`appName`), if set.
    pub fn app_name(&self) -> Option<&str> {
        self.provider.app_name()
    }

    /// The provider URL as it is published.
    pub fn provider(&self) -> &ProviderInfo {
        &self.provider
    }

    /// What makes two registrations "the same provider": re-registering one replaces the other.
    pub(crate) fn key(&self) -> String {
        format!(
            "{}\n{}\n{}\n{}",
            self.interface,
            self.version(),
            self.unique_id(),
            self.provider.identity()
        )
    }
}

static CONSUMER_ID: AtomicU64 = AtomicU64::new(0);

/// What a consumer wants: providers of an interface, with a uniqueId and protocol.
///
/// Matching follows SOFARPC Java ([`matches`](Subscription::matches)). The consumer URL built
/// from it is published under `consumers` by the ZooKeeper and etcd backends, as Java does.
///
/// ```
/// use sofa_rpc_registry::{ProviderInfo, Subscription};
///
/// # fn main() -> Result<(), Box<dyn std::error::Error>> {
/// let sub = Subscription::new("com.example.Echo");
/// let java: ProviderInfo = "bolt://h:1?uniqueId=&interface=com.example.Echo".parse()?;
/// let no_unique_id: ProviderInfo = "bolt://h:2?interface=com.example.Echo".parse()?;
/// assert!(sub.matches(&java));
/// assert!(!sub.matches(&no_unique_id));
/// assert!(!sub.clone().with_unique_id("blue").matches(&java));
/// # Ok(())
/// # }
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Subscription {
    interface: String,
    version: String,
    unique_id: String,
    protocol: String,
    app_name: Option<String>,
    consumer_host: String,
    serialization: String,
    timeout_ms: u64,
    start_time: u64,
    id: u64,
}

impl Subscription {
    /// Providers of `interface`, version `1.0`, empty uniqueId, protocol `bolt`.
    pub fn new(interface: impl Into<String>) -> Self {
        Subscription {
            interface: interface.into(),
            version: "1.0".into(),
            unique_id: String::new(),
            protocol: "bolt".into(),
            app_name: None,
            consumer_host: "127.0.0.1".into(),
            serialization: "hessian2".into(),
            timeout_ms: 3000,
            start_time: now_ms(),
            id: CONSUMER_ID.fetch_add(1, Ordering::Relaxed),
        }
    }

    /// Sets the version (published in the consumer URL; providers are not filtered by it,
    /// as in SOFARPC Java).
    pub fn with_version(mut self, version: impl Into<String>) -> Self {
        self.version = version.into();
        self
    }

    /// Sets the uniqueId providers must carry.
    pub fn with_unique_id(mut self, unique_id: impl Into<String>) -> Self {
        self.unique_id = unique_id.into();
        self
    }

    /// Sets the protocol (URL scheme) providers must speak; `bolt` by default.
    pub fn with_protocol(mut self, protocol: impl Into<String>) -> Self {
        self.protocol = protocol.into();
        self
    }

    /// Sets the consumer's application name.
    pub fn with_app_name(mut self, app_name: impl Into<String>) -> Self {
        self.app_name = Some(app_name.into());
        self
    }

    /// Sets the host written in the consumer URL (`127.0.0.1` by default).
    pub fn with_consumer_host(mut self, host: impl Into<String>) -> Self {
        self.consumer_host = host.into();
        self
    }

    /// Sets the serialization written in the consumer URL (`hessian2` by default).
    pub fn with_serialization(mut self, serialization: impl Into<String>) -> Self {
        self.serialization = serialization.into();
        self
    }

    /// Sets the timeout written in the consumer URL (3 s by default).
    pub fn with_timeout(mut self, timeout: Duration) -> Self {
        self.timeout_ms = u64::try_from(timeout.as_millis()).unwrap_or(u64::MAX);
        self
    }

    /// The interface.
    pub fn interface(&self) -> &str {
        &self.interface
    }

    /// The version.
    pub fn version(&self) -> &str {
        &self.version
    }

    /// The uniqueId (empty for none).
    pub fn unique_id(&self) -> &str {
        &self.unique_id
    }

    /// The protocol.
    pub fn protocol(&self) -> &str {
        &self.protocol
    }

    /// The consumer's application name.
    pub fn app_name(&self) -> Option<&str> {
        self.app_name.as_deref()
    }

    /// Whether SOFARPC Java would accept `provider` for this subscription: the URL scheme
    /// equals the protocol (ignoring case) and the `uniqueId` parameter equals the uniqueId.
    /// A provider without a `uniqueId` parameter never matches; sofa-rpc-node providers write
    /// `uniqueId=` (and an empty `protocol=`, which is not read), so they match subscriptions
    /// with an empty uniqueId.
    pub fn matches(&self, provider: &ProviderInfo) -> bool {
        provider.protocol().eq_ignore_ascii_case(&self.protocol)
            && provider.unique_id() == Some(self.unique_id.as_str())
    }

    /// The consumer URL as SOFARPC Java writes it under `consumers`:
    /// `bolt://host?version=…&uniqueId=…&pid=…&timeout=…&id=…&generic=false&interface=…`
    /// `&appName=…&serialization=…&startTime=…&language=rust&rpcVer=…` (`appName` omitted
    /// when unset).
    pub fn consumer_url(&self) -> String {
        let mut params: Vec<(&str, String)> = vec![
            ("version", self.version.clone()),
            ("uniqueId", self.unique_id.clone()),
            ("pid", std::process::id().to_string()),
            ("timeout", self.timeout_ms.to_string()),
            ("id", format!("rpc-cfg-consumer-{}", self.id)),
            ("generic", "false".into()),
            ("interface", self.interface.clone()),
        ];
        if let Some(app) = &self.app_name {
            params.push(("appName", app.clone()));
        }
        params.push(("serialization", self.serialization.clone()));
        params.push(("startTime", self.start_time.to_string()));
        params.push(("language", "rust".into()));
        params.push(("rpcVer", RPC_VERSION.to_string()));
        let query: Vec<String> = params
            .iter()
            .map(|(k, v)| format!("{k}={}", encode_component(v)))
            .collect();
        format!(
            "{}://{}?{}",
            self.protocol,
            self.consumer_host,
            query.join("&")
        )
    }

    /// What makes two subscriptions "the same" for [`Registry::unsubscribe`].
    pub(crate) fn key(&self) -> String {
        format!(
            "{}\n{}\n{}\n{}",
            self.interface,
            self.version,
            self.unique_id,
            self.protocol.to_ascii_lowercase()
        )
    }
}

/// The stream a subscription yields: `Result<ProviderChange>` items (see
/// [`Registry::subscribe`] for the protocol). Dropping it ends the subscription.
pub struct ProviderStream {
    rx: mpsc::UnboundedReceiver<Result<ProviderChange>>,
    dropped: Option<Arc<watch::Sender<u64>>>,
}

impl ProviderStream {
    pub(crate) fn new(
        rx: mpsc::UnboundedReceiver<Result<ProviderChange>>,
        dropped: Arc<watch::Sender<u64>>,
    ) -> Self {
        ProviderStream {
            rx,
            dropped: Some(dropped),
        }
    }

    /// The next change; `None` once the subscription has ended.
    pub async fn next_change(&mut self) -> Option<Result<ProviderChange>> {
        self.rx.recv().await
    }
}

impl fmt::Debug for ProviderStream {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ProviderStream").finish_non_exhaustive()
    }
}

impl Stream for ProviderStream {
    type Item = Result<ProviderChange>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        self.rx.poll_recv(cx)
    }
}

impl Drop for ProviderStream {
    fn drop(&mut self) {
        self.rx.close();
        if let Some(dropped) = self.dropped.take() {
            // Wakes the backend's watchers so an unused watch is torn down.
            dropped.send_modify(|n| *n = n.wrapping_add(1));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::url::decode_component;

    #[test]
    fn registration_fills_the_parameters_java_needs() {
        let reg = Registration::new("com.example.Echo", ProviderInfo::bolt("h", 1));
        assert_eq!(reg.provider().unique_id(), Some(""));
        assert_eq!(reg.provider().param("interface"), Some("com.example.Echo"));
        assert_eq!(reg.version(), "1.0");
        let reg = reg.with_version("2.0").with_timeout(Duration::from_secs(3));
        assert_eq!(reg.version(), "2.0");
        assert_eq!(reg.provider().timeout_ms(), Some(3000));
        let other = reg.clone().with_weight(5);
        assert_eq!(reg.key(), other.key());
        assert_ne!(reg.key(), other.with_unique_id("x").key());
    }

    #[test]
    fn matching_is_javas() {
        let sub = Subscription::new("I").with_unique_id("u");
        let ok: ProviderInfo = "BOLT://h:1?uniqueId=u".parse().unwrap();
        assert!(sub.matches(&ok));
        assert!(!sub.matches(&"tr://h:1?uniqueId=u".parse().unwrap()));
        assert!(!sub.matches(&"bolt://h:1?uniqueId=".parse().unwrap()));
        let node: ProviderInfo = "bolt://127.0.0.1:1?uniqueId=&protocol=&language=nodejs"
            .parse()
            .unwrap();
        assert!(Subscription::new("I").matches(&node));
    }

    #[test]
    fn consumer_url_has_javas_parameters() {
        let sub = Subscription::new("com.example.Echo").with_app_name("my app");
        let url = sub.consumer_url();
        assert!(url.starts_with("bolt://127.0.0.1?version=1.0&uniqueId=&pid="));
        assert!(url.contains("&appName=my+app&"));
        assert_eq!(decode_component(&encode_component(&url)), url);
        assert_eq!(sub.key(), sub.clone().with_app_name("x").key());
    }
}
