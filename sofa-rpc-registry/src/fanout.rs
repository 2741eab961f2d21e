//! Turns full provider lists into per-subscriber snapshots and diffs.
//!
//! Every backend learns "the providers of topic T are now L" (a ZooKeeper children list, an
//! etcd prefix, a Nacos push, a file scan). `Fanout` filters L for each subscriber, compares
//! it with what that subscriber was last told and sends the difference, so backends never
//! compute diffs themselves.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::{Arc, Mutex, MutexGuard};

use tokio::sync::{mpsc, watch};

use crate::change::ProviderChange;
use crate::error::{Error, Result};
use crate::provider::ProviderInfo;
use crate::registry::{ProviderStream, Subscription};

type Sender = mpsc::UnboundedSender<Result<ProviderChange>>;

struct Sink {
    topic: String,
    sub: Subscription,
    tx: Sender,
    /// What the subscriber was last told; `None` before its first snapshot.
    last: Option<BTreeMap<String, ProviderInfo>>,
    /// An outage was reported; the next list goes out as a snapshot.
    failed: bool,
}

#[derive(Default)]
struct State {
    sinks: Vec<Sink>,
    /// The last full list per topic, for subscribers that join a running watch.
    current: HashMap<String, Vec<ProviderInfo>>,
    /// Topics whose backend watch is running.
    running: HashSet<String>,
}

pub(crate) struct Fanout {
    state: Mutex<State>,
    /// Bumped whenever a subscriber goes away, so watch tasks can stop early.
    dropped: Arc<watch::Sender<u64>>,
}

impl Fanout {
    pub(crate) fn new() -> Self {
        Fanout {
            state: Mutex::new(State::default()),
            dropped: Arc::new(watch::channel(0).0),
        }
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Adds a subscriber of `topic`. Returns its stream and whether the caller must start the
    /// topic's watch (it is then marked running). A subscriber joining a topic whose list is
    /// known gets its snapshot at once.
    pub(crate) fn add(&self, topic: &str, sub: &Subscription) -> (ProviderStream, bool) {
        let (tx, rx) = mpsc::unbounded_channel();
        let mut state = self.lock();
        let mut sink = Sink {
            topic: topic.to_string(),
            sub: sub.clone(),
            tx,
            last: None,
            failed: false,
        };
        if let Some(list) = state.current.get(topic) {
            send_list(&mut sink, list, true);
        }
        state.sinks.push(sink);
        let start = state.running.insert(topic.to_string());
        (ProviderStream::new(rx, self.dropped.clone()), start)
    }

    #[cfg(feature = "nacos")]
    /// Undoes the `running` mark when starting a watch failed; the topic's subscribers are
    /// dropped (their streams end).
    pub(crate) fn abort_topic(&self, topic: &str) {
        let mut state = self.lock();
        state.running.remove(topic);
        state.current.remove(topic);
        state.sinks.retain(|s| s.topic != topic);
    }

    /// Receiver that changes whenever a subscriber stream is dropped or removed.
    pub(crate) fn dropped(&self) -> watch::Receiver<u64> {
        self.dropped.subscribe()
    }

    /// Whether the watch of `topic` should keep running. When the topic has no live
    /// subscriber left it is retired (un-marked) and `false` is returned: the caller stops.
    pub(crate) fn keep_running(&self, topic: &str) -> bool {
        let mut state = self.lock();
        state.sinks.retain(|s| !s.tx.is_closed());
        if state.sinks.iter().any(|s| s.topic == topic) {
            return true;
        }
        state.running.remove(topic);
        state.current.remove(topic);
        false
    }

    /// Topics with a running watch.
    pub(crate) fn topics(&self) -> Vec<String> {
        self.lock().running.iter().cloned().collect()
    }

    /// Publishes the full provider list of `topic`. With `resync`, every subscriber gets a
    /// snapshot (used after a session, lease or watch was re-established).
    pub(crate) fn publish(&self, topic: &str, providers: &[ProviderInfo], resync: bool) {
        let mut state = self.lock();
        state.current.insert(topic.to_string(), providers.to_vec());
        for sink in state.sinks.iter_mut().filter(|s| s.topic == topic) {
            send_list(sink, providers, resync);
        }
        state.sinks.retain(|s| !s.tx.is_closed());
    }

    /// Reports an outage to the subscribers of `topic` (once per outage: until the next
    /// successful publish). Their last list stands.
    pub(crate) fn fail(&self, topic: &str, error: &Error) {
        let mut state = self.lock();
        for sink in state.sinks.iter_mut().filter(|s| s.topic == topic) {
            if !sink.failed {
                sink.failed = true;
                let _ = sink.tx.send(Err(error.shallow_clone()));
            }
        }
    }

    /// [`fail`](Self::fail) for every topic.
    pub(crate) fn fail_all(&self, error: &Error) {
        for topic in self.topics() {
            self.fail(&topic, error);
        }
    }

    /// Ends the streams of subscriptions equal to `sub` (by interface, version, uniqueId,
    /// protocol). Returns the topics that have no subscriber left (their watch should stop).
    pub(crate) fn remove(&self, sub: &Subscription) -> Vec<String> {
        let key = sub.key();
        let mut state = self.lock();
        let mut touched = Vec::new();
        state.sinks.retain(|s| {
            let gone = s.sub.key() == key || s.tx.is_closed();
            if gone && !touched.contains(&s.topic) {
                touched.push(s.topic.clone());
            }
            !gone
        });
        let idle: Vec<String> = touched
            .into_iter()
            .filter(|t| !state.sinks.iter().any(|s| &s.topic == t))
            .collect();
        for t in &idle {
            state.running.remove(t);
            state.current.remove(t);
        }
        drop(state);
        self.dropped.send_modify(|n| *n = n.wrapping_add(1));
        idle
    }

    /// Ends every stream.
    pub(crate) fn close(&self) {
        let mut state = self.lock();
        state.sinks.clear();
        state.current.clear();
        state.running.clear();
        drop(state);
        self.dropped.send_modify(|n| *n = n.wrapping_add(1));
    }
}

/// Filters `providers` for the sink and sends a snapshot or the difference.
fn send_list(sink: &mut Sink, providers: &[ProviderInfo], resync: bool) {
    let mut now: BTreeMap<String, ProviderInfo> = BTreeMap::new();
    for p in providers.iter().filter(|p| sink.sub.matches(p)) {
        let id = p.identity();
        // Two entries for one address: a restarted provider whose old registration has not
        // expired yet. The newer one wins.
        let newer = match now.get(&id) {
            Some(old) => p.start_time_ms().unwrap_or(0) >= old.start_time_ms().unwrap_or(0),
            None => true,
        };
        if newer {
            now.insert(id, p.clone());
        }
    }
    let mut changes = Vec::new();
    match &sink.last {
        Some(last) if !resync && !sink.failed => {
            let added: Vec<_> = now
                .iter()
                .filter(|(k, _)| !last.contains_key(*k))
                .map(|(_, p)| p.clone())
                .collect();
            let updated: Vec<_> = now
                .iter()
                .filter(|(k, p)| last.get(*k).is_some_and(|old| old != *p))
                .map(|(_, p)| p.clone())
                .collect();
            let removed: Vec<_> = last
                .iter()
                .filter(|(k, _)| !now.contains_key(*k))
                .map(|(_, p)| p.clone())
                .collect();
            // Additions first, so a consumer never sees an empty list in between.
            if !added.is_empty() {
                changes.push(ProviderChange::Added(added));
            }
            if !updated.is_empty() {
                changes.push(ProviderChange::Updated(updated));
            }
            if !removed.is_empty() {
                changes.push(ProviderChange::Removed(removed));
            }
        }
        _ => changes.push(ProviderChange::Snapshot(now.values().cloned().collect())),
    }
    for change in changes {
        let _ = sink.tx.send(Ok(change));
    }
    sink.last = Some(now);
    sink.failed = false;
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::ErrorKind;

    fn p(host: &str, params: &str) -> ProviderInfo {
        format!("bolt://{host}:1?uniqueId=&{params}")
            .parse()
            .unwrap()
    }

    #[tokio::test]
    async fn snapshot_then_diffs_then_resync() {
        let fanout = Fanout::new();
        let sub = Subscription::new("I");
        let (mut s, start) = fanout.add("I", &sub);
        assert!(start);
        let (a, b) = (p("a", "w=1"), p("b", "w=1"));
        fanout.publish("I", std::slice::from_ref(&a), false);
        assert_eq!(
            s.next_change().await.unwrap().unwrap(),
            ProviderChange::Snapshot(vec![a.clone()])
        );
        // unchanged: nothing sent
        fanout.publish("I", std::slice::from_ref(&a), false);
        let a2 = p("a", "w=2");
        fanout.publish("I", &[a2.clone(), b.clone()], false);
        assert_eq!(
            s.next_change().await.unwrap().unwrap(),
            ProviderChange::Added(vec![b.clone()])
        );
        assert_eq!(
            s.next_change().await.unwrap().unwrap(),
            ProviderChange::Updated(vec![a2.clone()])
        );
        fanout.publish("I", std::slice::from_ref(&a2), false);
        assert_eq!(
            s.next_change().await.unwrap().unwrap(),
            ProviderChange::Removed(vec![b.clone()])
        );
        fanout.fail("I", &Error::new(ErrorKind::Unavailable, "down"));
        fanout.fail("I", &Error::new(ErrorKind::Unavailable, "down"));
        let e = s.next_change().await.unwrap().unwrap_err();
        assert_eq!(e.kind(), ErrorKind::Unavailable);
        fanout.publish("I", std::slice::from_ref(&a2), false);
        assert_eq!(
            s.next_change().await.unwrap().unwrap(),
            ProviderChange::Snapshot(vec![a2.clone()])
        );
        fanout.publish("I", std::slice::from_ref(&a2), true);
        assert_eq!(
            s.next_change().await.unwrap().unwrap(),
            ProviderChange::Snapshot(vec![a2])
        );
    }

    #[tokio::test]
    async fn filters_dedups_and_joins_running_topics() {
        let fanout = Fanout::new();
        let (_s1, start) = fanout.add("I", &Subscription::new("I"));
        assert!(start);
        let old = p("a", "startTime=1");
        let new = p("a", "startTime=2");
        let other: ProviderInfo = "bolt://c:1?uniqueId=x".parse().unwrap();
        fanout.publish("I", &[new.clone(), old, other.clone()], false);
        let (mut s2, start) = fanout.add("I", &Subscription::new("I").with_unique_id("x"));
        assert!(!start);
        assert_eq!(
            s2.next_change().await.unwrap().unwrap(),
            ProviderChange::Snapshot(vec![other])
        );
        let (mut s3, _) = fanout.add("I", &Subscription::new("I"));
        assert_eq!(
            s3.next_change().await.unwrap().unwrap(),
            ProviderChange::Snapshot(vec![new])
        );
        drop(s3);
        assert!(fanout.keep_running("I"));
        assert!(fanout
            .remove(&Subscription::new("I").with_unique_id("x"))
            .is_empty());
        assert!(s2.next_change().await.is_none());
        assert_eq!(
            fanout.remove(&Subscription::new("I")),
            vec!["I".to_string()]
        );
        assert!(!fanout.keep_running("I"));
        assert!(fanout.topics().is_empty());
    }
}
