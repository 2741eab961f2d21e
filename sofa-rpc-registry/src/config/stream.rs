//! The channel between a backend's watch task and the [`ConfigStream`] it hands out.

use std::time::Duration;

use tokio::sync::mpsc;

use super::{ConfigStream, ConfigUpdate};

/// Where a watch task sends its updates; knows when the stream was dropped.
pub(super) struct Updates {
    tx: mpsc::Sender<ConfigUpdate>,
}

/// A connected pair: the task's end and the consumer's stream.
pub(super) fn channel() -> (Updates, ConfigStream) {
    // A few slots: updates are whole values, a slow consumer only needs the latest ones.
    let (tx, rx) = mpsc::channel(8);
    let stream = futures::stream::unfold(rx, |mut rx| async move {
        rx.recv().await.map(|update| (update, rx))
    });
    (Updates { tx }, Box::pin(stream))
}

impl Updates {
    /// Sends one update; `false` once the stream is gone (the task should end).
    pub(super) async fn send(&self, update: ConfigUpdate) -> bool {
        self.tx.send(update).await.is_ok()
    }

    /// Resolves when the stream was dropped.
    #[cfg_attr(
        not(any(feature = "zookeeper", feature = "etcd", feature = "nacos")),
        allow(dead_code)
    )]
    pub(super) async fn closed(&self) {
        self.tx.closed().await
    }

    /// Waits `delay` unless the stream is dropped first; `false` when it was.
    pub(super) async fn pause(&self, delay: Duration) -> bool {
        tokio::select! {
            _ = self.tx.closed() => false,
            _ = tokio::time::sleep(delay) => true,
        }
    }
}
