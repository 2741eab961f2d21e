//! The read side of a connection: how much it may read and hold, and why it stops reading.

use std::net::SocketAddr;

use bytes::{BufMut, BytesMut};
use tokio::io::{AsyncRead, AsyncReadExt};

use super::budget::Charge;
use super::dispatch::Dispatched;
use super::frame_clock::FrameClock;
use super::{ServerConfig, Shared};
use crate::codec::Codec;
use crate::io::READ_CAPACITY;
use crate::log_limit::LogLimit;

/// The most a read takes while partial frames fill the server's budget.
pub(super) const SMALL_READ: usize = 4 * 1024;

/// Why the server stopped reading a connection that it still answers on.
pub(super) enum Stop {
    PeerClosed,
    Malformed(crate::Error),
    OverBudget { held: usize },
    SlowFrame,
}

static BUDGET_LOG: LogLimit = LogLimit::new();
static SLOW_LOG: LogLimit = LogLimit::new();

/// Bookkeeping after a dispatch: the backlog flag, the frame clock and the budget. An error
/// says why the connection must stop reading.
pub(super) fn after_dispatch(
    got: crate::Result<Dispatched>,
    backlog: &mut bool,
    clock: &mut FrameClock,
    rbuf: &mut BytesMut,
    charge: &mut Charge,
) -> Result<(), Stop> {
    let got = got.map_err(Stop::Malformed)?;
    *backlog = got.backlog;
    if got.frames > 0 {
        // What is left, if anything, is a frame that started in this read.
        clock.restart();
    }
    let over = charge.set(held(rbuf));
    if over && rbuf.len() > ServerConfig::SMALL_PARTIAL {
        return Err(Stop::OverBudget { held: held(rbuf) });
    }
    Ok(())
}

/// What a connection's read buffer counts against the budget: the bytes in it, or the room
/// made for a large frame once that was made.
fn held(rbuf: &BytesMut) -> usize {
    if rbuf.capacity() > 2 * READ_CAPACITY {
        rbuf.capacity()
    } else {
        rbuf.len()
    }
}

/// Makes room for the next read. A frame larger than the usual room gets its whole length
/// reserved at once, but only after its first `READ_CAPACITY` bytes arrived and only if the
/// budget has room for all of it (the reservation counts in full): growing step by step
/// instead would copy it several times and leave the allocator holding the old copies, which
/// made resident memory several times the budget.
pub(super) fn make_room(
    codec: &Codec,
    rbuf: &mut BytesMut,
    charge: &mut Charge,
) -> Result<(), Stop> {
    if rbuf.capacity() - rbuf.len() >= 1024 {
        return Ok(());
    }
    let total = codec.frame_len(rbuf).ok().flatten().unwrap_or(0);
    if total <= rbuf.capacity() || rbuf.len() < READ_CAPACITY {
        rbuf.reserve(READ_CAPACITY);
    } else {
        if charge.would_exceed(total) {
            return Err(Stop::OverBudget { held: total });
        }
        rbuf.reserve(total - rbuf.len());
    }
    charge.set(held(rbuf));
    Ok(())
}

/// Logs why reading stopped and gives back the bytes held for the frame that will never
/// complete.
pub(super) fn stop_reading(
    stop: Stop,
    peer: SocketAddr,
    config: &ServerConfig,
    rbuf: &mut BytesMut,
    charge: &mut Charge,
) {
    match stop {
        Stop::PeerClosed => {
            tracing::debug!(%peer, bytes = rbuf.len(), "peer closed in the middle of a frame")
        }
        Stop::Malformed(err) => {
            tracing::warn!(%peer, error = %err, "closing connection: malformed input")
        }
        Stop::OverBudget { held } => {
            if let Some(suppressed) = BUDGET_LOG.allow() {
                tracing::warn!(
                    %peer,
                    held,
                    budget = config.max_partial_bytes,
                    suppressed,
                    "closing connection: partial frames of all connections over the server's budget"
                );
            }
        }
        Stop::SlowFrame => {
            if let Some(suppressed) = SLOW_LOG.allow() {
                tracing::warn!(
                    %peer,
                    bytes = rbuf.len(),
                    frame_timeout = ?config.frame_timeout,
                    suppressed,
                    "closing connection: frame not completed in time"
                );
            }
        }
    }
    *rbuf = BytesMut::new();
    charge.set(0);
}

/// How much the next read may take.
pub(super) fn read_size(shared: &Shared) -> usize {
    if shared.partial.used() < shared.config.max_partial_bytes {
        READ_CAPACITY
    } else {
        SMALL_READ
    }
}

/// Reads at most `max` bytes.
pub(super) async fn read_chunk<R: AsyncRead + Unpin>(
    rd: &mut R,
    rbuf: &mut BytesMut,
    max: usize,
) -> std::io::Result<usize> {
    rd.read_buf(&mut rbuf.limit(max)).await
}
