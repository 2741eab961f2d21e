//! The task behind a [`LiveRules`](super::LiveRules): follows the watch, parses, applies,
//! keeps the disk copy, falls back to it, and reports.

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::time::Instant;

use futures::StreamExt;
use tokio::sync::{oneshot, watch};

use super::cache::DiskCopy;
use super::factory::ConfigTarget;
use super::options::{LiveOptions, LiveStatus, OnAbsent, Origin};

pub(super) type Parse<T> = Box<dyn Fn(&[u8]) -> Result<T, String> + Send>;

/// The watch task's state.
pub(super) struct Driver<T> {
    name: String,
    options: LiveOptions,
    disk: Option<DiskCopy>,
    parse: Parse<T>,
    apply: Box<dyn FnMut(T) + Send>,
    status: watch::Sender<LiveStatus>,
    /// The raw value in force, to skip repeats.
    in_force: Option<Vec<u8>>,
    /// The raw value last rejected, so that a repeat (after a reconnect) is not logged again.
    rejected: Option<Vec<u8>>,
    /// Whether the disk copy was already looked for (it is looked for once).
    disk_tried: bool,
    /// Told once the start is over (a value in force, or given up waiting).
    settled: Option<oneshot::Sender<()>>,
}

impl<T> Driver<T> {
    /// A driver for the key named `name`, reporting on `status` and, once the start is over,
    /// on `settled`.
    pub(super) fn new(
        name: String,
        options: LiveOptions,
        disk: Option<DiskCopy>,
        parse: Parse<T>,
        apply: Box<dyn FnMut(T) + Send>,
        status: watch::Sender<LiveStatus>,
        settled: oneshot::Sender<()>,
    ) -> Self {
        Driver {
            name,
            options,
            disk,
            parse,
            apply,
            status,
            in_force: None,
            rejected: None,
            disk_tried: false,
            settled: Some(settled),
        }
    }

    pub(super) async fn run(mut self, target: ConfigTarget) {
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
                    // One update, so that a watcher never sees the outage without its error.
                    let message = format!("{}: {e}", self.name);
                    self.status.send_modify(|s| {
                        s.source_up = Some(false);
                        s.last_error = Some(message);
                    });
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
        let recovered = self.status.borrow().source_up == Some(false);
        if recovered {
            tracing::info!(config = %self.name, "config source reachable again");
        }
        // The outage's message goes with the outage; a rejection's stays until a good value.
        let clear = recovered && self.rejected.is_none();
        self.status.send_modify(|s| {
            s.source_up = Some(true);
            if clear {
                s.last_error = None;
            }
        });
    }

    fn set_error(&self, message: String) {
        let message = format!("{}: {message}", self.name);
        self.status.send_modify(|s| s.last_error = Some(message));
    }

    /// Parses and applies `raw` unless it is the value in force already.
    fn offer(&mut self, raw: Vec<u8>, origin: Origin) {
        if self.rejected.as_deref() == Some(raw.as_slice()) {
            // The same malformed value again: rejected and reported already.
            return;
        }
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
                let message = format!("{}: {message}", self.name);
                self.status.send_modify(|s| {
                    s.last_error = Some(message);
                    s.rejected += 1;
                });
                if origin != Origin::DiskCopy {
                    self.rejected = Some(raw.to_vec());
                }
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
        self.rejected = None;
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
        if self.in_force.is_some() || self.disk_tried {
            return;
        }
        self.disk_tried = true;
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
