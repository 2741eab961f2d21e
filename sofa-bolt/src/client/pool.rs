//! Connections per address: a fixed number each, opened lazily, re-opened with back-off.

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, Weak};

use arc_swap::ArcSwap;
use foldhash::HashMap;
use std::time::{Duration, Instant};

use super::health::Health;
use super::{Connection, ConnectionConfig};
use crate::error::{Error, ErrorKind, Result};

/// Settings of a [`ConnectionPool`].
#[derive(Clone, Debug)]
pub struct PoolConfig {
    /// Connections kept per address; calls are spread over them. Default 1, as SOFARPC's
    /// `consumer.connection.num`.
    pub conn_num: usize,
    /// Settings of each connection (protocol, connect timeout, heartbeats ...).
    pub connection: ConnectionConfig,
    /// Wait this long before reconnecting after the first failure; doubles with each further
    /// failure. Default 100 ms.
    pub backoff_initial: Duration,
    /// The longest wait between reconnect attempts. Default 10 s (SOFARPC's reconnect period).
    pub backoff_max: Duration,
}

impl Default for PoolConfig {
    fn default() -> Self {
        PoolConfig {
            conn_num: 1,
            connection: ConnectionConfig::default(),
            backoff_initial: Duration::from_millis(100),
            backoff_max: Duration::from_secs(10),
        }
    }
}

/// Client connections, [`conn_num`](PoolConfig::conn_num) per address.
///
/// [`get`](Self::get) returns a live connection, opening one if fewer than `conn_num` are
/// alive; closed connections are evicted as they are found. After a failed connect, the address
/// is in back-off: calls fail fast with the last error (or use a surviving connection) until
/// the next attempt is due, so a dead provider costs a connect timeout once per back-off period,
/// not once per call.
///
/// An address whose last connection closed, or whose last connect failed, is
/// [down](Self::is_down) until a connection to it succeeds again; the pool keeps trying in
/// the background, with the same back-off, for as long as the address is in the pool (until
/// [`retire`](Self::retire) or [`remove`](Self::remove)). Callers that can choose among
/// addresses (a load balancer) use this to send calls only where a connection is alive.
///
/// ```
/// use sofa_bolt::{ConnectionPool, PoolConfig, ErrorKind};
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() {
/// let pool = ConnectionPool::new(PoolConfig::default());
/// // Nothing listens on port 1 of the loopback address.
/// let err = pool.get("127.0.0.1:1").await.unwrap_err();
/// assert_eq!(err.kind(), ErrorKind::Connect);
/// # }
/// ```
#[derive(Clone)]
pub struct ConnectionPool {
    inner: Arc<Inner>,
}

struct Inner {
    config: PoolConfig,
    /// Read by every call without a lock; replaced whole (under `changing`) when an address
    /// comes or goes, which is rare. Hashed with foldhash: every call looks its address up,
    /// and SipHash was most of that lookup's cost.
    entries: ArcSwap<HashMap<String, Arc<Entry>>>,
    changing: Mutex<()>,
    health: Health,
}

/// The connections to one address.
struct Entry {
    /// Read by every call without a lock; replaced whole when a connection opens or closes.
    conns: ArcSwap<Vec<Connection>>,
    next: AtomicUsize,
    /// Serializes connects to the address and holds its back-off state.
    connecting: tokio::sync::Mutex<Backoff>,
    /// A task is reconnecting in the background.
    reconnecting: AtomicBool,
}

#[derive(Default)]
struct Backoff {
    failures: u32,
    retry_at: Option<Instant>,
    last_error: Option<Error>,
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

impl Entry {
    fn new() -> Self {
        Entry {
            conns: ArcSwap::from_pointee(Vec::new()),
            next: AtomicUsize::new(0),
            connecting: tokio::sync::Mutex::new(Backoff::default()),
            reconnecting: AtomicBool::new(false),
        }
    }

    /// A live connection, round robin, if at least `want` are alive.
    fn pick(&self, want: usize) -> Option<Connection> {
        let mut conns = self.conns.load();
        if conns.iter().any(Connection::is_closed) {
            self.forget(Connection::is_closed);
            conns = self.conns.load();
        }
        if conns.is_empty() || conns.len() < want {
            return None;
        }
        // One connection (the default) needs no turn counter: no write every call shares.
        let i = match conns.len() {
            1 => 0,
            n => self.next.fetch_add(1, Ordering::Relaxed) % n,
        };
        conns.get(i).cloned()
    }

    /// The live connections now.
    fn live(&self) -> usize {
        self.conns.load().iter().filter(|c| !c.is_closed()).count()
    }

    fn add(&self, conn: &Connection) {
        self.conns.rcu(|conns| {
            let mut more = Vec::clone(conns);
            more.push(conn.clone());
            more
        });
    }

    /// Drops the connections `gone` says are gone.
    fn forget(&self, gone: impl Fn(&Connection) -> bool) {
        self.conns.rcu(|conns| {
            conns
                .iter()
                .filter(|c| !gone(c))
                .cloned()
                .collect::<Vec<_>>()
        });
    }

    /// Takes every connection out.
    fn take_all(&self) -> Vec<Connection> {
        Vec::clone(&self.conns.swap(Arc::default()))
    }

    fn any(&self) -> Option<Connection> {
        self.pick(1)
    }
}

impl ConnectionPool {
    /// An empty pool.
    pub fn new(config: PoolConfig) -> Self {
        ConnectionPool {
            inner: Arc::new(Inner {
                config,
                entries: ArcSwap::default(),
                changing: Mutex::new(()),
                health: Health::default(),
            }),
        }
    }

    /// The pool's settings.
    pub fn config(&self) -> &PoolConfig {
        &self.inner.config
    }

    fn entry(&self, addr: &str) -> Arc<Entry> {
        if let Some(entry) = self.inner.entries.load().get(addr) {
            return entry.clone();
        }
        self.change_entries(|entries| {
            entries
                .entry(addr.to_owned())
                .or_insert_with(|| Arc::new(Entry::new()))
                .clone()
        })
    }

    /// Changes the map of addresses: a copy, changed, replaces it, one change at a time.
    fn change_entries<R>(&self, change: impl FnOnce(&mut HashMap<String, Arc<Entry>>) -> R) -> R {
        let _one_at_a_time = lock(&self.inner.changing);
        let mut entries = HashMap::clone(&self.inner.entries.load());
        let out = change(&mut entries);
        self.inner.entries.store(Arc::new(entries));
        out
    }

    /// A live connection to `addr` if the pool has all it keeps for it, without waiting (the
    /// fast path of [`get`](Self::get)).
    pub fn ready(&self, addr: &str) -> Option<Connection> {
        let want = self.inner.config.conn_num.max(1);
        self.inner.entries.load().get(addr)?.pick(want)
    }

    /// A live connection to `addr` (`host:port`).
    pub async fn get(&self, addr: &str) -> Result<Connection> {
        let want = self.inner.config.conn_num.max(1);
        let entry = self.entry(addr);
        if let Some(conn) = entry.pick(want) {
            return Ok(conn);
        }
        let mut backoff = entry.connecting.lock().await;
        if let Some(conn) = entry.pick(want) {
            return Ok(conn);
        }
        if let Some(at) = backoff.retry_at {
            let now = Instant::now();
            if now < at {
                return entry.any().ok_or_else(|| {
                    let last = backoff
                        .last_error
                        .as_ref()
                        .map(|e| e.to_string())
                        .unwrap_or_default();
                    Error::new(
                        ErrorKind::Connect,
                        format!(
                            "{addr} is in reconnect back-off after {} failed attempts (next in {:?}); last error: {last}",
                            backoff.failures,
                            at - now
                        ),
                    )
                });
            }
        }
        match Connection::connect_to(addr, self.inner.config.connection.clone()).await {
            Ok(conn) => {
                *backoff = Backoff::default();
                entry.add(&conn);
                if self.inner.health.mark_up(addr) {
                    tracing::info!(%addr, "connected again: the address is up");
                }
                self.watch(addr, &entry, &conn);
                Ok(conn)
            }
            Err(e) => {
                backoff.failures = backoff.failures.saturating_add(1);
                let exp = backoff.failures.saturating_sub(1).min(16);
                let delay = self
                    .inner
                    .config
                    .backoff_initial
                    .saturating_mul(1 << exp)
                    .min(self.inner.config.backoff_max);
                backoff.retry_at = Some(Instant::now() + delay);
                backoff.last_error = Some(e.clone());
                tracing::debug!(%addr, error = %e, retry_in = ?delay, "connect failed");
                if entry.any().is_none() {
                    self.went_down(addr, &entry);
                }
                match entry.any() {
                    Some(conn) => Ok(conn),
                    None => Err(Error::with_source(
                        ErrorKind::Connect,
                        format!("cannot connect to {addr}"),
                        e,
                    )),
                }
            }
        }
    }

    /// Whether any address of the pool is down (one atomic load).
    pub fn any_down(&self) -> bool {
        self.inner.health.any_down()
    }

    /// Whether `addr` is down: its last connection closed or its last connect failed, and no
    /// connection to it has succeeded since.
    pub fn is_down(&self, addr: &str) -> bool {
        self.inner.health.is_down(addr)
    }

    /// Marks `addr` down when its connection closes and nothing else is alive: from the
    /// connection's task, before the calls waiting on it fail, so that a caller retrying at
    /// once already finds the address down. The hook holds the pool weakly, and knows the
    /// connection by its local address (a handle would keep the connection open).
    fn watch(&self, addr: &str, entry: &Arc<Entry>, conn: &Connection) {
        let pool = Arc::downgrade(&self.inner);
        let (addr, entry) = (addr.to_owned(), entry.clone());
        let local = conn.local_addr();
        conn.on_close(move || {
            let Some(inner) = pool.upgrade() else { return };
            let pool = ConnectionPool { inner };
            entry.forget(|c| c.local_addr() == local);
            if pool.holds(&addr, &entry) && entry.any().is_none() {
                pool.went_down(&addr, &entry);
            }
        });
    }

    /// Whether `entry` is still the pool's entry for `addr` (not retired or replaced).
    fn holds(&self, addr: &str, entry: &Arc<Entry>) -> bool {
        self.inner
            .entries
            .load()
            .get(addr)
            .is_some_and(|e| Arc::ptr_eq(e, entry))
    }

    /// `addr` has no live connection: mark it down and keep trying in the background.
    fn went_down(&self, addr: &str, entry: &Arc<Entry>) {
        if self.inner.health.mark_down(addr) {
            tracing::warn!(%addr, "no live connection: the address is down, reconnecting in the background");
        }
        if entry.reconnecting.swap(true, Ordering::AcqRel) {
            return;
        }
        let pool = Arc::downgrade(&self.inner);
        let (addr, entry) = (addr.to_owned(), entry.clone());
        tokio::spawn(async move {
            reconnect(pool, &addr, &entry).await;
            entry.reconnecting.store(false, Ordering::Release);
        });
    }

    /// Live connections to `addr` right now.
    pub fn connections(&self, addr: &str) -> usize {
        self.inner.entries.load().get(addr).map_or(0, |e| e.live())
    }

    /// Forgets the connections to `addr` and closes each once its calls in flight have been
    /// answered (or after `grace`), so that retiring a provider loses no call already sent to
    /// it. The next [`get`](Self::get) for `addr` opens a new connection.
    pub fn retire(&self, addr: &str, grace: Duration) {
        let entry = self.change_entries(|entries| entries.remove(addr));
        self.inner.health.mark_up(addr);
        if let Some(entry) = entry {
            for conn in entry.take_all() {
                conn.close_when_idle(grace);
            }
        }
    }

    /// Closes and forgets the connections to `addr` at once; calls waiting on them fail.
    pub fn remove(&self, addr: &str) {
        let entry = self.change_entries(|entries| entries.remove(addr));
        self.inner.health.mark_up(addr);
        if let Some(entry) = entry {
            for conn in entry.take_all() {
                conn.close();
            }
        }
    }

    /// Closes every connection.
    pub fn close(&self) {
        let entries = self.change_entries(std::mem::take);
        for entry in entries.values() {
            for conn in entry.take_all() {
                conn.close();
            }
        }
    }
}

/// Tries to connect to `addr` when each back-off period ends, until a connection is alive or
/// the pool no longer holds `entry` (retired, removed, or the pool dropped).
async fn reconnect(pool: Weak<Inner>, addr: &str, entry: &Arc<Entry>) {
    loop {
        let wait = {
            let backoff = entry.connecting.lock().await;
            backoff.retry_at.map_or(Duration::ZERO, |at| {
                at.saturating_duration_since(Instant::now())
            })
        };
        tokio::time::sleep(wait.max(Duration::from_millis(10))).await;
        let Some(inner) = pool.upgrade() else { return };
        let pool = ConnectionPool { inner };
        if !pool.holds(addr, entry) || entry.any().is_some() {
            return;
        }
        if pool.get(addr).await.is_ok() {
            return;
        }
    }
}

impl std::fmt::Debug for ConnectionPool {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let addrs: Vec<String> = self.inner.entries.load().keys().cloned().collect();
        f.debug_struct("ConnectionPool")
            .field("conn_num", &self.inner.config.conn_num)
            .field("addresses", &addrs)
            .finish()
    }
}
