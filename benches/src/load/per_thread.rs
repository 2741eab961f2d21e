//! Tallies kept per worker thread, shared by the load tasks that run on it.
//!
//! A tally's histogram spans 1 µs to 60 s at 3 significant digits, about 400 KiB of counters.
//! One per task (128 tasks at 128 calls in flight) is 50 MiB: nearly every record then misses
//! the cache, a cost of the harness that the clients with a task per call paid and the
//! one-task `raw-pipe` client did not. One per thread stays in the cache.

use std::cell::RefCell;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};

use super::Tally;

/// The tallies of one load run, one per thread that recorded in it.
#[derive(Clone)]
pub(crate) struct PerThread {
    run: u64,
    all: Arc<Mutex<Vec<Arc<Mutex<Tally>>>>>,
}

thread_local! {
    /// This thread's tally, with the run it belongs to.
    static LOCAL: RefCell<Option<(u64, Arc<Mutex<Tally>>)>> = const { RefCell::new(None) };
}

impl PerThread {
    /// Tallies for a new run.
    pub(crate) fn new() -> PerThread {
        static RUNS: AtomicU64 = AtomicU64::new(0);
        PerThread {
            run: RUNS.fetch_add(1, Ordering::Relaxed),
            all: Arc::default(),
        }
    }

    /// Runs `f` on the calling thread's tally of this run, made on first use.
    pub(crate) fn with<R>(&self, f: impl FnOnce(&mut Tally) -> R) -> Result<R, String> {
        let tally = LOCAL.with(|local| -> Result<_, String> {
            let mut local = local.borrow_mut();
            match &*local {
                Some((run, tally)) if *run == self.run => Ok(tally.clone()),
                _ => {
                    let tally = Arc::new(Mutex::new(Tally::new()?));
                    lock(&self.all).push(tally.clone());
                    *local = Some((self.run, tally.clone()));
                    Ok(tally)
                }
            }
        })?;
        let mut tally = lock(&tally);
        Ok(f(&mut tally))
    }

    /// Every thread's tally merged into one.
    pub(crate) fn merged(&self) -> Result<Tally, String> {
        let mut total = Tally::new()?;
        for tally in lock(&self.all).drain(..) {
            let tally = std::mem::replace(&mut *lock(&tally), Tally::new()?);
            total.merge(tally)?;
        }
        Ok(total)
    }
}

impl Default for PerThread {
    fn default() -> Self {
        PerThread::new()
    }
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn records_from_several_threads_and_runs_are_kept_apart_and_merged() {
        let first = PerThread::new();
        let second = PerThread::new();
        std::thread::scope(|s| {
            for _ in 0..3 {
                s.spawn(|| {
                    for _ in 0..10 {
                        first.with(|t| t.record(5_000)).unwrap();
                    }
                    second.with(|t| t.record(7_000)).unwrap();
                });
            }
        });
        let first = first.merged().unwrap();
        assert_eq!(first.ok, 30);
        assert_eq!(first.hist.len(), 30);
        let second = second.merged().unwrap();
        assert_eq!(second.ok, 3);
        assert!(
            second.hist.value_at_quantile(0.0) > 6_000,
            "{}",
            second.hist.value_at_quantile(0.0)
        );
    }
}
