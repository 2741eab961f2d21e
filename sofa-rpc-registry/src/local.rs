//! `local`: a registry in one file, shared by the processes of one machine.
//!
//! File format (text, one provider per line, `#` lines are comments):
//!
//! ```text
//! # sofa-rpc-rs local registry v1: pid<TAB>process start<TAB>interface<TAB>provider url
//! 4242<TAB>81234567<TAB>com.example.Echo<TAB>bolt://127.0.0.1:12200?version=1.0&uniqueId=&...
//! ```
//!
//! Writers take a lock file (`<file>.lock`, created exclusively; a lock whose holder died or
//! that is older than 30 s is broken), read the file, apply their change, write a temporary
//! file and rename it over the original, so readers never see half a file and need no lock.
//! Every line carries the writer's pid and process start time (Linux: `/proc/<pid>/stat`
//! field 22); lines of processes that are gone are ignored by readers and dropped by the next
//! writer, so a crashed provider disappears within one scan period. Subscribers re-read the
//! file every scan period (1 s by default, `scanPeriod` in ms in the URL); each scan also
//! writes back this process's registrations if someone removed them.
//! On systems without `/proc`, liveness cannot be checked and lines stay until unregistered.

use std::collections::BTreeMap;
use std::fs;
use std::io::{ErrorKind as IoKind, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant, SystemTime};

use futures::future::BoxFuture;
use futures::FutureExt;
use tokio::sync::watch;

use crate::address::RegistryUrl;
use crate::error::{Error, ErrorKind, Result};
use crate::fanout::Fanout;
use crate::provider::ProviderInfo;
use crate::registry::{Listing, ProviderStream, Registration, Registry, Subscription};

/// How often subscribers re-read the file unless the URL says otherwise.
pub const DEFAULT_SCAN_PERIOD: Duration = Duration::from_secs(1);

const HEADER: &str =
    "# sofa-rpc-rs local registry v1: pid\tprocess start\tinterface\tprovider url\n";
const LOCK_WAIT: Duration = Duration::from_secs(5);
const LOCK_STALE: Duration = Duration::from_secs(30);

/// A registry kept in a file on this machine; see the [module docs](self) for the format.
///
/// Open it with `local://<path>` ([`open`](crate::open)) or [`LocalRegistry::new`]. Without a
/// path (`local://`) the file is SOFARPC's default, `~/localFileRegistry/localRegistry.reg`.
pub struct LocalRegistry {
    inner: Arc<Inner>,
}

struct Inner {
    path: PathBuf,
    scan_period: Duration,
    me: Owner,
    registrations: Mutex<BTreeMap<String, Registration>>,
    fanout: Fanout,
    cache: Mutex<Option<Cached>>,
    shutdown: watch::Sender<bool>,
    scanner_started: AtomicBool,
    closed: AtomicBool,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Owner {
    pid: u32,
    start: u64,
}

#[derive(Clone, Debug, PartialEq)]
struct Entry {
    owner: Owner,
    interface: String,
    provider: ProviderInfo,
}

struct Cached {
    modified: Option<SystemTime>,
    len: u64,
    entries: Vec<Entry>,
}

impl LocalRegistry {
    /// A registry in the file at `path` (created on the first registration).
    pub fn new(path: impl Into<PathBuf>) -> Self {
        Self::with_scan_period(path, DEFAULT_SCAN_PERIOD)
    }

    /// A registry in the file at `path` that re-reads it every `scan_period`.
    pub fn with_scan_period(path: impl Into<PathBuf>, scan_period: Duration) -> Self {
        let pid = std::process::id();
        LocalRegistry {
            inner: Arc::new(Inner {
                path: path.into(),
                scan_period: scan_period.max(Duration::from_millis(10)),
                me: Owner {
                    pid,
                    start: process_start(pid).unwrap_or(0),
                },
                registrations: Mutex::new(BTreeMap::new()),
                fanout: Fanout::new(),
                cache: Mutex::new(None),
                shutdown: watch::channel(false).0,
                scanner_started: AtomicBool::new(false),
                closed: AtomicBool::new(false),
            }),
        }
    }

    /// From `local://<path>[?scanPeriod=ms]`.
    pub(crate) fn from_url(url: &RegistryUrl) -> Result<Self> {
        let path = format!("{}{}", url.authority(), url.path());
        let path = if path.is_empty() {
            default_path()
        } else {
            PathBuf::from(path)
        };
        let scan = url.param_millis("scanPeriod", DEFAULT_SCAN_PERIOD)?;
        Ok(Self::with_scan_period(path, scan))
    }

    /// The registry file.
    pub fn path(&self) -> &Path {
        &self.inner.path
    }
}

fn default_path() -> PathBuf {
    let home = std::env::var_os("HOME")
        .map(PathBuf::from)
        .unwrap_or_else(std::env::temp_dir);
    home.join("localFileRegistry").join("localRegistry.reg")
}

impl Drop for LocalRegistry {
    fn drop(&mut self) {
        // Stops the scanner; lines stay until this process exits (or `close`).
        self.inner.shutdown.send_replace(true);
    }
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

impl Inner {
    fn check_open(&self) -> Result<()> {
        if self.closed.load(Ordering::Acquire) {
            Err(Error::closed())
        } else {
            Ok(())
        }
    }

    fn start_scanner(self: &Arc<Self>) {
        if !self.scanner_started.swap(true, Ordering::AcqRel) {
            let inner = self.clone();
            tokio::spawn(async move { inner.scan_loop().await });
        }
    }

    async fn scan_loop(self: Arc<Self>) {
        let mut shutdown = self.shutdown.subscribe();
        let mut dropped = self.fanout.dropped();
        let mut tick = tokio::time::interval(self.scan_period);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tokio::select! {
                _ = tick.tick() => {}
                _ = dropped.changed() => {}
                _ = shutdown.changed() => {}
            }
            if *shutdown.borrow() {
                return;
            }
            self.scan().await;
        }
    }

    /// Reads the file, restores missing own lines, publishes every watched interface.
    async fn scan(self: &Arc<Self>) {
        let inner = self.clone();
        let read = blocking(move || inner.read_cached()).await;
        let entries = match read {
            Ok(entries) => entries,
            Err(e) => {
                self.fanout.fail_all(&e);
                return;
            }
        };
        let missing: Vec<Registration> = lock(&self.registrations)
            .values()
            .filter(|r| {
                !entries.iter().any(|e| {
                    e.owner == self.me
                        && e.interface == r.interface()
                        && &e.provider == r.provider()
                })
            })
            .cloned()
            .collect();
        if !missing.is_empty() && !self.closed.load(Ordering::Acquire) {
            let inner = self.clone();
            let restored = blocking(move || inner.restore(&missing)).await;
            if let Err(e) = restored {
                tracing::warn!(error = %e, "local registry: could not restore registrations");
            }
        }
        for topic in self.fanout.topics() {
            if !self.fanout.keep_running(&topic) {
                continue;
            }
            let providers: Vec<ProviderInfo> = entries
                .iter()
                .filter(|e| e.interface == topic)
                .map(|e| e.provider.clone())
                .collect();
            self.fanout.publish(&topic, &providers, false);
        }
    }

    /// Writes back lines of this process's registrations that the file lost (another process
    /// rewrote it without them). `missing` was found before taking the file lock: a
    /// registration withdrawn, or written back, since then is left alone.
    fn restore(&self, missing: &[Registration]) -> Result<()> {
        self.update(|entries| {
            let registered = lock(&self.registrations);
            for r in missing {
                let entry = self.entry(r);
                if registered.contains_key(&r.key()) && !entries.contains(&entry) {
                    entries.push(entry);
                }
            }
        })
    }

    fn entry(&self, r: &Registration) -> Entry {
        Entry {
            owner: self.me,
            interface: r.interface().to_string(),
            provider: r.provider().clone(),
        }
    }

    /// Live entries, re-parsing the file only when its size or mtime changed.
    fn read_cached(&self) -> Result<Vec<Entry>> {
        let meta = match fs::metadata(&self.path) {
            Ok(m) => Some(m),
            Err(e) if e.kind() == IoKind::NotFound => None,
            Err(e) => return Err(io_error("reading", &self.path, e)),
        };
        let (modified, len) = match &meta {
            Some(m) => (m.modified().ok(), m.len()),
            None => (None, 0),
        };
        let mut cache = lock(&self.cache);
        let fresh = matches!(&*cache, Some(c) if c.modified == modified && c.len == len && modified.is_some());
        if !fresh {
            let entries = if meta.is_some() {
                read_entries(&self.path)?
            } else {
                Vec::new()
            };
            *cache = Some(Cached {
                modified,
                len,
                entries,
            });
        }
        Ok(cache
            .as_ref()
            .map(|c| {
                c.entries
                    .iter()
                    .filter(|e| alive(e.owner))
                    .cloned()
                    .collect()
            })
            .unwrap_or_default())
    }

    /// Read-modify-write under the lock file; drops lines of dead processes.
    fn update(&self, change: impl FnOnce(&mut Vec<Entry>)) -> Result<()> {
        if let Some(dir) = self.path.parent().filter(|d| !d.as_os_str().is_empty()) {
            fs::create_dir_all(dir).map_err(|e| io_error("creating", dir, e))?;
        }
        let _lock = FileLock::acquire(&with_suffix(&self.path, ".lock"))?;
        let mut entries = read_entries(&self.path)?;
        entries.retain(|e| alive(e.owner));
        change(&mut entries);
        let mut text = String::from(HEADER);
        for e in &entries {
            text.push_str(&format!(
                "{}\t{}\t{}\t{}\n",
                e.owner.pid, e.owner.start, e.interface, e.provider
            ));
        }
        let tmp = with_suffix(&self.path, &format!(".tmp.{}", self.me.pid));
        let written = fs::File::create(&tmp)
            .and_then(|mut f| f.write_all(text.as_bytes()).and_then(|()| f.sync_all()))
            .and_then(|()| fs::rename(&tmp, &self.path));
        if let Err(e) = written {
            let _ = fs::remove_file(&tmp);
            return Err(io_error("writing", &self.path, e));
        }
        // Invalidate: same-second writes of equal length would look unchanged.
        *lock(&self.cache) = None;
        Ok(())
    }
}

fn with_suffix(path: &Path, suffix: &str) -> PathBuf {
    let mut s = path.as_os_str().to_owned();
    s.push(suffix);
    PathBuf::from(s)
}

fn io_error(what: &str, path: &Path, e: std::io::Error) -> Error {
    Error::with_source(ErrorKind::Io, format!("{what} {}", path.display()), e)
}

fn read_entries(path: &Path) -> Result<Vec<Entry>> {
    let text = match fs::read_to_string(path) {
        Ok(t) => t,
        Err(e) if e.kind() == IoKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(io_error("reading", path, e)),
    };
    Ok(text.lines().filter_map(parse_line).collect())
}

fn parse_line(line: &str) -> Option<Entry> {
    if line.trim().is_empty() || line.starts_with('#') {
        return None;
    }
    let mut fields = line.splitn(4, '\t');
    let pid = fields.next()?.trim().parse().ok()?;
    let start = fields.next()?.trim().parse().ok()?;
    let interface = fields.next()?.to_string();
    let provider = fields.next()?.parse().ok()?;
    Some(Entry {
        owner: Owner { pid, start },
        interface,
        provider,
    })
}

/// The start time of process `pid` in clock ticks since boot (`/proc/<pid>/stat` field 22),
/// which tells a live process from a later one that reused its pid. `None` if it is gone.
fn process_start(pid: u32) -> Option<u64> {
    let stat = fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // The command name (field 2) may contain spaces and parentheses: skip past the last ')'.
    let after = &stat[stat.rfind(')')? + 1..];
    after.split_whitespace().nth(19)?.parse().ok()
}

fn alive(owner: Owner) -> bool {
    if !Path::new("/proc/self/stat").exists() {
        return true;
    }
    match process_start(owner.pid) {
        Some(start) => owner.start == 0 || start == owner.start,
        None => false,
    }
}

/// An exclusive lock held by the existence of a file.
struct FileLock {
    path: PathBuf,
}

impl FileLock {
    fn acquire(path: &Path) -> Result<FileLock> {
        let deadline = Instant::now() + LOCK_WAIT;
        loop {
            match fs::OpenOptions::new()
                .write(true)
                .create_new(true)
                .open(path)
            {
                Ok(mut f) => {
                    let pid = std::process::id();
                    let start = process_start(pid).unwrap_or(0);
                    let _ = writeln!(f, "{pid}\t{start}");
                    return Ok(FileLock {
                        path: path.to_path_buf(),
                    });
                }
                Err(e) if e.kind() == IoKind::AlreadyExists => {
                    if lock_is_stale(path) {
                        // A small race remains: two writers breaking the same stale lock at
                        // once. Locks are held for microseconds, so it needs a crash first.
                        let _ = fs::remove_file(path);
                        continue;
                    }
                    if Instant::now() >= deadline {
                        return Err(Error::new(
                            ErrorKind::Timeout,
                            format!("lock {} is held by another process", path.display()),
                        ));
                    }
                    std::thread::sleep(Duration::from_millis(5));
                }
                Err(e) => return Err(io_error("locking", path, e)),
            }
        }
    }
}

fn lock_is_stale(path: &Path) -> bool {
    let age = fs::metadata(path)
        .and_then(|m| m.modified())
        .ok()
        .and_then(|t| t.elapsed().ok())
        .unwrap_or_default();
    if age > LOCK_STALE {
        return true;
    }
    let holder = fs::read_to_string(path).ok().and_then(|s| {
        let mut it = s.split_whitespace();
        let pid = it.next()?.parse().ok()?;
        let start = it.next()?.parse().ok()?;
        Some(Owner { pid, start })
    });
    matches!(holder, Some(owner) if !alive(owner))
}

impl Drop for FileLock {
    fn drop(&mut self) {
        let _ = fs::remove_file(&self.path);
    }
}

async fn blocking<T: Send + 'static>(f: impl FnOnce() -> Result<T> + Send + 'static) -> Result<T> {
    tokio::task::spawn_blocking(f)
        .await
        .map_err(|e| Error::with_source(ErrorKind::Io, "local registry task failed", e))?
}

impl Registry for LocalRegistry {
    fn name(&self) -> &'static str {
        "local"
    }

    fn register<'a>(&'a self, registration: &'a Registration) -> BoxFuture<'a, Result<()>> {
        async move {
            let inner = &self.inner;
            inner.check_open()?;
            if registration.interface().contains(['\t', '\n', '\r'])
                || registration.interface().is_empty()
            {
                return Err(Error::invalid(format!(
                    "bad interface name {:?}",
                    registration.interface()
                )));
            }
            inner.start_scanner();
            let key = registration.key();
            lock(&inner.registrations).insert(key.clone(), registration.clone());
            let me = inner.clone();
            let reg = registration.clone();
            let written = blocking(move || {
                let entry = me.entry(&reg);
                me.update(|entries| {
                    entries.retain(|e| {
                        !(e.owner == me.me
                            && Registration::new(e.interface.clone(), e.provider.clone()).key()
                                == key)
                    });
                    entries.push(entry);
                })
            })
            .await;
            if let Err(e) = written {
                lock(&inner.registrations).remove(&registration.key());
                return Err(e);
            }
            inner.scan().await;
            Ok(())
        }
        .boxed()
    }

    fn unregister<'a>(&'a self, registration: &'a Registration) -> BoxFuture<'a, Result<()>> {
        async move {
            let inner = &self.inner;
            inner.check_open()?;
            let key = registration.key();
            if lock(&inner.registrations).remove(&key).is_none() {
                return Ok(());
            }
            let me = inner.clone();
            blocking(move || {
                me.update(|entries| {
                    entries.retain(|e| {
                        !(e.owner == me.me
                            && Registration::new(e.interface.clone(), e.provider.clone()).key()
                                == key)
                    })
                })
            })
            .await?;
            inner.scan().await;
            Ok(())
        }
        .boxed()
    }

    fn subscribe<'a>(
        &'a self,
        subscription: &'a Subscription,
    ) -> BoxFuture<'a, Result<ProviderStream>> {
        async move {
            let inner = &self.inner;
            inner.check_open()?;
            let (stream, _) = inner.fanout.add(subscription.interface(), subscription);
            inner.start_scanner();
            // The first snapshot now rather than at the next tick.
            inner.scan().await;
            Ok(stream)
        }
        .boxed()
    }

    fn unsubscribe<'a>(&'a self, subscription: &'a Subscription) -> BoxFuture<'a, Result<()>> {
        async move {
            self.inner.fanout.remove(subscription);
            Ok(())
        }
        .boxed()
    }

    fn close(&self) -> BoxFuture<'_, Result<()>> {
        async move {
            let inner = &self.inner;
            if inner.closed.swap(true, Ordering::AcqRel) {
                return Ok(());
            }
            inner.shutdown.send_replace(true);
            inner.fanout.close();
            let had_any = !std::mem::take(&mut *lock(&inner.registrations)).is_empty();
            if had_any {
                let me = inner.clone();
                blocking(move || me.update(|entries| entries.retain(|e| e.owner != me.me))).await?;
            }
            Ok(())
        }
        .boxed()
    }

    fn list<'a>(&'a self, interface: Option<&'a str>) -> BoxFuture<'a, Result<Listing>> {
        async move {
            self.inner.check_open()?;
            let me = self.inner.clone();
            let entries = blocking(move || me.read_cached()).await?;
            let mut listing = Listing::new();
            for e in entries {
                if interface.is_some_and(|i| i != e.interface) {
                    continue;
                }
                listing.entry(e.interface).or_default().push(e.provider);
            }
            Ok(listing)
        }
        .boxed()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn lists_live_providers_by_interface() {
        let path = std::env::temp_dir().join(format!("sofa-list-{}.reg", std::process::id()));
        let _ = fs::remove_file(&path);
        let reg = LocalRegistry::new(&path);
        reg.register(&Registration::sofa("a.A", "127.0.0.1", 1))
            .await
            .unwrap();
        reg.register(&Registration::sofa("b.B", "127.0.0.1", 2).with_unique_id("x"))
            .await
            .unwrap();
        let all = reg.list(None).await.unwrap();
        assert_eq!(all.keys().collect::<Vec<_>>(), ["a.A", "b.B"]);
        assert_eq!(all["b.B"][0].unique_id(), Some("x"));
        let one = reg.list(Some("a.A")).await.unwrap();
        assert_eq!(one.len(), 1);
        assert_eq!(one["a.A"][0].port(), 1);
        reg.close().await.unwrap();
        let _ = fs::remove_file(&path);
    }

    #[test]
    fn lines_round_trip_and_bad_lines_are_skipped() {
        let line = "1\t2\tcom.example.Echo\tbolt://h:1?uniqueId=&weight=5";
        let e = parse_line(line).unwrap();
        assert_eq!(e.owner, Owner { pid: 1, start: 2 });
        assert_eq!(e.provider.weight(), 5);
        for bad in [
            "",
            "# c",
            "x\t2\tI\tbolt://h:1",
            "1\t2\tI",
            "1\t2\tI\tbolt://h",
        ] {
            assert!(parse_line(bad).is_none(), "{bad:?}");
        }
    }

    #[test]
    fn liveness_uses_pid_and_start_time() {
        let pid = std::process::id();
        let start = process_start(pid).unwrap();
        assert!(alive(Owner { pid, start }));
        assert!(!alive(Owner {
            pid,
            start: start + 1
        }));
        assert!(!alive(Owner {
            pid: u32::MAX - 1,
            start: 0
        }));
    }

    #[test]
    fn lock_file_is_exclusive_and_stale_locks_break() {
        let dir = std::env::temp_dir().join(format!("sofa-local-lock-{}", std::process::id()));
        fs::create_dir_all(&dir).unwrap();
        let path = dir.join("x.lock");
        let _ = fs::remove_file(&path);
        let held = FileLock::acquire(&path).unwrap();
        assert!(!lock_is_stale(&path));
        drop(held);
        assert!(!path.exists());
        // A lock left by a dead process.
        fs::write(&path, format!("{}\t0\n", u32::MAX - 1)).unwrap();
        let again = FileLock::acquire(&path).unwrap();
        drop(again);
        let _ = fs::remove_dir_all(&dir);
    }

    #[test]
    fn url_and_default_path() {
        let r =
            LocalRegistry::from_url(&"local:///tmp/x.reg?scanPeriod=50".parse().unwrap()).unwrap();
        assert_eq!(r.path(), Path::new("/tmp/x.reg"));
        assert_eq!(r.inner.scan_period, Duration::from_millis(50));
        let r = LocalRegistry::from_url(&"local://".parse().unwrap()).unwrap();
        assert!(r.path().ends_with("localFileRegistry/localRegistry.reg"));
        assert_eq!(r.name(), "local");
    }

    #[tokio::test]
    async fn a_late_restore_does_not_bring_back_a_withdrawn_registration() {
        let path =
            std::env::temp_dir().join(format!("sofa-local-restore-{}.reg", std::process::id()));
        let _ = fs::remove_file(&path);
        let registry = LocalRegistry::with_scan_period(&path, Duration::from_secs(3600));
        let reg = Registration::sofa("com.example.Restore", "127.0.0.1", 12200);
        registry.register(&reg).await.unwrap();
        // A scan that read the file before `register` wrote it found the line missing; by the
        // time it restores, the registration is gone again.
        registry.unregister(&reg).await.unwrap();
        registry.inner.restore(std::slice::from_ref(&reg)).unwrap();
        assert!(read_entries(&path).unwrap().is_empty());
        // Still registered and already written: not written twice.
        registry.register(&reg).await.unwrap();
        registry.inner.restore(std::slice::from_ref(&reg)).unwrap();
        assert_eq!(read_entries(&path).unwrap().len(), 1);
        registry.close().await.unwrap();
        let _ = fs::remove_file(&path);
    }
}
