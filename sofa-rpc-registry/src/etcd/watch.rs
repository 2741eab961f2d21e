//! Watching one interface's provider keys.

use std::collections::BTreeMap;
use std::sync::Arc;

use etcd_client as etcd;

use super::{bounded, Inner};
use crate::backoff::Backoff;
use crate::error::{Error, ErrorKind};
use crate::layout::{parse_child, providers_dir};
use crate::provider::ProviderInfo;

/// Reads `{base}/{interface}/providers/` and watches it from the next revision, until no
/// subscriber is left. Any failure starts over with a fresh read.
pub(super) async fn watch_interface(inner: Arc<Inner>, interface: String) {
    let prefix = format!("{}/", providers_dir(&inner.base, &interface));
    let mut dropped = inner.fanout.dropped();
    let mut shutdown = inner.shutdown.subscribe();
    let mut backoff = Backoff::new();
    loop {
        if *shutdown.borrow() || !inner.fanout.keep_running(&interface) {
            return;
        }
        let failure =
            match watch_once(&inner, &interface, &prefix, &mut dropped, &mut shutdown).await {
                Ok(()) => continue,
                Err(e) => e,
            };
        inner.fanout.fail(&interface, &failure);
        tokio::select! {
            _ = tokio::time::sleep(backoff.next_delay()) => {}
            _ = shutdown.changed() => {}
        }
    }
}

pub(super) fn provider_of(key: &[u8], value: &[u8]) -> Option<ProviderInfo> {
    std::str::from_utf8(value)
        .ok()
        .and_then(|v| v.parse().ok())
        .or_else(|| {
            let key = std::str::from_utf8(key).ok()?;
            parse_child(key.rsplit('/').next()?)
        })
}

fn publish(inner: &Inner, interface: &str, keys: &BTreeMap<Vec<u8>, ProviderInfo>) {
    let providers: Vec<ProviderInfo> = keys.values().cloned().collect();
    inner.fanout.publish(interface, &providers, false);
}

/// One read + watch cycle. `Ok` means "stop or start over" (no subscriber left, shutdown,
/// compaction); `Err` an outage to report.
async fn watch_once(
    inner: &Inner,
    interface: &str,
    prefix: &str,
    dropped: &mut tokio::sync::watch::Receiver<u64>,
    shutdown: &mut tokio::sync::watch::Receiver<bool>,
) -> crate::error::Result<()> {
    let got = bounded(
        "get",
        inner
            .client
            .clone()
            .get(prefix, Some(etcd::GetOptions::new().with_prefix())),
    )
    .await?;
    let revision = got.header().map(|h| h.revision()).unwrap_or(0);
    let mut keys: BTreeMap<Vec<u8>, ProviderInfo> = got
        .kvs()
        .iter()
        .filter_map(|kv| Some((kv.key().to_vec(), provider_of(kv.key(), kv.value())?)))
        .collect();
    publish(inner, interface, &keys);
    let options = etcd::WatchOptions::new()
        .with_prefix()
        .with_start_revision(revision + 1);
    let mut stream = bounded("watch", inner.client.clone().watch(prefix, Some(options))).await?;
    loop {
        tokio::select! {
            message = stream.message() => match message {
                Ok(Some(reply)) => {
                    if reply.canceled() || reply.compact_revision() > 0 {
                        // Compacted past our revision: read everything again.
                        return Ok(());
                    }
                    if reply.events().is_empty() {
                        continue;
                    }
                    for event in reply.events() {
                        let Some(kv) = event.kv() else { continue };
                        match event.event_type() {
                            etcd::EventType::Put => {
                                if let Some(p) = provider_of(kv.key(), kv.value()) {
                                    keys.insert(kv.key().to_vec(), p);
                                }
                            }
                            etcd::EventType::Delete => {
                                keys.remove(kv.key());
                            }
                        }
                    }
                    publish(inner, interface, &keys);
                }
                Ok(None) => {
                    return Err(Error::new(
                        ErrorKind::Unavailable,
                        format!("etcd {} closed the watch", inner.endpoints),
                    ))
                }
                Err(e) => return Err(super::etcd_error("watch", e)),
            },
            _ = dropped.changed() => {
                if !inner.fanout.keep_running(interface) {
                    return Ok(());
                }
            }
            _ = shutdown.changed() => return Ok(()),
        }
    }
}
