//! The consumer's filter stack, held so that calls from different threads never wait on one
//! another.
//!
//! A tower service is called through `&mut self`, so a stack shared by every call of a
//! [`Client`](super::Client) needs exclusive access for the moment a call is set off. One lock
//! around it made every thread calling the client meet on the same lock and cache line. Here
//! each thread has a slot of its own (a clone of the stack, made when the client is built):
//! it takes it with `try_lock`, which never waits, tries the other slots should another thread
//! hold it, and sets the call off on a fresh clone of the stack only when all are taken. A
//! clone costs an allocation per boxed layer, which the slots save on every other call.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Mutex, TryLockError};
use std::task::{Context, Poll};

use futures::future::BoxFuture;
use tower::{Service, ServiceExt};

use crate::error::Result;
use crate::filter::Invoker;
use crate::invocation::Invocation;
use crate::response::Response;

/// The most slots a client keeps, whatever the machine.
const MAX_SLOTS: usize = 64;

/// Hands each thread that calls a client an index of its own.
static NEXT_THREAD: AtomicUsize = AtomicUsize::new(0);

thread_local! {
    static THREAD_INDEX: usize = NEXT_THREAD.fetch_add(1, Ordering::Relaxed);
}

/// A client's filter stack: one clone per slot, and the original to clone from.
pub(super) struct Invokers {
    /// The stack as built: cloned (through `&self`, no lock) when every slot is taken.
    template: Invoker,
    slots: Box<[Slot]>,
}

/// One clone of the stack, on a cache line of its own so that threads using neighbouring
/// slots do not contend for it.
#[repr(align(64))]
struct Slot(Mutex<Invoker>);

impl Invokers {
    /// Slots for twice the machine's parallelism (threads beyond it share, by trying the next).
    pub(super) fn new(stack: Invoker) -> Self {
        let count = std::thread::available_parallelism()
            .map_or(1, |n| n.get())
            .saturating_mul(2)
            .clamp(1, MAX_SLOTS);
        let slots = (0..count)
            .map(|_| Slot(Mutex::new(stack.clone())))
            .collect();
        Invokers {
            template: stack,
            slots,
        }
    }

    /// Sets `invocation` off down a stack no other thread is using at this moment.
    pub(super) fn set_off(&self, invocation: Invocation) -> BoxFuture<'static, Result<Response>> {
        let count = self.slots.len();
        // `try_with` fails only while the thread is being torn down: any slot serves then.
        let first = THREAD_INDEX.try_with(|i| *i).unwrap_or(0) % count;
        for step in 0..count {
            let slot = &self.slots[(first + step) % count].0;
            match slot.try_lock() {
                Ok(mut invoker) => return set_off_on(&mut invoker, invocation),
                // A filter panicked while setting a call off: its clone is still a valid stack.
                Err(TryLockError::Poisoned(poisoned)) => {
                    return set_off_on(&mut poisoned.into_inner(), invocation)
                }
                Err(TryLockError::WouldBlock) => continue,
            }
        }
        set_off_on(&mut self.template.clone(), invocation)
    }
}

/// Sets `invocation` off down `invoker`.
fn set_off_on(
    invoker: &mut Invoker,
    invocation: Invocation,
) -> BoxFuture<'static, Result<Response>> {
    let mut cx = Context::from_waker(futures::task::noop_waker_ref());
    match invoker.poll_ready(&mut cx) {
        Poll::Ready(Ok(())) => invoker.call(invocation),
        Poll::Ready(Err(e)) => Box::pin(std::future::ready(Err(e))),
        // A filter that is not ready at once (a limiter): wait on a clone of the stack.
        Poll::Pending => Box::pin(invoker.clone().oneshot(invocation)),
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::AtomicU32;
    use std::sync::Arc;

    use super::*;
    use crate::service_id::ServiceId;

    /// A stack that counts the calls set off on it and answers each at once.
    fn counting(calls: Arc<AtomicU32>) -> Invoker {
        Invoker::new(tower::service_fn(move |_inv: Invocation| {
            calls.fetch_add(1, Ordering::Relaxed);
            std::future::ready(Ok::<_, crate::error::RpcError>(Response::none()))
        }))
    }

    fn invocation() -> Invocation {
        Invocation::new(ServiceId::parse("s:1.0"), "m", Arc::new(()))
    }

    #[test]
    fn calls_from_many_threads_all_run() {
        let calls = Arc::new(AtomicU32::new(0));
        let invokers = Arc::new(Invokers::new(counting(calls.clone())));
        let threads: Vec<_> = (0..8)
            .map(|_| {
                let invokers = invokers.clone();
                std::thread::spawn(move || {
                    for _ in 0..500 {
                        futures::executor::block_on(invokers.set_off(invocation())).unwrap();
                    }
                })
            })
            .collect();
        for t in threads {
            t.join().unwrap();
        }
        assert_eq!(calls.load(Ordering::Relaxed), 8 * 500);
    }

    #[test]
    fn a_call_finding_every_slot_taken_runs_on_a_clone() {
        let calls = Arc::new(AtomicU32::new(0));
        let invokers = Invokers::new(counting(calls.clone()));
        let held: Vec<_> = invokers.slots.iter().map(|s| s.0.lock().unwrap()).collect();
        futures::executor::block_on(invokers.set_off(invocation())).unwrap();
        drop(held);
        assert_eq!(calls.load(Ordering::Relaxed), 1);
    }
}
