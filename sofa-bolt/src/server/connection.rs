//! One accepted connection: read requests, dispatch them, write responses.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use bytes::BytesMut;
use futures::FutureExt;
use tokio::io::AsyncWriteExt;
use tokio::net::TcpStream;
use tokio::sync::{mpsc, OwnedSemaphorePermit};
use tokio::time::{interval, Instant, MissedTickBehavior};
use tokio_util::sync::CancellationToken;

use super::budget::Charge;
use super::dispatch::{dispatch, drain, Intake};
use super::frame_clock::FrameClock;
use super::read::{after_dispatch, make_room, read_chunk, read_size, stop_reading, Stop};
use super::stopping::Stopping;
use super::{ServerConfig, Shared};
use crate::codec::Codec;
use crate::frame::Frame;
use crate::io::{write_or_flush, IdleTimer, Wrote, READ_CAPACITY, WRITE_HIGH_WATER};
use crate::log_limit::LogLimit;
use crate::stream::{Acceptor, BoltStream};

static HANDSHAKE_LOG: LogLimit = LogLimit::new();

/// After a shutdown began, a connection half-closes once nothing is in flight and no request
/// arrived for this long: its client has most likely stopped choosing this server.
const DRAIN_QUIET: Duration = Duration::from_millis(100);

/// How long a half-closed connection keeps reading (and discarding) until its client closes
/// too. Closing with unread bytes would reset the connection, and a reset can destroy answers
/// the client has received but not read yet.
const LINGER: Duration = Duration::from_millis(500);

/// Why a connection ended, for the log line.
enum Close {
    /// Reading had stopped and every request was answered.
    Done,
    PeerClosed,
    Idle,
    Io(std::io::Error),
    /// Shutting down: nothing in flight and the client went quiet (or the time is up).
    Drained,
    /// Requests were still in flight when the time to finish them ran out.
    TimedOut,
}

/// Runs the acceptor's work on an accepted stream (within the handshake timeout, holding the
/// connection's place under the limit all along), then serves the connection until it closes.
pub(super) async fn accept_and_serve<A: Acceptor>(
    acceptor: Arc<A>,
    tcp: TcpStream,
    peer: SocketAddr,
    shared: Arc<Shared>,
    shutdown: CancellationToken,
    permit: OwnedSemaphorePermit,
) {
    let limit = shared.config.handshake_timeout;
    let accepted = tokio::select! {
        _ = shutdown.cancelled() => return,
        accepted = tokio::time::timeout(limit, acceptor.accept(tcp)) => accepted,
    };
    let stream = match accepted {
        Ok(Ok(stream)) => stream,
        Ok(Err(e)) => {
            // A scanner or a misconfigured client can fail handshakes as fast as it likes.
            if let Some(suppressed) = HANDSHAKE_LOG.allow() {
                tracing::warn!(%peer, error = %e, suppressed, "closing connection: handshake failed");
            }
            return;
        }
        Err(_) => {
            if let Some(suppressed) = HANDSHAKE_LOG.allow() {
                tracing::warn!(%peer, timeout = ?limit, suppressed, "closing connection: handshake not completed in time");
            }
            return;
        }
    };
    serve_with_permit(stream, peer, shared, shutdown, permit).await
}

/// Serves one connection until it closes; `_permit` holds its place under the connection limit.
async fn serve_with_permit<S: BoltStream>(
    mut stream: S,
    peer: SocketAddr,
    shared: Arc<Shared>,
    shutdown: CancellationToken,
    _permit: OwnedSemaphorePermit,
) {
    let config: &ServerConfig = &shared.config;
    let identity = stream.peer_identity();
    let (mut rd, mut wr) = stream.halves();
    let mut codec = Codec::new(config.codec);
    let mut rbuf = BytesMut::with_capacity(READ_CAPACITY);
    let mut wbuf = BytesMut::with_capacity(READ_CAPACITY);
    let (tx, mut rx) = mpsc::unbounded_channel::<Option<Frame>>();
    let mut intake = Intake::new(tx, peer, identity, config.max_requests_per_connection);
    let mut charge = Charge::new(shared.partial.clone());
    let mut clock = FrameClock::new(config.frame_timeout);
    let mut idle = IdleTimer::new(config.idle_timeout);
    // Set once reading stops for good; then the connection closes when the last answer is out.
    let mut reading = true;
    // Whether frames were left in `rbuf` because the connection had its fill in flight.
    let mut backlog = false;
    let mut deadline: Option<Instant> = None;
    // While shutting down: ticks of the quiet check, and whether a request came since the last.
    let mut quiet: Option<tokio::time::Interval> = None;
    let mut heard = false;
    // Bytes written into a stream that buffers them (TLS) and not flushed out yet.
    let mut unflushed = false;

    // Created once and polled every turn: between wake-ups a poll is one atomic load (see
    // `Stopping`); a `cancelled()` future made afresh each turn would join and leave the
    // token's waiter list every time.
    let mut stopping = Stopping::new(&shared.stop, shutdown);

    let close = loop {
        if !reading && intake.in_flight() == 0 && wbuf.is_empty() && !unflushed {
            break Close::Done;
        }
        if backlog && intake.has_room() {
            // Answers made room: take the requests already read before reading more.
            let got = dispatch(&shared, &mut codec, &mut rbuf, &mut wbuf, &mut intake);
            match after_dispatch(got, &mut backlog, &mut clock, &mut rbuf, &mut charge) {
                Ok(()) => {}
                Err(stop) => {
                    stop_reading(stop, peer, config, &mut rbuf, &mut charge);
                    reading = false;
                    deadline.get_or_insert_with(|| Instant::now() + config.shutdown_timeout);
                }
            }
        }
        let can_read = reading && !backlog && wbuf.len() < WRITE_HIGH_WATER;
        let partial = can_read && !rbuf.is_empty();
        if !partial {
            clock.restart();
        }
        let settled = intake.in_flight() == 0 && wbuf.is_empty() && !unflushed;
        // Half-closing with part of a request read would lose it: wait for the rest.
        let can_half_close = settled && rbuf.is_empty();
        tokio::select! {
            biased;
            _ = &mut stopping, if !intake.is_draining() => {
                tracing::debug!(%peer, "server shutting down: answering new requests busy");
                intake.start_draining();
                deadline = Some(Instant::now() + config.shutdown_timeout);
                let mut tick = interval(DRAIN_QUIET);
                tick.set_missed_tick_behavior(MissedTickBehavior::Delay);
                quiet = Some(tick);
                // The first tick is immediate; a request may be on its way in the same instant.
                heard = true;
            }
            res = write_or_flush(&mut wr, &mut wbuf), if !wbuf.is_empty() || unflushed => {
                if let Some(close) = wrote::<S>(res, &wbuf, &mut idle, &mut unflushed) {
                    break close;
                }
            }
            // Every message on `rx` comes from a responder counted in flight: with none, there
            // is nothing to wait for, and not polling spares registering the waker each turn.
            msg = rx.recv(), if intake.in_flight() > 0 && wbuf.len() < WRITE_HIGH_WATER => {
                // `rx` cannot end: `intake` holds a sender for as long as this loop runs.
                let Some(answer) = msg else { break Close::Done };
                intake.answered(answer, &mut codec, &mut wbuf);
                drain(&mut rx, &mut codec, &mut wbuf, &mut intake);
                // More answers are on their way from handler tasks that are ready to run:
                // let them, so one write carries them all instead of one write each.
                if intake.in_flight() > 0 {
                    tokio::task::yield_now().await;
                    drain(&mut rx, &mut codec, &mut wbuf, &mut intake);
                }
            },
            // A read adds at most `READ_CAPACITY` bytes, and only `SMALL_READ` while the budget
            // is spent: a buffer grows with what arrives (never with what a header announces),
            // the budget check after a read is late by at most that much, and a thousand
            // connections closed for the budget after their first read have touched little.
            res = read_chunk(&mut rd, &mut rbuf, read_size(&shared)), if can_read => match res {
                Ok(0) => {
                    reading = false;
                    if !rbuf.is_empty() {
                        stop_reading(Stop::PeerClosed, peer, config, &mut rbuf, &mut charge);
                    }
                    tracing::debug!(%peer, "peer closed its side");
                    deadline.get_or_insert_with(|| Instant::now() + config.shutdown_timeout);
                }
                Ok(_) => {
                    idle.touch();
                    // Bytes arrived: not quiet, even if they do not make a whole frame yet.
                    heard = true;
                    let got = dispatch(&shared, &mut codec, &mut rbuf, &mut wbuf, &mut intake);
                    if let Err(stop) = after_dispatch(got, &mut backlog, &mut clock, &mut rbuf, &mut charge) {
                        stop_reading(stop, peer, config, &mut rbuf, &mut charge);
                        reading = false;
                        deadline.get_or_insert_with(|| Instant::now() + config.shutdown_timeout);
                    }
                    // Processors that answered at once did so already: write them in one go,
                    // now if the stream takes them without waiting, instead of on the next
                    // turn of the loop.
                    drain(&mut rx, &mut codec, &mut wbuf, &mut intake);
                    if !wbuf.is_empty() {
                        if let Some(res) = write_or_flush(&mut wr, &mut wbuf).now_or_never() {
                            if let Some(close) = wrote::<S>(res, &wbuf, &mut idle, &mut unflushed) {
                                break close;
                            }
                        }
                    }
                    if reading {
                        if let Err(stop) = make_room(&codec, &mut rbuf, &mut charge) {
                            stop_reading(stop, peer, config, &mut rbuf, &mut charge);
                            reading = false;
                            deadline.get_or_insert_with(|| Instant::now() + config.shutdown_timeout);
                        }
                    }
                }
                Err(e) => break Close::Io(e),
            },
            _ = clock.expired(), if partial => {
                stop_reading(Stop::SlowFrame, peer, config, &mut rbuf, &mut charge);
                reading = false;
                deadline.get_or_insert_with(|| Instant::now() + config.shutdown_timeout);
            }
            _ = tick_opt(&mut quiet), if can_half_close => {
                if !std::mem::take(&mut heard) {
                    break Close::Drained;
                }
            }
            _ = idle.expired(), if reading && !intake.is_draining() => break Close::Idle,
            _ = sleep_until_opt(deadline) => {
                break if settled { Close::Drained } else { Close::TimedOut };
            }
        }
    };
    drop(charge);
    drop((rd, wr));
    let linger_after = matches!(close, Close::Drained) && reading;
    match close {
        Close::Done | Close::PeerClosed => tracing::debug!(%peer, "connection closed"),
        Close::Idle => {
            tracing::info!(%peer, idle = ?config.idle_timeout, "closing idle connection")
        }
        Close::Io(e) => tracing::debug!(%peer, error = %e, "connection i/o error"),
        Close::Drained => tracing::debug!(%peer, "connection drained"),
        Close::TimedOut => tracing::warn!(
            %peer,
            "closing connection with requests still in flight after the shutdown timeout"
        ),
    }
    let _ = stream.shutdown().await;
    if linger_after {
        linger(&mut stream, &mut rbuf).await;
    }
}

/// Takes in what a write or flush did; `Some` when it ended the connection.
fn wrote<S: BoltStream>(
    res: std::io::Result<Wrote>,
    wbuf: &BytesMut,
    idle: &mut IdleTimer,
    unflushed: &mut bool,
) -> Option<Close> {
    match res {
        Ok(Wrote::Bytes(0)) => Some(Close::PeerClosed),
        Ok(Wrote::Bytes(_)) => {
            idle.touch();
            *unflushed = S::BUFFERS_WRITES && wbuf.is_empty();
            None
        }
        Ok(Wrote::Flushed) => {
            *unflushed = false;
            None
        }
        Err(e) => Some(Close::Io(e)),
    }
}

/// Reads and discards until the peer closes, for at most [`LINGER`].
async fn linger<S: BoltStream>(stream: &mut S, rbuf: &mut BytesMut) {
    let _ = tokio::time::timeout(LINGER, async {
        loop {
            rbuf.clear();
            match read_chunk(stream, rbuf, READ_CAPACITY).await {
                Ok(0) | Err(_) => return,
                Ok(_) => {}
            }
            if rbuf.capacity() < 1024 {
                rbuf.reserve(4096);
            }
        }
    })
    .await;
}

async fn tick_opt(tick: &mut Option<tokio::time::Interval>) {
    match tick {
        Some(tick) => {
            tick.tick().await;
        }
        None => std::future::pending().await,
    }
}

async fn sleep_until_opt(deadline: Option<Instant>) {
    match deadline {
        Some(at) => tokio::time::sleep_until(at).await,
        None => std::future::pending().await,
    }
}
