//! Watching one interface's providers.

use std::sync::Arc;

use zookeeper_client as zk;

use super::Inner;
use crate::backoff::Backoff;
use crate::error::{Error, ErrorKind, Result};
use crate::layout::{parse_child, providers_dir};
use crate::provider::ProviderInfo;

/// Lists `{base}/{interface}/providers` with a watch, publishes the list, waits for the
/// watch (or a session change) and starts over, until no subscriber is left.
pub(super) async fn watch_interface(inner: Arc<Inner>, interface: String) {
    let dir = providers_dir(&inner.base, &interface);
    let mut link = inner.link.subscribe();
    let mut dropped = inner.fanout.dropped();
    let mut shutdown = inner.shutdown.subscribe();
    let mut seen_generation = None;
    let mut backoff = Backoff::new();
    loop {
        if *shutdown.borrow() || !inner.fanout.keep_running(&interface) {
            return;
        }
        let current = link.borrow_and_update().clone();
        let client = match (current.client, current.connected) {
            (Some(client), true) => client,
            _ => {
                tokio::select! {
                    _ = link.changed() => {}
                    _ = dropped.changed() => {}
                    _ = shutdown.changed() => {}
                }
                continue;
            }
        };
        match list(&inner, &client, &dir).await {
            Ok((children, watcher)) => {
                backoff.reset();
                let providers: Vec<ProviderInfo> =
                    children.iter().filter_map(|c| parse_child(c)).collect();
                // A new session may have missed changes: subscribers get a snapshot.
                let resync = seen_generation.is_some_and(|g| g != current.generation);
                seen_generation = Some(current.generation);
                inner.fanout.publish(&interface, &providers, resync);
                tokio::select! {
                    _ = watcher.changed() => {}
                    _ = link.changed() => {}
                    _ = dropped.changed() => {}
                    _ = shutdown.changed() => {}
                }
            }
            Err(e) => {
                inner.fanout.fail(&interface, &e);
                tokio::select! {
                    _ = tokio::time::sleep(backoff.next_delay()) => {}
                    _ = link.changed() => {}
                    _ = shutdown.changed() => {}
                }
            }
        }
    }
}

async fn list(
    inner: &Inner,
    client: &zk::Client,
    dir: &str,
) -> Result<(Vec<String>, zk::OneshotWatcher)> {
    for _ in 0..2 {
        match tokio::time::timeout(inner.op_timeout(), client.list_and_watch_children(dir)).await {
            Ok(Ok(listed)) => return Ok(listed),
            // Nobody registered yet: create the path (as Java's consumers do) and watch it.
            Ok(Err(zk::Error::NoNode)) => inner.mkdir(client, dir).await?,
            Ok(Err(e)) => return Err(super::zk_error("list", dir, e)),
            Err(_) => {
                return Err(Error::new(
                    ErrorKind::Timeout,
                    format!("ZooKeeper list {dir}: no answer"),
                ))
            }
        }
    }
    Err(Error::new(
        ErrorKind::Rejected,
        format!("ZooKeeper list {dir}: the path keeps disappearing"),
    ))
}
