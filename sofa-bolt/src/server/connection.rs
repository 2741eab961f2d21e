//! One accepted connection: read requests, dispatch them, write responses.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Instant;

use bytes::BytesMut;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::sync::{mpsc, OwnedSemaphorePermit};
use tokio_util::sync::CancellationToken;

use super::Shared;
use crate::codec::Codec;
use crate::frame::{Frame, Protocol, ResponseStatus};
use crate::io::{IdleTimer, READ_CAPACITY, WRITE_HIGH_WATER};
use crate::server::processor::Responder;

/// Why a connection ended, for the log line.
enum Close {
    Done,
    PeerClosed,
    Idle,
    Io(std::io::Error),
    Drained,
}

/// Serves one connection until it closes; `_permit` holds its place under the connection limit.
pub(super) async fn serve_with_permit(
    mut stream: TcpStream,
    peer: SocketAddr,
    shared: Arc<Shared>,
    shutdown: CancellationToken,
    _permit: OwnedSemaphorePermit,
) {
    let (mut rd, mut wr) = stream.split();
    let mut codec = Codec::new(shared.config.codec);
    let mut rbuf = BytesMut::with_capacity(READ_CAPACITY);
    let mut wbuf = BytesMut::with_capacity(READ_CAPACITY);
    let (tx, mut rx) = mpsc::unbounded_channel::<Frame>();
    // Our own sender, dropped when we stop reading: the channel then closes once every
    // in-flight responder has answered or been dropped.
    let mut tx = Some(tx);
    let mut pinned: Option<Protocol> = None;
    let mut idle = IdleTimer::new(shared.config.idle_timeout);
    let mut drain_deadline: Option<tokio::time::Instant> = None;
    let mut responses_done = false;
    // Two-way requests handed to processors, and answers received from them.
    let mut dispatched: u64 = 0;
    let mut answered: u64 = 0;

    // Created once: a `cancelled()` future made afresh each turn of the loop would register
    // with (and leave) the token's waiter list every time.
    let stopping = shutdown.cancelled();
    tokio::pin!(stopping);

    let close = loop {
        if responses_done && wbuf.is_empty() {
            break Close::Done;
        }
        let reading = tx.is_some();
        let deadline = drain_deadline;
        tokio::select! {
            biased;
            _ = &mut stopping, if reading => {
                tracing::debug!(%peer, "server shutting down: finishing in-flight requests");
                tx = None;
                drain_deadline = Some(tokio::time::Instant::now() + shared.config.shutdown_timeout);
            }
            res = wr.write_buf(&mut wbuf), if !wbuf.is_empty() => match res {
                Ok(0) => break Close::PeerClosed,
                Ok(_) => idle.touch(),
                Err(e) => break Close::Io(e),
            },
            msg = rx.recv(), if !responses_done && wbuf.len() < WRITE_HIGH_WATER => match msg {
                Some(frame) => {
                    write_response(&mut codec, &mut wbuf, pinned, frame, peer);
                    answered += 1;
                    answered += drain(&mut rx, &mut codec, &mut wbuf, pinned, peer);
                    // More answers are on their way from handler tasks that are ready to run:
                    // let them, so one write carries them all instead of one write each.
                    if answered < dispatched {
                        tokio::task::yield_now().await;
                        answered += drain(&mut rx, &mut codec, &mut wbuf, pinned, peer);
                    }
                }
                None => responses_done = true,
            },
            res = rd.read_buf(&mut rbuf), if reading && wbuf.len() < WRITE_HIGH_WATER => match res {
                Ok(0) => {
                    tracing::debug!(%peer, "peer closed its side");
                    tx = None;
                    drain_deadline = Some(tokio::time::Instant::now() + shared.config.shutdown_timeout);
                }
                Ok(_) => {
                    idle.touch();
                    let sender = tx.as_ref();
                    match dispatch(&shared, &mut codec, &mut rbuf, &mut wbuf, &mut pinned, sender, peer) {
                        Ok(n) => dispatched += n,
                        Err(err) => {
                            tracing::warn!(%peer, error = %err, "closing connection: malformed input");
                            tx = None;
                            drain_deadline = Some(tokio::time::Instant::now() + shared.config.shutdown_timeout);
                        }
                    }
                    // Processors that answered at once did so already: write them in one go.
                    answered += drain(&mut rx, &mut codec, &mut wbuf, pinned, peer);
                    if rbuf.capacity() - rbuf.len() < 1024 {
                        rbuf.reserve(READ_CAPACITY);
                    }
                }
                Err(e) => break Close::Io(e),
            },
            _ = idle.expired(), if reading => break Close::Idle,
            _ = sleep_until_opt(deadline) => break Close::Drained,
        }
    };
    match close {
        Close::Done | Close::PeerClosed => tracing::debug!(%peer, "connection closed"),
        Close::Idle => {
            tracing::info!(%peer, idle = ?shared.config.idle_timeout, "closing idle connection")
        }
        Close::Io(e) => tracing::debug!(%peer, error = %e, "connection i/o error"),
        Close::Drained => tracing::warn!(
            %peer,
            "closing connection with requests still in flight after the shutdown timeout"
        ),
    }
    let _ = stream.shutdown().await;
}

async fn sleep_until_opt(deadline: Option<tokio::time::Instant>) {
    match deadline {
        Some(at) => tokio::time::sleep_until(at).await,
        None => std::future::pending().await,
    }
}

/// Encodes every answer already queued, up to the write high-water mark; returns how many.
fn drain(
    rx: &mut mpsc::UnboundedReceiver<Frame>,
    codec: &mut Codec,
    wbuf: &mut BytesMut,
    pinned: Option<Protocol>,
    peer: SocketAddr,
) -> u64 {
    let mut n = 0;
    while wbuf.len() < WRITE_HIGH_WATER {
        match rx.try_recv() {
            Ok(frame) => {
                write_response(codec, wbuf, pinned, frame, peer);
                n += 1;
            }
            Err(_) => break,
        }
    }
    n
}

/// Decodes every complete frame in `rbuf` and routes it; returns how many two-way requests went
/// to processors. A decode error means the peer is not speaking SOFABolt (or is broken): the
/// caller stops reading from it.
fn dispatch(
    shared: &Shared,
    codec: &mut Codec,
    rbuf: &mut BytesMut,
    wbuf: &mut BytesMut,
    pinned: &mut Option<Protocol>,
    tx: Option<&mpsc::UnboundedSender<Frame>>,
    peer: SocketAddr,
) -> crate::Result<u64> {
    let now = Instant::now();
    let mut dispatched = 0;
    while let Some(frame) = codec.decode(rbuf)? {
        // The connection answers in the protocol of the first frame it received, as Java does.
        let protocol = *pinned.get_or_insert(frame.protocol());
        if frame.is_heartbeat() {
            if frame.is_request() {
                let ack = Frame::heartbeat_ack(&frame).with_protocol(protocol);
                if let Err(e) = codec.encode(&ack, wbuf) {
                    tracing::warn!(%peer, error = %e, "cannot encode heartbeat ack");
                }
            }
            continue;
        }
        if frame.is_response() {
            tracing::debug!(%peer, id = frame.request_id(), "ignoring a response sent to a server");
            continue;
        }
        let Some(tx) = tx else { break };
        if !frame.is_oneway() {
            dispatched += 1;
        }
        let responder = Responder::new(tx.clone(), &frame, peer, now);
        match shared.processor_for(frame.class()) {
            Some(processor) => processor.process(frame, responder),
            None => {
                tracing::warn!(
                    %peer,
                    class = %String::from_utf8_lossy(frame.class()),
                    "no processor for request class"
                );
                responder.send_status(ResponseStatus::SERVER_EXCEPTION);
            }
        }
    }
    Ok(dispatched)
}

fn write_response(
    codec: &mut Codec,
    wbuf: &mut BytesMut,
    pinned: Option<Protocol>,
    frame: Frame,
    peer: SocketAddr,
) {
    let frame = match pinned {
        Some(protocol) => frame.with_protocol(protocol),
        None => frame,
    };
    if let Err(e) = codec.encode(&frame, wbuf) {
        tracing::error!(%peer, id = frame.request_id(), error = %e, "cannot encode response");
        let fallback = Frame::response_to(&frame, ResponseStatus::SERVER_SERIAL_EXCEPTION)
            .with_switch(0)
            .with_codec(crate::frame::CODEC_HESSIAN2);
        if let Err(e) = codec.encode(&fallback, wbuf) {
            tracing::error!(%peer, error = %e, "cannot encode error response");
        }
    }
}
