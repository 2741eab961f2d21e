//! The server-wide budget of bytes held in partial frames.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

/// Bytes all connections of one server hold in frames that are not complete yet.
///
/// A header can announce a frame of up to the maximum frame size, and each connection may be
/// in the middle of one: without a bound shared by all connections, a few hundred of them
/// sending slowly would hold gigabytes. Each connection reports what it holds through its own
/// [`Charge`], so the total is exact and costs one atomic add per read that changes it.
#[derive(Debug)]
pub(super) struct PartialBudget {
    limit: usize,
    used: AtomicUsize,
}

impl PartialBudget {
    pub(super) fn new(limit: usize) -> Arc<Self> {
        Arc::new(PartialBudget {
            limit,
            used: AtomicUsize::new(0),
        })
    }

    /// Bytes held right now, by every connection together.
    pub(super) fn used(&self) -> usize {
        self.used.load(Ordering::Relaxed)
    }
}

/// One connection's share of the [`PartialBudget`]; given back when dropped.
#[derive(Debug)]
pub(super) struct Charge {
    budget: Arc<PartialBudget>,
    held: usize,
}

impl Charge {
    pub(super) fn new(budget: Arc<PartialBudget>) -> Self {
        Charge { budget, held: 0 }
    }

    /// Records that the connection now holds `bytes`; returns whether the server as a whole
    /// is over its budget afterwards.
    pub(super) fn set(&mut self, bytes: usize) -> bool {
        let used = if bytes > self.held {
            let grow = bytes - self.held;
            self.budget.used.fetch_add(grow, Ordering::Relaxed) + grow
        } else if bytes < self.held {
            let shrink = self.held - bytes;
            self.budget.used.fetch_sub(shrink, Ordering::Relaxed) - shrink
        } else {
            self.budget.used()
        };
        self.held = bytes;
        used > self.budget.limit
    }
}

impl Charge {
    /// Whether holding `bytes` instead of what it holds now would take the server over.
    pub(super) fn would_exceed(&self, bytes: usize) -> bool {
        let others = self.budget.used().saturating_sub(self.held);
        others.saturating_add(bytes) > self.budget.limit
    }
}

impl Drop for Charge {
    fn drop(&mut self) {
        self.set(0);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn charges_add_up_and_are_returned_on_drop() {
        let budget = PartialBudget::new(100);
        let mut a = Charge::new(budget.clone());
        let mut b = Charge::new(budget.clone());
        assert!(!a.set(60));
        assert!(b.set(50), "110 of 100");
        assert_eq!(budget.used(), 110);
        assert!(!b.set(10));
        assert!(!a.set(90));
        assert_eq!(budget.used(), 100);
        drop(a);
        assert_eq!(budget.used(), 10);
        drop(b);
        assert_eq!(budget.used(), 0);
    }
}
