//! The table of calls waiting for a response, keyed by request id.
//!
//! A call lives in the slot its request id selects (ids are handed out in sequence, so the
//! calls in flight at one time select different slots), or, when that slot is still taken by
//! an older call, in a small shared overflow map. Each slot has its own lock, so calls made from
//! different threads do not wait on one another, and the slot holds the caller's waker and,
//! once it came, the outcome: nothing is allocated per call.

use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};
use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Mutex, MutexGuard, OnceLock};
use std::task::{Context, Poll, Waker};
use std::time::{Duration, Instant};

use crate::error::{Error, ErrorKind, Result};
use crate::frame::Frame;

/// Slots per connection: a power of two, above the deepest pipelines seen in practice.
/// (136 bytes each: 34 KiB a connection, beside its 64 KiB read and write buffers.)
const SLOTS: usize = 256;

/// Where a call's entry lives.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Place {
    /// In the slot its id selects.
    Slot,
    /// In the overflow map (its slot was taken when it registered).
    Overflow,
}

/// One call's state.
enum Entry {
    Free,
    /// Sent, or about to be; no outcome yet.
    Waiting {
        id: i32,
        deadline: Instant,
        timeout: Duration,
        waker: Option<Waker>,
    },
    /// The outcome, until the caller takes it.
    Done {
        id: i32,
        outcome: Result<Frame>,
    },
}

impl Entry {
    fn id(&self) -> Option<i32> {
        match self {
            Entry::Free => None,
            Entry::Waiting { id, .. } | Entry::Done { id, .. } => Some(*id),
        }
    }

    /// Settles a waiting entry with `outcome` and returns the waker to wake (after unlocking);
    /// `None` if the entry was not waiting.
    fn settle(&mut self, outcome: Result<Frame>) -> Option<Option<Waker>> {
        let Entry::Waiting { id, waker, .. } = self else {
            return None;
        };
        let waker = waker.take();
        *self = Entry::Done { id: *id, outcome };
        Some(waker)
    }
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

type Overflow = HashMap<i32, Entry, BuildHasherDefault<IdHasher>>;

/// Pending calls of one connection. Callers register, poll and cancel; the connection task
/// completes them, fails those past their deadline when it sweeps, and, when it ends, fails
/// every one left. (One sweep per connection instead of a timer per call: the clock wheel is
/// the costliest part of a call's bookkeeping.)
pub(crate) struct Pending {
    slots: Box<[Mutex<Entry>]>,
    overflow: Mutex<Overflow>,
    /// Entries in `overflow`, readable without its lock.
    overflowed: AtomicUsize,
    /// Calls without an outcome yet.
    waiting: AtomicUsize,
    /// Set once the connection can take no more calls; the first reason given stays.
    closed: OnceLock<Error>,
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    // Nothing here panics while holding a lock, and an entry is valid in every state; keep going.
    m.lock().unwrap_or_else(|e| e.into_inner())
}

fn wake(waker: Option<Waker>) {
    if let Some(w) = waker {
        w.wake();
    }
}

impl Pending {
    pub(crate) fn new() -> Self {
        Pending {
            slots: (0..SLOTS).map(|_| Mutex::new(Entry::Free)).collect(),
            overflow: Mutex::new(Overflow::default()),
            overflowed: AtomicUsize::new(0),
            waiting: AtomicUsize::new(0),
            closed: OnceLock::new(),
        }
    }

    fn slot(&self, id: i32) -> &Mutex<Entry> {
        &self.slots[(id as u32 as usize) & (SLOTS - 1)]
    }

    /// Runs `f` on the entry of call `id`, wherever it lives; `None` if there is none.
    fn with_entry<R>(&self, id: i32, f: impl FnOnce(&mut Entry) -> R) -> Option<R> {
        {
            let mut entry = lock(self.slot(id));
            if entry.id() == Some(id) {
                return Some(f(&mut entry));
            }
        }
        if self.overflowed.load(Ordering::Acquire) == 0 {
            return None;
        }
        lock(&self.overflow).get_mut(&id).map(f)
    }

    /// Registers call `id`, to be failed once `timeout` has passed. Fails with the close
    /// reason, as not sent, if the connection takes no more calls.
    pub(crate) fn register(&self, id: i32, timeout: Duration) -> Result<Place> {
        let waiting = Entry::Waiting {
            id,
            deadline: Instant::now() + timeout,
            timeout,
            waker: None,
        };
        // The close reason is read under the lock of the place the call goes to: `close` sets
        // it before it empties each place, so a call either sees it or is emptied out.
        {
            let mut entry = lock(self.slot(id));
            if let Entry::Free = *entry {
                self.refuse_if_closed()?;
                *entry = waiting;
                self.waiting.fetch_add(1, Ordering::Relaxed);
                return Ok(Place::Slot);
            }
        }
        let mut overflow = lock(&self.overflow);
        self.refuse_if_closed()?;
        overflow.insert(id, waiting);
        self.overflowed.fetch_add(1, Ordering::Release);
        self.waiting.fetch_add(1, Ordering::Relaxed);
        Ok(Place::Overflow)
    }

    fn refuse_if_closed(&self) -> Result<()> {
        match self.closed.get() {
            Some(reason) => Err(reason.not_sent()),
            None => Ok(()),
        }
    }

    /// The outcome of call `id` once it has one; until then, remembers `cx`'s waker.
    pub(crate) fn poll(&self, place: Place, id: i32, cx: &mut Context<'_>) -> Poll<Result<Frame>> {
        let take = |entry: &mut Entry| match entry {
            Entry::Waiting { waker, .. } => {
                if !waker.as_ref().is_some_and(|w| w.will_wake(cx.waker())) {
                    *waker = Some(cx.waker().clone());
                }
                None
            }
            Entry::Done { .. } => match std::mem::replace(entry, Entry::Free) {
                Entry::Done { outcome, .. } => Some(outcome),
                _ => None,
            },
            Entry::Free => None,
        };
        let outcome = match place {
            Place::Slot => {
                let mut entry = lock(self.slot(id));
                if entry.id() != Some(id) {
                    return Poll::Ready(Err(self.lost(id)));
                }
                take(&mut entry)
            }
            Place::Overflow => {
                let mut overflow = lock(&self.overflow);
                let Some(entry) = overflow.get_mut(&id) else {
                    return Poll::Ready(Err(self.lost(id)));
                };
                let outcome = take(entry);
                if outcome.is_some() {
                    overflow.remove(&id);
                    self.overflowed.fetch_sub(1, Ordering::Release);
                }
                outcome
            }
        };
        outcome.map_or(Poll::Pending, Poll::Ready)
    }

    /// The error of a call whose entry is gone (only polling after completion gets here).
    fn lost(&self, id: i32) -> Error {
        Error::new(
            ErrorKind::ConnectionClosed,
            format!("request {id}: response already taken"),
        )
    }

    /// Forgets call `id` (its caller gave up on it): a response that comes later is discarded.
    pub(crate) fn cancel(&self, place: Place, id: i32) {
        let removed = match place {
            Place::Slot => {
                let mut entry = lock(self.slot(id));
                if entry.id() == Some(id) {
                    Some(std::mem::replace(&mut *entry, Entry::Free))
                } else {
                    None
                }
            }
            Place::Overflow => {
                let removed = lock(&self.overflow).remove(&id);
                if removed.is_some() {
                    self.overflowed.fetch_sub(1, Ordering::Release);
                }
                removed
            }
        };
        if let Some(Entry::Waiting { .. }) = removed {
            self.waiting.fetch_sub(1, Ordering::Relaxed);
        }
    }

    /// Settles call `id` with `outcome`; `false` if no call waits for it.
    fn settle(&self, id: i32, outcome: Result<Frame>) -> bool {
        match self.with_entry(id, |entry| entry.settle(outcome)).flatten() {
            Some(waker) => {
                self.waiting.fetch_sub(1, Ordering::Relaxed);
                wake(waker);
                true
            }
            None => false,
        }
    }

    /// Hands `frame` to the call waiting for its id; `false` if nobody waits for it.
    pub(crate) fn complete(&self, frame: Frame) -> bool {
        self.settle(frame.request_id(), Ok(frame))
    }

    /// Fails the call waiting for `id` with `error`.
    pub(crate) fn fail(&self, id: i32, error: Error) {
        self.settle(id, Err(error));
    }

    /// Whether a call still waits for `id`.
    pub(crate) fn contains(&self, id: i32) -> bool {
        self.with_entry(id, |entry| matches!(entry, Entry::Waiting { .. }))
            .unwrap_or(false)
    }

    /// Settles every waiting call for which `outcome` gives one, waking their callers.
    fn settle_all(&self, mut outcome: impl FnMut(i32, Instant, Duration) -> Option<Error>) {
        let mut settle = |entry: &mut Entry| {
            let Entry::Waiting {
                id,
                deadline,
                timeout,
                ..
            } = entry
            else {
                return None;
            };
            let error = outcome(*id, *deadline, *timeout)?;
            entry.settle(Err(error))
        };
        let mut wakers = Vec::new();
        for slot in self.slots.iter() {
            if let Some(waker) = settle(&mut lock(slot)) {
                wakers.push(waker);
            }
        }
        if self.overflowed.load(Ordering::Acquire) > 0 {
            let mut overflow = lock(&self.overflow);
            wakers.extend(overflow.values_mut().filter_map(&mut settle));
        }
        self.waiting.fetch_sub(wakers.len(), Ordering::Relaxed);
        wakers.into_iter().for_each(wake);
    }

    /// Fails every call whose deadline is before `now` with a timeout error; returns how many
    /// calls are still waiting.
    pub(crate) fn expire(&self, now: Instant, peer: SocketAddr) -> usize {
        if self.len() > 0 {
            self.settle_all(|id, deadline, timeout| {
                (deadline <= now).then(|| {
                    Error::new(
                        ErrorKind::Timeout,
                        format!("no response to request {id} from {peer} within {timeout:?}"),
                    )
                })
            });
        }
        self.len()
    }

    /// Number of calls waiting.
    pub(crate) fn len(&self) -> usize {
        self.waiting.load(Ordering::Relaxed)
    }

    /// Refuses new calls from now on (with `reason`, as not sent) but leaves the waiting ones
    /// waiting: the connection can no longer write, yet answers may still arrive.
    pub(crate) fn refuse_new(&self, reason: Error) {
        let _ = self.closed.set(reason);
    }

    /// Marks the connection closed and fails every waiting call with `reason`.
    pub(crate) fn close(&self, reason: Error) {
        self.refuse_new(reason.clone());
        self.settle_all(|_, _, _| Some(reason.clone()));
    }

    /// Whether the connection takes no more calls (cheap: no lock).
    pub(crate) fn is_closed(&self) -> bool {
        self.closed.get().is_some()
    }

    /// The close reason, once closed.
    pub(crate) fn closed(&self) -> Option<Error> {
        self.closed.get().cloned()
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;
    use std::task::Wake;

    use super::*;

    /// Counts its wakes.
    #[derive(Default)]
    struct Count(AtomicUsize);

    impl Wake for Count {
        fn wake(self: Arc<Self>) {
            self.0.fetch_add(1, Ordering::SeqCst);
        }
    }

    fn poll(pending: &Pending, place: Place, id: i32, count: &Arc<Count>) -> Poll<Result<Frame>> {
        let waker = Waker::from(count.clone());
        pending.poll(place, id, &mut Context::from_waker(&waker))
    }

    #[test]
    fn expire_fails_only_calls_past_their_deadline() {
        let pending = Pending::new();
        let peer: SocketAddr = "127.0.0.1:12200".parse().unwrap();
        let count = Arc::new(Count::default());
        let short = pending.register(1, Duration::from_millis(10)).unwrap();
        let long = pending.register(2, Duration::from_secs(60)).unwrap();
        assert!(poll(&pending, short, 1, &count).is_pending());
        assert_eq!(pending.expire(Instant::now(), peer), 2);
        assert_eq!(
            pending.expire(Instant::now() + Duration::from_secs(1), peer),
            1
        );
        assert_eq!(count.0.load(Ordering::SeqCst), 1, "the caller was woken");
        let Poll::Ready(Err(err)) = poll(&pending, short, 1, &count) else {
            panic!("timed out")
        };
        assert_eq!(err.kind(), ErrorKind::Timeout);
        assert!(
            err.to_string()
                .contains("request 1 from 127.0.0.1:12200 within 10ms"),
            "{err}"
        );
        assert!(
            poll(&pending, long, 2, &count).is_pending(),
            "still waiting"
        );
    }

    #[test]
    fn complete_cancel_close() {
        let pending = Pending::new();
        let count = Arc::new(Count::default());
        let place = pending.register(1, Duration::from_secs(5)).unwrap();
        assert!(pending.complete(Frame::heartbeat(1)));
        assert!(matches!(
            poll(&pending, place, 1, &count),
            Poll::Ready(Ok(_))
        ));
        assert!(!pending.complete(Frame::heartbeat(1)));

        let place = pending.register(2, Duration::from_secs(5)).unwrap();
        pending.cancel(place, 2);
        assert_eq!(pending.len(), 0);
        assert!(
            !pending.complete(Frame::heartbeat(2)),
            "a late answer is dropped"
        );

        let place = pending.register(3, Duration::from_secs(5)).unwrap();
        pending.close(Error::closed("gone"));
        let Poll::Ready(Err(err)) = poll(&pending, place, 3, &count) else {
            panic!("failed on close")
        };
        assert_eq!(err.kind(), ErrorKind::ConnectionClosed);
        let refused = pending.register(4, Duration::from_secs(5)).unwrap_err();
        assert_eq!(refused.kind(), ErrorKind::NotSent);
    }

    #[test]
    fn a_taken_slot_sends_the_call_to_overflow() {
        let pending = Pending::new();
        let count = Arc::new(Count::default());
        let old = pending.register(7, Duration::from_secs(5)).unwrap();
        let same_slot = 7 + SLOTS as i32;
        let new = pending.register(same_slot, Duration::from_secs(5)).unwrap();
        assert_eq!((old, new), (Place::Slot, Place::Overflow));
        assert_eq!(pending.len(), 2);

        // Answers find their own call, in either order, and wake it.
        assert!(poll(&pending, new, same_slot, &count).is_pending());
        assert!(pending.complete(Frame::heartbeat(same_slot)));
        assert_eq!(count.0.load(Ordering::SeqCst), 1);
        assert!(poll(&pending, old, 7, &count).is_pending());
        assert!(matches!(
            poll(&pending, new, same_slot, &count),
            Poll::Ready(Ok(f)) if f.request_id() == same_slot
        ));
        assert!(pending.complete(Frame::heartbeat(7)));
        assert!(matches!(
            poll(&pending, old, 7, &count),
            Poll::Ready(Ok(f)) if f.request_id() == 7
        ));
        assert_eq!(pending.len(), 0);
        assert_eq!(pending.overflowed.load(Ordering::SeqCst), 0);

        // A call done but not yet taken keeps its slot; a cancelled one in overflow is gone.
        let old = pending.register(9, Duration::from_secs(5)).unwrap();
        assert!(pending.complete(Frame::heartbeat(9)));
        let other = 9 + SLOTS as i32;
        assert_eq!(
            pending.register(other, Duration::from_secs(5)).unwrap(),
            Place::Overflow
        );
        pending.cancel(Place::Overflow, other);
        assert!(!pending.contains(other));
        assert_eq!(pending.overflowed.load(Ordering::SeqCst), 0);
        assert!(matches!(poll(&pending, old, 9, &count), Poll::Ready(Ok(_))));
    }

    #[test]
    fn close_fails_calls_in_overflow_too() {
        let pending = Pending::new();
        let count = Arc::new(Count::default());
        pending.register(1, Duration::from_secs(5)).unwrap();
        let far = 1 + SLOTS as i32;
        let place = pending.register(far, Duration::from_secs(5)).unwrap();
        assert!(poll(&pending, place, far, &count).is_pending());
        pending.close(Error::closed("gone"));
        assert_eq!(pending.len(), 0);
        assert_eq!(count.0.load(Ordering::SeqCst), 1);
        assert!(matches!(
            poll(&pending, place, far, &count),
            Poll::Ready(Err(_))
        ));
    }
}
