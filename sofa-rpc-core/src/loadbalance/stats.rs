//! [`Stats`]: what the balancers that react to load learn from each attempt (calls in
//! flight, latency), per provider address.
//!
//! Written on every attempt by [`LoadBalancer::on_attempt_start`] and
//! [`LoadBalancer::on_attempt_end`], read on every
//! selection: each provider's numbers are atomics, so neither side takes a lock once the
//! provider is known; the map from address to numbers is read-locked only to find them.

use std::collections::{HashMap, HashSet};
use std::sync::atomic::{AtomicU32, AtomicU64, Ordering};
use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};

use sofa_rpc_registry::ProviderInfo;

#[cfg(doc)]
use super::LoadBalancer;

/// The most providers tracked at once. Entries are dropped when their provider leaves the
/// lists; this bound only matters for attempts on providers that are in no list (a target
/// chosen per call), which must not grow the map without end.
const MAX_PROVIDERS: usize = 4096;

/// How fast a latency estimate forgets: a sample's influence falls by `e` every 10 s, as in
/// Finagle's and linkerd's peak-EWMA balancers.
pub(crate) const DECAY: Duration = Duration::from_secs(10);

/// The numbers of one provider.
#[derive(Debug)]
pub(crate) struct Load {
    in_flight: AtomicU32,
    /// Peak-EWMA latency estimate in nanoseconds, as `f64` bits; NaN until the first
    /// attempt ends.
    cost: AtomicU64,
    /// When `cost` was last updated, in nanoseconds since [`Stats`]'s epoch.
    stamp: AtomicU64,
}

impl Default for Load {
    fn default() -> Self {
        Load {
            in_flight: AtomicU32::new(0),
            cost: AtomicU64::new(f64::NAN.to_bits()),
            stamp: AtomicU64::new(0),
        }
    }
}

impl Load {
    /// Attempts sent and not yet ended.
    pub(crate) fn in_flight(&self) -> u32 {
        self.in_flight.load(Ordering::Relaxed)
    }

    /// The latency estimate in nanoseconds at `now` (nanoseconds since the epoch), decayed
    /// towards zero for the time without samples — so that a provider avoided for being slow
    /// is tried again after a while and can show it has recovered. NaN when nothing has been
    /// measured yet.
    pub(crate) fn cost_at(&self, now: u64) -> f64 {
        let cost = f64::from_bits(self.cost.load(Ordering::Relaxed));
        let idle = now.saturating_sub(self.stamp.load(Ordering::Relaxed));
        cost * decay(idle)
    }

    fn started(&self) {
        self.in_flight.fetch_add(1, Ordering::Relaxed);
    }

    fn ended(&self, now: u64, elapsed: Duration, ok: bool) {
        // Saturating: an attempt that started before this entry existed (it was dropped and
        // made again) must not wrap the count.
        let _ = self
            .in_flight
            .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |n| n.checked_sub(1));
        let sample = elapsed.as_nanos() as f64;
        let stored = f64::from_bits(self.cost.load(Ordering::Relaxed));
        // A failure that came back fast must not make its provider look attractive: it
        // counts as at least twice the estimate.
        let sample = if ok || stored.is_nan() {
            sample
        } else {
            sample.max(2.0 * stored)
        };
        // Peak-sensitive: a slower sample is taken at once, a faster one blends in by the
        // time since the last sample. Two attempts ending at once may each miss the other's
        // update; an estimate can afford that, a lock on every attempt could not.
        let cost = if stored.is_nan() || sample >= stored {
            sample
        } else {
            let weight = decay(now.saturating_sub(self.stamp.load(Ordering::Relaxed)));
            stored * weight + sample * (1.0 - weight)
        };
        self.cost.store(cost.to_bits(), Ordering::Relaxed);
        self.stamp.store(now, Ordering::Relaxed);
    }
}

/// The share of an estimate left after `idle` nanoseconds.
fn decay(idle: u64) -> f64 {
    (-(idle as f64) / DECAY.as_nanos() as f64).exp()
}

/// The numbers of every provider a balancer has seen, by address.
#[derive(Debug)]
pub(crate) struct Stats {
    by_address: RwLock<HashMap<Box<str>, Arc<Load>>>,
    epoch: Instant,
}

impl Default for Stats {
    fn default() -> Self {
        Stats {
            by_address: RwLock::new(HashMap::new()),
            epoch: Instant::now(),
        }
    }
}

impl Stats {
    /// Nanoseconds since this map was made: the clock of the latency estimates.
    pub(crate) fn now(&self) -> u64 {
        u64::try_from(self.epoch.elapsed().as_nanos()).unwrap_or(u64::MAX)
    }

    /// The numbers of `provider`, made if it has none (within the bound).
    pub(crate) fn load(&self, provider: &ProviderInfo) -> Arc<Load> {
        let address = provider.address();
        if let Some(load) = self.find(address) {
            return load;
        }
        let mut map = self.by_address.write().unwrap_or_else(|e| e.into_inner());
        if map.len() >= MAX_PROVIDERS {
            // Still counted by whoever holds it, just not shared: better than no answer.
            return map.get(address).cloned().unwrap_or_default();
        }
        map.entry(address.into()).or_default().clone()
    }

    fn find(&self, address: &str) -> Option<Arc<Load>> {
        self.by_address
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .get(address)
            .cloned()
    }

    /// Drops the numbers of every provider whose address is not in `keep`.
    pub(crate) fn retain<'a>(&self, keep: impl IntoIterator<Item = &'a str>) {
        let keep: HashSet<&str> = keep.into_iter().collect();
        self.by_address
            .write()
            .unwrap_or_else(|e| e.into_inner())
            .retain(|address, _| keep.contains(address.as_ref()));
    }

    /// An attempt on `provider` starts.
    pub(crate) fn started(&self, provider: &ProviderInfo) {
        self.load(provider).started();
    }

    /// An attempt on `provider` ended. An attempt on a provider that was dropped meanwhile
    /// is ignored: there is no one left to tell.
    pub(crate) fn ended(&self, provider: &ProviderInfo, elapsed: Duration, ok: bool) {
        if let Some(load) = self.find(provider.address()) {
            load.ended(self.now(), elapsed, ok);
        }
    }

    /// How many providers are tracked.
    #[cfg(test)]
    pub(crate) fn len(&self) -> usize {
        self.by_address.read().map(|m| m.len()).unwrap_or_default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MS: u64 = 1_000_000;

    #[test]
    fn counts_in_flight_and_never_wraps() {
        let stats = Stats::default();
        let p = ProviderInfo::bolt("h", 1);
        stats.started(&p);
        stats.started(&p);
        assert_eq!(stats.load(&p).in_flight(), 2);
        for _ in 0..3 {
            stats.ended(&p, Duration::from_millis(1), true);
        }
        assert_eq!(stats.load(&p).in_flight(), 0);
    }

    #[test]
    fn peak_ewma_takes_peaks_at_once_and_forgets_them_slowly() {
        let load = Load::default();
        assert!(load.cost_at(0).is_nan());
        load.ended(0, Duration::from_millis(1), true);
        assert_eq!(load.cost_at(0), MS as f64);
        load.ended(MS, Duration::from_millis(20), true);
        assert_eq!(load.cost_at(MS), 20.0 * MS as f64);
        // A fast sample right after barely moves it...
        load.ended(2 * MS, Duration::from_millis(1), true);
        assert!(load.cost_at(2 * MS) > 19.0 * MS as f64);
        // ...while ten seconds without samples take it down by e.
        let later = load.cost_at(2 * MS + 10_000 * MS) / load.cost_at(2 * MS);
        assert!((later - (-1f64).exp()).abs() < 1e-9, "{later}");
        // A fast failure counts as twice the estimate.
        let before = load.cost_at(3 * MS);
        load.ended(3 * MS, Duration::from_micros(1), false);
        assert!(load.cost_at(3 * MS) >= 2.0 * before * 0.999);
    }

    #[test]
    fn drops_providers_no_longer_listed() {
        let stats = Stats::default();
        for port in 1..=3 {
            stats.started(&ProviderInfo::bolt("h", port));
        }
        stats.retain(["h:1", "h:3"]);
        assert_eq!(stats.len(), 2);
        // The end of an attempt on a dropped provider is ignored, not recorded anew.
        stats.ended(&ProviderInfo::bolt("h", 2), Duration::ZERO, true);
        assert_eq!(stats.len(), 2);
    }
}
