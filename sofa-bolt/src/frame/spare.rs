//! Entry storage of decoded header maps, kept for the next one.
//!
//! A server decodes the header of every request into a map that lives as long as the request.
//! Each thread keeps the storage of a few maps it dropped and hands it to the next map it
//! decodes, so that a steady stream of requests decodes their headers without allocating.

use std::cell::RefCell;

use super::header_text::Text;

/// The storage of one map.
pub(super) type Entries = Vec<(Text, Text)>;

/// Storages kept per thread.
const KEEP: usize = 32;
/// Storage for more entries than this is let go (an odd large header should not stay).
const LARGEST: usize = 32;
/// What a fresh storage has room for: SOFARPC requests carry 5 to 8 entries.
const FRESH: usize = 8;

thread_local! {
    static SPARE: RefCell<Vec<Entries>> = const { RefCell::new(Vec::new()) };
}

/// Empty storage: kept storage if this thread has some, else fresh.
pub(super) fn take() -> Entries {
    SPARE
        .try_with(|spare| spare.try_borrow_mut().ok()?.pop())
        .ok()
        .flatten()
        .unwrap_or_else(|| Vec::with_capacity(FRESH))
}

/// Keeps `entries`' storage for [`take`], unless this thread keeps enough already.
pub(super) fn keep(mut entries: Entries) {
    if entries.capacity() == 0 || entries.capacity() > LARGEST {
        return;
    }
    // Lets go of the frame bytes the entries point into.
    entries.clear();
    let _ = SPARE.try_with(|spare| {
        if let Ok(mut spare) = spare.try_borrow_mut() {
            if spare.len() < KEEP {
                spare.push(entries);
            }
        }
    });
}
