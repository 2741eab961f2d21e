//! `zookeeper`: SOFARPC's ZooKeeper layout, readable by SOFARPC Java and sofa-rpc-node.
//!
//! * Providers: `{root}/sofa-rpc/{interface}/providers/{URL-encoded provider URL}`, ephemeral,
//!   data `0x01` (`0x00` when the URL says `dynamic=false`), as Java writes them.
//! * Consumers: `{root}/sofa-rpc/{interface}/consumers/{URL-encoded consumer URL}`, ephemeral.
//! * Parent nodes are created persistent as needed.
//! * Child names are read in both Java's form encoding and sofa-rpc-node's
//!   `encodeURIComponent` encoding.
//!
//! `zookeeper://h:p[,h:p]/myroot` puts everything under `/myroot/sofa-rpc/` (Java's rule);
//! sofa-rpc-node would use `/myroot/` for that address, so share a registry with Node peers
//! only with the default root. Option: `sessionTimeout` (ms, default 30000; the server
//! clamps it to its `minSessionTimeout..maxSessionTimeout`).
//!
//! Sessions: the client reconnects by itself within a session. A session that expires is
//! dead; the registry then opens a new one, re-creates every provider and consumer node and
//! re-lists every watched interface, sending subscribers a fresh snapshot. While the
//! connection is down subscribers get one `Unavailable` error and keep their last list.

mod list;
pub(crate) mod session;
mod watch;

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use futures::future::BoxFuture;
use futures::FutureExt;
use tokio::sync::watch as channel;
use zookeeper_client as zk;

use crate::address::RegistryUrl;
use crate::error::{Error, ErrorKind, Result};
use crate::fanout::Fanout;
use crate::layout::{base_path, check_interface, consumers_dir, node_path, providers_dir};
use crate::registry::{Listing, ProviderStream, Registration, Registry, Subscription};

/// Session timeout asked for unless the URL says otherwise (`sessionTimeout`, ms).
pub const DEFAULT_SESSION_TIMEOUT: Duration = Duration::from_secs(30);

/// A registry on ZooKeeper in SOFARPC's layout; see the [module docs](self).
pub struct ZookeeperRegistry {
    inner: Arc<Inner>,
}

/// The current session as tasks see it.
#[derive(Clone, Default)]
struct Link {
    /// Bumped for every new session.
    generation: u64,
    client: Option<zk::Client>,
    connected: bool,
}

/// A node this registry owns and keeps alive across sessions.
#[derive(Clone)]
struct Node {
    path: String,
    data: Vec<u8>,
    /// Subscriptions sharing one consumer node.
    refs: usize,
}

struct Inner {
    hosts: String,
    base: String,
    session_timeout: Duration,
    link: channel::Sender<Link>,
    nodes: Mutex<BTreeMap<String, Node>>,
    /// Nodes to delete once connected again (unregistered while the connection was down).
    doomed: Mutex<Vec<String>>,
    fanout: Fanout,
    shutdown: channel::Sender<bool>,
    closed: AtomicBool,
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

impl ZookeeperRegistry {
    /// Connects to the ensemble in `url` (`zookeeper://h:p[,h:p][/root][?sessionTimeout=ms]`).
    /// Fails with [`ErrorKind::Unavailable`] when no server answers.
    pub async fn connect(url: &RegistryUrl) -> Result<Self> {
        let hosts = url.require_hosts()?.join(",");
        let session_timeout = url.param_millis("sessionTimeout", DEFAULT_SESSION_TIMEOUT)?;
        let client = session::connect(&hosts, session_timeout).await?;
        let link = Link {
            generation: 0,
            client: Some(client),
            connected: true,
        };
        let inner = Arc::new(Inner {
            hosts,
            base: base_path(url.path()),
            session_timeout,
            link: channel::channel(link).0,
            nodes: Mutex::new(BTreeMap::new()),
            doomed: Mutex::new(Vec::new()),
            fanout: Fanout::new(),
            shutdown: channel::channel(false).0,
            closed: AtomicBool::new(false),
        });
        tokio::spawn(session::supervise(inner.clone()));
        Ok(ZookeeperRegistry { inner })
    }

    /// The path under which interfaces live (`/sofa-rpc` or `/{root}/sofa-rpc`).
    pub fn base_path(&self) -> &str {
        &self.inner.base
    }

    /// The negotiated session timeout of the current session, if connected.
    pub fn session_timeout(&self) -> Option<Duration> {
        self.inner
            .link
            .borrow()
            .client
            .as_ref()
            .map(zk::Client::session_timeout)
    }
}

impl Drop for ZookeeperRegistry {
    fn drop(&mut self) {
        // Stops the tasks; their clients drop and the session closes.
        self.inner.shutdown.send_replace(true);
        self.inner.link.send_modify(|l| l.client = None);
    }
}

pub(crate) fn zk_error(what: &str, path: &str, e: zk::Error) -> Error {
    let kind = match e {
        zk::Error::ConnectionLoss
        | zk::Error::SessionExpired
        | zk::Error::SessionMoved
        | zk::Error::ClientClosed
        | zk::Error::NoHosts
        | zk::Error::Throttled => ErrorKind::Unavailable,
        zk::Error::Timeout => ErrorKind::Timeout,
        _ => ErrorKind::Rejected,
    };
    Error::with_source(kind, format!("ZooKeeper {what} {path}"), e)
}

fn parent(path: &str) -> &str {
    match path.rfind('/') {
        Some(0) | None => "/",
        Some(i) => &path[..i],
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

    /// The connected client, or `Unavailable`.
    fn client(&self) -> Result<zk::Client> {
        let link = self.link.borrow();
        match (&link.client, link.connected) {
            (Some(c), true) => Ok(c.clone()),
            _ => Err(Error::new(
                ErrorKind::Unavailable,
                format!("not connected to ZooKeeper {}", self.hosts),
            )),
        }
    }

    /// Bounds one request: a disconnected client would otherwise wait for the reconnect.
    fn op_timeout(&self) -> Duration {
        self.session_timeout
            .clamp(Duration::from_secs(2), Duration::from_secs(10))
    }

    async fn run<T>(
        &self,
        what: &str,
        path: &str,
        op: impl std::future::Future<Output = std::result::Result<T, zk::Error>>,
    ) -> Result<T> {
        match tokio::time::timeout(self.op_timeout(), op).await {
            Ok(Ok(v)) => Ok(v),
            Ok(Err(e)) => Err(zk_error(what, path, e)),
            Err(_) => Err(Error::new(
                ErrorKind::Timeout,
                format!(
                    "ZooKeeper {what} {path}: no answer in {:?}",
                    self.op_timeout()
                ),
            )),
        }
    }

    async fn mkdir(&self, client: &zk::Client, dir: &str) -> Result<()> {
        let options = zk::CreateMode::Persistent.with_acls(zk::Acls::anyone_all());
        self.run("mkdir", dir, client.mkdir(dir, &options)).await
    }

    /// Creates the ephemeral node `path` for this session. A node left by an earlier session
    /// (or another process with the same URL) is replaced, so it lives and dies with ours.
    async fn put_node(&self, client: &zk::Client, path: &str, data: &[u8]) -> Result<()> {
        let options = zk::CreateMode::Ephemeral.with_acls(zk::Acls::anyone_all());
        for _ in 0..3 {
            match tokio::time::timeout(self.op_timeout(), client.create(path, data, &options)).await
            {
                Ok(Ok(_)) => return Ok(()),
                Ok(Err(zk::Error::NoNode)) => self.mkdir(client, parent(path)).await?,
                Ok(Err(zk::Error::NodeExists)) => {
                    let stat = self.run("stat", path, client.check_stat(path)).await?;
                    match stat {
                        Some(s) if s.ephemeral_owner == client.session_id().0 => return Ok(()),
                        Some(_) => self.delete(client, path).await?,
                        None => {}
                    }
                }
                Ok(Err(e)) => return Err(zk_error("create", path, e)),
                Err(_) => {
                    return Err(Error::new(
                        ErrorKind::Timeout,
                        format!("ZooKeeper create {path}: no answer"),
                    ))
                }
            }
        }
        Err(Error::new(
            ErrorKind::Rejected,
            format!("ZooKeeper create {path}: node keeps changing"),
        ))
    }

    async fn delete(&self, client: &zk::Client, path: &str) -> Result<()> {
        match tokio::time::timeout(self.op_timeout(), client.delete(path, None)).await {
            Ok(Ok(())) | Ok(Err(zk::Error::NoNode)) => Ok(()),
            Ok(Err(e)) => Err(zk_error("delete", path, e)),
            Err(_) => Err(Error::new(
                ErrorKind::Timeout,
                format!("ZooKeeper delete {path}: no answer"),
            )),
        }
    }

    /// Makes the server match what this registry owns: deletes doomed nodes, (re)creates
    /// missing ones. Run after every (re)connect.
    async fn restore(&self, client: &zk::Client) {
        let doomed = std::mem::take(&mut *lock(&self.doomed));
        for path in doomed {
            if let Err(e) = self.delete(client, &path).await {
                tracing::warn!(path, error = %e, "ZooKeeper: could not delete an unregistered node");
                lock(&self.doomed).push(path);
            }
        }
        let nodes: Vec<Node> = lock(&self.nodes).values().cloned().collect();
        for node in nodes {
            if let Err(e) = self.put_node(client, &node.path, &node.data).await {
                tracing::warn!(path = node.path, error = %e, "ZooKeeper: could not restore a node");
            }
        }
    }

    /// Forgets `key` and deletes its node (later, if the connection is down).
    async fn drop_node(&self, key: &str) -> Result<()> {
        let node = {
            let mut nodes = lock(&self.nodes);
            match nodes.get_mut(key) {
                Some(n) if n.refs > 1 => {
                    n.refs -= 1;
                    return Ok(());
                }
                Some(_) => nodes.remove(key),
                None => None,
            }
        };
        let Some(node) = node else { return Ok(()) };
        let deleted = match self.client() {
            Ok(client) => self.delete(&client, &node.path).await,
            Err(e) => Err(e),
        };
        if let Err(e) = deleted {
            lock(&self.doomed).push(node.path);
            return Err(e);
        }
        Ok(())
    }
}

impl Registry for ZookeeperRegistry {
    fn name(&self) -> &'static str {
        "zookeeper"
    }

    fn register<'a>(&'a self, registration: &'a Registration) -> BoxFuture<'a, Result<()>> {
        async move {
            let inner = &self.inner;
            inner.check_open()?;
            check_interface(registration.interface())?;
            let client = inner.client()?;
            let dir = providers_dir(&inner.base, registration.interface());
            let path = node_path(&dir, &registration.provider().to_string());
            let dynamic = registration.provider().param("dynamic") != Some("false");
            let node = Node {
                path: path.clone(),
                data: vec![u8::from(dynamic)],
                refs: 1,
            };
            let key = registration.key();
            let old = lock(&inner.nodes).insert(key.clone(), node.clone());
            if let Some(old) = old.filter(|o| o.path != path) {
                // The previous URL of this provider; retried after a reconnect if need be.
                if inner.delete(&client, &old.path).await.is_err() {
                    lock(&inner.doomed).push(old.path);
                }
            }
            if let Err(e) = inner.put_node(&client, &path, &node.data).await {
                lock(&inner.nodes).remove(&key);
                return Err(e);
            }
            Ok(())
        }
        .boxed()
    }

    fn unregister<'a>(&'a self, registration: &'a Registration) -> BoxFuture<'a, Result<()>> {
        async move {
            self.inner.check_open()?;
            self.inner.drop_node(&registration.key()).await
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
            let client = inner.client()?;
            let (stream, start) = inner.fanout.add(interface, subscription);
            if start {
                tokio::spawn(watch::watch_interface(inner.clone(), interface.to_string()));
            }
            let path = node_path(
                &consumers_dir(&inner.base, interface),
                &subscription.consumer_url(),
            );
            let key = format!("consumer\n{}", subscription.key());
            let create = {
                let mut nodes = lock(&inner.nodes);
                match nodes.get_mut(&key) {
                    Some(n) => {
                        n.refs += 1;
                        None
                    }
                    None => {
                        let node = Node {
                            path,
                            data: Vec::new(),
                            refs: 1,
                        };
                        nodes.insert(key, node.clone());
                        Some(node)
                    }
                }
            };
            if let Some(node) = create {
                // Best effort: the consumer entry is informational; `restore` retries it.
                if let Err(e) = inner.put_node(&client, &node.path, &node.data).await {
                    tracing::warn!(path = node.path, error = %e, "ZooKeeper: consumer node not created");
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
            // All streams of the subscription ended: the consumer node goes too.
            if let Some(n) = lock(&inner.nodes).get_mut(&key) {
                n.refs = 1;
            }
            inner.drop_node(&key).await
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
            inner.shutdown.send_replace(true);
            inner.fanout.close();
            let nodes = std::mem::take(&mut *lock(&inner.nodes));
            let mut result = Ok(());
            if let Ok(client) = inner.client() {
                for node in nodes.values() {
                    if let Err(e) = inner.delete(&client, &node.path).await {
                        result = Err(e);
                    }
                }
            }
            inner.link.send_modify(|l| {
                l.client = None;
                l.connected = false;
            });
            result
        }
        .boxed()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parents_and_errors() {
        assert_eq!(parent("/a/b/c"), "/a/b");
        assert_eq!(parent("/a"), "/");
        let e = zk_error("create", "/x", zk::Error::ConnectionLoss);
        assert_eq!(e.kind(), ErrorKind::Unavailable);
        assert_eq!(
            zk_error("c", "/x", zk::Error::NoAuth).kind(),
            ErrorKind::Rejected
        );
        assert!(check_interface("a/b").is_err());
    }
}
