//! At most one log line per second for events a peer can cause at will.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::OnceLock;
use std::time::Instant;

/// Lets one event a second through and counts the rest, so that a flood of bad connections
/// (or of requests a server must refuse) costs one log line a second instead of one each.
///
/// ```
/// use sofa_bolt::LogLimit;
///
/// static LIMIT: LogLimit = LogLimit::new();
/// if let Some(suppressed) = LIMIT.allow() {
///     // `suppressed`: how many were left out since the previous line.
///     println!("closing connection: ... ({suppressed} more)");
/// }
/// assert_eq!(LIMIT.allow(), None, "the rest of this second is only counted");
/// ```
#[derive(Debug, Default)]
pub struct LogLimit {
    /// The second (since the first event) of the last line written, plus one; 0 for never.
    last: AtomicU64,
    suppressed: AtomicU64,
}

impl LogLimit {
    /// A limit that has let nothing through yet.
    pub const fn new() -> Self {
        LogLimit {
            last: AtomicU64::new(0),
            suppressed: AtomicU64::new(0),
        }
    }

    /// `Some(n)` if this event should be logged, `n` being how many were left unlogged since
    /// the previous line; `None` if it should only be counted.
    pub fn allow(&self) -> Option<u64> {
        static EPOCH: OnceLock<Instant> = OnceLock::new();
        let second = EPOCH.get_or_init(Instant::now).elapsed().as_secs() + 1;
        let last = self.last.load(Ordering::Relaxed);
        if last == second
            || self
                .last
                .compare_exchange(last, second, Ordering::Relaxed, Ordering::Relaxed)
                .is_err()
        {
            self.suppressed.fetch_add(1, Ordering::Relaxed);
            return None;
        }
        Some(self.suppressed.swap(0, Ordering::Relaxed))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_line_a_second_and_a_count_of_the_rest() {
        let limit = LogLimit::new();
        assert_eq!(limit.allow(), Some(0));
        for _ in 0..5 {
            assert_eq!(limit.allow(), None);
        }
        // A new second: the count of what was held back comes with the next line.
        limit.last.store(0, Ordering::Relaxed);
        assert_eq!(limit.allow(), Some(5));
    }
}
