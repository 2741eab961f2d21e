//! Connecting, and replacing sessions that expire.

use std::sync::Arc;
use std::time::Duration;

use zookeeper_client as zk;

use super::Inner;
use crate::backoff::Backoff;
use crate::error::{Error, ErrorKind, Result};

/// Opens a session; fails when no server gave one within the session timeout (at least 10 s:
/// a cold ZooKeeper can take seconds to answer its first session request).
pub(crate) async fn connect(hosts: &str, session_timeout: Duration) -> Result<zk::Client> {
    let connecting = zk::Client::connector()
        .with_session_timeout(session_timeout)
        .connect(hosts);
    let limit = session_timeout.clamp(Duration::from_secs(10), Duration::from_secs(30));
    match tokio::time::timeout(limit, connecting).await {
        Ok(Ok(client)) => Ok(client),
        Ok(Err(e)) => Err(Error::with_source(
            ErrorKind::Unavailable,
            format!("cannot connect to ZooKeeper {hosts}"),
            e,
        )),
        Err(_) => Err(Error::new(
            ErrorKind::Unavailable,
            format!("cannot connect to ZooKeeper {hosts}: no session in {limit:?}"),
        )),
    }
}

/// Follows the session's state for as long as the registry lives: marks the link up and
/// down, reports outages to subscribers, re-creates nodes after a reconnect, and opens a new
/// session when the old one expired.
pub(super) async fn supervise(inner: Arc<Inner>) {
    let mut shutdown = inner.shutdown.subscribe();
    let mut backoff = Backoff::new();
    loop {
        let client = inner.link.borrow().client.clone();
        if let Some(client) = client {
            let mut states = client.state_watcher();
            loop {
                let state = tokio::select! {
                    _ = shutdown.changed() => return,
                    state = states.changed() => state,
                };
                match state {
                    zk::SessionState::Disconnected => {
                        inner.link.send_modify(|l| l.connected = false);
                        inner.fanout.fail_all(&Error::new(
                            ErrorKind::Unavailable,
                            format!("lost the connection to ZooKeeper {}", inner.hosts),
                        ));
                    }
                    zk::SessionState::SyncConnected | zk::SessionState::ConnectedReadOnly => {
                        inner.restore(&client).await;
                        inner.link.send_modify(|l| l.connected = true);
                    }
                    state if state.is_terminated() => {
                        tracing::warn!(?state, hosts = inner.hosts, "ZooKeeper session ended");
                        break;
                    }
                    _ => {}
                }
            }
            inner.link.send_modify(|l| {
                l.client = None;
                l.connected = false;
            });
            inner.fanout.fail_all(&Error::new(
                ErrorKind::Unavailable,
                format!("ZooKeeper session with {} expired", inner.hosts),
            ));
        }
        // A new session: every node again, then watchers re-list (new generation).
        loop {
            if *shutdown.borrow() {
                return;
            }
            match connect(&inner.hosts, inner.session_timeout).await {
                Ok(client) => {
                    backoff.reset();
                    inner.restore(&client).await;
                    inner.link.send_modify(|l| {
                        l.generation += 1;
                        l.client = Some(client);
                        l.connected = true;
                    });
                    tracing::info!(hosts = inner.hosts, "ZooKeeper session re-established");
                    break;
                }
                Err(e) => {
                    tracing::debug!(error = %e, "ZooKeeper reconnect failed");
                    tokio::select! {
                        _ = shutdown.changed() => return,
                        _ = tokio::time::sleep(backoff.next_delay()) => {}
                    }
                }
            }
        }
    }
}
