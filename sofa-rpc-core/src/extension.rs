//! [`ExtensionLoader`]: every extension point's implementations, by name.

use std::collections::HashMap;
use std::fmt;
use std::sync::Arc;

use crate::cluster::{Cluster, FailFast, FailOver};
use crate::error::{Result, RpcError};
use crate::filter::{ContextFilter, Filter, TimeoutFilter};
use crate::loadbalance::{
    Adaptive, Auto, ConsistentHash, LeastActive, LoadBalancer, LocalPref, Random, RoundRobin,
    WeightConsistentHash, WeightRoundRobin,
};
use crate::router::{self, Router};
use crate::serialize::{Hessian2, Json, Msgpack, Protobuf, Serializer, Serializers};
use sofa_rpc_registry::config::{ConfigFactories, ConfigFuture};
use sofa_rpc_registry::{RegistryFactories, RegistryFuture, RegistryUrl};

type Factory<T> = Arc<dyn Fn() -> Arc<T> + Send + Sync>;

/// The implementations of every extension point, registered by name — SOFARPC's
/// `@Extension("name")` made explicit: nothing is discovered behind your back, and a config
/// selects an implementation by the name it was registered under.
///
/// `ExtensionLoader::default()` holds the built-ins:
///
/// | point | names |
/// |---|---|
/// | serializer | `msgpack` (13), `hessian2` alias `hessian` (1), `hessian4` (1), `protobuf` (11), `json` (12) |
/// | cluster | `failover`, `failfast` |
/// | load balancer | `random`, `roundRobin`, `weightRoundRobin`, `consistentHash`, `weightConsistentHash`, `localPref`, `auto`, `leastActive`, `adaptive` |
/// | router | `directUrl`, `registry`, `zone`, `tag`, `mesh` |
/// | filter | `context`, `timeout` |
/// | registry | `local`; `zookeeper`, `etcd`, `nacos` with the cargo features of those names |
/// | config source | `file`; `zookeeper`, `etcd`, `nacos` with the cargo features of those names |
///
/// Adding your own is one call:
///
/// ```
/// use std::sync::Arc;
/// use sofa_rpc_core::{ExtensionLoader, Invocation, LoadBalancer, ProviderInfo};
///
/// /// Always the first provider.
/// struct First;
///
/// impl LoadBalancer for First {
///     fn select(&self, _: &Invocation, providers: &[Arc<ProviderInfo>]) -> Option<Arc<ProviderInfo>> {
///         providers.first().cloned()
///     }
/// }
///
/// let mut loader = ExtensionLoader::default();
/// loader.register_load_balancer("first", || First);
/// assert!(loader.load_balancer("first").is_ok());
/// assert!(loader.load_balancer("nope").is_err());
/// ```
#[derive(Clone)]
pub struct ExtensionLoader {
    serializers: Serializers,
    clusters: HashMap<String, Arc<dyn Cluster>>,
    load_balancers: HashMap<String, Factory<dyn LoadBalancer>>,
    routers: HashMap<String, Factory<dyn Router>>,
    filters: HashMap<String, Arc<dyn Filter>>,
    registries: RegistryFactories,
    config_sources: ConfigFactories,
}

impl Default for ExtensionLoader {
    fn default() -> Self {
        let mut loader = ExtensionLoader::empty();
        loader.register_serializer(Msgpack);
        // Both Hessian dialects share codec byte 1 and read either; the one registered last
        // (the 3.x dialect, SOFARPC's) is the one found by code.
        loader.register_serializer(Hessian2::v4());
        loader.register_serializer(Hessian2::new());
        loader.serializers.alias("hessian", Hessian2::NAME);
        loader.register_serializer(Protobuf);
        loader.register_serializer(Json);
        loader.register_cluster("failover", FailOver);
        loader.register_cluster("failfast", FailFast);
        loader.register_load_balancer("random", Random::default);
        loader.register_load_balancer("roundRobin", RoundRobin::default);
        loader.register_load_balancer("weightRoundRobin", WeightRoundRobin::default);
        loader.register_load_balancer("consistentHash", ConsistentHash::default);
        loader.register_load_balancer("weightConsistentHash", WeightConsistentHash::default);
        loader.register_load_balancer("localPref", LocalPref::default);
        loader.register_load_balancer("auto", Auto::default);
        loader.register_load_balancer("leastActive", LeastActive::default);
        loader.register_load_balancer("adaptive", Adaptive::default);
        loader.register_router("directUrl", || router::DirectUrl);
        loader.register_router("registry", || router::FromRegistry);
        loader.register_router("zone", router::ZoneRouter::default);
        loader.register_router("tag", router::TagRouter::default);
        loader.register_router("mesh", router::MeshRouter::default);
        loader.register_filter("context", ContextFilter);
        loader.register_filter("timeout", TimeoutFilter);
        // Every registry backend compiled in: `local` always, the others by cargo feature.
        loader.registries = RegistryFactories::default();
        loader.config_sources = ConfigFactories::default();
        loader
    }
}

impl ExtensionLoader {
    /// A loader with nothing registered.
    pub fn empty() -> Self {
        ExtensionLoader {
            serializers: Serializers::default(),
            clusters: HashMap::new(),
            load_balancers: HashMap::new(),
            routers: HashMap::new(),
            filters: HashMap::new(),
            registries: RegistryFactories::empty(),
            config_sources: ConfigFactories::empty(),
        }
    }

    /// Registers a serializer under its [`name`](Serializer::name) and codec byte (replacing
    /// any earlier one with either).
    pub fn register_serializer(&mut self, serializer: impl Serializer) -> &mut Self {
        self.serializers.insert(Arc::new(serializer));
        self
    }

    /// Registers another name for an already registered serializer (SOFARPC calls Hessian 2
    /// both `hessian` and `hessian2`).
    pub fn register_serializer_alias(&mut self, alias: &str, name: &str) -> Result<&mut Self> {
        let serializer = self.serializer(name)?;
        self.serializers.insert_as(alias, serializer);
        Ok(self)
    }

    /// Registers a cluster.
    pub fn register_cluster(&mut self, name: &str, cluster: impl Cluster) -> &mut Self {
        self.clusters.insert(name.to_string(), Arc::new(cluster));
        self
    }

    /// Registers a load balancer; `factory` makes one per consumer, so each can keep state.
    pub fn register_load_balancer<L, F>(&mut self, name: &str, factory: F) -> &mut Self
    where
        L: LoadBalancer,
        F: Fn() -> L + Send + Sync + 'static,
    {
        let factory: Factory<dyn LoadBalancer> = Arc::new(move || Arc::new(factory()));
        self.load_balancers.insert(name.to_string(), factory);
        self
    }

    /// Registers a router; `factory` makes one per consumer.
    pub fn register_router<R, F>(&mut self, name: &str, factory: F) -> &mut Self
    where
        R: Router,
        F: Fn() -> R + Send + Sync + 'static,
    {
        let factory: Factory<dyn Router> = Arc::new(move || Arc::new(factory()));
        self.routers.insert(name.to_string(), factory);
        self
    }

    /// Registers a filter.
    pub fn register_filter(&mut self, name: &str, filter: impl Filter) -> &mut Self {
        self.filters.insert(name.to_string(), Arc::new(filter));
        self
    }

    /// Registers a registry backend: URLs with scheme `name` open with `open`.
    pub fn register_registry<F>(&mut self, name: &str, open: F) -> &mut Self
    where
        F: Fn(RegistryUrl) -> RegistryFuture + Send + Sync + 'static,
    {
        self.registries.register(name, open);
        self
    }

    /// The registry backends, by scheme.
    pub fn registries(&self) -> &RegistryFactories {
        &self.registries
    }

    /// Registers a live-configuration backend: URLs with scheme `name` open with `open`
    /// (see [`config`](crate::config)).
    pub fn register_config_source<F>(&mut self, name: &str, open: F) -> &mut Self
    where
        F: Fn(RegistryUrl) -> ConfigFuture + Send + Sync + 'static,
    {
        self.config_sources.register(name, open);
        self
    }

    /// The live-configuration backends, by scheme.
    pub fn config_sources(&self) -> &ConfigFactories {
        &self.config_sources
    }

    /// The serializer registered as `name`.
    pub fn serializer(&self, name: &str) -> Result<Arc<dyn Serializer>> {
        self.serializers
            .by_name(name)
            .cloned()
            .ok_or_else(|| unknown("serializer", name, self.serializers.names()))
    }

    /// The serializer with codec byte `code`.
    pub fn serializer_by_code(&self, code: u8) -> Option<Arc<dyn Serializer>> {
        self.serializers.by_code(code).cloned()
    }

    pub(crate) fn serializers(&self) -> Serializers {
        self.serializers.clone()
    }

    /// The cluster registered as `name`.
    pub fn cluster(&self, name: &str) -> Result<Arc<dyn Cluster>> {
        self.clusters
            .get(name)
            .cloned()
            .ok_or_else(|| unknown("cluster", name, self.clusters.keys()))
    }

    /// A new load balancer of the kind registered as `name`.
    pub fn load_balancer(&self, name: &str) -> Result<Arc<dyn LoadBalancer>> {
        self.load_balancers
            .get(name)
            .map(|f| f())
            .ok_or_else(|| unknown("load balancer", name, self.load_balancers.keys()))
    }

    /// A new router of the kind registered as `name`.
    pub fn router(&self, name: &str) -> Result<Arc<dyn Router>> {
        self.routers
            .get(name)
            .map(|f| f())
            .ok_or_else(|| unknown("router", name, self.routers.keys()))
    }

    /// The filter registered as `name`.
    pub fn filter(&self, name: &str) -> Result<Arc<dyn Filter>> {
        self.filters
            .get(name)
            .cloned()
            .ok_or_else(|| unknown("filter", name, self.filters.keys()))
    }
}

impl fmt::Debug for ExtensionLoader {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fn names<V>(m: &HashMap<String, V>) -> Vec<&str> {
            let mut v: Vec<&str> = m.keys().map(String::as_str).collect();
            v.sort_unstable();
            v
        }
        f.debug_struct("ExtensionLoader")
            .field("serializers", &self.serializers.sorted_names())
            .field("clusters", &names(&self.clusters))
            .field("load_balancers", &names(&self.load_balancers))
            .field("routers", &names(&self.routers))
            .field("filters", &names(&self.filters))
            .field("registries", &self.registries.names().collect::<Vec<_>>())
            .field(
                "config_sources",
                &self.config_sources.names().collect::<Vec<_>>(),
            )
            .finish()
    }
}

fn unknown<'a>(what: &str, name: &str, known: impl Iterator<Item = &'a String>) -> RpcError {
    let mut known: Vec<&str> = known.map(String::as_str).collect();
    known.sort_unstable();
    RpcError::config(format!(
        "no {what} is registered as {name:?} (known: {})",
        known.join(", ")
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builtins_are_registered() {
        let loader = ExtensionLoader::default();
        assert_eq!(loader.serializer("msgpack").unwrap().code(), 13);
        assert_eq!(loader.serializer_by_code(13).unwrap().name(), "msgpack");
        assert_eq!(loader.serializer_by_code(1).unwrap().name(), "hessian2");
        assert_eq!(loader.serializer("hessian").unwrap().name(), "hessian2");
        assert_eq!(loader.serializer("hessian4").unwrap().code(), 1);
        assert_eq!(loader.serializer("protobuf").unwrap().code(), 11);
        assert_eq!(loader.serializer("json").unwrap().code(), 12);
        for name in ["failover", "failfast"] {
            loader.cluster(name).unwrap();
        }
        for name in [
            "random",
            "roundRobin",
            "weightRoundRobin",
            "consistentHash",
            "weightConsistentHash",
            "localPref",
            "auto",
            "leastActive",
            "adaptive",
        ] {
            loader.load_balancer(name).unwrap();
        }
        for name in ["directUrl", "registry", "zone", "tag", "mesh"] {
            loader.router(name).unwrap();
        }
        for name in ["context", "timeout"] {
            loader.filter(name).unwrap();
        }
        let err = loader.cluster("nope").err().unwrap();
        assert!(err.message().contains("known: failfast, failover"), "{err}");
        assert!(loader.config_sources().contains("file"));
        assert!(!ExtensionLoader::empty().config_sources().contains("file"));
    }
}
