//! [`LiveRules`]: a watched key turned into rules in force, with a last-good copy on disk.

use std::fmt;
use std::sync::{Arc, RwLock};
use std::time::Duration;

use tokio::sync::watch;
use tokio::task::AbortHandle;

use super::cache::DiskCopy;
use super::driver::Driver;
use super::factory::ConfigTarget;
use super::options::{LiveOptions, LiveStatus, Origin};

/// A key of a [`ConfigSource`](super::ConfigSource) kept in force: every new value is parsed
/// and, if valid, applied; a malformed one is rejected whole (logged with source, key and the
/// parser's message) and the last good one stays. Every value applied from the source is
/// written to the disk copy; when the source cannot be reached at start (or answers nothing
/// within the startup wait), the disk copy is applied instead. Outages and recoveries are
/// logged once each (`tracing` warn / info).
///
/// The watch runs on a task until this handle is dropped or [`stop`](LiveRules::stop)ped.
///
/// ```
/// use std::sync::atomic::{AtomicU32, Ordering};
/// use std::sync::Arc;
/// use std::time::Duration;
/// use sofa_rpc_registry::config::{open, LiveOptions, LiveRules};
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
/// let dir = std::env::temp_dir().join(format!("sofa-live-doc-{}", std::process::id()));
/// std::fs::create_dir_all(&dir)?;
/// let file = dir.join("limit.txt");
/// std::fs::write(&file, "10")?;
///
/// let limit = Arc::new(AtomicU32::new(0));
/// let target = open(&format!("file://{}?pollPeriod=20", file.display())).await?;
/// let applied = limit.clone();
/// let rules = LiveRules::start(
///     target,
///     LiveOptions::new().cache_dir(dir.join("cache")),
///     |raw: &[u8]| String::from_utf8_lossy(raw).trim().parse::<u32>(),
///     move |value| applied.store(value, Ordering::Relaxed),
/// )
/// .await;
/// assert_eq!(limit.load(Ordering::Relaxed), 10);
///
/// std::fs::write(&file, "not a number")?;
/// rules.wait(|s| s.rejected == 1, Duration::from_secs(5)).await.ok_or("not rejected")?;
/// assert_eq!(limit.load(Ordering::Relaxed), 10, "the last good value stays");
/// assert!(rules.last_error().unwrap_or_default().contains("invalid digit"));
/// # drop(rules);
/// # std::fs::remove_dir_all(&dir)?;
/// # Ok(())
/// # }
/// ```
pub struct LiveRules {
    status: watch::Receiver<LiveStatus>,
    task: AbortHandle,
    name: String,
}

/// The value in force of a [`LiveRules::value`], shared: readers take an `Arc` and never wait
/// for a writer for longer than a pointer swap.
pub struct LiveValue<T> {
    cell: Arc<RwLock<Option<Arc<T>>>>,
}

impl<T> Clone for LiveValue<T> {
    fn clone(&self) -> Self {
        LiveValue {
            cell: self.cell.clone(),
        }
    }
}

impl<T> LiveValue<T> {
    /// The value in force, if any was applied.
    pub fn get(&self) -> Option<Arc<T>> {
        self.cell.read().unwrap_or_else(|e| e.into_inner()).clone()
    }
}

impl<T> fmt::Debug for LiveValue<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("LiveValue")
            .field("set", &self.get().is_some())
            .finish()
    }
}

impl LiveRules {
    /// Watches `target`, applying each valid value with `apply`; returns once the first value
    /// is in force (from the source or the disk copy) or the startup wait is over with
    /// neither. `parse` decides the format (see [`ConfigFormat`](super::ConfigFormat)) and
    /// its error message is what the log and [`LiveStatus::last_error`] show. Call from inside
    /// a Tokio runtime.
    pub async fn start<T, E, P, A>(
        target: ConfigTarget,
        options: LiveOptions,
        parse: P,
        apply: A,
    ) -> LiveRules
    where
        T: 'static,
        E: fmt::Display,
        P: Fn(&[u8]) -> Result<T, E> + Send + 'static,
        A: FnMut(T) + Send + 'static,
    {
        let name = format!("{}{}", target.source.describe(), target.key);
        let (tx, mut rx) = watch::channel(LiveStatus {
            applied: 0,
            origin: Origin::Nothing,
            applied_at: None,
            source_up: None,
            last_error: None,
            rejected: 0,
            absent_seen: 0,
        });
        let (settled_tx, settled_rx) = tokio::sync::oneshot::channel();
        let disk = options
            .cache_dir
            .as_deref()
            .map(|dir| DiskCopy::new(dir, &target.source.describe(), &target.key));
        let driver = Driver::new(
            name.clone(),
            options,
            disk,
            Box::new(move |raw| parse(raw).map_err(|e| e.to_string())),
            Box::new(apply),
            tx,
            settled_tx,
        );
        let task = tokio::spawn(driver.run(target)).abort_handle();
        // The driver settles within the startup wait; the bound is only a guard.
        let _ = settled_rx.await;
        rx.mark_unchanged();
        LiveRules {
            status: rx,
            task,
            name,
        }
    }

    /// Like [`start`](LiveRules::start), keeping the value in force in a [`LiveValue`].
    pub async fn value<T, E, P>(
        target: ConfigTarget,
        options: LiveOptions,
        parse: P,
    ) -> (LiveRules, LiveValue<T>)
    where
        T: Send + Sync + 'static,
        E: fmt::Display,
        P: Fn(&[u8]) -> Result<T, E> + Send + 'static,
    {
        let value = LiveValue {
            cell: Arc::new(RwLock::new(None)),
        };
        let cell = value.cell.clone();
        let rules = Self::start(target, options, parse, move |v| {
            *cell.write().unwrap_or_else(|e| e.into_inner()) = Some(Arc::new(v));
        })
        .await;
        (rules, value)
    }

    /// The source and key watched, e.g. `etcd://127.0.0.1:2379/sofa/guard/orders.toml`.
    pub fn key(&self) -> &str {
        &self.name
    }

    /// The current state.
    pub fn status(&self) -> LiveStatus {
        self.status.borrow().clone()
    }

    /// The last rejection or outage message, if any since the last value applied.
    pub fn last_error(&self) -> Option<String> {
        self.status.borrow().last_error.clone()
    }

    /// A receiver that sees every state change.
    pub fn subscribe(&self) -> watch::Receiver<LiveStatus> {
        self.status.clone()
    }

    /// Waits (at most `limit`) until the state satisfies `done`; the state then, or `None`.
    pub async fn wait(
        &self,
        mut done: impl FnMut(&LiveStatus) -> bool,
        limit: Duration,
    ) -> Option<LiveStatus> {
        let mut rx = self.status.clone();
        let waiting = async { rx.wait_for(|s| done(s)).await.ok().map(|s| s.clone()) };
        tokio::time::timeout(limit, waiting).await.ok().flatten()
    }

    /// Stops watching; the value in force stays as it is.
    pub fn stop(&self) {
        self.task.abort();
    }
}

impl Drop for LiveRules {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl fmt::Debug for LiveRules {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("LiveRules")
            .field("key", &self.name)
            .field("status", &*self.status.borrow())
            .finish()
    }
}
