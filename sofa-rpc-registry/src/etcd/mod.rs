//! `etcd`: SOFARPC's ZooKeeper keys in etcd v3, kept alive by a lease.
//!
//! * Providers: key `{root}/sofa-rpc/{interface}/providers/{URL-encoded provider URL}`,
//!   value = the provider URL, attached to this registry's lease.
//! * Consumers: `{root}/sofa-rpc/{interface}/consumers/{URL-encoded consumer URL}`, same lease.
//!
//! Neither SOFARPC Java nor sofa-rpc-node has an etcd registry; the layout mirrors ZooKeeper's
//! so tools and people find the same paths.
//!
//! The lease has a TTL of 10 s (`ttl` in seconds in the URL) and is kept alive every third of
//! it. When the lease is lost (the server says it is gone, or no keep-alive got through for a
//! whole TTL) a new one is granted and every key is written again. Subscribers read the prefix
//! and watch it from the next revision; a broken watch is re-established by reading the
//! prefix again, so nothing is missed even when the server restarted without its data.
//! While the server is unreachable subscribers get one `Unavailable` error and keep their last
//! list; once it answers again they get a fresh snapshot.

mod lease;
mod list;
mod watch;

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use etcd_client as etcd;
use futures::future::BoxFuture;
use futures::FutureExt;
use tokio::sync::watch as channel;
use tokio::task::JoinHandle;

use crate::address::RegistryUrl;
use crate::error::{Error, ErrorKind, Result};
use crate::fanout::Fanout;
use crate::layout::{base_path, check_interface, consumers_dir, node_path, providers_dir};
use crate::registry::{Listing, ProviderStream, Registration, Registry, Subscription};

/// Lease TTL unless the URL says otherwise (`ttl`, seconds).
pub const DEFAULT_TTL: Duration = Duration::from_secs(10);

/// Bound on every single request.
const OP_TIMEOUT: Duration = Duration::from_secs(5);

/// How long `close` waits for the lease task to revoke its lease.
const CLOSE_WAIT: Duration = Duration::from_secs(10);

/// A registry on etcd; see the [module docs](self).
pub struct EtcdRegistry {
    inner: Arc<Inner>,
}

/// A key this registry owns and re-writes under every new lease.
#[derive(Clone)]
struct Entry {
    key: String,
    value: String,
    refs: usize,
}

struct Inner {
    client: etcd::Client,
    endpoints: String,
    base: String,
    ttl: Duration,
    /// The live lease, `None` while a new one is being obtained.
    lease: channel::Sender<Option<i64>>,
    entries: Mutex<BTreeMap<String, Entry>>,
    /// Keys to delete once the server answers again.
    doomed: Mutex<Vec<String>>,
    fanout: Fanout,
    shutdown: channel::Sender<bool>,
    closed: AtomicBool,
    /// The lease task; `close` waits for it, since it revokes the lease on its way out.
    lease_task: Mutex<Option<JoinHandle<()>>>,
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

pub(crate) fn etcd_error(what: &str, e: etcd::Error) -> Error {
    let kind = match e {
        etcd::Error::InvalidArgs(_) | etcd::Error::InvalidUri(_) => ErrorKind::InvalidArgument,
        etcd::Error::TransportError(_)
        | etcd::Error::IoError(_)
        | etcd::Error::GRpcStatus(_)
        | etcd::Error::WatchError(_)
        | etcd::Error::LeaseKeepAliveError(_) => ErrorKind::Unavailable,
        _ => ErrorKind::Rejected,
    };
    Error::with_source(kind, format!("etcd {what}"), e)
}

/// Runs one request with [`OP_TIMEOUT`].
pub(crate) async fn bounded<T>(
    what: &str,
    op: impl std::future::Future<Output = std::result::Result<T, etcd::Error>>,
) -> Result<T> {
    match tokio::time::timeout(OP_TIMEOUT, op).await {
        Ok(Ok(v)) => Ok(v),
        Ok(Err(e)) => Err(etcd_error(what, e)),
        Err(_) => Err(Error::new(
            ErrorKind::Timeout,
            format!("etcd {what}: no answer in {OP_TIMEOUT:?}"),
        )),
    }
}

impl EtcdRegistry {
    /// Connects to `url` (`etcd://h:p[,h:p][/root][?ttl=s]`) and obtains the first lease.
    /// Fails with [`ErrorKind::Unavailable`] when no server answers.
    pub async fn connect(url: &RegistryUrl) -> Result<Self> {
        let endpoints: Vec<String> = url
            .require_hosts()?
            .into_iter()
            .map(|h| {
                if h.contains("://") {
                    h.to_string()
                } else {
                    format!("http://{h}")
                }
            })
            .collect();
        let ttl = Duration::from_secs(
            url.param_u64("ttl")?
                .unwrap_or(DEFAULT_TTL.as_secs())
                .max(1),
        );
        let options = etcd::ConnectOptions::new()
            .with_connect_timeout(Duration::from_secs(3))
            .with_keep_alive(Duration::from_secs(3), Duration::from_secs(3))
            .with_keep_alive_while_idle(true);
        let joined = endpoints.join(",");
        let client = bounded("connect", etcd::Client::connect(&endpoints, Some(options)))
            .await
            .map_err(|e| {
                Error::with_source(
                    ErrorKind::Unavailable,
                    format!("cannot connect to etcd {joined}"),
                    e,
                )
            })?;
        let inner = Arc::new(Inner {
            client,
            endpoints: joined,
            base: base_path(url.path()),
            ttl,
            lease: channel::channel(None).0,
            entries: Mutex::new(BTreeMap::new()),
            doomed: Mutex::new(Vec::new()),
            fanout: Fanout::new(),
            shutdown: channel::channel(false).0,
            closed: AtomicBool::new(false),
            lease_task: Mutex::new(None),
        });
        let first = inner.grant().await.map_err(|e| {
            Error::with_source(
                ErrorKind::Unavailable,
                format!("cannot reach etcd {}", inner.endpoints),
                e,
            )
        })?;
        inner.lease.send_replace(Some(first));
        let task = tokio::spawn(lease::keep_leases(inner.clone(), first));
        *lock(&inner.lease_task) = Some(task);
        Ok(EtcdRegistry { inner })
    }

    /// The key prefix under which interfaces live (`/sofa-rpc` or `/{root}/sofa-rpc`).
    pub fn base_path(&self) -> &str {
        &self.inner.base
    }

    /// The lease this registry's keys are attached to, if it holds one.
    pub fn lease_id(&self) -> Option<i64> {
        *self.inner.lease.borrow()
    }
}

impl Drop for EtcdRegistry {
    fn drop(&mut self) {
        // The lease task revokes the lease on its way out: the keys go at once.
        self.inner.shutdown.send_replace(true);
    }
}

impl Inner {
    fn check_open(&self) -> Result<()> {
        if self.closed.load(Ordering::Acquire) {
            Err(Error::closed())
        } else {
            Ok(())
        }
    }

    fn current_lease(&self) -> Result<i64> {
        (*self.lease.borrow()).ok_or_else(|| {
            Error::new(
                ErrorKind::Unavailable,
                format!("no etcd lease: {} is unreachable", self.endpoints),
            )
        })
    }

    async fn grant(&self) -> Result<i64> {
        let ttl = i64::try_from(self.ttl.as_secs()).unwrap_or(i64::MAX);
        let granted = bounded("lease grant", self.client.clone().lease_grant(ttl, None)).await?;
        Ok(granted.id())
    }

    async fn put(&self, key: &str, value: &str, lease: i64) -> Result<()> {
        let options = etcd::PutOptions::new().with_lease(lease);
        bounded("put", self.client.clone().put(key, value, Some(options)))
            .await
            .map(drop)
    }

    async fn delete(&self, key: &str) -> Result<()> {
        bounded("delete", self.client.clone().delete(key, None))
            .await
            .map(drop)
    }

    /// Deletes doomed keys and writes every owned key under `lease`.
    async fn restore(&self, lease: i64) -> Result<()> {
        let doomed = std::mem::take(&mut *lock(&self.doomed));
        for (i, key) in doomed.iter().enumerate() {
            if let Err(e) = self.delete(key).await {
                lock(&self.doomed).extend(doomed[i..].iter().cloned());
                return Err(e);
            }
        }
        let entries: Vec<Entry> = lock(&self.entries).values().cloned().collect();
        for entry in entries {
            self.put(&entry.key, &entry.value, lease).await?;
        }
        Ok(())
    }

    /// Owns `entry` under `key` and writes it.
    async fn add_entry(&self, key: String, entry: Entry) -> Result<()> {
        let lease = self.current_lease()?;
        let old = lock(&self.entries).insert(key.clone(), entry.clone());
        if let Some(old) = old.filter(|o| o.key != entry.key) {
            if self.delete(&old.key).await.is_err() {
                lock(&self.doomed).push(old.key);
            }
        }
        if let Err(e) = self.put(&entry.key, &entry.value, lease).await {
            lock(&self.entries).remove(&key);
            return Err(e);
        }
        Ok(())
    }

    /// Forgets `key` and deletes its etcd key (later, if the server is unreachable).
    async fn drop_entry(&self, key: &str, all_refs: bool) -> Result<()> {
        let entry = {
            let mut entries = lock(&self.entries);
            match entries.get_mut(key) {
                Some(e) if e.refs > 1 && !all_refs => {
                    e.refs -= 1;
                    return Ok(());
                }
                Some(_) => entries.remove(key),
                None => None,
            }
        };
        let Some(entry) = entry else { return Ok(()) };
        if let Err(e) = self.delete(&entry.key).await {
            lock(&self.doomed).push(entry.key);
            return Err(e);
        }
        Ok(())
    }
}

impl Registry for EtcdRegistry {
    fn name(&self) -> &'static str {
        "etcd"
    }

    fn register<'a>(&'a self, registration: &'a Registration) -> BoxFuture<'a, Result<()>> {
        async move {
            let inner = &self.inner;
            inner.check_open()?;
            check_interface(registration.interface())?;
            let url = registration.provider().to_string();
            let dir = providers_dir(&inner.base, registration.interface());
            let entry = Entry {
                key: node_path(&dir, &url),
                value: url,
                refs: 1,
            };
            inner.add_entry(registration.key(), entry).await
        }
        .boxed()
    }

    fn unregister<'a>(&'a self, registration: &'a Registration) -> BoxFuture<'a, Result<()>> {
        async move {
            self.inner.check_open()?;
            self.inner.drop_entry(&registration.key(), true).await
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
            let interface = subscription.interface();
            check_interface(interface)?;
            let lease = inner.current_lease()?;
            let (stream, start) = inner.fanout.add(interface, subscription);
            if start {
                tokio::spawn(watch::watch_interface(inner.clone(), interface.to_string()));
            }
            let key = format!("consumer\n{}", subscription.key());
            let url = subscription.consumer_url();
            let new = {
                let mut entries = lock(&inner.entries);
                match entries.get_mut(&key) {
                    Some(e) => {
                        e.refs += 1;
                        None
                    }
                    None => {
                        let entry = Entry {
                            key: node_path(&consumers_dir(&inner.base, interface), &url),
                            value: url,
                            refs: 1,
                        };
                        entries.insert(key, entry.clone());
                        Some(entry)
                    }
                }
            };
            if let Some(entry) = new {
                // Best effort: the consumer entry is informational; `restore` rewrites it.
                if let Err(e) = inner.put(&entry.key, &entry.value, lease).await {
                    tracing::warn!(key = entry.key, error = %e, "etcd: consumer key not written");
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
            inner.fanout.remove(subscription);
            let key = format!("consumer\n{}", subscription.key());
            inner.drop_entry(&key, true).await
        }
        .boxed()
    }

    fn list<'a>(&'a self, interface: Option<&'a str>) -> BoxFuture<'a, Result<Listing>> {
        async move {
            self.inner.check_open()?;
            list::list(&self.inner, interface).await
        }
        .boxed()
    }

    fn close(&self) -> BoxFuture<'_, Result<()>> {
        async move {
            let inner = &self.inner;
            if inner.closed.swap(true, Ordering::AcqRel) {
                return Ok(());
            }
            inner.fanout.close();
            lock(&inner.entries).clear();
            // The lease task revokes its lease on its way out (revoking deletes every key
            // attached to it); wait for that, so no key outlives `close`.
            inner.shutdown.send_replace(true);
            let task = lock(&inner.lease_task).take();
            if let Some(task) = task {
                if tokio::time::timeout(CLOSE_WAIT, task).await.is_err() {
                    tracing::warn!("etcd: the lease task did not finish in {CLOSE_WAIT:?}");
                }
            }
            // Still held when the task could not finish: revoke it here.
            match inner.lease.send_replace(None) {
                Some(lease) => bounded("lease revoke", inner.client.clone().lease_revoke(lease))
                    .await
                    .map(drop),
                None => Ok(()),
            }
        }
        .boxed()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn errors_are_classified() {
        let e = etcd_error("put", etcd::Error::WatchError("x".into()));
        assert_eq!(e.kind(), ErrorKind::Unavailable);
        let e = etcd_error("put", etcd::Error::InvalidArgs("x".into()));
        assert_eq!(e.kind(), ErrorKind::InvalidArgument);
        assert!(check_interface("com.example.Echo").is_ok());
        assert!(check_interface("../x").is_err());
    }
}
