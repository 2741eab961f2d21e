//! [`LiveRules`]: a watched key turned into rules in force, with a last-good copy on disk.

use std::fmt;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::PathBuf;
use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};

use futures::StreamExt;
use tokio::sync::watch;
use tokio::task::AbortHandle;

use super::cache::DiskCopy;
use super::factory::ConfigTarget;

/// How long [`LiveRules::start`] waits for the source's first answer before it falls back to
/// the disk copy, unless [`LiveOptions::startup_wait`] says otherwise.
pub const DEFAULT_STARTUP_WAIT: Duration = Duration::from_secs(3);

/// What an absent key (never written, or deleted) means.
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub enum OnAbsent {
    /// Nothing changes: the last good value stays in force (and at start, with nothing in
    /// force yet, the disk copy is used). Deleting a key by mistake then harms no one; to
    /// clear rules, write an empty rule set.
    #[default]
    KeepLast,
    /// The key's absence means this document (e.g. `[]` for "no rules"), parsed and applied
    /// like any value.
    Use(Vec<u8>),
}

/// How [`LiveRules`] behaves: where the disk copy lives, how long to wait at start, what an
/// absent key means.
#[derive(Clone, Debug)]
pub struct LiveOptions {
    cache_dir: Option<PathBuf>,
    startup_wait: Duration,
    on_absent: OnAbsent,
}

impl Default for LiveOptions {
    fn default() -> Self {
        LiveOptions {
            cache_dir: None,
            startup_wait: DEFAULT_STARTUP_WAIT,
            on_absent: OnAbsent::KeepLast,
        }
    }
}

impl LiveOptions {
    /// No disk copy, 3 s startup wait, absent keeps the last value.
    pub fn new() -> Self {
        Self::default()
    }

    /// Keeps the last good raw value of the key in `dir` (created when missing), and loads it
    /// when the source cannot be reached at start.
    pub fn cache_dir(mut self, dir: impl Into<PathBuf>) -> Self {
        self.cache_dir = Some(dir.into());
        self
    }

    /// How long [`LiveRules::start`] waits for the source before using the disk copy.
    pub fn startup_wait(mut self, wait: Duration) -> Self {
        self.startup_wait = wait;
        self
    }

    /// What an absent key means.
    pub fn on_absent(mut self, on_absent: OnAbsent) -> Self {
        self.on_absent = on_absent;
        self
    }
}

/// Where the value in force came from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Origin {
    /// Nothing applied yet.
    Nothing,
    /// The source.
    Source,
    /// The disk copy (the source was unreachable, or the key absent, at start).
    DiskCopy,
    /// [`OnAbsent::Use`]: the key is absent.
    AbsentDefault,
}

/// The state of a [`LiveRules`], for inspection and for waiting on changes.
#[derive(Clone, Debug)]
pub struct LiveStatus {
    /// How many values were applied so far (disk copy included).
    pub applied: u64,
    /// Where the value in force came from.
    pub origin: Origin,
    /// When the value in force was applied.
    pub applied_at: Option<Instant>,
    /// Whether the source answered last time (`None` before its first answer).
    pub source_up: Option<bool>,
    /// The last value rejected, or the last outage, as `"<source><key>: <message>"`; cleared
    /// when a value is applied.
    pub last_error: Option<String>,
    /// How many values were rejected by the parser so far.
    pub rejected: u64,
    /// How many absent-key notices were seen so far.
    pub absent_seen: u64,
}

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
/// use std::sync::{Arc, Mutex};
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
/// let limit = Arc::new(Mutex::new(0u32));
/// let target = open(&format!("file://{}?pollPeriod=20", file.display())).await?;
/// let applied = limit.clone();
/// let rules = LiveRules::start(
///     target,
///     LiveOptions::new().cache_dir(dir.join("cache")),
///     |raw: &[u8]| String::from_utf8_lossy(raw).trim().parse::<u32>(),
///     move |value| *applied.lock().unwrap() = value,
/// )
/// .await;
/// assert_eq!(*limit.lock().unwrap(), 10);
///
/// std::fs::write(&file, "not a number")?;
/// rules.wait(|s| s.rejected == 1, Duration::from_secs(5)).await.ok_or("not rejected")?;
/// assert_eq!(*limit.lock().unwrap(), 10, "the last good value stays");
/// assert!(rules.status().last_error.unwrap().contains("invalid digit"));
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
        let driver = Driver {
            disk: options
                .cache_dir
                .as_deref()
                .map(|dir| DiskCopy::new(dir, &target.source.describe(), &target.key)),
            name: name.clone(),
            options,
            parse: Box::new(move |raw| parse(raw).map_err(|e| e.to_string())),
            apply: Box::new(apply),
            status: tx,
            in_force: None,
            settled: Some(settled_tx),
        };
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

type Parse<T> = Box<dyn Fn(&[u8]) -> Result<T, String> + Send>;

/// The watch task's state.
struct Driver<T> {
    name: String,
    options: LiveOptions,
    disk: Option<DiskCopy>,
    parse: Parse<T>,
    apply: Box<dyn FnMut(T) + Send>,
    status: watch::Sender<LiveStatus>,
    /// The raw value in force, to skip repeats.
    in_force: Option<Vec<u8>>,
    /// Told once the start is over (a value in force, or given up waiting).
    settled: Option<tokio::sync::oneshot::Sender<()>>,
}

impl<T> Driver<T> {
    async fn run(mut self, target: ConfigTarget) {
        let mut stream = match target.watch() {
            Ok(stream) => stream,
            Err(e) => {
                tracing::error!(config = %self.name, error = %e, "cannot watch the config key");
                self.set_error(e.to_string());
                self.fall_back_to_disk("the key cannot be watched");
                self.settle();
                return;
            }
        };
        let deadline = tokio::time::Instant::now() + self.options.startup_wait;
        loop {
            let next = if self.settled.is_some() {
                match tokio::time::timeout_at(deadline, stream.next()).await {
                    Ok(next) => next,
                    Err(_) => {
                        self.fall_back_to_disk("the source did not answer in time");
                        self.settle();
                        continue;
                    }
                }
            } else {
                stream.next().await
            };
            match next {
                None => return,
                Some(Ok(Some(raw))) => {
                    self.source_up();
                    self.offer(raw, Origin::Source);
                }
                Some(Ok(None)) => {
                    self.source_up();
                    self.status.send_modify(|s| s.absent_seen += 1);
                    match self.options.on_absent.clone() {
                        OnAbsent::KeepLast => {
                            tracing::info!(config = %self.name, "config key is absent; the rules in force stay");
                            if self.in_force.is_none() {
                                self.fall_back_to_disk("the key is absent");
                            }
                        }
                        OnAbsent::Use(raw) => self.offer(raw, Origin::AbsentDefault),
                    }
                }
                Some(Err(e)) => {
                    if self.status.borrow().source_up != Some(false) {
                        tracing::warn!(config = %self.name, error = %e, "config source unreachable; the rules in force stay");
                    }
                    self.status.send_modify(|s| s.source_up = Some(false));
                    self.set_error(e.to_string());
                    if self.in_force.is_none() {
                        self.fall_back_to_disk("the source is unreachable");
                    }
                }
            }
            self.settle();
        }
    }

    fn settle(&mut self) {
        if let Some(tx) = self.settled.take() {
            let _ = tx.send(());
        }
    }

    fn source_up(&mut self) {
        if self.status.borrow().source_up == Some(false) {
            tracing::info!(config = %self.name, "config source reachable again");
        }
        self.status.send_modify(|s| s.source_up = Some(true));
    }

    fn set_error(&self, message: String) {
        let message = format!("{}: {message}", self.name);
        self.status.send_modify(|s| s.last_error = Some(message));
    }

    /// Parses and applies `raw` unless it is the value in force already.
    fn offer(&mut self, raw: Vec<u8>, origin: Origin) {
        if self.in_force.as_deref() == Some(raw.as_slice()) {
            // The same value again (a reconnect, or the disk copy confirmed): nothing to apply.
            self.status.send_modify(|s| {
                if s.origin == Origin::DiskCopy {
                    s.origin = origin;
                }
            });
            return;
        }
        if self.apply_raw(&raw, origin) && origin != Origin::DiskCopy {
            if let Some(disk) = &self.disk {
                if let Err(e) = disk.store(&raw) {
                    tracing::warn!(config = %self.name, path = %disk.path().display(), error = %e,
                        "cannot write the disk copy of the config; the rules still apply");
                }
            }
        }
    }

    /// Parses `raw` and applies it; `false` (logged, kept in the status) when rejected.
    fn apply_raw(&mut self, raw: &[u8], origin: Origin) -> bool {
        let value = match (self.parse)(raw) {
            Ok(value) => value,
            Err(message) => {
                tracing::error!(config = %self.name, ?origin, error = %message,
                    "rejected a malformed config value; the last good one stays");
                self.set_error(message);
                self.status.send_modify(|s| s.rejected += 1);
                return false;
            }
        };
        let apply = &mut self.apply;
        if catch_unwind(AssertUnwindSafe(|| apply(value))).is_err() {
            tracing::error!(config = %self.name, "applying a config value panicked");
            self.set_error("applying the value panicked".to_string());
            return false;
        }
        self.in_force = Some(raw.to_vec());
        self.status.send_modify(|s| {
            s.applied += 1;
            s.origin = origin;
            s.applied_at = Some(Instant::now());
            if origin != Origin::DiskCopy {
                s.last_error = None;
            }
        });
        true
    }

    /// Applies the disk copy, when there is one and nothing is in force yet.
    fn fall_back_to_disk(&mut self, why: &str) {
        if self.in_force.is_some() {
            return;
        }
        let Some(disk) = self.disk.clone() else {
            tracing::warn!(config = %self.name, why, "no config in force and no disk copy configured");
            return;
        };
        match disk.load() {
            Ok(Some(raw)) => {
                tracing::warn!(config = %self.name, why, path = %disk.path().display(), "using the disk copy of the config");
                self.apply_raw(&raw, Origin::DiskCopy);
            }
            Ok(None) => {
                tracing::warn!(config = %self.name, why, path = %disk.path().display(), "no config in force and no disk copy yet");
            }
            Err(e) => {
                tracing::error!(config = %self.name, why, path = %disk.path().display(), error = %e, "cannot read the disk copy of the config");
                self.set_error(format!(
                    "reading the disk copy {}: {e}",
                    disk.path().display()
                ));
            }
        }
    }
}
