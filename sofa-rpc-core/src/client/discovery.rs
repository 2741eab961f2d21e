//! Keeps the provider lists of a consumer's services in step with its registry.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use sofa_rpc_registry::{ProviderInfo, Registry, RegistryFactories, Subscription};
use tokio::sync::{watch, OnceCell};
use tokio::task::AbortHandle;

use super::cache::ProviderCache;
use crate::directory::Directory;
use crate::event::{
    EventBus, ProviderAdded, ProviderRemoved, ProviderUpdated, RegistryOutage, RegistrySubscribed,
};
use crate::service_id::ServiceId;

/// Subscribes, on first use, to each service a consumer calls, and applies what the registry
/// reports to the consumer's [`Directory`]. While the registry cannot be reached, the list
/// last saved on disk stands in (and then the last list seen). Addresses no list names any
/// more are handed to the `retire` hook (which closes their connections once idle).
pub(crate) struct Discovery {
    watcher: Arc<Watcher>,
    /// One watch per service: `true` once it has a list to offer (from the registry or disk).
    watches: Mutex<HashMap<String, watch::Receiver<bool>>>,
    /// The tasks following each service; they end with the consumer.
    tasks: Mutex<Vec<AbortHandle>>,
}

/// What the tasks following the services share. Dropping it (with the last task) drops the
/// registry connection, which withdraws the consumer entries.
struct Watcher {
    url: String,
    factories: RegistryFactories,
    registry: OnceCell<Arc<dyn Registry>>,
    directory: Arc<Directory>,
    cache: Option<ProviderCache>,
    app_name: Option<String>,
    retire: Retire,
    events: EventBus,
}

/// Called with each provider address that no service lists any more.
pub(crate) type Retire = Box<dyn Fn(&str) + Send + Sync>;

const RETRY_MIN: Duration = Duration::from_millis(200);
const RETRY_MAX: Duration = Duration::from_secs(10);

impl Discovery {
    pub(crate) fn new(
        url: String,
        factories: RegistryFactories,
        directory: Arc<Directory>,
        cache: Option<ProviderCache>,
        app_name: Option<String>,
        retire: Retire,
        events: EventBus,
    ) -> Self {
        Discovery {
            watcher: Arc::new(Watcher {
                url,
                factories,
                registry: OnceCell::new(),
                directory,
                cache,
                app_name,
                retire,
                events,
            }),
            watches: Mutex::new(HashMap::new()),
            tasks: Mutex::new(Vec::new()),
        }
    }

    /// Whether `service` is watched and has a provider list to offer.
    pub(crate) fn is_ready(&self, service: &ServiceId) -> bool {
        let watches = self.watches.lock().unwrap_or_else(|e| e.into_inner());
        watches
            .get(service.unique_name())
            .is_some_and(|rx| *rx.borrow())
    }

    /// Makes sure `service` is watched, and waits (at most `wait`) until there is a provider
    /// list for it, so that the first calls do not fail just because the subscription was
    /// still on its way.
    pub(crate) async fn ensure(&self, service: &ServiceId, wait: Duration) {
        let mut ready = {
            let mut watches = self.watches.lock().unwrap_or_else(|e| e.into_inner());
            match watches.get(service.unique_name()) {
                Some(rx) if *rx.borrow() => return,
                Some(rx) => rx.clone(),
                None => {
                    let (tx, rx) = watch::channel(false);
                    watches.insert(service.unique_name().to_string(), rx.clone());
                    let task = tokio::spawn(self.watcher.clone().follow(service.clone(), tx));
                    self.tasks
                        .lock()
                        .unwrap_or_else(|e| e.into_inner())
                        .push(task.abort_handle());
                    rx
                }
            }
        };
        let _ = tokio::time::timeout(wait, ready.wait_for(|r| *r)).await;
    }
}

impl Watcher {
    async fn registry(&self) -> sofa_rpc_registry::Result<Arc<dyn Registry>> {
        self.registry
            .get_or_try_init(|| self.factories.open(&self.url))
            .await
            .cloned()
    }

    fn publish(&self, service: &ServiceId, list: &[ProviderInfo], ready: &watch::Sender<bool>) {
        let events = &self.events;
        let observed = events.is_enabled::<ProviderAdded>()
            || events.is_enabled::<ProviderUpdated>()
            || events.is_enabled::<ProviderRemoved>();
        let before = observed.then(|| self.directory.providers(service));
        let gone = self
            .directory
            .set(service, list.iter().cloned().map(Arc::new).collect());
        ready.send_replace(true);
        if let Some(before) = before {
            self.publish_changes(service, &before, &self.directory.providers(service));
        }
        for addr in gone {
            tracing::debug!(service = %service, provider = %addr, "provider gone: retiring its connections");
            (self.retire)(&addr);
        }
    }

    /// Tells subscribers how the provider list of `service` changed, by address.
    fn publish_changes(
        &self,
        service: &ServiceId,
        before: &[Arc<ProviderInfo>],
        after: &[Arc<ProviderInfo>],
    ) {
        let find = |list: &[Arc<ProviderInfo>], addr: &str| {
            list.iter().find(|p| p.address() == addr).cloned()
        };
        for provider in after {
            match find(before, provider.address()) {
                None => self.events.publish_with(|| ProviderAdded {
                    service: service.clone(),
                    provider: provider.clone(),
                }),
                Some(old) if old != *provider => self.events.publish_with(|| ProviderUpdated {
                    service: service.clone(),
                    provider: provider.clone(),
                }),
                Some(_) => {}
            }
        }
        for provider in before {
            if find(after, provider.address()).is_none() {
                self.events.publish_with(|| ProviderRemoved {
                    service: service.clone(),
                    provider: provider.clone(),
                });
            }
        }
    }

    fn outage(&self, service: &ServiceId, error: &dyn std::fmt::Display) {
        self.events.publish_with(|| RegistryOutage {
            registry: self.url.clone(),
            service: service.clone(),
            error: error.to_string(),
        });
    }

    /// Before the registry has said anything, the list saved on disk stands in for it.
    fn fall_back(
        &self,
        service: &ServiceId,
        list: &mut Vec<ProviderInfo>,
        ready: &watch::Sender<bool>,
    ) {
        if *ready.borrow() {
            return;
        }
        let saved = self
            .cache
            .as_ref()
            .and_then(|c| c.load(&self.url, service.unique_name()));
        if let Some(saved) = saved {
            tracing::info!(
                service = %service,
                providers = saved.len(),
                "using the provider list saved on disk"
            );
            *list = saved;
            self.publish(service, list, ready);
        }
    }

    /// Follows `service` for as long as the client lives.
    async fn follow(self: Arc<Self>, service: ServiceId, ready: watch::Sender<bool>) {
        let mut subscription = Subscription::new(service.interface())
            .with_version(service.version())
            .with_unique_id(service.unique_id());
        if let Some(app) = &self.app_name {
            subscription = subscription.with_app_name(app.clone());
        }
        let mut list: Vec<ProviderInfo> = Vec::new();
        let mut delay = RETRY_MIN;
        loop {
            let stream = match self.registry().await {
                Ok(registry) => registry.subscribe(&subscription).await,
                Err(e) => Err(e),
            };
            match stream {
                Ok(mut stream) => {
                    delay = RETRY_MIN;
                    let mut first = true;
                    while let Some(item) = stream.next_change().await {
                        match item {
                            Ok(change) => {
                                change.apply_to(&mut list);
                                if std::mem::take(&mut first) {
                                    self.events.publish_with(|| RegistrySubscribed {
                                        registry: self.url.clone(),
                                        service: service.clone(),
                                        providers: list.len(),
                                    });
                                }
                                tracing::debug!(
                                    service = %service,
                                    providers = list.len(),
                                    "provider list changed"
                                );
                                self.publish(&service, &list, &ready);
                                if let Some(cache) = &self.cache {
                                    cache.save(&self.url, service.unique_name(), &list);
                                }
                            }
                            Err(e) => {
                                tracing::warn!(
                                    service = %service,
                                    registry = %self.url,
                                    error = %e,
                                    "registry unavailable: keeping the last provider list"
                                );
                                self.outage(&service, &e);
                                self.fall_back(&service, &mut list, &ready);
                            }
                        }
                    }
                    tracing::debug!(service = %service, "subscription ended; subscribing again");
                }
                Err(e) => {
                    tracing::warn!(
                        service = %service,
                        registry = %self.url,
                        error = %e,
                        retry_in = ?delay,
                        "cannot subscribe"
                    );
                    self.outage(&service, &e);
                    self.fall_back(&service, &mut list, &ready);
                }
            }
            tokio::time::sleep(delay).await;
            delay = (delay * 2).min(RETRY_MAX);
        }
    }
}

impl Drop for Discovery {
    fn drop(&mut self) {
        for task in self
            .tasks
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .drain(..)
        {
            task.abort();
        }
    }
}
