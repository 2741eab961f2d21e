//! The provider's bounded executor: how many requests may be admitted (running or waiting for a
//! slot) and how many may run at once.
//!
//! Admission never waits: a full server answers `SERVER_THREADPOOL_BUSY` at once. So it is a
//! counter, taken and given back with one atomic operation each, not a semaphore (whose release
//! takes a lock). Slots to run are a semaphore only when requests may wait for one (a queue
//! is configured); without a queue every admitted request has a slot, and there is nothing to
//! count twice.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use tokio::sync::{OwnedSemaphorePermit, Semaphore};

/// The bounds of the provider's executor.
pub(crate) struct Executor {
    admitted: AtomicUsize,
    /// The most admitted at once: `max_concurrency + queue`.
    limit: usize,
    /// Slots to run, when requests may queue for them.
    running: Option<Arc<Semaphore>>,
}

/// A request's place in the executor, given back when dropped.
pub(crate) struct Admitted<T: AsRef<Executor>>(T);

/// A request's slot to run, held while it runs: a permit of the semaphore, or none when every
/// admitted request runs (no queue).
pub(crate) struct Slot {
    _permit: Option<OwnedSemaphorePermit>,
}

impl Executor {
    /// `max_concurrency` requests run at once, `queue` more may wait for a slot.
    pub(crate) fn new(max_concurrency: usize, queue: usize) -> Self {
        let max = max_concurrency.max(1);
        Executor {
            admitted: AtomicUsize::new(0),
            limit: max.saturating_add(queue),
            running: (queue > 0).then(|| Arc::new(Semaphore::new(max))),
        }
    }

    /// Admits a request into `owner`'s executor, if it has room.
    pub(crate) fn admit<T: AsRef<Executor>>(owner: T) -> Option<Admitted<T>> {
        let executor = owner.as_ref();
        if executor.admitted.fetch_add(1, Ordering::Acquire) >= executor.limit {
            executor.admitted.fetch_sub(1, Ordering::Release);
            return None;
        }
        Some(Admitted(owner))
    }

    /// A slot to run, at once if one is free; `None` when one must be waited for.
    pub(crate) fn try_slot(&self) -> Option<Slot> {
        match &self.running {
            None => Some(Slot { _permit: None }),
            Some(running) => {
                let permit = running.clone().try_acquire_owned().ok()?;
                Some(Slot {
                    _permit: Some(permit),
                })
            }
        }
    }

    /// Waits for a slot to run; `None` if the executor is closed.
    pub(crate) async fn slot(&self) -> Option<Slot> {
        match &self.running {
            None => Some(Slot { _permit: None }),
            Some(running) => {
                let permit = running.clone().acquire_owned().await.ok()?;
                Some(Slot {
                    _permit: Some(permit),
                })
            }
        }
    }
}

impl<T: AsRef<Executor>> Admitted<T> {
    /// What was admitted into.
    pub(crate) fn owner(&self) -> &T {
        &self.0
    }
}

impl<T: AsRef<Executor>> Drop for Admitted<T> {
    fn drop(&mut self) {
        self.0.as_ref().admitted.fetch_sub(1, Ordering::Release);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn admits_up_to_concurrency_plus_queue_and_gives_places_back() {
        let executor = Arc::new(Executor::new(2, 1));
        let held: Vec<_> = (0..3)
            .filter_map(|_| Executor::admit(executor.clone()))
            .collect();
        assert_eq!(held.len(), 3);
        assert!(Executor::admit(executor.clone()).is_none());
        drop(held);
        assert!(Executor::admit(executor.clone()).is_some());
        assert_eq!(executor.admitted.load(Ordering::SeqCst), 0);
    }

    #[test]
    fn without_a_queue_every_admitted_request_runs() {
        let executor = Executor::new(1, 0);
        let held: Vec<_> = (0..3).filter_map(|_| executor.try_slot()).collect();
        assert_eq!(held.len(), 3);
        let queued = Executor::new(1, 4);
        let first = queued.try_slot();
        assert!(first.is_some());
        assert!(queued.try_slot().is_none());
        drop(first);
        assert!(queued.try_slot().is_some());
    }
}
