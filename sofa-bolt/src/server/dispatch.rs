//! From decoded frames to processors, and from their answers back to bytes.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Instant;

use bytes::BytesMut;
use tokio::sync::mpsc;

use super::inline::{self, Dispatching};
use super::Shared;
use crate::codec::Codec;
use crate::frame::{Frame, HeaderMap, Protocol, ResponseStatus, SERVER_CLOSING_HEADER};
use crate::identity::PeerIdentity;
use crate::io::WRITE_HIGH_WATER;
use crate::server::processor::Responder;

/// A connection's side of its requests: what is in flight, whether new ones may run, and the
/// protocol answers are written in.
pub(super) struct Intake {
    tx: mpsc::UnboundedSender<Option<Frame>>,
    /// Tells this connection's responders apart from others' (see `inline`).
    key: u64,
    peer: SocketAddr,
    /// Who the peer proved to be (mutual TLS), handed to every responder.
    identity: Option<Arc<PeerIdentity>>,
    /// Requests in flight at most; 0 for no bound.
    limit: usize,
    /// Responders handed out and not yet heard back from.
    in_flight: usize,
    /// The server is shutting down: new requests are answered busy instead of run.
    draining: bool,
    /// The connection answers in the protocol of the first frame it received, as Java does.
    pinned: Option<Protocol>,
}

impl Intake {
    pub(super) fn new(
        tx: mpsc::UnboundedSender<Option<Frame>>,
        peer: SocketAddr,
        identity: Option<Arc<PeerIdentity>>,
        limit: usize,
    ) -> Self {
        Intake {
            tx,
            key: inline::new_key(),
            peer,
            identity,
            limit,
            in_flight: 0,
            draining: false,
            pinned: None,
        }
    }

    /// Requests handed to processors and not answered (or dropped) yet.
    pub(super) fn in_flight(&self) -> usize {
        self.in_flight
    }

    /// Whether another request may go to a processor now.
    pub(super) fn has_room(&self) -> bool {
        self.limit == 0 || self.in_flight < self.limit
    }

    pub(super) fn is_draining(&self) -> bool {
        self.draining
    }

    /// From now on requests are answered `SERVER_THREADPOOL_BUSY`, which every SOFARPC
    /// client's failover retries on another provider: the request provably did not run.
    pub(super) fn start_draining(&mut self) {
        self.draining = true;
    }

    /// One responder is done: encodes its answer, if it sent one.
    pub(super) fn answered(
        &mut self,
        answer: Option<Frame>,
        codec: &mut Codec,
        wbuf: &mut BytesMut,
    ) {
        self.in_flight = self.in_flight.saturating_sub(1);
        if let Some(frame) = answer {
            write_response(codec, wbuf, self.pinned, frame, self.peer);
        }
    }
}

/// What one [`dispatch`] did.
#[derive(Debug, Default)]
pub(super) struct Dispatched {
    /// Frames decoded, heartbeats included.
    pub(super) frames: usize,
    /// Requests among them (run or answered busy).
    pub(super) requests: usize,
    /// Decoding stopped because the connection has its fill of requests in flight.
    pub(super) backlog: bool,
}

/// Decodes the complete frames in `rbuf` and routes them, until the buffer holds no whole
/// frame or the connection has its fill in flight. A decode error means the peer is not
/// speaking SOFABolt (or is broken): the caller stops reading from it.
///
/// Answers that processors give before `process` returns are encoded into `wbuf` here, on
/// every way out, without passing through the connection's channel.
pub(super) fn dispatch(
    shared: &Shared,
    codec: &mut Codec,
    rbuf: &mut BytesMut,
    wbuf: &mut BytesMut,
    intake: &mut Intake,
) -> crate::Result<Dispatched> {
    let dispatching = Dispatching::enter(intake.key);
    let got = route_frames(shared, codec, rbuf, wbuf, intake, &dispatching);
    take_inline(&dispatching, codec, wbuf, intake);
    got
}

/// Encodes the answers given inline so far.
fn take_inline(
    dispatching: &Dispatching,
    codec: &mut Codec,
    wbuf: &mut BytesMut,
    intake: &mut Intake,
) {
    dispatching.take(|answer| intake.answered(answer, codec, wbuf));
}

fn route_frames(
    shared: &Shared,
    codec: &mut Codec,
    rbuf: &mut BytesMut,
    wbuf: &mut BytesMut,
    intake: &mut Intake,
    dispatching: &Dispatching,
) -> crate::Result<Dispatched> {
    let now = Instant::now();
    let peer = intake.peer;
    let mut got = Dispatched::default();
    loop {
        if !intake.has_room() {
            // Requests answered inline are no longer in flight: count them out first.
            take_inline(dispatching, codec, wbuf, intake);
        }
        if !intake.has_room() {
            got.backlog = true;
            break;
        }
        let Some(frame) = codec.decode(rbuf)? else {
            break;
        };
        got.frames += 1;
        let protocol = *intake.pinned.get_or_insert(frame.protocol());
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
        got.requests += 1;
        if intake.draining {
            if !frame.is_oneway() {
                let mut header = HeaderMap::new();
                header.insert(SERVER_CLOSING_HEADER, "true");
                let busy = Frame::response_to(
                    &Frame::heartbeat(frame.request_id()),
                    ResponseStatus::SERVER_THREADPOOL_BUSY,
                )
                .with_header(header);
                write_response(codec, wbuf, intake.pinned, busy, peer);
            }
            continue;
        }
        let responder = Responder::new(
            intake.tx.clone(),
            intake.key,
            &frame,
            peer,
            intake.identity.clone(),
            now,
        );
        intake.in_flight += 1;
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
    Ok(got)
}

/// Encodes every answer already queued, up to the write high-water mark.
pub(super) fn drain(
    rx: &mut mpsc::UnboundedReceiver<Option<Frame>>,
    codec: &mut Codec,
    wbuf: &mut BytesMut,
    intake: &mut Intake,
) {
    // Only responders in flight send on `rx`.
    while intake.in_flight() > 0 && wbuf.len() < WRITE_HIGH_WATER {
        match rx.try_recv() {
            Ok(answer) => intake.answered(answer, codec, wbuf),
            Err(_) => break,
        }
    }
}

pub(super) fn write_response(
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
