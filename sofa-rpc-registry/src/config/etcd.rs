//! `etcd`: one key, read and watched through the v3 API.
//!
//! `etcd://h:p[,h:p]/key`: the key is the URL's path, leading `/` included. The watch reads
//! the key, then watches it from the next revision. When the watch breaks (server gone,
//! restarted) it is re-created from the revision after the last one seen, so no change in
//! between is missed and none is repeated; the value known then is yielded again once the
//! watch is back, to tell the consumer the source answers. A compacted revision, or a
//! server whose revision went backwards (restarted without its data), means a fresh read.

use std::time::Duration;

use etcd_client as etcd;

use super::stream::{channel, Updates};
use super::{ConfigSource, ConfigStream, ConfigUpdate};
use crate::address::RegistryUrl;
use crate::backoff::Backoff;
use crate::error::{Error, ErrorKind, Result};
use crate::etcd::{bounded, etcd_error};

/// Watches etcd keys: the key is the etcd key.
#[derive(Clone, Debug)]
pub struct EtcdSource {
    endpoints: Vec<String>,
}

impl EtcdSource {
    /// A source for the endpoints `hosts` (`h:p` or full URLs).
    pub fn new<S: AsRef<str>>(hosts: &[S]) -> Self {
        let endpoints = hosts
            .iter()
            .map(|h| {
                let h = h.as_ref();
                if h.contains("://") {
                    h.to_string()
                } else {
                    format!("http://{h}")
                }
            })
            .collect();
        EtcdSource { endpoints }
    }

    pub(super) fn from_url(url: &RegistryUrl) -> Result<Self> {
        Ok(Self::new(&url.require_hosts()?))
    }

    async fn connect(&self) -> Result<etcd::Client> {
        let options = etcd::ConnectOptions::new()
            .with_connect_timeout(Duration::from_secs(3))
            .with_keep_alive(Duration::from_secs(3), Duration::from_secs(3))
            .with_keep_alive_while_idle(true);
        bounded(
            "connect",
            etcd::Client::connect(&self.endpoints, Some(options)),
        )
        .await
        .map_err(|e| {
            Error::with_source(
                ErrorKind::Unavailable,
                format!("cannot connect to etcd {}", self.endpoints.join(",")),
                e,
            )
        })
    }
}

impl ConfigSource for EtcdSource {
    fn describe(&self) -> String {
        let hosts: Vec<&str> = self
            .endpoints
            .iter()
            .map(|e| e.trim_start_matches("http://"))
            .collect();
        format!("etcd://{}", hosts.join(","))
    }

    fn watch(&self, key: &str) -> Result<ConfigStream> {
        if key.is_empty() {
            return Err(Error::invalid("an etcd config key must not be empty"));
        }
        let (updates, stream) = channel();
        tokio::spawn(watch_key(self.clone(), key.to_string(), updates));
        Ok(stream)
    }
}

/// What the watch knows: the value and the revision it was read at.
struct Known {
    value: Option<Vec<u8>>,
    revision: i64,
}

async fn watch_key(source: EtcdSource, key: String, updates: Updates) {
    let mut backoff = Backoff::new();
    let mut client = None;
    let mut known: Option<Known> = None;
    loop {
        let c = match &client {
            Some(c) => Ok(c),
            None => source.connect().await.map(|c| &*client.insert(c)),
        };
        let failure = match c {
            Ok(c) => match follow(c.clone(), &key, &mut known, &updates, &mut backoff).await {
                Ok(()) => return,
                Err(e) => e,
            },
            Err(e) => e,
        };
        if !updates.send(Err(failure)).await || !updates.pause(backoff.next_delay()).await {
            return;
        }
    }
}

/// Reads (unless a revision is known) and watches; `Ok` when the stream was dropped, `Err`
/// for an outage to report before trying again.
async fn follow(
    mut client: etcd::Client,
    key: &str,
    known: &mut Option<Known>,
    updates: &Updates,
    backoff: &mut Backoff,
) -> Result<()> {
    // Resuming a watch the consumer had (not right after a read, which was just sent).
    let resumed = known.is_some();
    let from = match known {
        Some(k) => k.revision + 1,
        None => {
            let read = read(&mut client, key).await?;
            let from = read.revision + 1;
            let value = read.value.clone();
            *known = Some(read);
            if !updates.send(Ok(value)).await {
                return Ok(());
            }
            from
        }
    };
    let options = etcd::WatchOptions::new().with_start_revision(from);
    let mut stream = bounded("watch", client.watch(key, Some(options))).await?;
    loop {
        let message = tokio::select! {
            _ = updates.closed() => return Ok(()),
            message = stream.message() => message,
        };
        let reply = match message {
            Ok(Some(reply)) => reply,
            Ok(None) => {
                return Err(Error::new(
                    ErrorKind::Unavailable,
                    format!("etcd closed the watch on {key}"),
                ))
            }
            Err(e) => return Err(etcd_error("watch", e)),
        };
        let server_revision = reply.header().map(|h| h.revision()).unwrap_or(0);
        let behind = known.as_ref().is_some_and(|k| server_revision < k.revision);
        if reply.canceled() || reply.compact_revision() > 0 || behind {
            // Our revision is gone (compacted, or a server without our history): read anew.
            tracing::debug!(
                key,
                server_revision,
                "etcd watch cannot resume; reading the key again"
            );
            *known = None;
            return Box::pin(follow(client, key, known, updates, backoff)).await;
        }
        backoff.reset();
        let mut update: Option<ConfigUpdate> = None;
        if reply.created() && resumed {
            // The watch is (back) in place: the consumer hears the source answers again.
            update = known.as_ref().map(|k| Ok(k.value.clone()));
        }
        for event in reply.events() {
            let Some(kv) = event.kv() else { continue };
            let value = match event.event_type() {
                etcd::EventType::Put => Some(kv.value().to_vec()),
                etcd::EventType::Delete => None,
            };
            *known = Some(Known {
                value: value.clone(),
                revision: kv.mod_revision(),
            });
            update = Some(Ok(value));
        }
        if let Some(update) = update {
            if !updates.send(update).await {
                return Ok(());
            }
        }
    }
}

async fn read(client: &mut etcd::Client, key: &str) -> Result<Known> {
    let got = bounded("get", client.get(key, None)).await?;
    let revision = got.header().map(|h| h.revision()).unwrap_or(0);
    let value = got.kvs().first().map(|kv| kv.value().to_vec());
    Ok(Known { value, revision })
}
