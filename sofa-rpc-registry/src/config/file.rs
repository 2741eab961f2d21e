//! `file`: a local file, polled.
//!
//! Polling (every 200 ms unless `pollPeriod=ms` says otherwise) rather than inotify keeps the
//! backend dependency-free and works on every file system, network mounts included; a change
//! reaches the watcher within one period. A poll looks at the file's length and modification
//! time and reads the file only when they moved; the content read is compared with the last
//! one sent, so a touch without a change yields nothing. File systems keep times coarsely
//! (a clock tick, up to 2 s on some), so two writes close together can leave the same length
//! and time: until a file's time is [`SETTLE`] older than the last read, every poll reads it.

use std::path::PathBuf;
use std::time::{Duration, SystemTime};

use super::stream::{channel, Updates};
use super::{ConfigSource, ConfigStream};
use crate::address::RegistryUrl;
use crate::error::{Error, ErrorKind, Result};

/// Poll period unless the URL says otherwise (`pollPeriod`, ms).
pub const DEFAULT_POLL_PERIOD: Duration = Duration::from_millis(200);

/// How far a file's modification time must lie behind the last read before an unchanged
/// length and time are trusted to mean unchanged content: the coarsest common file time
/// granularity (FAT and some network file systems keep 2 s).
const SETTLE: Duration = Duration::from_secs(2);

/// Watches files: the key is the file's path. A missing file is an absent key; a file that
/// cannot be read (permissions, a directory) is an `Err` of kind `Io`.
#[derive(Clone, Debug)]
pub struct FileSource {
    poll: Duration,
}

impl FileSource {
    /// A source polling every `poll` (at least 10 ms).
    pub fn new(poll: Duration) -> Self {
        FileSource {
            poll: poll.max(Duration::from_millis(10)),
        }
    }

    /// The source and key of `file:///abs/path[?pollPeriod=ms]`.
    pub(super) fn from_url(url: &RegistryUrl) -> Result<(Self, String)> {
        let poll = url.param_millis("pollPeriod", DEFAULT_POLL_PERIOD)?;
        let path = format!("{}{}", url.authority(), url.path());
        if path.is_empty() {
            return Err(Error::invalid(format!("config url {url} names no file")));
        }
        Ok((FileSource::new(poll), path))
    }
}

impl Default for FileSource {
    fn default() -> Self {
        FileSource::new(DEFAULT_POLL_PERIOD)
    }
}

impl ConfigSource for FileSource {
    fn describe(&self) -> String {
        "file://".to_string()
    }

    fn watch(&self, key: &str) -> Result<ConfigStream> {
        if key.is_empty() {
            return Err(Error::invalid("a file config key must be a path"));
        }
        let (updates, stream) = channel();
        tokio::spawn(poll_file(PathBuf::from(key), self.poll, updates));
        Ok(stream)
    }
}

/// What the last poll found, to send only changes.
#[derive(PartialEq)]
enum Seen {
    Nothing,
    Absent,
    Value(Vec<u8>),
    Failed,
}

async fn poll_file(path: PathBuf, period: Duration, updates: Updates) {
    let mut seen = Seen::Nothing;
    let mut stamp: Option<Stamp> = None;
    loop {
        // Plain blocking calls: a stat and, on change, the read of a small file take
        // microseconds, less than handing them to a blocking thread would.
        let now = match std::fs::metadata(&path) {
            Ok(meta) => Ok(Some((
                meta.len(),
                meta.modified().unwrap_or(SystemTime::UNIX_EPOCH),
            ))),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(e),
        };
        let update = match now {
            Ok(Some(s)) if stamp.as_ref().is_some_and(|k| k.holds(s)) => None,
            now => {
                // Read afresh; only a successful read sets the stamp again.
                stamp = None;
                match now {
                    Ok(Some(s)) => {
                        let reading = SystemTime::now();
                        match std::fs::read(&path) {
                            Ok(bytes) => {
                                stamp = Some(Stamp {
                                    seen: s,
                                    settled: s.1.checked_add(SETTLE).is_some_and(|t| t <= reading),
                                });
                                value(&mut seen, bytes)
                            }
                            Err(e) if e.kind() == std::io::ErrorKind::NotFound => absent(&mut seen),
                            Err(e) => failed(&mut seen, &path, e),
                        }
                    }
                    Ok(None) => absent(&mut seen),
                    Err(e) => failed(&mut seen, &path, e),
                }
            }
        };
        if let Some(update) = update {
            if !updates.send(update).await {
                return;
            }
        }
        if !updates.pause(period).await {
            return;
        }
    }
}

/// The length and modification time of the file's last read.
struct Stamp {
    seen: (u64, SystemTime),
    /// The time lay [`SETTLE`] behind the read: a later write must move it.
    settled: bool,
}

impl Stamp {
    /// Whether a file now showing `now` surely holds what was read.
    fn holds(&self, now: (u64, SystemTime)) -> bool {
        self.settled && self.seen == now
    }
}

fn value(seen: &mut Seen, bytes: Vec<u8>) -> Option<super::ConfigUpdate> {
    if matches!(seen, Seen::Value(last) if *last == bytes) {
        return None;
    }
    *seen = Seen::Value(bytes.clone());
    Some(Ok(Some(bytes)))
}

fn absent(seen: &mut Seen) -> Option<super::ConfigUpdate> {
    (*seen != Seen::Absent).then(|| {
        *seen = Seen::Absent;
        Ok(None)
    })
}

fn failed(
    seen: &mut Seen,
    path: &std::path::Path,
    e: std::io::Error,
) -> Option<super::ConfigUpdate> {
    (*seen != Seen::Failed).then(|| {
        *seen = Seen::Failed;
        Err(Error::with_source(
            ErrorKind::Io,
            format!("reading config file {}", path.display()),
            e,
        ))
    })
}

#[cfg(test)]
mod tests {
    use futures::StreamExt;

    use super::*;

    #[tokio::test]
    async fn value_change_touch_and_removal() {
        let dir = std::env::temp_dir().join(format!("sofa-cfg-file-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("k.json");
        std::fs::write(&path, b"1").unwrap();
        let source = FileSource::new(Duration::from_millis(20));
        let mut s = source.watch(path.to_str().unwrap()).unwrap();
        async fn next(s: &mut ConfigStream) -> crate::config::ConfigUpdate {
            let item = tokio::time::timeout(Duration::from_secs(5), s.next()).await;
            item.unwrap().unwrap()
        }
        assert_eq!(next(&mut s).await.unwrap(), Some(b"1".to_vec()));
        std::fs::write(&path, b"22").unwrap();
        assert_eq!(next(&mut s).await.unwrap(), Some(b"22".to_vec()));
        // Rewriting the same content sends nothing; the removal comes next.
        std::fs::write(&path, b"22").unwrap();
        tokio::time::sleep(Duration::from_millis(100)).await;
        std::fs::remove_file(&path).unwrap();
        assert_eq!(next(&mut s).await.unwrap(), None);
        // A directory where the file was: unreadable.
        std::fs::create_dir(&path).unwrap();
        assert_eq!(next(&mut s).await.unwrap_err().kind(), ErrorKind::Io);
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[tokio::test]
    async fn a_rewrite_within_one_file_time_tick_is_read() {
        let dir = std::env::temp_dir().join(format!("sofa-cfg-tick-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("k.json");
        // Two writes of one length that the file system stamps with one time, as a coarse
        // clock does for writes a moment apart.
        let tick = SystemTime::now();
        let write = |content: &[u8]| {
            std::fs::write(&path, content).unwrap();
            let file = std::fs::File::options().write(true).open(&path).unwrap();
            file.set_modified(tick).unwrap();
        };
        write(b"burst 1");
        let source = FileSource::new(Duration::from_millis(20));
        let mut s = source.watch(path.to_str().unwrap()).unwrap();
        let mut next = async || {
            let item = tokio::time::timeout(Duration::from_secs(5), s.next()).await;
            item.unwrap().unwrap().unwrap()
        };
        assert_eq!(next().await, Some(b"burst 1".to_vec()));
        // Polled at least once more with the first content in place.
        tokio::time::sleep(Duration::from_millis(60)).await;
        write(b"burst 0");
        assert_eq!(next().await, Some(b"burst 0".to_vec()));
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
