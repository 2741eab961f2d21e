//! How [`LiveRules`](super::LiveRules) behaves, and the state it reports.

use std::path::PathBuf;
use std::time::{Duration, Instant};

/// How long [`LiveRules::start`](super::LiveRules::start) waits for the source's first answer before it falls back to
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

/// How [`LiveRules`](super::LiveRules) behaves: where the disk copy lives, how long to wait at start, what an
/// absent key means.
#[derive(Clone, Debug)]
pub struct LiveOptions {
    pub(super) cache_dir: Option<PathBuf>,
    pub(super) startup_wait: Duration,
    pub(super) on_absent: OnAbsent,
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

    /// How long [`LiveRules::start`](super::LiveRules::start) waits for the source before using the disk copy.
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

/// The state of a [`LiveRules`](super::LiveRules), for inspection and for waiting on changes.
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
    /// when a value is applied (and an outage's when the source answers again).
    pub last_error: Option<String>,
    /// How many values were rejected by the parser so far.
    pub rejected: u64,
    /// How many absent-key notices were seen so far.
    pub absent_seen: u64,
}
