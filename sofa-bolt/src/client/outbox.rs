//! Requests encoded by their callers, waiting for the connection task to write them.
//!
//! A caller encodes its request straight into the outbox, under a lock held for the encoding
//! only, and wakes the connection task only when the outbox was empty. The task then moves
//! every request queued meanwhile into its write buffer at once: no frame is handed over one by
//! one, and one wake serves a whole round of callers.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Mutex, MutexGuard};
use std::task::{Context, Poll};

use bytes::BytesMut;
use futures::task::AtomicWaker;

use super::outgoing::Outgoing;
use crate::codec::Codec;
use crate::error::Error;
use crate::frame::Frame;

/// A buffer that held more than this is let go once emptied, so that one burst of large
/// requests does not keep its memory for the connection's life.
pub(super) const KEEP_AT_MOST: usize = crate::io::WRITE_HIGH_WATER;

/// Likewise for the list of queued frames (16 bytes each).
const KEEP_FRAMES: usize = 4096;

/// Why the outbox did not take a request.
#[derive(Debug)]
pub(super) enum Refused {
    /// The connection writes nothing more.
    Closed,
    /// The request cannot be encoded (too large, say); nothing of it was queued.
    Invalid(Error),
}

/// Encoded requests not yet in the connection task's write buffer.
#[derive(Default)]
pub(super) struct Outbox {
    queued: Mutex<Queued>,
    /// Whether `queued` holds bytes, readable without its lock.
    filled: AtomicBool,
    /// The connection task, once it waits for requests.
    task: AtomicWaker,
}

#[derive(Default)]
struct Queued {
    bytes: BytesMut,
    /// Each frame in `bytes`: where it starts, and the id of the call waiting for its answer
    /// (`None` for a oneway request).
    frames: Vec<(usize, Option<i32>)>,
    /// Set once the connection writes nothing more.
    closed: bool,
}

impl Outbox {
    fn lock(&self) -> MutexGuard<'_, Queued> {
        // Nothing panics while holding this lock (encoding returns its errors); keep going.
        self.queued.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Encodes `frame` at the end of the queue; `call` is the id of the call that waits for its
    /// answer, if one does.
    pub(super) fn push(
        &self,
        mut codec: Codec,
        frame: &Frame,
        call: Option<i32>,
    ) -> Result<(), Refused> {
        let mut queued = self.lock();
        if queued.closed {
            return Err(Refused::Closed);
        }
        let start = queued.bytes.len();
        if let Err(e) = codec.encode(frame, &mut queued.bytes) {
            queued.bytes.truncate(start);
            return Err(Refused::Invalid(e));
        }
        queued.frames.push((start, call));
        if start == 0 {
            self.filled.store(true, Ordering::Release);
            drop(queued);
            self.task.wake();
        }
        Ok(())
    }

    /// Ready once requests are queued.
    pub(super) fn poll_filled(&self, cx: &mut Context<'_>) -> Poll<()> {
        if self.filled.load(Ordering::Acquire) {
            return Poll::Ready(());
        }
        self.task.register(cx.waker());
        if self.filled.load(Ordering::Acquire) {
            Poll::Ready(())
        } else {
            Poll::Pending
        }
    }

    /// Moves every queued request to the end of `wbuf`, recording the two-way ones in
    /// `outgoing`. With `prune`, requests whose caller no longer waits (`waits` says) are
    /// dropped instead: for a backlog that built up while the peer did not read.
    pub(super) fn take(
        &self,
        wbuf: &mut BytesMut,
        outgoing: &mut Outgoing,
        prune: bool,
        waits: impl Fn(i32) -> bool,
    ) {
        let mut queued = self.lock();
        self.filled.store(false, Ordering::Release);
        let Queued { bytes, frames, .. } = &mut *queued;
        if prune {
            let ends = frames.iter().skip(1).map(|(start, _)| *start);
            let ends = ends.chain(std::iter::once(bytes.len()));
            for (&(start, call), end) in frames.iter().zip(ends) {
                if call.is_some_and(|id| !waits(id)) {
                    continue;
                }
                if let Some(id) = call {
                    outgoing.push(wbuf.len(), id);
                }
                wbuf.extend_from_slice(&bytes[start..end]);
            }
            bytes.clear();
        } else {
            let base = wbuf.len();
            for (start, call) in frames.iter() {
                if let Some(id) = call {
                    outgoing.push(base + start, *id);
                }
            }
            if wbuf.is_empty() {
                // Trade buffers: the callers fill the one just written out.
                std::mem::swap(wbuf, bytes);
            } else {
                wbuf.extend_from_slice(bytes);
                bytes.clear();
            }
        }
        if bytes.capacity() > KEEP_AT_MOST {
            *bytes = BytesMut::new();
        }
        frames.clear();
        if frames.capacity() > KEEP_FRAMES {
            *frames = Vec::new();
        }
    }

    /// Takes no more requests, and returns the ids of the calls whose request was queued and
    /// will never be written.
    pub(super) fn close(&self) -> Vec<i32> {
        let mut queued = self.lock();
        queued.closed = true;
        self.filled.store(false, Ordering::Release);
        queued.bytes = BytesMut::new();
        std::mem::take(&mut queued.frames)
            .into_iter()
            .filter_map(|(_, call)| call)
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;
    use std::task::{Wake, Waker};

    use super::*;
    use crate::codec::Codec;

    #[derive(Default)]
    struct Count(std::sync::atomic::AtomicUsize);

    impl Wake for Count {
        fn wake(self: Arc<Self>) {
            self.0.fetch_add(1, Ordering::SeqCst);
        }
    }

    fn frames(mut wire: BytesMut) -> Vec<i32> {
        let mut codec = Codec::default();
        let mut ids = Vec::new();
        while let Some(frame) = codec.decode(&mut wire).expect("valid frames") {
            ids.push(frame.request_id());
        }
        assert!(wire.is_empty());
        ids
    }

    #[test]
    fn the_first_request_of_a_round_wakes_the_task_and_take_moves_all() {
        let outbox = Outbox::default();
        let count = Arc::new(Count::default());
        let waker = Waker::from(count.clone());
        let mut cx = Context::from_waker(&waker);
        assert!(outbox.poll_filled(&mut cx).is_pending());
        let codec = Codec::default();
        for id in 1..=3 {
            outbox.push(codec, &Frame::heartbeat(id), Some(id)).unwrap();
        }
        outbox.push(codec, &Frame::heartbeat(4), None).unwrap();
        assert_eq!(count.0.load(Ordering::SeqCst), 1, "one wake for the round");
        assert!(outbox.poll_filled(&mut cx).is_ready());

        let mut wbuf = BytesMut::new();
        let mut outgoing = Outgoing::default();
        outbox.take(&mut wbuf, &mut outgoing, false, |_| true);
        assert!(outbox.poll_filled(&mut cx).is_pending());
        assert_eq!(outgoing.queued_ids(), vec![1, 2, 3]);
        assert_eq!(frames(wbuf), vec![1, 2, 3, 4]);
    }

    #[test]
    fn pruning_drops_the_calls_nobody_waits_for() {
        let outbox = Outbox::default();
        let codec = Codec::default();
        for id in 1..=4 {
            outbox.push(codec, &Frame::heartbeat(id), Some(id)).unwrap();
        }
        let mut wbuf = BytesMut::new();
        codec_encode(&mut wbuf, 99);
        let mut outgoing = Outgoing::default();
        outbox.take(&mut wbuf, &mut outgoing, true, |id| id % 2 == 0);
        assert_eq!(outgoing.queued_ids(), vec![2, 4]);
        assert_eq!(frames(wbuf), vec![99, 2, 4]);
    }

    fn codec_encode(wbuf: &mut BytesMut, id: i32) {
        Codec::default()
            .encode(&Frame::heartbeat(id), wbuf)
            .expect("a heartbeat encodes");
    }

    #[test]
    fn a_burst_does_not_keep_its_memory() {
        let outbox = Outbox::default();
        let big =
            Frame::request("c", Default::default(), vec![0u8; 2 * KEEP_AT_MOST]).with_request_id(1);
        outbox.push(Codec::default(), &big, Some(1)).unwrap();
        let mut wbuf = BytesMut::new();
        codec_encode(&mut wbuf, 99);
        let mut outgoing = Outgoing::default();
        outbox.take(&mut wbuf, &mut outgoing, false, |_| true);
        assert_eq!(outbox.lock().bytes.capacity(), 0);
        assert_eq!(frames(wbuf), vec![99, 1]);
    }

    #[test]
    fn a_closed_outbox_refuses_and_hands_back_the_queued_calls() {
        let outbox = Outbox::default();
        let codec = Codec::default();
        outbox.push(codec, &Frame::heartbeat(1), Some(1)).unwrap();
        outbox.push(codec, &Frame::heartbeat(2), None).unwrap();
        assert_eq!(outbox.close(), vec![1]);
        assert!(matches!(
            outbox.push(codec, &Frame::heartbeat(3), Some(3)),
            Err(Refused::Closed)
        ));
    }

    #[test]
    fn a_frame_too_large_is_refused_and_leaves_nothing() {
        let outbox = Outbox::default();
        let codec = Codec::new(crate::codec::CodecConfig {
            max_frame_size: 64,
            ..Default::default()
        });
        let big = Frame::request("c", Default::default(), vec![0u8; 100]);
        assert!(matches!(
            outbox.push(codec, &big, Some(1)),
            Err(Refused::Invalid(_))
        ));
        outbox.push(codec, &Frame::heartbeat(2), Some(2)).unwrap();
        let mut wbuf = BytesMut::new();
        let mut outgoing = Outgoing::default();
        outbox.take(&mut wbuf, &mut outgoing, false, |_| true);
        assert_eq!(frames(wbuf), vec![2]);
    }
}
