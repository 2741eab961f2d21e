//! Header sections this thread decoded lately, with their entries.
//!
//! A SOFARPC client sends the same header section with every call of one method (service,
//! method name, target app, invoke type), so a server decodes the same bytes again and again.
//! Each thread remembers the last few short sections it decoded (a copy of their bytes) and
//! their entries. A section equal to one of them takes a copy of those entries: being places
//! in the section, they hold for the new bytes as they did for the old. Comparing a few hundred
//! bytes costs a fraction of reading them string by string and checking each for UTF-8.
//!
//! Nothing here points into a frame: a remembered section is a copy, and its entries are
//! places or static strings, so no received buffer is kept alive by it.

use std::cell::RefCell;

use super::header_text::Text;
use super::spare::{self, Entries};

/// Sections remembered per thread.
const SLOTS: usize = 4;
/// Longer sections are not remembered (nor looked up): they are rarely repeated verbatim.
const LONGEST: usize = 512;

/// One section and its entries.
struct Seen {
    section: Vec<u8>,
    entries: Entries,
}

/// The sections of one thread, replaced oldest first.
struct Recent {
    slots: Vec<Seen>,
    next: usize,
}

thread_local! {
    static RECENT: RefCell<Recent> = const {
        RefCell::new(Recent {
            slots: Vec::new(),
            next: 0,
        })
    };
}

#[cfg(test)]
thread_local! {
    /// Sections found remembered, for tests.
    pub(super) static RECALLED: std::cell::Cell<usize> = const { std::cell::Cell::new(0) };
}

/// The entries of `section`, if this thread decoded the same bytes lately.
pub(super) fn recall(section: &[u8]) -> Option<Entries> {
    if section.len() > LONGEST {
        return None;
    }
    RECENT
        .try_with(|recent| {
            let recent = recent.try_borrow().ok()?;
            let seen = recent.slots.iter().find(|s| s.section == section)?;
            let mut entries = spare::take();
            entries.extend_from_slice(&seen.entries);
            #[cfg(test)]
            RECALLED.with(|n| n.set(n.get() + 1));
            Some(entries)
        })
        .ok()
        .flatten()
}

/// Remembers `entries` as those of `section`, in place of the oldest section remembered.
pub(super) fn remember(section: &[u8], entries: &[(Text, Text)]) {
    if section.len() > LONGEST {
        return;
    }
    let _ = RECENT.try_with(|recent| {
        let Ok(mut recent) = recent.try_borrow_mut() else {
            return;
        };
        if recent.slots.len() < SLOTS {
            recent.slots.push(Seen {
                section: section.to_vec(),
                entries: entries.to_vec(),
            });
            return;
        }
        let at = recent.next;
        recent.next = (at + 1) % SLOTS;
        if let Some(slot) = recent.slots.get_mut(at) {
            slot.section.clear();
            slot.section.extend_from_slice(section);
            slot.entries.clear();
            slot.entries.extend_from_slice(entries);
        }
    });
}
