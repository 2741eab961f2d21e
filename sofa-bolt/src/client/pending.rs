//! The table of calls waiting for a response, keyed by request id.

use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Mutex, MutexGuard};

use tokio::sync::oneshot;

use crate::error::{Error, Result};
use crate::frame::Frame;

/// Where a response goes.
pub(crate) type Waiter = oneshot::Sender<Result<Frame>>;

/// Request ids are already well spread; a multiplicative hash is all a table of them needs.
#[derive(Default)]
pub(crate) struct IdHasher(u64);

impl Hasher for IdHasher {
    fn finish(&self) -> u64 {
        self.0
    }

    fn write(&mut self, bytes: &[u8]) {
        for b in bytes {
            self.0 = (self.0 << 8 | u64::from(*b)).wrapping_mul(0x9e37_79b9_7f4a_7c15);
        }
    }

    fn write_i32(&mut self, n: i32) {
        self.0 = u64::from(n as u32).wrapping_mul(0x9e37_79b9_7f4a_7c15);
    }
}

struct State {
    waiters: HashMap<i32, Waiter, BuildHasherDefault<IdHasher>>,
    /// Set once the connection is gone; no call may register after that.
    closed: Option<Error>,
}

/// Pending calls of one connection. Callers register and cancel; the connection task completes
/// them and, when it ends, fails every one left.
pub(crate) struct Pending {
    state: Mutex<State>,
    /// Mirrors `State::closed.is_some()`, readable without the lock.
    is_closed: AtomicBool,
}

impl Pending {
    pub(crate) fn new() -> Self {
        Pending {
            state: Mutex::new(State {
                waiters: HashMap::default(),
                closed: None,
            }),
            is_closed: AtomicBool::new(false),
        }
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        // A panic while holding this lock cannot leave the map inconsistent; keep going.
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Registers a waiter for `id`. Fails with the close reason if the connection is gone.
    pub(crate) fn register(&self, id: i32, waiter: Waiter) -> Result<()> {
        let mut state = self.lock();
        if let Some(reason) = &state.closed {
            return Err(reason.clone());
        }
        state.waiters.insert(id, waiter);
        Ok(())
    }

    /// Whether a call is still waiting for `id`.
    pub(crate) fn contains(&self, id: i32) -> bool {
        self.lock().waiters.contains_key(&id)
    }

    /// Forgets the call waiting for `id` (it timed out or was dropped).
    pub(crate) fn cancel(&self, id: i32) {
        self.lock().waiters.remove(&id);
    }

    /// Hands `frame` to the call waiting for its id; `false` if nobody waits for it.
    pub(crate) fn complete(&self, frame: Frame) -> bool {
        let waiter = self.lock().waiters.remove(&frame.request_id());
        match waiter {
            Some(waiter) => {
                let _ = waiter.send(Ok(frame));
                true
            }
            None => false,
        }
    }

    /// Fails the call waiting for `id` with `error`.
    pub(crate) fn fail(&self, id: i32, error: Error) {
        if let Some(waiter) = self.lock().waiters.remove(&id) {
            let _ = waiter.send(Err(error));
        }
    }

    /// Number of calls waiting.
    pub(crate) fn len(&self) -> usize {
        self.lock().waiters.len()
    }

    /// Marks the connection closed and fails every waiting call with `reason`.
    pub(crate) fn close(&self, reason: Error) {
        let waiters = {
            let mut state = self.lock();
            if state.closed.is_none() {
                state.closed = Some(reason.clone());
            }
            self.is_closed.store(true, Ordering::Release);
            std::mem::take(&mut state.waiters)
        };
        for (_, waiter) in waiters {
            let _ = waiter.send(Err(reason.clone()));
        }
    }

    /// Whether the connection is gone (cheap: no lock).
    pub(crate) fn is_closed(&self) -> bool {
        self.is_closed.load(Ordering::Acquire)
    }

    /// The close reason, once closed.
    pub(crate) fn closed(&self) -> Option<Error> {
        self.lock().closed.clone()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::ErrorKind;

    #[test]
    fn complete_cancel_close() {
        let pending = Pending::new();
        let (tx, mut rx) = oneshot::channel();
        pending.register(1, tx).unwrap();
        assert!(pending.complete(Frame::heartbeat(1)));
        assert!(rx.try_recv().unwrap().is_ok());
        assert!(!pending.complete(Frame::heartbeat(1)));

        let (tx, _rx) = oneshot::channel();
        pending.register(2, tx).unwrap();
        pending.cancel(2);
        assert_eq!(pending.len(), 0);

        let (tx, mut rx) = oneshot::channel();
        pending.register(3, tx).unwrap();
        pending.close(Error::closed("gone"));
        assert_eq!(
            rx.try_recv().unwrap().unwrap_err().kind(),
            ErrorKind::ConnectionClosed
        );
        let (tx, _rx) = oneshot::channel();
        assert!(pending.register(4, tx).is_err());
    }
}
