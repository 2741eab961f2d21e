//! Requests encoded by their callers, waiting for the connection task to write them.
//!
//! A caller encodes its request straight into the outbox, under a lock held for the encoding
//! only, and wakes the connection task only when the outbox was empty. The task then moves
//! every request queued meanwhile into its write buffer at once: no frame is handed over one by
//! one, and one wake serves a whole round of callers.
//!
//! A call alone on its connection, while the task has nothing to write, skips the hand-over: its
//! caller writes the request to the socket itself, without waiting, and the task is not woken
//! for it, unless it has yet to start checking timeouts (plain TCP only; a TLS stream is
//! written by its task alone).

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::task::{Context, Poll};

use bytes::{Buf, BytesMut};
use futures::task::AtomicWaker;

use super::outgoing::Outgoing;
use super::socket::SharedWrite;
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
    /// Whether the task has something to take (or, after a call written by its caller, a
    /// timeout to start checking), readable without the lock.
    filled: AtomicBool,
    /// The connection task, once it waits for requests.
    task: AtomicWaker,
    /// Whether callers may write to the socket at all (set once, at the start).
    writes_through: bool,
}

#[derive(Default)]
struct Queued {
    bytes: BytesMut,
    /// Each frame in `bytes`: where it starts, and the id of the call waiting for its answer
    /// (`None` for a oneway request).
    frames: Vec<(usize, Option<i32>)>,
    /// Set once the connection writes nothing more.
    closed: bool,
    /// The socket, for callers to write to (see the module's documentation); `None` for a
    /// stream only its task may write to, and once closed.
    socket: Option<Arc<SharedWrite>>,
    /// Whether the connection task has nothing to write: its write buffer is empty and it took
    /// nothing from here since. Callers write to `socket` only then, so that bytes never
    /// interleave.
    task_idle: bool,
    /// The first frame in `bytes` is partly written already: it must go out whole.
    begun: bool,
    /// Whether the task checks calls for their timeouts. A request written by its caller
    /// wakes the task when it does not, as a queued one would, so that it starts.
    sweeping: bool,
}

impl Outbox {
    /// An outbox whose lone requests their callers may write to `socket` themselves, the
    /// connection's own socket (its task must then report when it is idle, see
    /// [`task_idle`](Self::task_idle)).
    pub(super) fn with_socket(socket: Option<Arc<SharedWrite>>) -> Self {
        let writes_through = socket.is_some();
        Outbox {
            queued: Mutex::new(Queued {
                socket,
                task_idle: writes_through,
                ..Queued::default()
            }),
            writes_through,
            ..Outbox::default()
        }
    }

    fn lock(&self) -> MutexGuard<'_, Queued> {
        // Nothing panics while holding this lock (encoding returns its errors); keep going.
        self.queued.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Encodes `frame` at the end of the queue; `call` is the id of the call that waits for its
    /// answer, if one does. A request `alone` (no other call waits on the connection) finding
    /// the queue empty and the task idle is written to the socket at once, as far as the
    /// socket takes it without waiting; what it does not take waits here for the task.
    pub(super) fn push(
        &self,
        mut codec: Codec,
        frame: &Frame,
        call: Option<i32>,
        alone: bool,
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
        if start != 0 {
            return Ok(());
        }
        // Written whole: the task need not hear of it, unless a call now waits for an answer
        // and the task does not check timeouts yet.
        if alone
            && queued.task_idle
            && queued.write_through()
            && (queued.sweeping || call.is_none())
        {
            return Ok(());
        }
        self.filled.store(true, Ordering::Release);
        drop(queued);
        self.task.wake();
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
    /// dropped instead: for a backlog that built up while the peer did not read. If it moved
    /// any, the task is no longer idle, and callers write nothing to the socket.
    pub(super) fn take(
        &self,
        wbuf: &mut BytesMut,
        outgoing: &mut Outgoing,
        prune: bool,
        waits: impl Fn(i32) -> bool,
    ) {
        let mut queued = self.lock();
        self.filled.store(false, Ordering::Release);
        if !queued.bytes.is_empty() {
            queued.task_idle = false;
            if let Some(socket) = &queued.socket {
                socket.set_lone(false);
            }
            queued.move_to(wbuf, outgoing, prune, waits);
        }
    }

    /// Like [`take`](Self::take), for the task about to write a frame of its own: once done,
    /// callers write nothing to the socket, even if nothing was queued.
    pub(super) fn claim(&self, wbuf: &mut BytesMut, outgoing: &mut Outgoing) {
        let mut queued = self.lock();
        self.filled.store(false, Ordering::Release);
        queued.task_idle = false;
        queued.move_to(wbuf, outgoing, false, |_| true);
    }

    /// The task checks timeouts from now on.
    pub(super) fn sweeping(&self) {
        self.lock().sweeping = true;
    }

    /// The task stops checking timeouts if no call waits (`none_waits` says, asked under the
    /// lock that callers write through, so that none slips by). Returns whether it stopped.
    pub(super) fn stop_sweeping(&self, none_waits: impl FnOnce() -> bool) -> bool {
        let mut queued = self.lock();
        queued.sweeping = !none_waits();
        !queued.sweeping
    }

    /// The task wrote out everything it had: callers may write to the socket again, unless
    /// requests are queued (the task takes them next).
    pub(super) fn task_idle(&self) {
        if !self.writes_through {
            return;
        }
        let mut queued = self.lock();
        if queued.socket.is_some() && queued.bytes.is_empty() {
            queued.task_idle = true;
        }
    }

    /// Takes no more requests, lets go of the socket, and returns the ids of the calls whose
    /// request was queued and will never be written.
    pub(super) fn close(&self) -> Vec<i32> {
        let mut queued = self.lock();
        queued.closed = true;
        queued.socket = None;
        queued.task_idle = false;
        self.filled.store(false, Ordering::Release);
        queued.bytes = BytesMut::new();
        std::mem::take(&mut queued.frames)
            .into_iter()
            .filter_map(|(_, call)| call)
            .collect()
    }
}

impl Queued {
    /// Moves the queue to the end of `wbuf` (see [`Outbox::take`]).
    fn move_to(
        &mut self,
        wbuf: &mut BytesMut,
        outgoing: &mut Outgoing,
        prune: bool,
        waits: impl Fn(i32) -> bool,
    ) {
        let begun = std::mem::take(&mut self.begun);
        let Queued { bytes, frames, .. } = self;
        if prune {
            let ends = frames.iter().skip(1).map(|(start, _)| *start);
            let ends = ends.chain(std::iter::once(bytes.len()));
            for (i, (&(start, call), end)) in frames.iter().zip(ends).enumerate() {
                let given_up = call.is_some_and(|id| !waits(id));
                if given_up && !(i == 0 && begun) {
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

    /// Writes the queue (one request) to the socket without waiting. Returns whether all of it
    /// went; otherwise the rest stays queued for the task, which also meets any error anew.
    fn write_through(&mut self) -> bool {
        let Some(socket) = &self.socket else {
            return false;
        };
        match socket.try_write(&self.bytes) {
            Ok(n) if n == self.bytes.len() => {
                socket.set_lone(true);
                self.bytes.clear();
                self.frames.clear();
                true
            }
            Ok(n) => {
                self.bytes.advance(n);
                self.begun = n > 0;
                false
            }
            // Full (`WouldBlock`), interrupted, or broken: the task's own write sees to it.
            Err(_) => false,
        }
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
            outbox
                .push(codec, &Frame::heartbeat(id), Some(id), false)
                .unwrap();
        }
        outbox
            .push(codec, &Frame::heartbeat(4), None, false)
            .unwrap();
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
            outbox
                .push(codec, &Frame::heartbeat(id), Some(id), false)
                .unwrap();
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
        outbox.push(Codec::default(), &big, Some(1), false).unwrap();
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
        outbox
            .push(codec, &Frame::heartbeat(1), Some(1), false)
            .unwrap();
        outbox
            .push(codec, &Frame::heartbeat(2), None, false)
            .unwrap();
        assert_eq!(outbox.close(), vec![1]);
        assert!(matches!(
            outbox.push(codec, &Frame::heartbeat(3), Some(3), false),
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
            outbox.push(codec, &big, Some(1), false),
            Err(Refused::Invalid(_))
        ));
        outbox
            .push(codec, &Frame::heartbeat(2), Some(2), false)
            .unwrap();
        let mut wbuf = BytesMut::new();
        let mut outgoing = Outgoing::default();
        outbox.take(&mut wbuf, &mut outgoing, false, |_| true);
        assert_eq!(frames(wbuf), vec![2]);
    }

    /// A connected pair of sockets with small buffers: (our end, as a connection has it; the
    /// peer's end, blocking).
    async fn socket_pair() -> (Arc<SharedWrite>, std::net::TcpStream) {
        let listening = tokio::net::TcpSocket::new_v4().expect("a socket");
        listening
            .set_recv_buffer_size(4096)
            .expect("a receive buffer size");
        listening
            .bind("127.0.0.1:0".parse().expect("an address"))
            .expect("bound");
        let listener = listening.listen(1).expect("listening");
        let connecting = tokio::net::TcpSocket::new_v4().expect("a socket");
        connecting
            .set_send_buffer_size(4096)
            .expect("a send buffer size");
        let addr = listener.local_addr().expect("an address");
        let (ours, theirs) = tokio::join!(connecting.connect(addr), listener.accept());
        let ours = super::super::socket::SharedTcp::new(ours.expect("connected")).1;
        let theirs = theirs
            .expect("accepted")
            .0
            .into_std()
            .expect("a std stream");
        theirs.set_nonblocking(false).expect("blocking");
        (ours, theirs)
    }

    /// Reads and decodes frames from `from` until it has `n`.
    fn read_frames(from: &mut std::net::TcpStream, n: usize) -> Vec<Frame> {
        use std::io::Read;
        from.set_read_timeout(Some(std::time::Duration::from_secs(5)))
            .expect("a read timeout");
        let mut codec = Codec::default();
        let mut wire = BytesMut::new();
        let mut got = Vec::new();
        let mut chunk = vec![0u8; 64 * 1024];
        while got.len() < n {
            let read = from.read(&mut chunk).expect("the frames arrive");
            assert!(read > 0, "closed after {} frames", got.len());
            wire.extend_from_slice(&chunk[..read]);
            while let Some(frame) = codec.decode(&mut wire).expect("valid frames") {
                got.push(frame);
            }
        }
        assert!(wire.is_empty(), "bytes after the frames");
        got
    }

    #[tokio::test]
    async fn a_lone_request_is_written_by_its_caller_only_while_the_task_is_idle() {
        let (ours, mut theirs) = socket_pair().await;
        let outbox = Outbox::with_socket(Some(ours.clone()));
        let count = Arc::new(Count::default());
        let waker = Waker::from(count.clone());
        let mut cx = Context::from_waker(&waker);
        assert!(outbox.poll_filled(&mut cx).is_pending());
        let codec = Codec::default();
        let mut wbuf = BytesMut::new();
        let mut outgoing = Outgoing::default();

        // A oneway request has no timeout to check: written, and the task left alone.
        outbox
            .push(codec, &Frame::heartbeat(10), None, true)
            .unwrap();
        assert_eq!(read_frames(&mut theirs, 1)[0].request_id(), 10);
        assert_eq!(count.0.load(Ordering::SeqCst), 0);
        assert!(ours.is_lone(), "the last request went out alone");

        // Written, and the task woken: it does not check timeouts yet. Taking nothing leaves
        // it idle.
        outbox
            .push(codec, &Frame::heartbeat(1), Some(1), true)
            .unwrap();
        assert_eq!(read_frames(&mut theirs, 1)[0].request_id(), 1);
        assert_eq!(count.0.load(Ordering::SeqCst), 1, "woken to check timeouts");
        assert!(outbox.poll_filled(&mut cx).is_ready());
        outbox.take(&mut wbuf, &mut outgoing, false, |_| true);
        assert!(wbuf.is_empty());
        outbox.sweeping();

        // Once it does, a lone request does not wake it.
        outbox
            .push(codec, &Frame::heartbeat(7), Some(7), true)
            .unwrap();
        assert_eq!(read_frames(&mut theirs, 1)[0].request_id(), 7);
        assert_eq!(count.0.load(Ordering::SeqCst), 1, "the task is not woken");
        assert!(outbox.poll_filled(&mut cx).is_pending());

        // Not alone: through the task, whose take ends its idleness.
        outbox
            .push(codec, &Frame::heartbeat(2), Some(2), false)
            .unwrap();
        assert_eq!(count.0.load(Ordering::SeqCst), 2);
        outbox.take(&mut wbuf, &mut outgoing, false, |_| true);
        assert!(!ours.is_lone(), "the task writes the last request");
        outbox
            .push(codec, &Frame::heartbeat(3), Some(3), true)
            .unwrap();
        assert!(
            outbox.poll_filled(&mut cx).is_ready(),
            "queued for the busy task"
        );
        outbox.take(&mut wbuf, &mut outgoing, false, |_| true);
        assert_eq!(frames(wbuf.split()), vec![2, 3]);

        // Idle again: written by the caller again. Stopping the timeout checks is refused while
        // a call waits.
        assert!(!outbox.stop_sweeping(|| false));
        outbox.task_idle();
        outbox
            .push(codec, &Frame::heartbeat(4), Some(4), true)
            .unwrap();
        assert!(outbox.poll_filled(&mut cx).is_pending());
        assert_eq!(read_frames(&mut theirs, 1)[0].request_id(), 4);
        assert!(ours.is_lone());

        // A claim by the task ends its idleness even with nothing queued.
        outbox.claim(&mut wbuf, &mut outgoing);
        outbox
            .push(codec, &Frame::heartbeat(6), Some(6), true)
            .unwrap();
        assert!(outbox.poll_filled(&mut cx).is_ready());
        outbox.take(&mut wbuf, &mut outgoing, false, |_| true);
        assert_eq!(frames(wbuf.split()), vec![6]);

        // Closed: the handle is let go, and nothing more is taken.
        outbox.close();
        assert!(outbox.lock().socket.is_none());
        assert!(matches!(
            outbox.push(codec, &Frame::heartbeat(5), Some(5), true),
            Err(Refused::Closed)
        ));
    }

    #[tokio::test]
    async fn a_request_the_socket_takes_in_part_goes_on_whole_through_the_task() {
        let (ours, mut theirs) = socket_pair().await;
        let outbox = Outbox::with_socket(Some(ours.clone()));
        let codec = Codec::default();
        let content: Vec<u8> = (0..1024 * 1024).map(|i| i as u8).collect();
        let big = Frame::request("c", Default::default(), content.clone()).with_request_id(1);
        outbox.push(codec, &big, Some(1), true).unwrap();
        {
            let queued = outbox.lock();
            assert!(queued.begun, "the socket took part of it");
            assert!(!queued.bytes.is_empty());
        }
        // Queued behind it: a second request, whose caller gave up, like the first one's.
        outbox
            .push(codec, &Frame::heartbeat(2), Some(2), true)
            .unwrap();
        let mut wbuf = BytesMut::new();
        let mut outgoing = Outgoing::default();
        outbox.take(&mut wbuf, &mut outgoing, true, |_| false);
        assert_eq!(
            outgoing.queued_ids(),
            vec![1],
            "the begun request is kept whole"
        );

        let reader = std::thread::spawn(move || read_frames(&mut theirs, 1));
        let mut rest = &wbuf[..];
        while !rest.is_empty() {
            ours.tcp().writable().await.expect("writable");
            match ours.try_write(rest) {
                Ok(n) => rest = &rest[n..],
                Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {}
                Err(e) => panic!("writing the rest: {e}"),
            }
        }
        let got = reader.join().expect("the reader");
        assert_eq!(got[0].request_id(), 1);
        assert_eq!(got[0].content().as_ref(), content.as_slice());
    }
}
