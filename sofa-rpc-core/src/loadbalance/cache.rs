//! [`ListCache`]: what a balancer derives from a provider list (weights, a hash ring, which
//! providers are local), computed once per list instead of once per call.
//!
//! The cluster hands the balancer a fresh `Vec` on every call, but its elements are clones of
//! the same `Arc`s until the registry or the routers change the list. So a list is recognised
//! by the identity of its elements: comparing pointers costs a few nanoseconds where
//! re-deriving weights or a ring would cost microseconds to milliseconds. A list made of new
//! `Arc`s with equal contents (a registry pushing the same list again) reuses the derived
//! value rather than rebuilding it.

use std::sync::Arc;

use arc_swap::ArcSwap;

use sofa_rpc_registry::ProviderInfo;

/// How many lists are remembered: the full list and the lists a retry sees (the full list
/// minus the providers already tried) alternate, and must not evict each other.
const SLOTS: usize = 4;

/// One remembered list and what was derived from it.
pub(crate) struct Snapshot<T> {
    providers: Vec<Arc<ProviderInfo>>,
    /// Epoch milliseconds from which `value` may be stale by itself (a warm-up ends);
    /// `u64::MAX` when never.
    expires_ms: u64,
    value: Arc<T>,
}

impl<T> Snapshot<T> {
    /// The providers of the list, in its order.
    pub(crate) fn providers(&self) -> &[Arc<ProviderInfo>] {
        &self.providers
    }
}

/// A few remembered lists, most recently derived first. Read by every call without a lock (a
/// read lock would still be a write every call shares); replaced whole when a list is derived.
pub(crate) struct ListCache<T> {
    slots: ArcSwap<Vec<Arc<Snapshot<T>>>>,
}

impl<T> Default for ListCache<T> {
    fn default() -> Self {
        ListCache {
            slots: ArcSwap::from_pointee(Vec::with_capacity(SLOTS)),
        }
    }
}

impl<T> std::fmt::Debug for ListCache<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let lists = self.slots.load().len();
        f.debug_struct("ListCache").field("lists", &lists).finish()
    }
}

/// `true` when `a` and `b` hold the very same `Arc`s in the same order.
pub(crate) fn same_elements(a: &[Arc<ProviderInfo>], b: &[Arc<ProviderInfo>]) -> bool {
    // No early exit: a plain fold over two arrays of pointers compiles to vector compares,
    // and on the hot path the lists are equal anyway.
    a.len() == b.len()
        && a.iter()
            .zip(b)
            .fold(true, |same, (x, y)| same & Arc::ptr_eq(x, y))
}

fn same_contents(a: &[Arc<ProviderInfo>], b: &[Arc<ProviderInfo>]) -> bool {
    a.len() == b.len() && a.iter().zip(b).all(|(x, y)| x == y)
}

impl<T> ListCache<T> {
    /// Runs `read` on the value derived from `providers`, deriving it with `derive` (given
    /// the time, it returns the value and when it expires) if this list has not been seen or
    /// its value has expired. `clock` gives epoch milliseconds; it is read only when a value
    /// can expire, so lists without warm-ups never pay for the clock.
    pub(crate) fn with<R>(
        &self,
        providers: &[Arc<ProviderInfo>],
        clock: impl Fn() -> u64,
        derive: impl FnOnce(&[Arc<ProviderInfo>], u64) -> (T, u64),
        read: impl FnOnce(&T) -> R,
    ) -> R {
        let mut now = None;
        let mut now_ms = || *now.get_or_insert_with(&clock);
        {
            let slots = self.slots.load();
            let hit = slots.iter().find(|s| {
                same_elements(&s.providers, providers)
                    && (s.expires_ms == u64::MAX || now_ms() < s.expires_ms)
            });
            if let Some(snapshot) = hit {
                return read(&snapshot.value);
            }
        }
        let snapshot = self.snapshot(providers, now_ms(), derive);
        read(&snapshot.value)
    }

    /// The remembered lists, for balancers that keep per-provider state and drop the state of
    /// providers no list holds any more.
    pub(crate) fn lists(&self) -> Vec<Arc<Snapshot<T>>> {
        Vec::clone(&self.slots.load())
    }

    /// The slow path: derive (while other callers go on reading the lists remembered), then
    /// remember.
    fn snapshot(
        &self,
        providers: &[Arc<ProviderInfo>],
        now_ms: u64,
        derive: impl FnOnce(&[Arc<ProviderInfo>], u64) -> (T, u64),
    ) -> Arc<Snapshot<T>> {
        let reusable = self
            .slots
            .load()
            .iter()
            .find(|s| now_ms < s.expires_ms && same_contents(&s.providers, providers))
            .map(|s| (s.value.clone(), s.expires_ms));
        let (value, expires_ms) = match reusable {
            Some(found) => found,
            None => {
                let (value, expires_ms) = derive(providers, now_ms);
                (Arc::new(value), expires_ms)
            }
        };
        let snapshot = Arc::new(Snapshot {
            providers: providers.to_vec(),
            expires_ms,
            value,
        });
        self.slots.rcu(|slots| {
            let mut kept: Vec<_> = std::iter::once(snapshot.clone())
                .chain(
                    slots
                        .iter()
                        .filter(|s| {
                            !same_elements(&s.providers, providers) && now_ms < s.expires_ms
                        })
                        .cloned(),
                )
                .collect();
            kept.truncate(SLOTS);
            kept
        });
        snapshot
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::cell::Cell;

    fn list(ports: &[u16]) -> Vec<Arc<ProviderInfo>> {
        ports
            .iter()
            .map(|&p| Arc::new(ProviderInfo::bolt("h", p)))
            .collect()
    }

    #[test]
    fn derives_once_per_list() {
        let cache = ListCache::<usize>::default();
        let derived = Cell::new(0);
        let derive = |p: &[Arc<ProviderInfo>], _| {
            derived.set(derived.get() + 1);
            (p.len(), u64::MAX)
        };
        let clock = || 0;
        let full = list(&[1, 2, 3]);
        let fewer = full[..2].to_vec();
        for _ in 0..3 {
            assert_eq!(cache.with(&full, clock, derive, |v| *v), 3);
            assert_eq!(cache.with(&fewer, clock, derive, |v| *v), 2);
        }
        assert_eq!(derived.get(), 2);
        // The same providers in new Arcs: the value is reused, not derived again.
        assert_eq!(cache.with(&list(&[1, 2, 3]), clock, derive, |v| *v), 3);
        assert_eq!(derived.get(), 2);
        // A changed list is derived.
        assert_eq!(cache.with(&list(&[1, 2, 4]), clock, derive, |v| *v), 3);
        assert_eq!(derived.get(), 3);
    }

    #[test]
    fn expired_values_are_derived_again_and_few_lists_are_kept() {
        let cache = ListCache::<u64>::default();
        let full = list(&[1]);
        let derive = |_: &[Arc<ProviderInfo>], _| (7, 100);
        assert_eq!(cache.with(&full, || 0, derive, |v| *v), 7);
        let again = |_: &[Arc<ProviderInfo>], _| (8, u64::MAX);
        assert_eq!(cache.with(&full, || 99, again, |v| *v), 7);
        assert_eq!(cache.with(&full, || 100, again, |v| *v), 8);
        // A value that never expires never reads the clock.
        let no_clock = || -> u64 { unreachable!() };
        assert_eq!(cache.with(&full, no_clock, again, |v| *v), 8);
        for port in 2..20 {
            cache.with(&list(&[port]), || 0, |_, _| (0, u64::MAX), |_| ());
        }
        assert_eq!(cache.lists().len(), SLOTS);
    }
}
