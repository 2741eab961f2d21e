//! The SOFABolt client: multiplexed connections and a pool of them per address.

mod config;
mod driver;
mod future;
mod health;
mod outbox;
mod outgoing;
mod pending;
mod pool;
mod round;
mod socket;

use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, AtomicI32, Ordering};
use std::sync::Arc;
use std::time::Duration;

use futures::task::AtomicWaker;
use tokio::net::{TcpStream, ToSocketAddrs};
use tokio_util::sync::CancellationToken;
use tracing::Instrument;

pub use config::{ConnectFuture, ConnectionConfig, Connector};
pub use future::ResponseFuture;
pub use pool::{ConnectionPool, PoolConfig};

use crate::codec::Codec;
use crate::error::{Error, ErrorKind, Result};
use crate::frame::{Frame, Protocol, Switch};
use crate::identity::PeerIdentity;
use crate::observe::{ConnectionEvent, Side};
use crate::stream::BoltStream;
use outbox::{Outbox, Refused};
use pending::Pending;
use socket::{SharedTcp, SharedWrite};

/// Runs `open` within the connect timeout.
async fn within(
    limit: Duration,
    open: impl std::future::Future<Output = Result<Connection>>,
) -> Result<Connection> {
    match tokio::time::timeout(limit, open).await {
        Ok(done) => done,
        Err(_) => Err(Error::new(
            ErrorKind::Connect,
            format!("connect timed out after {limit:?}"),
        )),
    }
}

/// The host part of `host:port` (or `[v6]:port`).
fn host_of(addr: &str) -> &str {
    if let Some(v6) = addr.strip_prefix('[') {
        return v6.split(']').next().unwrap_or(v6);
    }
    addr.rsplit_once(':').map_or(addr, |(host, _)| host)
}

/// How often a connection closing when idle checks for calls still waiting.
const IDLE_POLL: Duration = Duration::from_millis(10);

/// One client connection to a SOFABolt server.
///
/// A single task reads the socket and writes what callers queue; handles are cheap clones. A
/// call alone on a plain TCP connection, while the task has nothing to write, writes its
/// request itself (without waiting), saving the hand-over. Any number of requests may be
/// outstanding at once: each gets a fresh request id and its response is matched by id,
/// whatever order the server answers in. A heartbeat goes out after
/// [`heartbeat_interval`](ConnectionConfig::heartbeat_interval) of silence, and the connection
/// closes after [`max_missed_heartbeats`](ConnectionConfig::max_missed_heartbeats) go
/// unanswered. When the connection ends, for whatever reason, every waiting call fails with a
/// [`ConnectionClosed`](ErrorKind::ConnectionClosed) error that says why, except the calls whose
/// request was never written, which fail with [`NotSent`](ErrorKind::NotSent): those may be
/// sent elsewhere without any risk of running twice. A failed write does not end the
/// connection at once: it keeps reading until the server closes, so that answers already on
/// their way still reach their calls.
///
/// Three ways to call: [`request`](Self::request) (a future of the response),
/// [`oneway`](Self::oneway) (no response) and [`request_with_callback`](Self::request_with_callback).
#[derive(Clone)]
pub struct Connection {
    shared: Arc<Shared>,
}

/// State shared by the handles, the response futures and the connection task.
struct Shared {
    pending: Pending,
    /// Requests encoded by their callers, for the task to write.
    outbox: Outbox,
    /// How callers encode their requests.
    codec: Codec,
    next_id: AtomicI32,
    peer: SocketAddr,
    local: SocketAddr,
    /// The server's verified certificate identity (TLS), if any.
    identity: Option<Arc<PeerIdentity>>,
    protocol: Protocol,
    switch: u8,
    /// Asks the task to close.
    close: CloseSignal,
    /// Cancelled by the task when it has ended.
    done: CancellationToken,
    /// Run by the task as it ends, before any waiting call is failed; `None` once run.
    on_close: std::sync::Mutex<Option<Vec<CloseHook>>>,
}

/// Told that a connection is closing (the pool marks its address down with it).
type CloseHook = Box<dyn FnOnce() + Send>;

/// A close request for the connection task: a flag and the task's waker, checked with two
/// atomic operations on each turn of its loop.
#[derive(Default)]
struct CloseSignal {
    fired: AtomicBool,
    waker: AtomicWaker,
}

impl CloseSignal {
    fn fire(&self) {
        self.fired.store(true, Ordering::Release);
        self.waker.wake();
    }

    /// Completes once [`fire`](Self::fire) has been called.
    fn wait(&self) -> impl std::future::Future<Output = ()> + '_ {
        std::future::poll_fn(|cx| {
            if self.fired.load(Ordering::Acquire) {
                return std::task::Poll::Ready(());
            }
            self.waker.register(cx.waker());
            if self.fired.load(Ordering::Acquire) {
                std::task::Poll::Ready(())
            } else {
                std::task::Poll::Pending
            }
        })
    }
}

impl Shared {
    fn next_id(&self) -> i32 {
        self.next_id.fetch_add(1, Ordering::Relaxed)
    }

    /// Runs the close hooks, once.
    fn run_close_hooks(&self) {
        let hooks = self
            .on_close
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .take();
        for hook in hooks.into_iter().flatten() {
            hook();
        }
    }
}

impl Connection {
    /// Connects to `addr` (within [`connect_timeout`](ConnectionConfig::connect_timeout)) and
    /// starts the connection task. Must be called within a tokio runtime. With a
    /// [`connector`](ConnectionConfig::connector), the server's name is its IP address; use
    /// [`connect_to`](Self::connect_to) to give a host name (TLS checks the certificate
    /// against it).
    pub async fn connect(addr: impl ToSocketAddrs, config: ConnectionConfig) -> Result<Self> {
        let limit = config.connect_timeout;
        let open = async move {
            let stream = TcpStream::connect(addr)
                .await
                .map_err(|e| Error::with_source(ErrorKind::Connect, "connecting", e))?;
            let name = stream
                .peer_addr()
                .map(|a| a.ip().to_string())
                .unwrap_or_default();
            Self::start(stream, &name, config).await
        };
        within(limit, open).await
    }

    /// Connects to `addr`, a `host:port` string, as [`connect`](Self::connect) does; a
    /// [`connector`](ConnectionConfig::connector) is told `host` as the server's name.
    pub async fn connect_to(addr: &str, config: ConnectionConfig) -> Result<Self> {
        let limit = config.connect_timeout;
        let open = async move {
            let stream = TcpStream::connect(addr)
                .await
                .map_err(|e| Error::with_source(ErrorKind::Connect, "connecting", e))?;
            Self::start(stream, host_of(addr), config).await
        };
        within(limit, open).await
    }

    /// Starts the connection over `stream`, through the connector if there is one.
    async fn start(stream: TcpStream, name: &str, config: ConnectionConfig) -> Result<Self> {
        match config.connector.clone() {
            None => Self::from_stream(stream, config),
            Some(connector) => {
                if config.nodelay {
                    stream
                        .set_nodelay(true)
                        .map_err(|e| Error::io("setting TCP_NODELAY", e))?;
                }
                connector.connect(stream, name, config).await
            }
        }
    }

    /// Starts a connection over an already connected stream. Must be called within a tokio
    /// runtime.
    pub fn from_stream(stream: TcpStream, config: ConnectionConfig) -> Result<Self> {
        if config.nodelay {
            stream
                .set_nodelay(true)
                .map_err(|e| Error::io("setting TCP_NODELAY", e))?;
        }
        let peer = stream
            .peer_addr()
            .map_err(|e| Error::io("reading the peer address", e))?;
        let local = stream
            .local_addr()
            .map_err(|e| Error::io("reading the local address", e))?;
        let (stream, socket) = SharedTcp::new(stream);
        Ok(Self::start_io(stream, Some(socket), peer, local, config))
    }

    /// Starts a connection over any [`BoltStream`] (a TLS stream, say) whose TCP ends are
    /// `peer` and `local`; what a [`Connector`](crate::Connector) calls. The connection task
    /// is compiled for `S`. Must be called within a tokio runtime.
    pub fn from_io<S: BoltStream>(
        stream: S,
        peer: SocketAddr,
        local: SocketAddr,
        config: ConnectionConfig,
    ) -> Self {
        Self::start_io(stream, None, peer, local, config)
    }

    /// [`from_io`](Self::from_io), with `socket` the stream's socket, for callers to write
    /// to while the task is idle (plain TCP only).
    fn start_io<S: BoltStream>(
        stream: S,
        socket: Option<Arc<SharedWrite>>,
        peer: SocketAddr,
        local: SocketAddr,
        config: ConnectionConfig,
    ) -> Self {
        let shared = Arc::new(Shared {
            pending: Pending::new(),
            outbox: Outbox::with_socket(socket),
            codec: Codec::new(config.codec),
            next_id: AtomicI32::new(1),
            peer,
            local,
            identity: stream.peer_identity(),
            protocol: config.protocol,
            switch: if config.crc { Switch::CRC } else { 0 },
            close: CloseSignal::default(),
            done: CancellationToken::new(),
            on_close: std::sync::Mutex::new(Some(Vec::new())),
        });
        let observer = config.observer.clone();
        // A root span: the connection outlives the call that happened to open it.
        // Made only if a subscriber wants it: with tracing's `log` feature on, even a disabled
        // span costs work on every poll of the task.
        let span = if tracing::enabled!(tracing::Level::DEBUG) {
            tracing::debug_span!(parent: None, "bolt.client.conn", %peer)
        } else {
            tracing::Span::none()
        };
        let driver = driver::run(stream, shared.clone(), config);
        if observer.is_set() {
            let side = Side::Client;
            observer.notify(&ConnectionEvent::Opened { side, local, peer });
            let observed = async move {
                let reason = driver.await;
                let reason = reason.as_str();
                observer.notify(&ConnectionEvent::Closed {
                    side,
                    local,
                    peer,
                    reason,
                });
            };
            tokio::spawn(observed.instrument(span));
        } else {
            tokio::spawn(driver.instrument(span));
        }
        Connection { shared }
    }

    /// Sends `request` and returns the future of its response.
    ///
    /// The connection sets the request id, the protocol and (for v2 with CRC) the switch byte.
    /// If the frame's timeout field is unset (`-1`), it is set to `timeout` so the server can
    /// drop the request once the caller has given up. The future fails with
    /// [`Timeout`](ErrorKind::Timeout) once `timeout` has passed (the connection checks every
    /// 10 ms, as SOFABolt's timer wheel does).
    pub fn request(&self, request: Frame, timeout: Duration) -> ResponseFuture {
        let id = self.shared.next_id();
        let mut frame = self.stamp(request).with_request_id(id);
        if frame.timeout() < 0 && !frame.is_heartbeat() {
            let ms = i32::try_from(timeout.as_millis()).unwrap_or(i32::MAX);
            frame = frame.with_timeout(ms);
        }
        let place = match self.shared.pending.register(id, timeout) {
            Ok(place) => place,
            Err(e) => return ResponseFuture::failed(e),
        };
        if let Err(refused) = self.queue(&frame, Some(id)) {
            self.shared.pending.cancel(place, id);
            return ResponseFuture::failed(refused);
        }
        ResponseFuture::waiting(self.shared.clone(), place, id)
    }

    /// Queues `frame` for the connection task to write; `call` is the id of the call waiting
    /// for its answer, if one does.
    fn queue(&self, frame: &Frame, call: Option<i32>) -> Result<()> {
        // No other call waits on this connection (a two-way call counts itself).
        let alone = self.shared.pending.len() <= usize::from(call.is_some());
        match self
            .shared
            .outbox
            .push(self.shared.codec, frame, call, alone)
        {
            Ok(()) => Ok(()),
            Err(Refused::Invalid(e)) => {
                tracing::debug!(peer = %self.shared.peer, id = frame.request_id(), error = %e, "request not sent");
                Err(e)
            }
            Err(Refused::Closed) => Err(self.closed_error().not_sent()),
        }
    }

    /// Sends a heartbeat now and resolves with the peer's ack (or a timeout). Heartbeats also
    /// go out on their own after [`heartbeat_interval`](ConnectionConfig::heartbeat_interval)
    /// of silence; this is for checking a connection on demand.
    pub fn heartbeat(&self, timeout: Duration) -> ResponseFuture {
        self.request(Frame::heartbeat(0), timeout)
    }

    /// Sends `request` and calls `callback` with its outcome, on a tokio task, once the
    /// response arrives or the call fails. Returns at once. Called outside a tokio runtime, it
    /// sends nothing and calls `callback` at once with a [`NotSent`](ErrorKind::NotSent) error:
    /// there is no runtime for the callback's task to run on.
    pub fn request_with_callback<F>(&self, request: Frame, timeout: Duration, callback: F)
    where
        F: FnOnce(Result<Frame>) + Send + 'static,
    {
        let Ok(runtime) = tokio::runtime::Handle::try_current() else {
            return callback(Err(Error::new(
                ErrorKind::NotSent,
                "request not sent: a callback needs a tokio runtime to run on",
            )));
        };
        let response = self.request(request, timeout);
        runtime.spawn(async move { callback(response.await) });
    }

    /// Queues a oneway request (type byte `0x02`, timeout `-1`); the server will not answer.
    /// Fails if the connection is already closed, or if the request cannot be encoded (it is
    /// over the frame size limit, say).
    pub fn oneway(&self, request: Frame) -> Result<()> {
        if self.shared.pending.is_closed() {
            return Err(self.closed_error().not_sent());
        }
        let id = self.shared.next_id();
        let frame = self
            .stamp(request.into_oneway())
            .with_request_id(id)
            .with_timeout(-1);
        self.queue(&frame, None)
    }

    fn stamp(&self, frame: Frame) -> Frame {
        frame
            .with_protocol(self.shared.protocol)
            .with_switch(self.shared.switch)
    }

    fn closed_error(&self) -> Error {
        self.shared
            .pending
            .closed()
            .unwrap_or_else(|| Error::closed(format!("connection to {} closed", self.shared.peer)))
    }

    /// The server's address.
    pub fn peer_addr(&self) -> SocketAddr {
        self.shared.peer
    }

    /// The server's verified identity: the subject and names of the certificate it presented
    /// over TLS; `None` on a plain connection.
    pub fn peer_identity(&self) -> Option<&Arc<PeerIdentity>> {
        self.shared.identity.as_ref()
    }

    /// This end's address.
    pub fn local_addr(&self) -> SocketAddr {
        self.shared.local
    }

    /// The protocol requests are sent in.
    pub fn protocol(&self) -> Protocol {
        self.shared.protocol
    }

    /// Calls waiting for a response right now.
    pub fn pending_requests(&self) -> usize {
        self.shared.pending.len()
    }

    /// `true` once the connection has closed (or is closing).
    pub fn is_closed(&self) -> bool {
        // The task marks the pending table closed as it ends, or once it can no longer write.
        self.shared.pending.is_closed()
    }

    /// Closes the connection; waiting calls fail with a `ConnectionClosed` error.
    pub fn close(&self) {
        self.shared.close.fire();
    }

    /// Closes the connection once no call waits for a response any more, or after `grace` at
    /// the latest (calls still waiting then fail as with [`close`](Self::close)). Returns at
    /// once; the connection keeps working until then. For retiring a connection without
    /// failing the calls on it: stop handing it out first.
    pub fn close_when_idle(&self, grace: Duration) {
        if self.pending_requests() == 0 || tokio::runtime::Handle::try_current().is_err() {
            self.close();
            return;
        }
        let conn = self.clone();
        tokio::spawn(async move {
            let deadline = tokio::time::Instant::now() + grace;
            let mut poll = tokio::time::interval(IDLE_POLL);
            while conn.pending_requests() > 0 && tokio::time::Instant::now() < deadline {
                tokio::select! {
                    _ = poll.tick() => {}
                    _ = conn.closed() => return,
                }
            }
            conn.close();
        });
    }

    /// Runs `hook` when the connection closes, before the calls still waiting on it are failed
    /// (at once if it has closed already).
    pub(crate) fn on_close(&self, hook: impl FnOnce() + Send + 'static) {
        let mut hooks = self
            .shared
            .on_close
            .lock()
            .unwrap_or_else(|e| e.into_inner());
        match hooks.as_mut() {
            Some(list) => list.push(Box::new(hook)),
            None => {
                drop(hooks);
                hook();
            }
        }
    }

    /// Completes once the connection has closed.
    pub async fn closed(&self) {
        self.shared.done.cancelled().await
    }
}

impl std::fmt::Debug for Connection {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Connection")
            .field("peer", &self.shared.peer)
            .field("local", &self.shared.local)
            .field("protocol", &self.shared.protocol)
            .field("closed", &self.is_closed())
            .finish()
    }
}
