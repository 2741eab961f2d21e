//! The task that owns a client connection's socket.

use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::BytesMut;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use super::outbox::KEEP_AT_MOST;
use super::outgoing::Outgoing;
use super::round::Round;
use super::{ConnectionConfig, Shared};
use crate::codec::Codec;
use crate::error::{Error, ErrorKind};
use crate::frame::{Frame, ResponseStatus, SERVER_CLOSING_HEADER};
use crate::io::{
    let_woken_tasks_run, write_or_flush, Activity, Ticker, Wrote, READ_CAPACITY, WRITE_HIGH_WATER,
};
use crate::stream::BoltStream;

/// How often calls past their timeout are failed.
const SWEEP_PERIOD: Duration = Duration::from_millis(10);

/// Runs until the connection ends, then fails every call still waiting with the reason, and
/// returns it.
pub(super) async fn run<S: BoltStream>(
    mut stream: S,
    shared: Arc<Shared>,
    config: ConnectionConfig,
) -> String {
    let peer = shared.peer;
    let _ends = FailLeftOnDrop(shared.clone());
    let (mut rd, mut wr) = stream.halves();
    let mut codec = Codec::new(config.codec);
    let mut rbuf = BytesMut::with_capacity(READ_CAPACITY);
    let mut wbuf = BytesMut::with_capacity(READ_CAPACITY);
    let mut activity = Activity::new();
    let mut heartbeat = Heartbeat::new(&config);
    let mut round = Round::default();
    // Fails calls past their timeout; runs only while calls are waiting.
    let mut sweep = Ticker::new(SWEEP_PERIOD);
    let mut sweeping = false;
    // Whether `rbuf` has new bytes to decode, and whether decoding stopped with frames left.
    let mut received = false;
    let mut unread = false;

    // Two-way requests in `wbuf`, for telling apart the calls that never went out when
    // writing fails. Offsets count every byte ever put in `wbuf`: `written` plus its length.
    let mut outgoing = Outgoing::default();
    // Set once a write failed: from then on the connection only reads, so that answers the
    // server already sent still reach their calls.
    let mut write_failed: Option<String> = None;
    // Bytes written into a stream that buffers them (TLS) and not flushed out yet.
    let mut unflushed = false;
    // Set once the write buffer was full, until the next take from the outbox: requests queued
    // meanwhile are pruned of the calls given up on before they go out.
    let mut stalled = false;
    // The most `wbuf` held since it was last empty: a buffer grown by a burst is let go once
    // written out.
    let mut wbuf_peak = 0;

    // Created once (see the server's connection loop).
    let closing = shared.close.wait();
    tokio::pin!(closing);

    let why: String = loop {
        if let Some(why) = &write_failed {
            if shared.pending.len() == 0 {
                break why.clone();
            }
        }
        if std::mem::take(&mut received) {
            let limit = round.size(shared.pending.len());
            match receive(
                &shared,
                &mut codec,
                &mut rbuf,
                (&mut wbuf, &mut outgoing),
                &mut heartbeat,
                limit,
            ) {
                Ok(more) => unread = more,
                Err(e) => {
                    tracing::warn!(%peer, error = %e, "closing connection: malformed input from server");
                    break format!("malformed input from server: {e}");
                }
            }
            if rbuf.capacity() - rbuf.len() < 1024 {
                rbuf.reserve(READ_CAPACITY);
            }
        }
        // A full write buffer takes no more requests; those queued meanwhile get pruned.
        let full = wbuf.len() >= WRITE_HIGH_WATER;
        stalled |= full;
        tokio::select! {
            biased;
            _ = &mut closing => break "closed locally".into(),
            res = write_or_flush(&mut wr, &mut wbuf), if (!wbuf.is_empty() || unflushed) && write_failed.is_none() => match res {
                Ok(Wrote::Bytes(0)) => break "peer stopped reading".into(),
                Ok(Wrote::Flushed) => unflushed = false,
                Ok(Wrote::Bytes(n)) => {
                    activity.touch();
                    outgoing.written(n);
                    unflushed = S::BUFFERS_WRITES && wbuf.is_empty();
                    if wbuf.is_empty() {
                        if std::mem::take(&mut wbuf_peak) > KEEP_AT_MOST {
                            wbuf = BytesMut::with_capacity(READ_CAPACITY);
                        }
                        shared.outbox.task_idle();
                    }
                }
                Err(e) => {
                    let why = format!("write failed: {e}");
                    tracing::debug!(%peer, reason = %why, "reading the answers already on their way");
                    let reason = Error::new(ErrorKind::Io, format!("connection to {peer}: {why}"));
                    shared.pending.refuse_new(reason.clone());
                    outgoing.fail_unsent(&shared, &reason, &mut wbuf);
                    fail_queued(&shared, &reason);
                    write_failed = Some(why);
                    sweeping = true;
                }
            },
            () = std::future::poll_fn(|cx| shared.outbox.poll_filled(cx)), if !full => {
                // Callers woken with this one (by the responses just handled) are about to
                // queue too: let them, so that one write carries every request.
                let_woken_tasks_run().await;
                let prune = std::mem::take(&mut stalled);
                shared.outbox.take(&mut wbuf, &mut outgoing, prune, |id| shared.pending.contains(id));
                wbuf_peak = wbuf_peak.max(wbuf.len());
                if !sweeping && shared.pending.len() > 0 {
                    sweeping = true;
                    shared.outbox.sweeping();
                }
            }
            _ = let_woken_tasks_run(), if unread => received = true,
            res = rd.read_buf(&mut rbuf), if !unread => match res {
                Ok(0) => break match &write_failed {
                    Some(why) => format!("{why}; then the peer closed the connection"),
                    None => "peer closed the connection".into(),
                },
                Ok(_) => {
                    activity.touch();
                    received = true;
                }
                Err(e) => break format!("read failed: {e}"),
            },
            now = std::future::poll_fn(|cx| sweep.poll_tick(cx)), if sweeping => {
                if shared.pending.expire(now.into_std(), peer) == 0 {
                    sweeping = !shared.outbox.stop_sweeping(|| shared.pending.len() == 0);
                }
            }
            now = heartbeat.tick() => match heartbeat.check(activity.quiet_for(now)) {
                Beat::Send => {
                    let id = shared.next_id();
                    let frame = Frame::heartbeat(id).with_protocol(shared.protocol);
                    claim(&shared, &mut wbuf, &mut outgoing);
                    if codec.encode(&frame, &mut wbuf).is_ok() {
                        heartbeat.sent(id);
                    }
                }
                Beat::GiveUp(missed) => {
                    tracing::warn!(%peer, missed, "closing connection: heartbeats unanswered");
                    break format!("{missed} heartbeats went unanswered");
                }
                Beat::Wait => {}
            },
        }
    };
    tracing::debug!(%peer, reason = %why, "client connection closed");
    // Before any caller hears of the close: a caller that tries again at once must already
    // find the address down.
    shared.run_close_hooks();
    let reason = Error::new(
        ErrorKind::ConnectionClosed,
        format!("connection to {peer} closed: {why}"),
    );
    // Requests that never went out fail as such, so that they may be sent elsewhere.
    shared.pending.refuse_new(reason.clone());
    outgoing.fail_unsent(&shared, &reason, &mut wbuf);
    fail_queued(&shared, &reason);
    shared.pending.close(reason);
    shared.done.cancel();
    drop((rd, wr));
    let _ = stream.shutdown().await;
    why
}

/// Fails the calls still waiting when the task is dropped before it could (its runtime shut
/// down), instead of leaving their callers waiting forever. After a normal end it finds none.
struct FailLeftOnDrop(Arc<Shared>);

impl Drop for FailLeftOnDrop {
    fn drop(&mut self) {
        // Also lets go of the callers' handle on the socket, which would keep it open.
        self.0.outbox.close();
        let peer = self.0.peer;
        self.0.pending.close(Error::closed(format!(
            "connection to {peer} closed: its runtime shut down"
        )));
    }
}

/// Closes the outbox and fails, as not sent, the calls whose requests were still in it.
fn fail_queued(shared: &Shared, reason: &Error) {
    for id in shared.outbox.close() {
        shared.pending.fail(id, reason.not_sent());
    }
}

/// Before the task puts a frame of its own into its write buffer: once that holds anything,
/// callers write nothing to the socket themselves, and a request one of them left half
/// written must go first.
fn claim(shared: &Shared, wbuf: &mut BytesMut, outgoing: &mut Outgoing) {
    if wbuf.is_empty() {
        shared.outbox.claim(wbuf, outgoing);
    }
}

/// Handles the complete frames in `rbuf`, at most `limit` of them (see [`Round`]), answering
/// into `out` (the write buffer and its record) what needs an answer. Returns whether it
/// stopped at that bound, so that more may be waiting.
fn receive(
    shared: &Shared,
    codec: &mut Codec,
    rbuf: &mut BytesMut,
    out: (&mut BytesMut, &mut Outgoing),
    heartbeat: &mut Heartbeat,
    limit: usize,
) -> crate::Result<bool> {
    let (wbuf, outgoing) = out;
    let mut handled = 0;
    while let Some(frame) = codec.decode(rbuf)? {
        handled += 1;
        match (frame.is_response(), frame.is_heartbeat()) {
            (true, true) => {
                let id = frame.request_id();
                // An ack either answers a heartbeat a caller asked for, or one of ours.
                if !shared.pending.complete(frame) {
                    heartbeat.acked(id);
                }
            }
            (true, false) => {
                if is_closing_notice(&frame) {
                    tracing::debug!(peer = %shared.peer, "server is shutting down: sending nothing more");
                    shared
                        .pending
                        .refuse_new(Error::closed(format!("{} is shutting down", shared.peer)));
                }
                if !shared.pending.complete(frame) {
                    tracing::debug!(peer = %shared.peer, "discarding a response nobody waits for");
                }
            }
            (false, true) => {
                let ack = Frame::heartbeat_ack(&frame);
                claim(shared, wbuf, outgoing);
                codec.encode(&ack, wbuf)?;
            }
            (false, false) => {
                // A client serves nothing; say so instead of leaving the server waiting.
                if !frame.is_oneway() {
                    let reply =
                        Frame::response_to(&frame, ResponseStatus::SERVER_EXCEPTION).with_switch(0);
                    claim(shared, wbuf, outgoing);
                    codec.encode(&reply, wbuf)?;
                }
            }
        }
        if handled == limit {
            return Ok(true);
        }
    }
    Ok(false)
}

/// Whether `frame` is a busy answer from a server that is shutting down.
fn is_closing_notice(frame: &Frame) -> bool {
    frame.status() == ResponseStatus::SERVER_THREADPOOL_BUSY
        && frame
            .header()
            .is_ok_and(|h| h.get(SERVER_CLOSING_HEADER).is_some())
}

/// What the heartbeat clock asks for.
enum Beat {
    Wait,
    Send,
    GiveUp(u32),
}

/// Heartbeat bookkeeping: send after `interval` idle, count acks missing after `timeout`.
struct Heartbeat {
    interval: Duration,
    timeout: Duration,
    max_missed: u32,
    missed: u32,
    outstanding: Option<(i32, Instant)>,
    tick: Option<Ticker>,
}

impl Heartbeat {
    fn new(config: &ConnectionConfig) -> Self {
        let tick = (!config.heartbeat_interval.is_zero()).then(|| {
            let period = config
                .heartbeat_timeout
                .min(config.heartbeat_interval)
                .max(Duration::from_millis(10));
            Ticker::new(period)
        });
        Heartbeat {
            interval: config.heartbeat_interval,
            timeout: config.heartbeat_timeout,
            max_missed: config.max_missed_heartbeats.max(1),
            missed: 0,
            outstanding: None,
            tick,
        }
    }

    /// Polled on every turn of the connection loop: cheap between ticks (see [`Ticker`]).
    fn tick(&mut self) -> impl std::future::Future<Output = tokio::time::Instant> + '_ {
        std::future::poll_fn(move |cx| match self.tick.as_mut() {
            Some(tick) => tick.poll_tick(cx),
            None => std::task::Poll::Pending,
        })
    }

    fn check(&mut self, idle_for: Duration) -> Beat {
        if let Some((_, sent)) = self.outstanding {
            if sent.elapsed() < self.timeout {
                return Beat::Wait;
            }
            self.outstanding = None;
            self.missed += 1;
            if self.missed >= self.max_missed {
                return Beat::GiveUp(self.missed);
            }
        }
        if idle_for >= self.interval {
            Beat::Send
        } else {
            Beat::Wait
        }
    }

    fn sent(&mut self, id: i32) {
        self.outstanding = Some((id, Instant::now()));
    }

    fn acked(&mut self, id: i32) {
        if matches!(self.outstanding, Some((sent, _)) if sent == id) {
            self.outstanding = None;
            self.missed = 0;
        }
    }
}
