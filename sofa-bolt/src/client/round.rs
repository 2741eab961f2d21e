//! How many answers a client connection hands out before the callers they woke get to run.
//!
//! Small rounds keep both ends busy: callers that get their answers a few at a time send their
//! next requests a few at a time, while the server still works on the others. Large rounds cost
//! less per call: one read, one write and one turn of the loop carry many calls. Which one wins
//! depends on whether this process has other work while the server answers:
//!
//! - With few calls in flight in the whole process (16 on one connection), a round of all of
//!   them moves every call in one lockstep batch; each end then waits while the other works,
//!   and the echo benchmark loses half its calls per second.
//! - With many (128 on one connection, or 32 on each of four), the process is busy anyway:
//!   rounds of a quarter of them took the echo benchmark from about 300k to 440k calls per
//!   second (128 B, one core a side), where rounds of 4 cost a write per 4 calls.
//!
//! So a round is a quarter of the calls in flight over every connection of the process, within
//! [`MIN_ROUND`] and [`MAX_ROUND`]. Each connection task adds its own count to the total once
//! per round, not once per call.

use std::sync::atomic::{AtomicUsize, Ordering};

/// The smallest round: small enough to keep a server with 16 calls in flight busy.
const MIN_ROUND: usize = 4;

/// The largest round: bounds how long one connection keeps its callers (and the other tasks
/// of its thread) waiting.
const MAX_ROUND: usize = 128;

/// Calls in flight over every client connection of the process, as their tasks last reported.
static IN_FLIGHT: AtomicUsize = AtomicUsize::new(0);

/// One connection task's share of the process-wide count.
pub(super) struct Round {
    total: &'static AtomicUsize,
    reported: usize,
}

impl Default for Round {
    fn default() -> Self {
        Round {
            total: &IN_FLIGHT,
            reported: 0,
        }
    }
}

impl Round {
    /// Reports that `waiting` calls wait on this connection, and returns how many answers to
    /// hand out in this round.
    pub(super) fn size(&mut self, waiting: usize) -> usize {
        let total = if waiting == self.reported {
            self.total.load(Ordering::Relaxed)
        } else if waiting > self.reported {
            let more = waiting - self.reported;
            self.total.fetch_add(more, Ordering::Relaxed) + more
        } else {
            let fewer = self.reported - waiting;
            self.total
                .fetch_sub(fewer, Ordering::Relaxed)
                .saturating_sub(fewer)
        };
        self.reported = waiting;
        size_for(total)
    }
}

impl Drop for Round {
    fn drop(&mut self) {
        self.total.fetch_sub(self.reported, Ordering::Relaxed);
    }
}

/// A quarter of `in_flight`, within bounds.
fn size_for(in_flight: usize) -> usize {
    (in_flight / 4).clamp(MIN_ROUND, MAX_ROUND)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_round_is_a_quarter_of_the_calls_in_flight_within_bounds() {
        assert_eq!(size_for(0), MIN_ROUND);
        assert_eq!(size_for(16), MIN_ROUND);
        assert_eq!(size_for(128), 32);
        assert_eq!(size_for(10_000), MAX_ROUND);
    }

    #[test]
    fn connections_add_their_calls_to_one_total_and_take_them_back() {
        static TOTAL: AtomicUsize = AtomicUsize::new(0);
        let mut a = Round {
            total: &TOTAL,
            reported: 0,
        };
        let mut b = Round {
            total: &TOTAL,
            reported: 0,
        };
        assert_eq!(a.size(16), MIN_ROUND);
        // The round grows with the calls of every connection, not of one.
        assert_eq!(b.size(112), 32);
        assert_eq!(TOTAL.load(Ordering::Relaxed), 128);
        // Fewer calls waiting give the difference back.
        assert_eq!(a.size(8), 30);
        assert_eq!(TOTAL.load(Ordering::Relaxed), 120);
        drop(b);
        assert_eq!(TOTAL.load(Ordering::Relaxed), 8);
        drop(a);
        assert_eq!(TOTAL.load(Ordering::Relaxed), 0);
    }
}
