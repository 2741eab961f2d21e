//! The SOFABolt server: accept loop, one task per connection, processors per class name.

mod budget;
mod config;
mod connection;
mod dispatch;
mod frame_clock;
mod inline;
mod processor;
mod read;
mod stopping;

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use tokio::net::TcpListener;
use tokio::sync::Semaphore;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;
use tracing::Instrument;

pub use config::ServerConfig;
pub use processor::{processor_fn, Processor, Responder};

use crate::error::{Error, Result};
use crate::observe::{ConnectionEvent, Side};
use crate::stream::{Acceptor, PlainAcceptor};
use budget::PartialBudget;
use stopping::StopFlag;

/// Builds a [`Server`]: settings, one [`Processor`] per request class name, and the
/// [`Acceptor`] that turns accepted TCP streams into the streams served (plain TCP unless
/// [`acceptor`](Self::acceptor) says otherwise).
pub struct ServerBuilder<A = PlainAcceptor> {
    addr: String,
    config: ServerConfig,
    processors: foldhash::HashMap<Bytes, Arc<dyn Processor>>,
    fallback: Option<Arc<dyn Processor>>,
    acceptor: A,
}

impl<A: Acceptor> ServerBuilder<A> {
    /// Serves the streams `acceptor` makes of each accepted TCP connection (a TLS acceptor,
    /// for example) instead of the TCP streams themselves.
    pub fn acceptor<B: Acceptor>(self, acceptor: B) -> ServerBuilder<B> {
        ServerBuilder {
            addr: self.addr,
            config: self.config,
            processors: self.processors,
            fallback: self.fallback,
            acceptor,
        }
    }

    /// Replaces the settings.
    pub fn config(mut self, config: ServerConfig) -> Self {
        self.config = config;
        self
    }

    /// Routes requests whose class name is `class` to `processor`.
    pub fn processor(mut self, class: impl Into<Bytes>, processor: impl Processor) -> Self {
        self.processors.insert(class.into(), Arc::new(processor));
        self
    }

    /// Routes requests of every class without its own processor to `processor`. Without one,
    /// such requests are answered with `SERVER_EXCEPTION`, as Java SOFABolt does.
    pub fn fallback(mut self, processor: impl Processor) -> Self {
        self.fallback = Some(Arc::new(processor));
        self
    }

    /// The address to listen on. Default `0.0.0.0:12200`, SOFABolt's port.
    pub fn bind(mut self, addr: impl Into<String>) -> Self {
        self.addr = addr.into();
        self
    }

    /// Binds the address and starts serving.
    pub async fn start(self) -> Result<Server> {
        let listener = TcpListener::bind(self.addr.as_str())
            .await
            .map_err(|e| Error::io(format!("binding the server address {}", self.addr), e))?;
        self.serve(listener)
    }

    /// Starts serving on an already bound listener.
    pub fn serve(self, listener: TcpListener) -> Result<Server> {
        let local_addr = listener
            .local_addr()
            .map_err(|e| Error::io("reading the listener address", e))?;
        let shared = Arc::new(Shared {
            limit: Arc::new(Semaphore::new(self.config.max_connections)),
            partial: PartialBudget::new(self.config.max_partial_bytes),
            config: self.config,
            processors: self.processors,
            fallback: self.fallback,
            stop: StopFlag::default(),
        });
        let shutdown = CancellationToken::new();
        let tracker = TaskTracker::new();
        tracker.spawn(accept_loop(
            listener,
            Arc::new(self.acceptor),
            shared.clone(),
            shutdown.clone(),
            tracker.clone(),
        ));
        Ok(Server {
            local_addr,
            shared,
            shutdown,
            tracker,
        })
    }
}

/// A running SOFABolt server.
///
/// Heartbeats are answered here and never reach a processor. Each connection answers in the
/// protocol (v1, or v2 with its version) of the first frame it received.
///
/// ```
/// use sofa_bolt::{processor_fn, Connection, ConnectionConfig, Frame, HeaderMap, ResponseStatus, Server};
/// use std::time::Duration;
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> sofa_bolt::Result<()> {
/// let server = Server::builder()
///     .processor("demo.Echo", processor_fn(|req: Frame| async move {
///         let body = req.content().clone();
///         Some(Frame::response_to(&req, ResponseStatus::SUCCESS).with_content(body))
///     }))
///     .bind("127.0.0.1:0")
///     .start()
///     .await?;
///
/// let conn = Connection::connect(server.local_addr(), ConnectionConfig::default()).await?;
/// let reply = conn
///     .request(Frame::request("demo.Echo", HeaderMap::new(), "hi"), Duration::from_secs(3))
///     .await?;
/// assert_eq!(&reply.content()[..], b"hi");
/// server.shutdown().await;
/// # Ok(())
/// # }
/// ```
pub struct Server {
    local_addr: SocketAddr,
    shared: Arc<Shared>,
    shutdown: CancellationToken,
    tracker: TaskTracker,
}

impl Server {
    /// A builder with default settings and no processors.
    pub fn builder() -> ServerBuilder {
        ServerBuilder {
            addr: "0.0.0.0:12200".into(),
            config: ServerConfig::default(),
            processors: foldhash::HashMap::default(),
            fallback: None,
            acceptor: PlainAcceptor,
        }
    }

    /// The address the server listens on (useful after binding port 0).
    pub fn local_addr(&self) -> SocketAddr {
        self.local_addr
    }

    /// Connections being served right now.
    pub fn connections(&self) -> usize {
        self.shared.config.max_connections - self.shared.limit.available_permits()
    }

    /// Bytes held right now in frames that have started to arrive but are not complete, by
    /// all connections together (bounded by [`ServerConfig::max_partial_bytes`]).
    pub fn partial_bytes(&self) -> usize {
        self.shared.partial.used()
    }

    /// Stops accepting and winds every connection down without losing a request: each keeps
    /// reading, answers what arrives from now on with `SERVER_THREADPOOL_BUSY` (which
    /// SOFARPC clients retry on another provider, since the request did not run), finishes
    /// what it had already read, and half-closes once nothing is in flight and its client
    /// has gone quiet; at most [`ServerConfig::shutdown_timeout`] after the call. Those busy
    /// answers carry [`SERVER_CLOSING_HEADER`](crate::SERVER_CLOSING_HEADER), on which this
    /// crate's [`Connection`](crate::Connection) stops sending at once.
    pub async fn shutdown(self) {
        self.shared.stop.stop(&self.shutdown);
        self.tracker.close();
        let grace = self.shared.config.shutdown_timeout + Duration::from_secs(1);
        if tokio::time::timeout(grace, self.tracker.wait())
            .await
            .is_err()
        {
            tracing::warn!(addr = %self.local_addr, "server shutdown did not finish in time");
        }
    }
}

impl Drop for Server {
    /// A dropped server stops accepting and winds its connections down in the background.
    fn drop(&mut self) {
        self.shared.stop.stop(&self.shutdown);
    }
}

/// What every connection task of one server shares.
struct Shared {
    config: ServerConfig,
    processors: foldhash::HashMap<Bytes, Arc<dyn Processor>>,
    fallback: Option<Arc<dyn Processor>>,
    limit: Arc<Semaphore>,
    partial: Arc<PartialBudget>,
    /// Set when the server begins shutting down; always through [`StopFlag::stop`], which
    /// cancels the token every task waits on.
    stop: StopFlag,
}

impl Shared {
    fn processor_for(&self, class: &Bytes) -> Option<&dyn Processor> {
        self.processors
            .get(class)
            .or(self.fallback.as_ref())
            .map(|p| p.as_ref())
    }
}

async fn accept_loop<A: Acceptor>(
    listener: TcpListener,
    acceptor: Arc<A>,
    shared: Arc<Shared>,
    shutdown: CancellationToken,
    tracker: TaskTracker,
) {
    loop {
        let accepted = tokio::select! {
            _ = shutdown.cancelled() => return,
            accepted = listener.accept() => accepted,
        };
        let (stream, peer) = match accepted {
            Ok(pair) => pair,
            Err(e) => {
                // Out of file descriptors and the like: back off instead of spinning.
                tracing::warn!(error = %e, "accept failed");
                tokio::time::sleep(Duration::from_millis(50)).await;
                continue;
            }
        };
        let Ok(permit) = shared.limit.clone().try_acquire_owned() else {
            tracing::warn!(%peer, max = shared.config.max_connections, "connection limit reached: closing new connection");
            drop(stream);
            continue;
        };
        if shared.config.nodelay {
            if let Err(e) = stream.set_nodelay(true) {
                tracing::debug!(%peer, error = %e, "cannot set TCP_NODELAY");
            }
        }
        tracing::debug!(%peer, "connection accepted");
        let observer = shared.config.observer.clone();
        let local = stream.local_addr().ok().filter(|_| observer.is_set());
        let serve = connection::accept_and_serve(
            acceptor.clone(),
            stream,
            peer,
            shared.clone(),
            shutdown.child_token(),
            permit,
        );
        // Made only if a subscriber wants it (see the client's connection span).
        let span = if tracing::enabled!(tracing::Level::INFO) {
            tracing::info_span!(parent: None, "bolt.server.conn", %peer)
        } else {
            tracing::Span::none()
        };
        match local {
            Some(local) => {
                let side = Side::Server;
                observer.notify(&ConnectionEvent::Opened { side, local, peer });
                let observed = async move {
                    serve.await;
                    let reason = "served to the end";
                    observer.notify(&ConnectionEvent::Closed {
                        side,
                        local,
                        peer,
                        reason,
                    });
                };
                tracker.spawn(observed.instrument(span));
            }
            None => {
                tracker.spawn(serve.instrument(span));
            }
        }
    }
}
