//! Which addresses of a pool are down: no live connection, and the last attempt to get one
//! failed or the last one closed. Read on every call, so the common case (nothing down) is one
//! atomic load.

use std::collections::HashSet;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{RwLock, RwLockReadGuard, RwLockWriteGuard};

#[derive(Debug, Default)]
pub(super) struct Health {
    down: RwLock<HashSet<String>>,
    /// `down.len()`, readable without the lock.
    count: AtomicUsize,
}

impl Health {
    pub(super) fn any_down(&self) -> bool {
        self.count.load(Ordering::Acquire) > 0
    }

    pub(super) fn is_down(&self, addr: &str) -> bool {
        self.any_down() && self.read().contains(addr)
    }

    /// Marks `addr` down; `true` if it was up.
    pub(super) fn mark_down(&self, addr: &str) -> bool {
        let mut down = self.write();
        let added = down.insert(addr.to_owned());
        self.count.store(down.len(), Ordering::Release);
        added
    }

    /// Marks `addr` up (or forgotten); `true` if it was down.
    pub(super) fn mark_up(&self, addr: &str) -> bool {
        if !self.any_down() {
            return false;
        }
        let mut down = self.write();
        let removed = down.remove(addr);
        self.count.store(down.len(), Ordering::Release);
        removed
    }

    fn read(&self) -> RwLockReadGuard<'_, HashSet<String>> {
        self.down.read().unwrap_or_else(|e| e.into_inner())
    }

    fn write(&self) -> RwLockWriteGuard<'_, HashSet<String>> {
        self.down.write().unwrap_or_else(|e| e.into_inner())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn marks_and_counts() {
        let health = Health::default();
        assert!(!health.any_down());
        assert!(health.mark_down("a:1"));
        assert!(!health.mark_down("a:1"));
        assert!(health.is_down("a:1"));
        assert!(!health.is_down("b:1"));
        assert!(health.mark_up("a:1"));
        assert!(!health.any_down());
        assert!(!health.mark_up("a:1"));
    }
}
