//! In-process calls (SOFABoot's `jvmFirst`): the process-wide table of services that servers
//! in this process export, so that a consumer of one of them calls the implementation
//! directly, without serializing and without a socket.
//!
//! Servers register each service under its unique name and keep the only strong reference;
//! the table holds weak ones, so it never keeps a stopped server's services alive. Consumers
//! look services up on every call, which must cost next to nothing when no service of the
//! process is exported (one atomic load) and little otherwise: each thread keeps what it found,
//! valid until the table's generation (bumped by every export and withdrawal) moves on.

use std::cell::RefCell;
use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, RwLock, Weak};

use futures::future::BoxFuture;
use sofa_bolt::HeaderStr;
use sofa_rpc_registry::ProviderInfo;

use crate::error::Result;
use crate::invocation::Invocation;
use crate::response::Response;
use crate::service_id::ServiceId;

/// The protocol of the provider an in-process attempt names (SOFARPC's name for it).
pub(crate) const PROTOCOL: &str = "injvm";

/// A service exported by a server of this process, callable with the typed arguments of a
/// stub of the same service definition.
pub(crate) trait LocalProvider: Send + Sync + 'static {
    /// The provider in-process attempts name: protocol `injvm`, the server's address.
    fn provider(&self) -> &Arc<ProviderInfo>;

    /// Whether the service can take `invocation` as it is, without serializing: the stub
    /// that made it comes from the same service definition and its arguments can be owned.
    /// Generic calls and stubs of another definition of the same name cannot.
    fn accepts(&self, invocation: &Invocation) -> bool;

    /// Runs `invocation` on the implementation; `caller_app` is the consumer's application.
    fn call(
        &self,
        invocation: Invocation,
        caller_app: Option<HeaderStr>,
    ) -> BoxFuture<'static, Result<Response>>;
}

/// Whether `provider` stands for an in-process service.
pub(crate) fn is_local(provider: &ProviderInfo) -> bool {
    provider.protocol() == PROTOCOL
}

struct Entry {
    key: u64,
    name: String,
    service: Weak<dyn LocalProvider>,
}

/// Every export of the process. A `Vec`: looked up only when a thread's cache misses.
static TABLE: RwLock<Vec<Entry>> = RwLock::new(Vec::new());
/// Exports alive: zero means no lookup at all.
static LIVE: AtomicUsize = AtomicUsize::new(0);
/// Moves on with every export and withdrawal: thread caches older than it are dropped.
static GENERATION: AtomicU64 = AtomicU64::new(0);
/// Names exports, so a withdrawal removes its own entry even when a name is exported twice.
static NEXT_KEY: AtomicU64 = AtomicU64::new(0);

/// What a thread found, by unique name (`None`: nothing in-process), as of `generation`.
#[derive(Default)]
struct Cache {
    generation: u64,
    found: HashMap<String, Option<Weak<dyn LocalProvider>>>,
}

thread_local! {
    static CACHE: RefCell<Cache> = RefCell::new(Cache::default());
}

/// An exported service: withdrawn from the table when dropped. The server holds it, and with
/// it the only strong reference to the service outside calls in flight.
pub(crate) struct LocalExport {
    key: u64,
    _service: Arc<dyn LocalProvider>,
}

/// Exports `service` under `name` (`interface:version[:uniqueId]`) to this process.
pub(crate) fn export(name: &str, service: Arc<dyn LocalProvider>) -> LocalExport {
    let key = NEXT_KEY.fetch_add(1, Ordering::Relaxed);
    let mut table = TABLE.write().unwrap_or_else(|e| e.into_inner());
    table.push(Entry {
        key,
        name: name.to_string(),
        service: Arc::downgrade(&service),
    });
    LIVE.fetch_add(1, Ordering::Release);
    GENERATION.fetch_add(1, Ordering::Release);
    drop(table);
    LocalExport {
        key,
        _service: service,
    }
}

impl Drop for LocalExport {
    fn drop(&mut self) {
        let mut table = TABLE.write().unwrap_or_else(|e| e.into_inner());
        let before = table.len();
        table.retain(|e| e.key != self.key);
        if table.len() < before {
            LIVE.fetch_sub(1, Ordering::Release);
        }
        GENERATION.fetch_add(1, Ordering::Release);
    }
}

/// The in-process provider of `service`, if a server of this process exports it.
pub(crate) fn find(service: &ServiceId) -> Option<Arc<dyn LocalProvider>> {
    if LIVE.load(Ordering::Acquire) == 0 {
        return None;
    }
    let generation = GENERATION.load(Ordering::Acquire);
    let name = service.unique_name();
    CACHE
        .try_with(|cell| {
            // Never borrowed twice (nothing here calls back), but a failed borrow is no reason
            // to fail a call: look in the table instead.
            let Ok(mut cache) = cell.try_borrow_mut() else {
                return lookup(name);
            };
            if cache.generation != generation {
                cache.found.clear();
                cache.generation = generation;
            }
            match cache.found.get(name) {
                Some(None) => return None,
                Some(Some(weak)) => {
                    if let Some(live) = weak.upgrade() {
                        return Some(live);
                    }
                }
                None => {}
            }
            let found = lookup(name);
            cache
                .found
                .insert(name.to_string(), found.as_ref().map(Arc::downgrade));
            found
        })
        // The thread is exiting and its cache is gone.
        .unwrap_or_else(|_| lookup(name))
}

/// The first live export of `name` in the table.
fn lookup(name: &str) -> Option<Arc<dyn LocalProvider>> {
    let table = TABLE.read().unwrap_or_else(|e| e.into_inner());
    table
        .iter()
        .filter(|e| e.name == name)
        .find_map(|e| e.service.upgrade())
}
