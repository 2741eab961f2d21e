//! Keeping the lease alive, and replacing it when it is lost.

use std::sync::Arc;
use std::time::{Duration, Instant};

use super::{bounded, Inner};
use crate::backoff::Backoff;

enum End {
    Shutdown,
    Lost,
}

/// Keeps `first` alive; when it is lost, grants a new lease and rewrites every key; on
/// shutdown revokes the lease so the keys go at once.
pub(super) async fn keep_leases(inner: Arc<Inner>, first: i64) {
    let mut shutdown = inner.shutdown.subscribe();
    let mut backoff = Backoff::new();
    let mut lease = Some(first);
    loop {
        if *shutdown.borrow() {
            break;
        }
        let id = match lease.take() {
            Some(id) => id,
            None => match inner.grant().await {
                Ok(id) if *shutdown.borrow() => {
                    // Closed while the grant was in flight: hand it back at once.
                    inner.lease.send_replace(Some(id));
                    break;
                }
                Ok(id) => {
                    // Keys first, then the lease becomes visible to register/subscribe.
                    if let Err(e) = inner.restore(id).await {
                        tracing::warn!(error = %e, "etcd: rewriting keys under the new lease failed");
                    }
                    inner.lease.send_replace(Some(id));
                    backoff.reset();
                    tracing::info!(lease = id, "etcd: new lease granted, keys rewritten");
                    id
                }
                Err(e) => {
                    tracing::debug!(error = %e, "etcd: lease grant failed");
                    tokio::select! {
                        _ = tokio::time::sleep(backoff.next_delay()) => {}
                        _ = shutdown.changed() => {}
                    }
                    continue;
                }
            },
        };
        match keep_alive(&inner, id).await {
            End::Shutdown => break,
            End::Lost => {
                tracing::warn!(lease = id, "etcd: lease lost");
                inner.lease.send_replace(None);
            }
        }
    }
    if let Some(id) = inner.lease.send_replace(None) {
        if let Err(e) = bounded("lease revoke", inner.client.clone().lease_revoke(id)).await {
            tracing::warn!(lease = id, error = %e, "etcd: revoking the lease failed; its keys expire with it");
        }
    }
}

/// Refreshes lease `id` every third of the TTL until it is lost or the registry shuts down.
async fn keep_alive(inner: &Inner, id: i64) -> End {
    let mut shutdown = inner.shutdown.subscribe();
    let period = (inner.ttl / 3).max(Duration::from_millis(300));
    let mut last_ok = Instant::now();
    let mut backoff = Backoff::new();
    loop {
        if *shutdown.borrow() {
            return End::Shutdown;
        }
        if last_ok.elapsed() >= inner.ttl {
            // The server has certainly dropped it by now.
            return End::Lost;
        }
        let opened = bounded(
            "lease keep-alive",
            inner.client.clone().lease_keep_alive(id),
        )
        .await;
        let (mut keeper, mut stream) = match opened {
            Ok(pair) => pair,
            Err(e) => {
                tracing::debug!(error = %e, "etcd: keep-alive stream failed");
                tokio::select! {
                    _ = tokio::time::sleep(backoff.next_delay().min(period)) => {}
                    _ = shutdown.changed() => {}
                }
                continue;
            }
        };
        loop {
            if keeper.keep_alive().await.is_err() {
                break;
            }
            match tokio::time::timeout(period, stream.message()).await {
                Ok(Ok(Some(reply))) if reply.ttl() > 0 => {
                    last_ok = Instant::now();
                    backoff.reset();
                    let has_doomed = !super::lock(&inner.doomed).is_empty();
                    if has_doomed {
                        let _ = inner.restore(id).await;
                    }
                }
                // TTL 0: the server does not know the lease (expired, or lost its data).
                Ok(Ok(Some(_))) => return End::Lost,
                _ => break,
            }
            tokio::select! {
                _ = tokio::time::sleep(period) => {}
                _ = shutdown.changed() => return End::Shutdown,
            }
        }
    }
}
