//! `zookeeper`: a node's data, watched.
//!
//! `zookeeper://h:p[,h:p]/node/path[?sessionTimeout=ms]`. The value is the node's data; a
//! missing node is an absent key (its creation is watched too). Each watch has a session of
//! its own (opened with the registry's connection code): while the connection is down the
//! watch yields one `Unavailable` error per loss and re-reads the node once connected, and an
//! expired session is replaced by a new one, which reads the node again.

use std::time::Duration;

use zookeeper_client as zk;

use super::stream::{channel, Updates};
use super::{ConfigSource, ConfigStream};
use crate::address::RegistryUrl;
use crate::backoff::Backoff;
use crate::error::{Error, ErrorKind, Result};
use crate::zookeeper::{session, zk_error, DEFAULT_SESSION_TIMEOUT};

/// Bound on one read.
const OP_TIMEOUT: Duration = Duration::from_secs(5);

/// Watches ZooKeeper nodes: the key is the node path (`/sofa/rules/guard`).
#[derive(Clone, Debug)]
pub struct ZookeeperSource {
    hosts: String,
    session_timeout: Duration,
}

impl ZookeeperSource {
    /// A source for the ensemble `hosts` (`h:p[,h:p]`).
    pub fn new(hosts: impl Into<String>, session_timeout: Duration) -> Self {
        ZookeeperSource {
            hosts: hosts.into(),
            session_timeout,
        }
    }

    pub(super) fn from_url(url: &RegistryUrl) -> Result<Self> {
        let hosts = url.require_hosts()?.join(",");
        let timeout = url.param_millis("sessionTimeout", DEFAULT_SESSION_TIMEOUT)?;
        Ok(Self::new(hosts, timeout))
    }
}

impl ConfigSource for ZookeeperSource {
    fn describe(&self) -> String {
        format!("zookeeper://{}", self.hosts)
    }

    fn watch(&self, key: &str) -> Result<ConfigStream> {
        if !key.starts_with('/') || (key.len() > 1 && key.ends_with('/')) {
            return Err(Error::invalid(format!(
                "ZooKeeper config key {key:?} is not a node path (/a/b)"
            )));
        }
        let (updates, stream) = channel();
        tokio::spawn(watch_node(self.clone(), key.to_string(), updates));
        Ok(stream)
    }
}

async fn watch_node(source: ZookeeperSource, path: String, updates: Updates) {
    let mut backoff = Backoff::new();
    loop {
        let client = match session::connect(&source.hosts, source.session_timeout).await {
            Ok(client) => client,
            Err(e) => {
                if !updates.send(Err(e)).await || !updates.pause(backoff.next_delay()).await {
                    return;
                }
                continue;
            }
        };
        match follow_session(&client, &path, &updates, &mut backoff).await {
            Some(()) => {
                tracing::debug!(
                    hosts = source.hosts,
                    path,
                    "ZooKeeper session ended; opening a new one"
                )
            }
            None => return,
        }
    }
}

/// Reads and watches `path` for as long as `client`'s session lives; `Some` when the session
/// ended, `None` when the stream was dropped.
async fn follow_session(
    client: &zk::Client,
    path: &str,
    updates: &Updates,
    backoff: &mut Backoff,
) -> Option<()> {
    let mut states = client.state_watcher();
    loop {
        if client.state().is_terminated() {
            return Some(());
        }
        let watcher = match read(client, path).await {
            Ok((value, watcher)) => {
                backoff.reset();
                if !updates.send(Ok(value)).await {
                    return None;
                }
                watcher
            }
            Err(e) => {
                if !updates.send(Err(e)).await || !updates.pause(backoff.next_delay()).await {
                    return None;
                }
                continue;
            }
        };
        let changed = watcher.changed();
        tokio::pin!(changed);
        loop {
            tokio::select! {
                _ = updates.closed() => return None,
                _ = &mut changed => break,
                state = states.changed() => match state {
                    zk::SessionState::Disconnected => {
                        let lost = Error::new(ErrorKind::Unavailable, format!("lost the connection to ZooKeeper while watching {path}"));
                        if !updates.send(Err(lost)).await {
                            return None;
                        }
                    }
                    // Connected again: read anew, the consumer wants to hear the source is back.
                    zk::SessionState::SyncConnected | zk::SessionState::ConnectedReadOnly => break,
                    state if state.is_terminated() => return Some(()),
                    _ => {}
                },
            }
        }
    }
}

/// The node's data (or `None`) with a watch on its next change, creation or deletion.
async fn read(client: &zk::Client, path: &str) -> Result<(Option<Vec<u8>>, zk::OneshotWatcher)> {
    // A node can appear or vanish between the two calls: try a few times.
    for _ in 0..3 {
        match bounded(path, client.get_and_watch_data(path)).await? {
            Ok((data, _, watcher)) => return Ok((Some(data), watcher)),
            Err(zk::Error::NoNode) => {}
            Err(e) => return Err(zk_error("get", path, e)),
        }
        match bounded(path, client.check_and_watch_stat(path)).await? {
            Ok((None, watcher)) => return Ok((None, watcher)),
            Ok((Some(_), _)) => continue,
            Err(e) => return Err(zk_error("exists", path, e)),
        }
    }
    Err(Error::new(
        ErrorKind::Unavailable,
        format!("ZooKeeper node {path} keeps appearing and vanishing"),
    ))
}

async fn bounded<T>(
    path: &str,
    op: impl std::future::Future<Output = std::result::Result<T, zk::Error>>,
) -> Result<std::result::Result<T, zk::Error>> {
    tokio::time::timeout(OP_TIMEOUT, op).await.map_err(|_| {
        Error::new(
            ErrorKind::Timeout,
            format!("ZooKeeper read {path}: no answer in {OP_TIMEOUT:?}"),
        )
    })
}
