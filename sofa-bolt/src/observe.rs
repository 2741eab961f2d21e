//! [`ConnectionObserver`]: hears of every connection a server accepts or a client opens, and
//! of its end, so that a layer above can count, log or publish them.

use std::fmt;
use std::net::SocketAddr;
use std::sync::Arc;

/// Which end of the connection this process is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Side {
    /// This process connected (a consumer).
    Client,
    /// This process accepted (a provider).
    Server,
}

/// A connection opened or closed.
#[derive(Clone, Copy, Debug)]
pub enum ConnectionEvent<'a> {
    /// The connection is up.
    Opened {
        /// Which end this process is.
        side: Side,
        /// This process's address.
        local: SocketAddr,
        /// The other end's address.
        peer: SocketAddr,
    },
    /// The connection is gone.
    Closed {
        /// Which end this process is.
        side: Side,
        /// This process's address.
        local: SocketAddr,
        /// The other end's address.
        peer: SocketAddr,
        /// Why it closed, for people.
        reason: &'a str,
    },
}

/// Told of connections as they open and close. Called on the connection's own task: keep it
/// quick (hand anything slow to a channel).
#[derive(Clone, Default)]
pub struct ConnectionObserver {
    notify: Option<Arc<Notify>>,
}

type Notify = dyn Fn(&ConnectionEvent<'_>) + Send + Sync;

impl ConnectionObserver {
    /// An observer calling `notify` for each event.
    ///
    /// ```
    /// use sofa_bolt::{ConnectionEvent, ConnectionObserver, ServerConfig};
    ///
    /// let mut config = ServerConfig::default();
    /// config.observer = ConnectionObserver::new(|event: &ConnectionEvent<'_>| {
    ///     println!("{event:?}");
    /// });
    /// ```
    pub fn new(notify: impl Fn(&ConnectionEvent<'_>) + Send + Sync + 'static) -> Self {
        ConnectionObserver {
            notify: Some(Arc::new(notify)),
        }
    }

    /// Whether anyone listens (events are not even built otherwise).
    pub fn is_set(&self) -> bool {
        self.notify.is_some()
    }

    pub(crate) fn notify(&self, event: &ConnectionEvent<'_>) {
        if let Some(notify) = &self.notify {
            notify(event);
        }
    }
}

impl fmt::Debug for ConnectionObserver {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(if self.is_set() {
            "ConnectionObserver(set)"
        } else {
            "ConnectionObserver(none)"
        })
    }
}
