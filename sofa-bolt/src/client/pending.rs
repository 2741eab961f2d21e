//! The table of calls waiting for a response, keyed by request id.

use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};
use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Mutex, MutexGuard};
use std::time::{Duration, Instant};

use tokio::sync::oneshot;

use crate::error::{Error, ErrorKind, Result};
use crate::frame::Frame;

/// Where a response goes.
pub(crate) type Waiter = oneshot::Sender<Result<Frame>>;

/// A call waiting for its response, and until when.
struct Waiting {
    waiter: Waiter,
    deadline: Instant,
    timeout: Duration,
}

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
    waiters: HashMap<i32, Waiting, BuildHasherDefault<IdHasher>>,
    /// Set once the connection is gone; no call may register after that.
    closed: Option<Error>,
}

/// Pending calls of one connection. Callers register and cancel; the connection task completes
/// them, fails those past their deadline when it sweeps, and, when it ends, fails every one
/// left. (One sweep per connection instead of a timer per call: the clock wheel is the
/// costliest part of a call's bookkeeping.)
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

    /// Registers a waiter for `id`, to be failed once `timeout` has passed. Fails with the
    /// close reason if the connection is gone.
    pub(crate) fn register(&self, id: i32, waiter: Waiter, timeout: Duration) -> Result<()> {
        let deadline = Instant::now() + timeout;
        let mut state = self.lock();
        if let Some(reason) = &state.closed {
            return Err(reason.not_sent());
        }
        state.waiters.insert(
            id,
            Waiting {
                waiter,
                deadline,
                timeout,
            },
        );
        Ok(())
    }

    /// Fails every call whose deadline is before `now` with a timeout error; returns how many
    /// calls are still waiting.
    pub(crate) fn expire(&self, now: Instant, peer: SocketAddr) -> usize {
        let (expired, left) = {
            let mut state = self.lock();
            let ids: Vec<i32> = state
                .waiters
                .iter()
                .filter(|(_, w)| w.deadline <= now)
                .map(|(id, _)| *id)
                .collect();
            let expired: Vec<(i32, Waiting)> = ids
                .into_iter()
                .filter_map(|id| state.waiters.remove(&id).map(|w| (id, w)))
                .collect();
            (expired, state.waiters.len())
        };
        for (id, w) in expired {
            let _ = w.waiter.send(Err(Error::new(
                ErrorKind::Timeout,
                format!(
                    "no response to request {id} from {peer} within {:?}",
                    w.timeout
                ),
            )));
        }
        left
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
        let waiting = self.lock().waiters.remove(&frame.request_id());
        match waiting {
            Some(w) => {
                let _ = w.waiter.send(Ok(frame));
                true
            }
            None => false,
        }
    }

    /// Fails the call waiting for `id` with `error`.
    pub(crate) fn fail(&self, id: i32, error: Error) {
        if let Some(w) = self.lock().waiters.remove(&id) {
            let _ = w.waiter.send(Err(error));
        }
    }

    /// Number of calls waiting.
    pub(crate) fn len(&self) -> usize {
        self.lock().waiters.len()
    }

    /// Refuses new calls from now on (with `reason`, as not sent) but leaves the waiting ones
    /// waiting: the connection can no longer write, yet answers may still arrive.
    pub(crate) fn refuse_new(&self, reason: Error) {
        let mut state = self.lock();
        if state.closed.is_none() {
            state.closed = Some(reason);
        }
        self.is_closed.store(true, Ordering::Release);
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
        for (_, w) in waiters {
            let _ = w.waiter.send(Err(reason.clone()));
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

    #[test]
    fn expire_fails_only_calls_past_their_deadline() {
        let pending = Pending::new();
        let peer: SocketAddr = "127.0.0.1:12200".parse().unwrap();
        let (tx, mut short) = oneshot::channel();
        pending.register(1, tx, Duration::from_millis(10)).unwrap();
        let (tx, mut long) = oneshot::channel();
        pending.register(2, tx, Duration::from_secs(60)).unwrap();
        assert_eq!(pending.expire(Instant::now(), peer), 2);
        assert_eq!(
            pending.expire(Instant::now() + Duration::from_secs(1), peer),
            1
        );
        let err = short.try_recv().unwrap().unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Timeout);
        assert!(
            err.to_string()
                .contains("request 1 from 127.0.0.1:12200 within 10ms"),
            "{err}"
        );
        assert!(long.try_recv().is_err(), "still waiting");
    }

    #[test]
    fn complete_cancel_close() {
        let pending = Pending::new();
        let (tx, mut rx) = oneshot::channel();
        pending.register(1, tx, Duration::from_secs(5)).unwrap();
        assert!(pending.complete(Frame::heartbeat(1)));
        assert!(rx.try_recv().unwrap().is_ok());
        assert!(!pending.complete(Frame::heartbeat(1)));

        let (tx, _rx) = oneshot::channel();
        pending.register(2, tx, Duration::from_secs(5)).unwrap();
        pending.cancel(2);
        assert_eq!(pending.len(), 0);

        let (tx, mut rx) = oneshot::channel();
        pending.register(3, tx, Duration::from_secs(5)).unwrap();
        pending.close(Error::closed("gone"));
        assert_eq!(
            rx.try_recv().unwrap().unwrap_err().kind(),
            ErrorKind::ConnectionClosed
        );
        let (tx, _rx) = oneshot::channel();
        let refused = pending.register(4, tx, Duration::from_secs(5)).unwrap_err();
        assert_eq!(refused.kind(), ErrorKind::NotSent);
    }
}
