//! The consumer side: [`Client`], built from a [`ConsumerConfig`].

mod cache;
mod call;
mod config;
mod discovery;
mod generic;
mod invokers;

use std::collections::HashSet;
use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use futures::future::BoxFuture;
use sofa_rpc_registry::ProviderInfo;
use tower::Service;
use tracing::Instrument;

pub use call::{Call, CallFuture, Decode, ResponseHandle};
pub use config::ConsumerConfig;
pub(crate) use discovery::Discovery;
pub use generic::GenericService;

use crate::cluster::{AttemptPath, Cluster, ClusterContext, ClusterParts, PlainRoutes};
use crate::directory::Directory;
use crate::error::{Result, RpcError};
use crate::event::{CallEnd, CallStart, EventBus, Outcome};
use crate::extension::ExtensionLoader;
use crate::fault::FaultIsolation;
use crate::filter::{Filter, Invoker};
use crate::guard::{Guard, Quick, RulesCache};
use crate::invocation::Invocation;
use crate::response::Response;
use crate::serialize::Msgpack;
use crate::service_id::ServiceId;
use crate::transport::Transport;
use invokers::Invokers;

/// A consumer: the pipeline every call takes — consumer filters, then the cluster (routers,
/// load balancer, retries), then serialization and a pooled Bolt connection.
///
/// Cheap to clone; clones share connections. Generated stubs wrap one (`FooClient::new(client)`),
/// and several stubs may share it.
///
/// ```no_run
/// use sofa_rpc_core::{Client, ConsumerConfig};
///
/// # fn demo() -> sofa_rpc_core::Result<()> {
/// let client = Client::new(ConsumerConfig::new().direct_url("bolt://127.0.0.1:12200"))?;
/// # Ok(()) }
/// ```
#[derive(Clone)]
pub struct Client {
    inner: Arc<Inner>,
}

struct Inner {
    config: ConsumerConfig,
    /// The filter stack, a clone per calling thread: a clone per call would cost an
    /// allocation per layer, one lock for all calls would make every thread meet on it.
    invokers: Invokers,
    events: EventBus,
    fault: Option<Arc<FaultIsolation>>,
    /// The application name as call events carry it (made once, not per call).
    app: Option<Arc<str>>,
}

impl Client {
    /// A client with the built-in extensions.
    pub fn new(config: ConsumerConfig) -> Result<Self> {
        Self::with_extensions(config, &ExtensionLoader::default())
    }

    /// A client with default settings for `url`: provider addresses (`bolt://host:port` or
    /// `host:port`, several separated by `;`) or a registry (`zookeeper://...`, `etcd://...`,
    /// `nacos://...`, `local://...`).
    ///
    /// ```no_run
    /// # fn demo() -> sofa_rpc_core::Result<()> {
    /// let direct = sofa_rpc_core::Client::connect("bolt://127.0.0.1:12200")?;
    /// let found = sofa_rpc_core::Client::connect("zookeeper://127.0.0.1:2181")?;
    /// # Ok(()) }
    /// ```
    pub fn connect(url: &str) -> Result<Self> {
        let config = ConsumerConfig::new();
        let config = match url.split_once("://") {
            None | Some(("bolt" | "bolt+tls", _)) => config.direct_url(url),
            Some(_) => config.registry(url),
        };
        Client::new(config)
    }

    /// A client whose configured names are looked up in `loader`.
    pub fn with_extensions(config: ConsumerConfig, loader: &ExtensionLoader) -> Result<Self> {
        let mut direct = Vec::new();
        for urls in &config.direct_urls {
            let parsed =
                ProviderInfo::parse_list(urls).map_err(|e| RpcError::config(e.to_string()))?;
            direct.extend(parsed.into_iter().map(Arc::new));
        }
        if direct.is_empty() && config.registry.is_none() {
            return Err(RpcError::config(
                "a consumer needs providers: set a direct URL or a registry",
            ));
        }
        if config.tls.is_none() {
            if let Some(p) = direct.iter().find(|p| crate::transport::needs_tls(p)) {
                return Err(RpcError::config(format!(
                    "direct provider {p} serves over TLS but this consumer has no TLS \
                     configuration: set ConsumerConfig::tls"
                )));
            }
        }
        let chosen = match &config.serialization {
            Some(name) => Some(loader.serializer(name)?),
            None => None,
        };
        let fallback = loader
            .serializer(Msgpack::NAME)
            .unwrap_or_else(|_| Arc::new(Msgpack));
        let events = config.events.clone().unwrap_or_default();
        let mut pool = config.pool.clone();
        if !pool.connection.observer.is_set() {
            pool.connection.observer = crate::event::connection_observer(&events);
        }
        let transport = Arc::new(Transport::new(
            pool,
            config.tls.clone(),
            loader.serializers(),
            chosen,
            fallback,
            config.app_name.clone(),
            config.timeout,
        ));
        let mut directory = None;
        let mut discovery = None;
        if let Some(url) = &config.registry {
            let scheme = url.split("://").next().unwrap_or_default();
            if !loader.registries().contains(scheme) {
                return Err(RpcError::config(format!(
                    "no registry backend for {url} (known: {}; zookeeper, etcd and nacos are cargo features)",
                    loader.registries().names().collect::<Vec<_>>().join(", ")
                )));
            }
            // Connections to providers the registry drops are closed once idle, unless a
            // direct URL still names them.
            let pinned: HashSet<String> = direct.iter().map(|p| p.address().to_string()).collect();
            let retiring = transport.clone();
            let lists = Arc::new(Directory::default());
            discovery = Some(Arc::new(Discovery::new(
                url.clone(),
                loader.registries().clone(),
                lists.clone(),
                config.registry_cache.clone().map(cache::ProviderCache::new),
                config.app_name.clone(),
                Box::new(move |addr: &str| {
                    if !pinned.contains(addr) {
                        retiring.retire(addr);
                    }
                }),
                events.clone(),
            )));
            directory = Some(lists);
        }
        let routers = config
            .routers
            .iter()
            .map(|name| loader.router(name))
            .collect::<Result<Vec<_>>>()?;
        let filters = config
            .filters
            .iter()
            .map(|name| loader.filter(name))
            .collect::<Result<Vec<Arc<dyn Filter>>>>()?;
        let load_balancer = loader.load_balancer(&config.load_balancer)?;
        let fault = config.fault_tolerance.enabled.then(|| {
            Arc::new(FaultIsolation::new(
                config.fault_tolerance.clone(),
                events.clone(),
            ))
        });
        let attempts = AttemptPath::new(
            transport,
            &filters,
            events.clone(),
            &load_balancer,
            fault.clone(),
            config.guard.clone(),
        );
        let ctx = ClusterContext::new(ClusterParts {
            routers,
            attempts,
            fault: fault.clone(),
            guard: config.guard.clone(),
            load_balancer,
            direct,
            directory,
            retries: config.retries,
            // Placement rules (zone, tag, mesh, custom routers) decide where every call goes,
            // so a local provider is called directly only under the built-in routers.
            in_process: config.in_process
                && config
                    .routers
                    .iter()
                    .all(|name| name == "directUrl" || name == "registry"),
            plain_routes: PlainRoutes::of(&config.routers),
        });
        // The cluster's future is a box already: the invoker passes it on as it is.
        let mut invoker = Invoker::from_boxed(ClusterService {
            cluster: loader.cluster(&config.cluster)?,
            ctx,
            discovery,
            wait: config.timeout,
            guard: config.guard.as_ref().map(|g| (g.clone(), g.cache())),
        });
        for filter in filters.iter().rev() {
            invoker = filter.consumer(invoker);
        }
        Ok(Client {
            inner: Arc::new(Inner {
                app: config.app_name.as_deref().map(Arc::from),
                config,
                invokers: Invokers::new(invoker),
                events,
                fault,
            }),
        })
    }

    /// The bus this client publishes its events on: calls, attempts, providers, connections,
    /// registry subscriptions. Subscribe to it at any time.
    pub fn events(&self) -> &EventBus {
        &self.inner.events
    }

    /// This client's fault isolation, when [enabled](ConsumerConfig::fault_tolerance): to read
    /// degraded weights or close a window at will.
    pub fn fault_isolation(&self) -> Option<&Arc<FaultIsolation>> {
        self.inner.fault.as_ref()
    }

    /// The configuration this client was built from.
    pub fn config(&self) -> &ConsumerConfig {
        &self.inner.config
    }

    /// The id under which to call the service `interface`: its definition's version and
    /// uniqueId, unless this consumer's config overrides them.
    pub fn service_id(&self, interface: &str, version: &str, unique_id: &str) -> ServiceId {
        let config = &self.inner.config;
        ServiceId::new(
            interface,
            config.version.as_deref().unwrap_or(version),
            config.unique_id.as_deref().unwrap_or(unique_id),
        )
    }

    /// Sends `invocation` through the pipeline. The consumer's timeout applies unless the
    /// invocation sets its own.
    pub fn invoke(
        &self,
        invocation: Invocation,
    ) -> impl Future<Output = Result<Response>> + Send + 'static {
        self.start(invocation)
    }

    /// Starts `invocation` down the filter stack; the future is the stack's own (no further
    /// wrapping, so a call costs one allocation here).
    pub(crate) fn start(&self, mut invocation: Invocation) -> BoxFuture<'static, Result<Response>> {
        if invocation.context().timeout().is_none() {
            invocation
                .context_mut()
                .set_timeout(self.inner.config.timeout);
        }
        // Checked before the span is made: with the `log` feature of tracing on (any
        // dependency can turn it on), even a disabled span records its fields for `log`.
        let span = tracing::enabled!(tracing::Level::DEBUG).then(|| {
            tracing::debug_span!(
                "rpc.call",
                service = %invocation.service(),
                method = invocation.method(),
            )
        });
        let events = &self.inner.events;
        let call = if events.is_enabled::<CallStart>() || events.is_enabled::<CallEnd>() {
            self.start_observed(invocation)
        } else {
            self.set_off(invocation)
        };
        match span {
            Some(span) if !span.is_disabled() => Box::pin(call.instrument(span)),
            _ => call,
        }
    }

    /// Sets `invocation` off down the filter stack.
    fn set_off(&self, invocation: Invocation) -> BoxFuture<'static, Result<Response>> {
        self.inner.invokers.set_off(invocation)
    }

    /// [`set_off`](Self::set_off) between a [`CallStart`] and a [`CallEnd`] event.
    fn start_observed(&self, invocation: Invocation) -> BoxFuture<'static, Result<Response>> {
        let events = self.inner.events.clone();
        let service = invocation.service().clone();
        let method = invocation.method_name();
        let invoke_type = invocation.invoke_type();
        events.publish_with(|| CallStart {
            service: service.clone(),
            method: method.clone(),
            invoke_type,
        });
        let start = std::time::Instant::now();
        let app = self.inner.app.clone();
        let call = self.set_off(invocation);
        Box::pin(async move {
            let outcome = call.await;
            events.publish_with(|| {
                let answer = outcome.as_ref().ok();
                CallEnd {
                    service,
                    method,
                    invoke_type,
                    elapsed: start.elapsed(),
                    outcome: Outcome::of(&outcome),
                    app,
                    protocol: "bolt",
                    request_size: answer.and_then(Response::request_size),
                    response_size: answer
                        .filter(|r| r.provider().is_some())
                        .map(|r| r.content().len()),
                }
            });
            outcome
        })
    }

    /// A generic view of `service` (`interface:version[:uniqueId]`), to call methods by name.
    pub fn generic(&self, service: &str) -> GenericService {
        GenericService::new(self.clone(), ServiceId::parse(service))
    }
}

impl fmt::Debug for Client {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Client")
            .field("config", &self.inner.config)
            .finish()
    }
}

/// The cluster as a tower service: the innermost layer the consumer filters wrap.
#[derive(Clone)]
struct ClusterService {
    cluster: Arc<dyn Cluster>,
    ctx: ClusterContext,
    /// With a registry: subscribes to each service on its first call.
    discovery: Option<Arc<Discovery>>,
    /// The longest a call waits for a service's first provider list.
    wait: std::time::Duration,
    /// The traffic guard, read once per call, with this consumer's view of its rules.
    guard: Option<(Guard, RulesCache)>,
}

impl Service<Invocation> for ClusterService {
    type Response = Response;
    type Error = RpcError;
    type Future = Pin<Box<dyn Future<Output = Result<Response>> + Send>>;

    fn poll_ready(&mut self, _cx: &mut Context<'_>) -> Poll<Result<()>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, invocation: Invocation) -> Self::Future {
        let quick = match &mut self.guard {
            Some((guard, cache)) if guard.guards_calls() => guard.quick(cache, &invocation),
            _ => return self.call_cluster(invocation),
        };
        match quick {
            Quick::Go => self.call_cluster(invocation),
            Quick::Done(outcome) => Box::pin(std::future::ready(outcome)),
            Quick::Wait(wait) => {
                let mut unguarded = self.clone();
                Box::pin(async move {
                    tokio::time::sleep(wait).await;
                    unguarded.call_cluster(invocation).await
                })
            }
            Quick::Full(rules) => {
                let mut unguarded = self.clone();
                let Some((guard, _)) = unguarded.guard.take() else {
                    return unguarded.call_cluster(invocation);
                };
                guard.guarded_call(rules, invocation, move |inv| unguarded.call_cluster(inv))
            }
        }
    }
}

impl ClusterService {
    /// The call, past the guard.
    fn call_cluster(
        &mut self,
        mut invocation: Invocation,
    ) -> Pin<Box<dyn Future<Output = Result<Response>> + Send>> {
        let discovery = match &self.discovery {
            Some(d) if !d.is_ready(invocation.service()) => d.clone(),
            _ => return self.cluster.invoke(invocation, self.ctx.clone()),
        };
        let wait = if self.ctx.takes_in_process(&invocation) {
            // A provider in this process takes it: subscribe, but wait for no registry.
            std::time::Duration::ZERO
        } else {
            // The first call of a service waits for its provider list, out of the call's time.
            invocation.context_mut().fix_deadline();
            invocation.context().remaining().unwrap_or(self.wait)
        };
        let cluster = self.cluster.clone();
        let ctx = self.ctx.clone();
        Box::pin(async move {
            discovery.ensure(invocation.service(), wait).await;
            cluster.invoke(invocation, ctx).await
        })
    }
}
