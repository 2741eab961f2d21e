//! `nacos`: SOFARPC Java's Nacos naming layout (`NacosRegistry`, `NacosRegistryHelper`).
//!
//! * Namespace: the URL path (`nacos://h:8848/my-ns`), `sofa-rpc` by default.
//! * Service name: `{interface}[:{uniqueId}]:DEFAULT` for `bolt` and `tr`, otherwise
//!   `{interface}[:{uniqueId}]:{protocol}`; default group.
//! * Instance: the provider's ip and port, cluster `default-cluster`, weight 1.0, ephemeral,
//!   metadata = the provider URL's parameters.
//! * Consumers subscribe to the same service and cluster and rebuild
//!   `{metadata protocol or bolt}://ip:port?{metadata}`; a Nacos instance weight other than 1
//!   multiplies the URL's `weight`. Only enabled and healthy instances are listed.
//!
//! The client is the official `nacos-sdk` (Nacos 2.x gRPC on the HTTP port + 1000 unless the
//! URL says `grpcPort=`). It re-registers and re-subscribes by itself after reconnecting.
//! It reports no outages: while the server is down, subscribers keep their last list and see
//! no error; after a server restart without data the list may briefly shrink until providers
//! have re-registered. Empty pushes are delivered (no "empty protection"), so the last
//! provider's departure is seen. The SDK does not deregister when dropped: [`close`]
//! deregisters every instance explicitly.
//!
//! Registering a provider again with changed parameters re-registers the instance with the
//! new metadata; subscribers see an update. (r-nacos only does this with its "instance
//! metadata persistence" off, `RNACOS_NAMING_INSTANCE_METADATA_PERSISTENCE_ENABLE=false`:
//! otherwise it keeps the first metadata an `ip:port` registered.)

//!
//! [`close`]: crate::Registry::close

use std::collections::{BTreeMap, HashMap};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use futures::future::BoxFuture;
use futures::FutureExt;
use nacos_sdk::api::naming::{
    NamingChangeEvent, NamingEventListener, NamingService, NamingServiceBuilder, ServiceInstance,
};
use nacos_sdk::api::props::ClientProps;

use crate::address::RegistryUrl;
use crate::error::{Error, ErrorKind, Result};
use crate::fanout::Fanout;
use crate::provider::{ProviderInfo, DEFAULT_WEIGHT};
use crate::registry::{Listing, ProviderStream, Registration, Registry, Subscription};

/// Namespace used when the URL has no path (SOFARPC's default).
pub const DEFAULT_NAMESPACE: &str = "sofa-rpc";
/// The cluster SOFARPC registers into and subscribes to.
pub const CLUSTER: &str = "default-cluster";

const OP_TIMEOUT: Duration = Duration::from_secs(10);

/// The Nacos service name SOFARPC uses for an interface, uniqueId and protocol.
///
/// ```
/// use sofa_rpc_registry::nacos::service_name;
///
/// assert_eq!(service_name("com.example.Echo", "", "bolt"), "com.example.Echo:DEFAULT");
/// assert_eq!(service_name("com.example.Echo", "blue", "bolt"), "com.example.Echo:blue:DEFAULT");
/// assert_eq!(service_name("com.example.Echo", "", "h2c"), "com.example.Echo:h2c");
/// ```
pub fn service_name(interface: &str, unique_id: &str, protocol: &str) -> String {
    let mut name = interface.to_string();
    if !unique_id.is_empty() {
        name.push(':');
        name.push_str(unique_id);
    }
    name.push(':');
    if protocol.eq_ignore_ascii_case("bolt") || protocol.eq_ignore_ascii_case("tr") {
        name.push_str("DEFAULT");
    } else {
        name.push_str(protocol);
    }
    name
}

/// A registry on Nacos; see the [module docs](self).
pub struct NacosRegistry {
    inner: Arc<Inner>,
}

struct Inner {
    naming: NamingService,
    server: String,
    registered: Mutex<BTreeMap<String, (String, ServiceInstance)>>,
    listeners: Mutex<HashMap<String, Arc<Listener>>>,
    fanout: Arc<Fanout>,
    closed: AtomicBool,
}

/// Receives the SDK's pushes for one service.
struct Listener {
    topic: String,
    fanout: Arc<Fanout>,
    pushed: AtomicBool,
}

impl NamingEventListener for Listener {
    fn event(&self, event: Arc<NamingChangeEvent>) {
        if let Some(instances) = &event.instances {
            self.pushed.store(true, Ordering::Release);
            let providers = to_providers(instances);
            self.fanout.publish(&self.topic, &providers, false);
        }
    }
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

fn nacos_error(what: &str, e: nacos_sdk::api::error::Error) -> Error {
    use nacos_sdk::api::error::Error as E;
    let kind = match e {
        E::InvalidParam(..) => ErrorKind::InvalidArgument,
        E::ErrResponse(..) | E::ErrResult(_) => ErrorKind::Rejected,
        _ => ErrorKind::Unavailable,
    };
    Error::with_source(kind, format!("Nacos {what}"), e)
}

async fn bounded<T>(
    what: &str,
    op: impl std::future::Future<Output = nacos_sdk::api::error::Result<T>>,
) -> Result<T> {
    match tokio::time::timeout(OP_TIMEOUT, op).await {
        Ok(Ok(v)) => Ok(v),
        Ok(Err(e)) => Err(nacos_error(what, e)),
        Err(_) => Err(Error::new(
            ErrorKind::Timeout,
            format!("Nacos {what}: no answer in {OP_TIMEOUT:?}"),
        )),
    }
}

/// The instance SOFARPC registers for a provider.
fn to_instance(registration: &Registration) -> Result<ServiceInstance> {
    let provider = registration.provider();
    let metadata: HashMap<String, String> = provider
        .params()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    Ok(ServiceInstance {
        ip: provider.host().to_string(),
        port: i32::from(provider.port()),
        weight: 1.0,
        healthy: true,
        enabled: true,
        ephemeral: true,
        cluster_name: Some(CLUSTER.to_string()),
        metadata,
        ..ServiceInstance::default()
    })
}

/// Where known parameters go when a URL is rebuilt from metadata (a map has no order):
/// SOFARPC's usual order, then the rest alphabetically.
const PARAM_ORDER: [&str; 17] = [
    "version",
    "uniqueId",
    "interface",
    "protocol",
    "serialization",
    "weight",
    "timeout",
    "accepts",
    "dynamic",
    "startTime",
    "id",
    "pid",
    "language",
    "rpcVer",
    "appName",
    "warmupTime",
    "warmupWeight",
];

/// Rebuilds the provider URL from an instance, as SOFARPC's consumer does.
fn to_provider(instance: &ServiceInstance) -> Option<ProviderInfo> {
    let port = u16::try_from(instance.port).ok()?;
    let protocol = instance
        .metadata
        .get("protocol")
        .filter(|p| !p.is_empty())
        .map(String::as_str)
        .unwrap_or("bolt");
    let mut provider = ProviderInfo::new(protocol, instance.ip.clone(), port);
    let mut keys: Vec<&String> = instance.metadata.keys().collect();
    keys.sort_by_key(|k| {
        let rank = PARAM_ORDER
            .iter()
            .position(|o| o == k)
            .unwrap_or(PARAM_ORDER.len());
        (rank, k.as_str())
    });
    for k in keys {
        if let Some(v) = instance.metadata.get(k) {
            provider.set_param(k.clone(), v.clone());
        }
    }
    if (instance.weight - 1.0).abs() > f64::EPSILON && instance.weight >= 0.0 {
        let weighted = (f64::from(provider.weight()) * instance.weight).round();
        let weighted = if weighted.is_finite() && weighted <= f64::from(u32::MAX) {
            weighted as u32
        } else {
            DEFAULT_WEIGHT
        };
        provider.set_param("weight", weighted.to_string());
    }
    Some(provider)
}

fn to_providers(instances: &[ServiceInstance]) -> Vec<ProviderInfo> {
    instances
        .iter()
        .filter(|i| i.enabled && i.healthy)
        .filter_map(to_provider)
        .collect()
}

impl NacosRegistry {
    /// Connects to `url` (`nacos://h:p[,h:p][/namespace][?grpcPort=p]`). Fails with
    /// [`ErrorKind::Unavailable`] when the server does not answer.
    pub async fn connect(url: &RegistryUrl) -> Result<Self> {
        let server = url.require_hosts()?.join(",");
        let namespace = match url.path().trim_matches('/') {
            "" => DEFAULT_NAMESPACE.to_string(),
            ns => ns.to_string(),
        };
        let mut props = ClientProps::new()
            .server_addr(server.clone())
            .namespace(namespace)
            .app_name(url.param("appName").unwrap_or("sofa-rpc-rs"))
            .naming_push_empty_protection(false)
            .load_cache_at_start(false)
            .env_first(false);
        if let Some(port) = url.param_u64("grpcPort")? {
            let port = u16::try_from(port)
                .map_err(|_| Error::invalid(format!("grpcPort={port} is not a port")))?;
            props = props.remote_grpc_port(port);
        }
        let naming = bounded("connect", NamingServiceBuilder::new(props).build())
            .await
            .map_err(|e| {
                Error::with_source(
                    ErrorKind::Unavailable,
                    format!("cannot connect to Nacos {server}"),
                    e,
                )
            })?;
        // Proves the server answers before handing the registry out.
        bounded("service list", naming.get_service_list(1, 1, None)).await?;
        Ok(NacosRegistry {
            inner: Arc::new(Inner {
                naming,
                server,
                registered: Mutex::new(BTreeMap::new()),
                listeners: Mutex::new(HashMap::new()),
                fanout: Arc::new(Fanout::new()),
                closed: AtomicBool::new(false),
            }),
        })
    }

    /// The server addresses (`host:port,...`).
    pub fn server(&self) -> &str {
        &self.inner.server
    }
}

impl Drop for NacosRegistry {
    /// The SDK keeps its connection (and so the instances) when dropped: deregister in the
    /// background when a runtime is at hand. Prefer [`Registry::close`].
    fn drop(&mut self) {
        if self.inner.closed.load(Ordering::Acquire) {
            return;
        }
        if let Ok(runtime) = tokio::runtime::Handle::try_current() {
            let inner = self.inner.clone();
            runtime.spawn(async move {
                let _ = inner.shut_down().await;
            });
        }
    }
}

impl Inner {
    /// Ends every subscription and deregisters every instance.
    async fn shut_down(&self) -> Result<()> {
        if self.closed.swap(true, Ordering::AcqRel) {
            return Ok(());
        }
        self.fanout.close();
        let topics: Vec<String> = lock(&self.listeners).keys().cloned().collect();
        for topic in topics {
            self.stop_listening(&topic).await;
        }
        let registered = std::mem::take(&mut *lock(&self.registered));
        let mut result = Ok(());
        for (service, instance) in registered.into_values() {
            let done = bounded(
                "deregister",
                self.naming.deregister_instance(service, None, instance),
            )
            .await;
            if let Err(e) = done {
                result = Err(e);
            }
        }
        result
    }

    fn check_open(&self) -> Result<()> {
        if self.closed.load(Ordering::Acquire) {
            Err(Error::closed())
        } else {
            Ok(())
        }
    }

    async fn stop_listening(&self, topic: &str) {
        let listener = lock(&self.listeners).remove(topic);
        if let Some(listener) = listener {
            let unsubscribed = bounded(
                "unsubscribe",
                self.naming.unsubscribe(
                    topic.to_string(),
                    None,
                    vec![CLUSTER.to_string()],
                    listener,
                ),
            )
            .await;
            if let Err(e) = unsubscribed {
                tracing::debug!(topic, error = %e, "Nacos unsubscribe failed");
            }
        }
    }
}

impl Registry for NacosRegistry {
    fn name(&self) -> &'static str {
        "nacos"
    }

    fn register<'a>(&'a self, registration: &'a Registration) -> BoxFuture<'a, Result<()>> {
        async move {
            let inner = &self.inner;
            inner.check_open()?;
            let service = service_name(
                registration.interface(),
                registration.unique_id(),
                registration.provider().protocol(),
            );
            let instance = to_instance(registration)?;
            bounded(
                "register",
                inner
                    .naming
                    .register_instance(service.clone(), None, instance.clone()),
            )
            .await?;
            lock(&inner.registered).insert(registration.key(), (service, instance));
            Ok(())
        }
        .boxed()
    }

    fn unregister<'a>(&'a self, registration: &'a Registration) -> BoxFuture<'a, Result<()>> {
        async move {
            let inner = &self.inner;
            inner.check_open()?;
            let Some((service, instance)) = lock(&inner.registered).remove(&registration.key())
            else {
                return Ok(());
            };
            bounded(
                "deregister",
                inner.naming.deregister_instance(service, None, instance),
            )
            .await
        }
        .boxed()
    }

    fn subscribe<'a>(
        &'a self,
        subscription: &'a Subscription,
    ) -> BoxFuture<'a, Result<ProviderStream>> {
        async move {
            let inner = &self.inner;
            inner.check_open()?;
            let topic = service_name(
                subscription.interface(),
                subscription.unique_id(),
                subscription.protocol(),
            );
            let (stream, start) = inner.fanout.add(&topic, subscription);
            if start {
                let listener = Arc::new(Listener {
                    topic: topic.clone(),
                    fanout: inner.fanout.clone(),
                    pushed: AtomicBool::new(false),
                });
                let subscribed = bounded(
                    "subscribe",
                    inner.naming.subscribe(
                        topic.clone(),
                        None,
                        vec![CLUSTER.to_string()],
                        listener.clone(),
                    ),
                )
                .await;
                if let Err(e) = subscribed {
                    inner.fanout.abort_topic(&topic);
                    return Err(e);
                }
                lock(&inner.listeners).insert(topic.clone(), listener.clone());
                let listed = bounded(
                    "list instances",
                    inner.naming.get_all_instances(
                        topic.clone(),
                        None,
                        vec![CLUSTER.to_string()],
                        false,
                    ),
                )
                .await;
                match listed {
                    // A push may have overtaken this answer: the push is newer.
                    Ok(instances) if !listener.pushed.load(Ordering::Acquire) => {
                        inner
                            .fanout
                            .publish(&topic, &to_providers(&instances), false);
                    }
                    Ok(_) => {}
                    Err(e) => inner.fanout.fail(&topic, &e),
                }
            }
            Ok(stream)
        }
        .boxed()
    }

    fn unsubscribe<'a>(&'a self, subscription: &'a Subscription) -> BoxFuture<'a, Result<()>> {
        async move {
            let inner = &self.inner;
            inner.check_open()?;
            for topic in inner.fanout.remove(subscription) {
                inner.stop_listening(&topic).await;
            }
            Ok(())
        }
        .boxed()
    }

    fn close(&self) -> BoxFuture<'_, Result<()>> {
        async move { self.inner.shut_down().await }.boxed()
    }

    /// Nacos names services by interface *and* uniqueId, so only a named interface's
    /// providers without a uniqueId (`{interface}:DEFAULT`) can be listed.
    fn list<'a>(&'a self, interface: Option<&'a str>) -> BoxFuture<'a, Result<Listing>> {
        async move {
            let Some(interface) = interface else {
                return Err(Error::new(
                    ErrorKind::Unsupported,
                    "the nacos registry lists one named interface at a time",
                ));
            };
            let instances = bounded(
                "list instances",
                self.inner.naming.get_all_instances(
                    service_name(interface, "", "bolt"),
                    None,
                    vec![CLUSTER.to_string()],
                    false,
                ),
            )
            .await?;
            let mut listing = Listing::new();
            let providers = to_providers(&instances);
            if !providers.is_empty() {
                listing.insert(interface.to_string(), providers);
            }
            Ok(listing)
        }
        .boxed()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn instances_round_trip_the_provider_url() {
        let reg = Registration::sofa("com.example.Echo", "10.0.0.5", 12200)
            .with_app_name("app")
            .with_param("custom", "x y")
            .with_warmup(Duration::from_secs(1), 3);
        let instance = to_instance(&reg).unwrap();
        assert_eq!(instance.ip, "10.0.0.5");
        assert_eq!(instance.port, 12200);
        assert_eq!(instance.cluster_name.as_deref(), Some(CLUSTER));
        assert_eq!(
            instance.metadata.get("uniqueId").map(String::as_str),
            Some("")
        );
        let back = to_provider(&instance).unwrap();
        let mut a: Vec<_> = reg.provider().params().collect();
        let mut b: Vec<_> = back.params().collect();
        a.sort();
        b.sort();
        assert_eq!(a, b);
        assert_eq!(back.identity(), reg.provider().identity());
        // Known keys keep SOFARPC's order.
        assert_eq!(back.params().next().map(|(k, _)| k), Some("version"));
    }

    #[test]
    fn nacos_weight_multiplies_and_unhealthy_are_hidden() {
        let reg = Registration::sofa("I", "h", 1).with_weight(50);
        let mut instance = to_instance(&reg).unwrap();
        instance.weight = 2.0;
        assert_eq!(to_provider(&instance).unwrap().weight(), 100);
        instance.healthy = false;
        assert!(to_providers(&[instance]).is_empty());
        let bare = ServiceInstance {
            ip: "h".into(),
            port: 7,
            ..ServiceInstance::default()
        };
        let p = to_provider(&bare).unwrap();
        assert_eq!(p.to_string(), "bolt://h:7");
    }
}
