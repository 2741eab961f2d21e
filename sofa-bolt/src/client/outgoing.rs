//! Which requests a client connection has not written yet, for failing them as not sent.

use std::collections::VecDeque;

use bytes::BytesMut;

use super::Shared;
use crate::error::Error;

/// The two-way requests waiting in the write buffer, by where they end in the stream of bytes
/// written to the socket.
#[derive(Default)]
pub(super) struct Outgoing {
    /// Bytes written to the socket so far.
    written: u64,
    /// (offset of its first byte, request id), oldest first.
    queued: VecDeque<(u64, i32)>,
}

impl Outgoing {
    /// Records a request encoded into the write buffer from offset `start` on.
    pub(super) fn push(&mut self, start: usize, id: i32) {
        self.queued.push_back((self.written + start as u64, id));
    }

    /// Records `n` bytes written; requests that started before them are out (at least in part).
    pub(super) fn written(&mut self, n: usize) {
        self.written += n as u64;
        while matches!(self.queued.front(), Some((start, _)) if *start < self.written) {
            self.queued.pop_front();
        }
    }

    /// Fails, as not sent, every request of which not one byte was written, and empties `wbuf`.
    pub(super) fn fail_unsent(&mut self, shared: &Shared, reason: &Error, wbuf: &mut BytesMut) {
        for (_, id) in self.queued.drain(..) {
            shared.pending.fail(id, reason.not_sent());
        }
        wbuf.clear();
    }

    /// The ids of the requests not written yet, oldest first.
    #[cfg(test)]
    pub(super) fn queued_ids(&self) -> Vec<i32> {
        self.queued.iter().map(|(_, id)| *id).collect()
    }
}
