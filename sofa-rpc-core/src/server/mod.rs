//! The provider side: [`Server`], exporting services over SOFABolt.

mod admission;
mod config;
mod describe;
mod local;
mod processor;
mod publish;

use std::net::SocketAddr;
use std::sync::Arc;

use admission::Executor;

pub use config::{ProviderConfig, ServerConfig};

use crate::dispatch::Dispatch;
use crate::error::{Result, RpcError};
use crate::event::{EventBus, ServerStarted, ServerStopped};
use crate::extension::ExtensionLoader;
use crate::filter::ProviderInvoker;
use crate::guard::Guard;
use crate::headers;
use crate::inproc;
use crate::service_id::ServiceId;
use processor::{Execute, Exported, Provided, RpcProcessor};

/// Builds a [`Server`].
pub struct ServerBuilder {
    addr: String,
    config: ServerConfig,
    providers: Vec<ProviderConfig>,
    loader: ExtensionLoader,
    registries: Vec<String>,
    publish_host: Option<String>,
    app_name: Option<String>,
    events: EventBus,
    metadata: bool,
    in_process: bool,
    guard: Option<Guard>,
}

impl ServerBuilder {
    /// The address to listen on. Default `0.0.0.0:12200`, SOFARPC's bolt port.
    pub fn bind(mut self, addr: impl Into<String>) -> Self {
        self.addr = addr.into();
        self
    }

    /// Replaces the settings.
    pub fn config(mut self, config: ServerConfig) -> Self {
        self.config = config;
        self
    }

    /// Requests run at once; see [`ServerConfig::max_concurrency`].
    pub fn max_concurrency(mut self, n: usize) -> Self {
        self.config.max_concurrency = n.max(1);
        self
    }

    /// Requests that may wait beyond those; see [`ServerConfig::queue`].
    pub fn queue(mut self, n: usize) -> Self {
        self.config.queue = n;
        self
    }

    /// Whether requests start on their connection's task; see [`ServerConfig::inline_first`].
    pub fn inline_first(mut self, on: bool) -> Self {
        self.config.inline_first = on;
        self
    }

    /// Serves over TLS; see [`ServerConfig::tls`].
    ///
    /// ```no_run
    /// use sofa_rpc_core::bolt::tls::{ClientAuth, TlsAcceptor, TlsServerConfig};
    /// use sofa_rpc_core::Server;
    ///
    /// # fn main() -> sofa_rpc_core::bolt::Result<()> {
    /// let tls = TlsAcceptor::new(
    ///     TlsServerConfig::new("chain.pem", "key.pem")
    ///         .client_auth(ClientAuth::Required("clients-ca.pem".into())),
    /// )?;
    /// let builder = Server::builder().bind("0.0.0.0:12200").tls(tls.clone());
    /// # let _ = builder;
    /// # Ok(())
    /// # }
    /// ```
    #[cfg(feature = "tls")]
    pub fn tls(mut self, acceptor: sofa_bolt::tls::TlsAcceptor) -> Self {
        self.config.tls = Some(acceptor);
        self
    }

    /// Provider filters by name, outermost first.
    pub fn filters<I, S>(mut self, names: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.config.filters = names.into_iter().map(Into::into).collect();
        self
    }

    /// Looks up serializers and filters in `loader` instead of the built-ins.
    pub fn extensions(mut self, loader: ExtensionLoader) -> Self {
        self.loader = loader;
        self
    }

    /// Publishes the services in the registry at `url` (e.g. `zookeeper://127.0.0.1:2181`) once
    /// the server listens, and withdraws them on shutdown. May be given several times.
    pub fn registry(mut self, url: impl Into<String>) -> Self {
        self.registries.push(url.into());
        self
    }

    /// The host to publish in registries. Default: the bound address, or when bound to every
    /// interface, the address this machine reaches the network from.
    pub fn publish_host(mut self, host: impl Into<String>) -> Self {
        self.publish_host = Some(host.into());
        self
    }

    /// The application name published with the services.
    pub fn app_name(mut self, name: impl Into<String>) -> Self {
        self.app_name = Some(name.into());
        self
    }

    /// Publishes the server's events on `bus` (requests, connections, start and stop) instead
    /// of a bus of its own; subscribe before [`start`](Self::start) to hear `ServerStarted`.
    pub fn events(mut self, bus: EventBus) -> Self {
        self.events = bus;
        self
    }

    /// Whether to answer the built-in [metadata service](crate::metadata) (method names and
    /// Java signatures of the exported services, for generic callers and `sofa describe`).
    /// On by default; it is never published in registries.
    pub fn metadata(mut self, on: bool) -> Self {
        self.metadata = on;
        self
    }

    /// Whether consumers in this process call the services directly, without serializing and
    /// without a socket (see [`ConsumerConfig::in_process`](crate::ConsumerConfig::in_process)).
    /// On by default; off, this server is called over the network like any other, even from
    /// this process. In-process calls run through the provider filters with their request
    /// context (the server's own address as the caller's), but neither wait for the bounded
    /// executor ([`ServerConfig::max_concurrency`]) nor publish request events: they run on
    /// the caller's task until the method first waits, then on a task of their own.
    /// A server that serves over TLS never takes in-process calls: its callers are the peers
    /// its certificates authenticate.
    pub fn in_process(mut self, on: bool) -> Self {
        self.in_process = on;
        self
    }

    /// Guards requests with `guard`'s provider-side rate limits (per service, method and
    /// caller app), before the configured filters; with no such rules a request pays one
    /// atomic load. A refused request is answered with Bolt
    /// status `SERVER_THREADPOOL_BUSY`, as when the executor is full, so Java, Node and Rust
    /// consumers fail over to another provider. See [`crate::guard`].
    pub fn guard(mut self, guard: Guard) -> Self {
        self.guard = Some(guard);
        self
    }

    /// Exports `service` under its definition's id.
    pub fn service(self, service: impl Dispatch) -> Self {
        self.provider(ProviderConfig::new(service))
    }

    /// Exports a service with its provider settings.
    pub fn provider(mut self, provider: ProviderConfig) -> Self {
        self.providers.push(provider);
        self
    }

    /// Binds and starts serving.
    pub async fn start(self) -> Result<Server> {
        let mut services = foldhash::HashMap::default();
        for provider in &self.providers {
            let id = provider.service_id();
            let name = id.unique_name().to_string();
            if services.contains_key(&name) {
                return Err(RpcError::config(format!(
                    "service {name} is exported twice"
                )));
            }
            services.insert(
                name,
                Exported {
                    id,
                    dispatch: provider.dispatch.clone(),
                },
            );
        }
        if self.metadata {
            let metadata = describe::metadata_service(&self.providers, &self.loader);
            let id = metadata.service_id();
            // A user service of the same name wins: the built-in one only fills a gap.
            services
                .entry(id.unique_name().to_string())
                .or_insert_with(|| Exported {
                    id,
                    dispatch: Arc::new(metadata),
                });
        }
        let mut invoker = None;
        if !self.config.filters.is_empty() {
            let mut stack = ProviderInvoker::new(Execute);
            for name in self.config.filters.iter().rev() {
                stack = self.loader.filter(name)?.provider(stack);
            }
            invoker = Some(stack);
        }
        let provided = Arc::new(Provided {
            services,
            serializers: self.loader.serializers(),
            invoker,
            executor: Executor::new(self.config.max_concurrency, self.config.queue),
            inline_first: self.config.inline_first,
            events: self.events.clone(),
            app: self.app_name.as_deref().map(Arc::from),
            guard: self.guard.clone(),
        });
        let mut bolt_config = self.config.bolt.clone();
        if !bolt_config.observer.is_set() {
            bolt_config.observer = crate::event::connection_observer(&self.events);
        }
        let builder = sofa_bolt::Server::builder()
            .config(bolt_config)
            .processor(
                headers::SOFA_REQUEST_CLASS,
                RpcProcessor {
                    provided: provided.clone(),
                },
            )
            .bind(self.addr.as_str());
        #[cfg(feature = "tls")]
        let (started, tls) = match self.config.tls.clone() {
            Some(acceptor) => (builder.acceptor(acceptor).start().await, true),
            None => (builder.start().await, false),
        };
        #[cfg(not(feature = "tls"))]
        let (started, tls) = (builder.start().await, false);
        let bolt =
            started.map_err(|e| RpcError::config(format!("cannot serve on {}: {e}", self.addr)))?;
        tracing::info!(addr = %bolt.local_addr(), services = self.providers.len(), "server started");
        let host = publish::publish_host(self.publish_host.as_deref(), bolt.local_addr());
        let publications = match publish::publish(
            self.loader.registries(),
            &self.registries,
            &self.providers,
            &host,
            bolt.local_addr().port(),
            self.app_name.as_deref(),
            tls,
        )
        .await
        {
            Ok(p) => p,
            Err(e) => {
                bolt.shutdown().await;
                return Err(e);
            }
        };
        // A TLS server's callers are authenticated peers, and its provider filters may
        // decide by their verified identity, which an in-process caller does not have: its
        // services are reached over TLS only.
        let local = match self.in_process && !tls {
            true => local::export_all(
                self.providers
                    .iter()
                    .map(|p| (p.service_id(), p.dispatch.clone())),
                &provided.invoker,
                bolt.local_addr(),
            )
            .collect(),
            false => Vec::new(),
        };
        let server = Server {
            bolt,
            providers: self.providers,
            publications,
            local,
            events: self.events,
        };
        server.events.publish_with(|| ServerStarted {
            addr: server.local_addr(),
            services: server.services(),
        });
        Ok(server)
    }
}

/// A running provider: services exported over SOFABolt.
///
/// Requests run on a bounded executor ([`ServerConfig::max_concurrency`] at once, plus
/// [`ServerConfig::queue`] waiting); when it is full the request is answered
/// `SERVER_THREADPOOL_BUSY` (which consumers fail over from), and a request that waited past its
/// timeout is dropped unanswered, as SOFARPC does. Unknown services and methods, undecodable
/// arguments and panicking methods are answered with framework errors; application errors
/// travel as application errors.
pub struct Server {
    bolt: sofa_bolt::Server,
    providers: Vec<ProviderConfig>,
    publications: Vec<publish::Publication>,
    /// The services as this process's consumers call them; withdrawn when dropped.
    local: Vec<inproc::LocalExport>,
    events: EventBus,
}

impl Server {
    /// A builder with default settings.
    pub fn builder() -> ServerBuilder {
        ServerBuilder {
            addr: "0.0.0.0:12200".into(),
            config: ServerConfig::default(),
            providers: Vec::new(),
            loader: ExtensionLoader::default(),
            registries: Vec::new(),
            publish_host: None,
            app_name: None,
            events: EventBus::new(),
            metadata: true,
            in_process: true,
            guard: None,
        }
    }

    /// The address the server listens on.
    pub fn local_addr(&self) -> SocketAddr {
        self.bolt.local_addr()
    }

    /// Client connections being served right now.
    pub fn connections(&self) -> usize {
        self.bolt.connections()
    }

    /// The ids of the exported services.
    pub fn services(&self) -> Vec<ServiceId> {
        self.providers
            .iter()
            .map(ProviderConfig::service_id)
            .collect()
    }

    /// The exported services with their provider settings.
    pub fn providers(&self) -> &[ProviderConfig] {
        &self.providers
    }

    /// Withdraws the services from this process's consumers (they turn to remote providers)
    /// and from the registries (so consumers stop choosing this server), stops accepting,
    /// finishes the requests in flight, and closes every connection.
    pub async fn shutdown(self) {
        let addr = self.local_addr();
        drop(self.local);
        publish::withdraw(self.publications).await;
        self.bolt.shutdown().await;
        self.events.publish_with(|| ServerStopped { addr });
    }

    /// The bus this server publishes its events on.
    pub fn events(&self) -> &EventBus {
        &self.events
    }
}
