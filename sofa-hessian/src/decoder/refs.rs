//! Decoder: numbering of lists/maps/objects and resolution of back-references.
//!
//! Java numbers every list, map and object in stream order when it starts (its
//! `addRef`), and a back-reference names that number. The decoder records where
//! each container starts; a reference to a finished container is resolved by
//! decoding its bytes again ("replay", bounded by a byte budget), a reference to a
//! container that is still open is a cycle.

use crate::decoder::Decoder;
use crate::error::{Error, ErrorKind, Result};

pub(crate) const CLOSED: u32 = u32::MAX;

pub(crate) const NONE: u32 = u32::MAX;

/// A list, map or object seen in the stream (Java numbers them for back-refs).
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct RefEntry {
    /// Offset of the container's tag.
    pub offset: usize,
    /// Nesting level (number of enclosing open containers) while open, `CLOSED`
    /// afterwards.
    pub level: u32,
    /// The enclosing open container while open (a linked stack).
    pub parent: u32,
}

/// What a back-reference points to.
pub(crate) enum RefTarget {
    /// A container that encloses the reference (a cycle), `levels_up` levels up.
    Open { levels_up: u32 },
    /// A container that was completely read; its bytes start at `offset`.
    Closed { offset: usize },
}

impl Decoder<'_> {
    pub(crate) fn open_container(&mut self, offset: usize) -> Result<()> {
        if self.depth >= self.opts.max_depth {
            return Err(Error::at(
                ErrorKind::DepthLimitExceeded,
                offset,
                format!("more than {} nested values", self.opts.max_depth),
            ));
        }
        let level = self.open_count;
        let parent = self.top;
        let idx = match self.replay_next {
            None => {
                if self.refs.len() >= self.opts.max_containers {
                    return Err(Error::at(
                        ErrorKind::LimitExceeded,
                        offset,
                        format!(
                            "more than {} lists, maps and objects",
                            self.opts.max_containers
                        ),
                    ));
                }
                self.refs.push(RefEntry {
                    offset,
                    level,
                    parent,
                });
                self.refs.len() - 1
            }
            Some(n) => {
                let entry = self
                    .refs
                    .get_mut(n)
                    .filter(|e| e.offset == offset && e.level == CLOSED)
                    .ok_or_else(|| {
                        Error::at(
                            ErrorKind::InvalidReference,
                            offset,
                            "inconsistent reference replay",
                        )
                    })?;
                entry.level = level;
                entry.parent = parent;
                self.replay_next = Some(n + 1);
                n
            }
        };
        self.top = u32::try_from(idx)
            .ok()
            .filter(|&i| i != NONE)
            .ok_or_else(|| Error::at(ErrorKind::LimitExceeded, offset, "too many values"))?;
        self.open_count += 1;
        self.depth += 1;
        Ok(())
    }

    /// Leaves the innermost container (after its last element / end tag).
    pub(crate) fn close_container(&mut self) {
        if let Some(e) = self.refs.get_mut(self.top as usize) {
            e.level = CLOSED;
            self.top = e.parent;
            self.open_count = self.open_count.saturating_sub(1);
        }
        self.depth = self.depth.saturating_sub(1);
    }

    /// Resolves back-reference number `idx`.
    pub(crate) fn ref_target(&self, idx: usize) -> Result<RefTarget> {
        let e = self.refs.get(idx).ok_or_else(|| {
            Error::at(
                ErrorKind::InvalidReference,
                self.pos,
                format!("unknown back-reference #{idx}"),
            )
        })?;
        if e.level == CLOSED {
            Ok(RefTarget::Closed { offset: e.offset })
        } else {
            Ok(RefTarget::Open {
                levels_up: self.open_count.saturating_sub(1).saturating_sub(e.level),
            })
        }
    }

    /// Re-reads the container number `idx` starting at `offset` with `f`, then
    /// returns to the current position.
    pub(crate) fn replay<T>(
        &mut self,
        idx: usize,
        offset: usize,
        f: impl FnOnce(&mut Self) -> Result<T>,
    ) -> Result<T> {
        if self.depth >= self.opts.max_depth {
            return Err(Error::at(
                ErrorKind::DepthLimitExceeded,
                self.pos,
                format!("more than {} nested values", self.opts.max_depth),
            ));
        }
        if self.replay_used > self.opts.max_ref_replay_bytes {
            return Err(self.replay_exceeded());
        }
        let saved_pos = self.pos;
        let saved_next = self.replay_next.replace(idx);
        self.depth += 1;
        self.pos = offset;
        let result = f(self);
        let used = self.pos.saturating_sub(offset);
        self.pos = saved_pos;
        self.replay_next = saved_next;
        self.depth = self.depth.saturating_sub(1);
        self.replay_used = self.replay_used.saturating_add(used);
        let value = result?;
        if self.replay_used > self.opts.max_ref_replay_bytes {
            return Err(self.replay_exceeded());
        }
        Ok(value)
    }

    pub(crate) fn replay_exceeded(&self) -> Error {
        Error::at(
            ErrorKind::LimitExceeded,
            self.pos,
            format!(
                "resolving back-references re-read more than {} bytes",
                self.opts.max_ref_replay_bytes
            ),
        )
    }
}
