//! What the server does with a request: [`Processor`] and the [`Responder`] it answers through.

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Instant;

use tokio::sync::mpsc;

use super::inline;
use crate::frame::{Frame, ResponseStatus};
use crate::identity::PeerIdentity;

/// Handles the requests of one class name.
///
/// `process` is called on the connection's I/O task, once per request frame, and must not
/// block: hand the work to a task (see [`processor_fn`]) or an executor of your own, and answer
/// through the [`Responder`] whenever the response is ready, in any order. Heartbeats never
/// reach a processor.
pub trait Processor: Send + Sync + 'static {
    /// Takes one request. Oneway requests come with a responder that discards what it is given.
    fn process(&self, request: Frame, responder: Responder);
}

impl<F> Processor for F
where
    F: Fn(Frame, Responder) + Send + Sync + 'static,
{
    fn process(&self, request: Frame, responder: Responder) {
        self(request, responder)
    }
}

/// A [`Processor`] that runs an async function in a new task per request and sends the frame
/// it returns (nothing, if it returns `None`).
///
/// ```
/// use sofa_bolt::{processor_fn, Frame, ResponseStatus};
///
/// let echo = processor_fn(|request: Frame| async move {
///     let content = request.content().clone();
///     Some(Frame::response_to(&request, ResponseStatus::SUCCESS).with_content(content))
/// });
/// # let _ = echo;
/// ```
pub fn processor_fn<F, Fut>(f: F) -> impl Processor
where
    F: Fn(Frame) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = Option<Frame>> + Send + 'static,
{
    move |request: Frame, responder: Responder| {
        let fut = f(request);
        tokio::spawn(async move {
            if let Some(response) = fut.await {
                responder.send(response);
            }
        });
    }
}

/// The way back to the client for one request.
///
/// Dropping it without sending leaves the client to time out, which is what a server should
/// do with a request it deliberately discards (for example one that waited longer than its
/// timeout). The connection stays open for in-flight responders during a graceful shutdown.
///
/// A request counts as in flight on its connection (see
/// [`ServerConfig::max_requests_per_connection`](super::ServerConfig::max_requests_per_connection))
/// until its responder has sent or been dropped.
#[derive(Debug)]
pub struct Responder {
    /// `Some` carries the answer; `None` says the request is done without one.
    tx: mpsc::UnboundedSender<Option<Frame>>,
    /// Its connection, for answers given while that connection is dispatching (see `inline`).
    connection: u64,
    request_id: i32,
    oneway: bool,
    peer: SocketAddr,
    identity: Option<Arc<PeerIdentity>>,
    received_at: Instant,
    /// Set once the answer went to the connection, so that dropping reports nothing more.
    done: bool,
}

impl Responder {
    pub(crate) fn new(
        tx: mpsc::UnboundedSender<Option<Frame>>,
        connection: u64,
        request: &Frame,
        peer: SocketAddr,
        identity: Option<Arc<PeerIdentity>>,
        received_at: Instant,
    ) -> Self {
        Responder {
            tx,
            connection,
            request_id: request.request_id(),
            oneway: request.is_oneway(),
            peer,
            identity,
            received_at,
            done: false,
        }
    }

    /// Queues `response` on the connection. Its request id is set to the request's; it is
    /// written in the protocol the connection opened with. Does nothing for oneway requests or
    /// if the connection is gone.
    pub fn send(mut self, response: Frame) {
        if self.oneway {
            return;
        }
        self.done = true;
        self.deliver(Some(response.with_request_id(self.request_id)));
    }

    /// Straight to the connection if it is dispatching on this thread, else through its
    /// channel (nothing happens if the connection is gone).
    fn deliver(&self, answer: Option<Frame>) {
        if let Err(answer) = inline::keep(self.connection, answer) {
            let _ = self.tx.send(answer);
        }
    }

    /// Answers with an empty frame of `status` (for example `SERVER_THREADPOOL_BUSY`), built
    /// like a bolt-level error response: codec 1, switch 0, no class, header or content.
    pub fn send_status(self, status: ResponseStatus) {
        let response = Frame::response_to(&Frame::heartbeat(self.request_id), status);
        self.send(response);
    }

    /// The client's address.
    pub fn peer_addr(&self) -> SocketAddr {
        self.peer
    }

    /// The client's verified identity: the certificate it presented over mutual TLS, `None`
    /// on a plain connection or when the client presented none.
    pub fn peer_identity(&self) -> Option<&Arc<PeerIdentity>> {
        self.identity.as_ref()
    }

    /// When the request frame was decoded.
    pub fn received_at(&self) -> Instant {
        self.received_at
    }

    /// `true` if the request is oneway (nothing will be sent).
    pub fn is_oneway(&self) -> bool {
        self.oneway
    }

    /// The request's id.
    pub fn request_id(&self) -> i32 {
        self.request_id
    }
}

impl Drop for Responder {
    /// Tells the connection the request is over even when no answer was sent, so that it
    /// stops counting it as in flight.
    fn drop(&mut self) {
        if !self.done {
            self.deliver(None);
        }
    }
}
