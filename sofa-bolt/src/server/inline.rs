//! Answers given while their connection is still dispatching the read that brought the request.
//!
//! A processor that completes at once answers from inside `Processor::process`, on the
//! connection's own task. Sending that answer through the connection's channel would cost the
//! channel's atomics and wake the very task that is running, which then turns its loop once
//! more for nothing. Instead the connection marks this thread as dispatching for it, and a
//! responder of that connection leaves its answer here, to be encoded straight into the write
//! buffer before the dispatch returns. Answers from any other task, thread or connection still
//! take the channel.

use std::cell::{Cell, RefCell};
use std::sync::atomic::{AtomicU64, Ordering};

use crate::frame::Frame;

/// Tells connections apart; 0 means "no connection is dispatching on this thread".
static NEXT_KEY: AtomicU64 = AtomicU64::new(1);

thread_local! {
    /// The connection dispatching on this thread right now, if any.
    static CURRENT: Cell<u64> = const { Cell::new(0) };
    /// Its answers given so far; `None` for a request finished without an answer.
    static ANSWERS: RefCell<Vec<Option<Frame>>> = const { RefCell::new(Vec::new()) };
}

/// A key for a new connection, unique in the process.
pub(super) fn new_key() -> u64 {
    NEXT_KEY.fetch_add(1, Ordering::Relaxed)
}

/// Keeps `answer` for the connection `key` if that connection is dispatching on this thread;
/// otherwise hands it back for the channel.
// The frame goes back by value, as it came: boxing it would cost an allocation per answer.
#[allow(clippy::result_large_err)]
pub(super) fn keep(key: u64, answer: Option<Frame>) -> Result<(), Option<Frame>> {
    if CURRENT.with(Cell::get) != key {
        return Err(answer);
    }
    ANSWERS.with(|answers| match answers.try_borrow_mut() {
        Ok(mut answers) => {
            answers.push(answer);
            Ok(())
        }
        // Only if an answer is given while the kept ones are being taken: the channel will do.
        Err(_) => Err(answer),
    })
}

/// While it lives, this thread dispatches for one connection. Dropping it (also on unwinding
/// out of a processor) ends that, so no later responder mistakes another task for its own.
pub(super) struct Dispatching {
    previous: u64,
}

impl Dispatching {
    pub(super) fn enter(key: u64) -> Self {
        let previous = CURRENT.with(|current| current.replace(key));
        Dispatching { previous }
    }

    /// Hands every answer kept so far to `each`, in the order given.
    pub(super) fn take(&self, mut each: impl FnMut(Option<Frame>)) {
        // Taken out of the cell so that `each` may run code that answers again (it goes to the
        // channel then), and put back to keep its capacity for the next read.
        let mut kept = ANSWERS.with(|answers| match answers.try_borrow_mut() {
            Ok(mut answers) if !answers.is_empty() => std::mem::take(&mut *answers),
            _ => Vec::new(),
        });
        if kept.is_empty() {
            return;
        }
        for answer in kept.drain(..) {
            each(answer);
        }
        ANSWERS.with(|answers| {
            if let Ok(mut answers) = answers.try_borrow_mut() {
                if answers.is_empty() {
                    *answers = kept;
                }
            }
        });
    }
}

impl Drop for Dispatching {
    fn drop(&mut self) {
        CURRENT.with(|current| current.set(self.previous));
        if std::thread::panicking() {
            // A processor panicked before the kept answers were taken: they belong to a
            // connection that is going away, not to the next one dispatching here.
            ANSWERS.with(|answers| {
                if let Ok(mut answers) = answers.try_borrow_mut() {
                    answers.clear();
                }
            });
        }
    }
}
