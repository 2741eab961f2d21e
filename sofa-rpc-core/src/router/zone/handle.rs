//! [`ZoneRulesHandle`]: the rules in force, swapped whole while calls run.

use std::sync::{Arc, RwLock};

use sofa_rpc_registry::config::{ConfigTarget, LiveOptions, LiveRules};

use super::model::ZoneRulesSpec;
use super::rules::ZoneRules;
use crate::error::Result;

/// The zone rules in force, shared by every router and whoever pushes new rules (a rule
/// centre, a config source, a disaster switch). Cheap to clone; clones share the rules.
///
/// A replacement is checked whole before it takes effect, and takes effect at once for every
/// call routed after it: a call sees either the old rules or the new ones, never a mix.
///
/// ```
/// use sofa_rpc_core::router::zone::ZoneRulesHandle;
///
/// # fn main() -> sofa_rpc_core::Result<()> {
/// let handle = ZoneRulesHandle::default();
/// let bad = br#"{"zones": [], "services": [{"service": "a.B", "kind": "rzone"}]}"#;
/// assert!(handle.replace_bytes(bad).is_err());
/// handle.replace_bytes(br#"{"zones": [{"name": "GZ", "kind": "gzone"}]}"#)?;
/// assert_eq!(handle.current().spec().zones.len(), 1);
/// # Ok(())
/// # }
/// ```
#[derive(Clone, Debug, Default)]
pub struct ZoneRulesHandle {
    current: Arc<RwLock<ZoneRules>>,
}

impl ZoneRulesHandle {
    /// A handle holding `rules`.
    pub fn new(rules: ZoneRules) -> Self {
        ZoneRulesHandle {
            current: Arc::new(RwLock::new(rules)),
        }
    }

    /// The rules in force now.
    pub fn current(&self) -> ZoneRules {
        // A poisoned lock still holds whole rules: a swap is one assignment.
        self.current
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    /// Puts `rules` (already checked) in force for every call routed from now on.
    pub fn set(&self, rules: ZoneRules) {
        *self.current.write().unwrap_or_else(|e| e.into_inner()) = rules;
    }

    /// Checks `spec` whole and puts it in force; on error the rules in force stay.
    pub fn replace(&self, spec: ZoneRulesSpec) -> Result<()> {
        self.set(ZoneRules::new(spec)?);
        Ok(())
    }

    /// Reads a document (JSON or TOML, see [`ZoneRules::parse`]), checks it and puts it in
    /// force; on error the rules in force stay.
    pub fn replace_bytes(&self, bytes: &[u8]) -> Result<()> {
        self.set(ZoneRules::parse(bytes)?);
        Ok(())
    }

    /// Keeps these rules in step with a key of a [config source](crate::config): every valid
    /// document there is put in force as it arrives; a malformed one is rejected whole (logged,
    /// and shown by [`LiveRules::last_error`]) and the rules in force stay. With a cache
    /// directory in `options`, the last good document is kept on disk and used when the
    /// source cannot be reached at start. Watching stops when the returned [`LiveRules`] is
    /// dropped.
    ///
    /// ```no_run
    /// use sofa_rpc_core::config::{open, LiveOptions};
    /// use sofa_rpc_core::router::zone::ZoneRulesHandle;
    ///
    /// # async fn run() -> Result<(), Box<dyn std::error::Error>> {
    /// let handle = ZoneRulesHandle::default();
    /// let target = open("etcd://127.0.0.1:2379/sofa/zones.json").await?;
    /// let live = handle
    ///     .follow(target, LiveOptions::new().cache_dir("/var/cache/sofa"))
    ///     .await;
    /// # drop(live);
    /// # Ok(())
    /// # }
    /// ```
    pub async fn follow(&self, target: ConfigTarget, options: LiveOptions) -> LiveRules {
        let handle = self.clone();
        LiveRules::start(target, options, ZoneRules::parse, move |rules| {
            handle.set(rules)
        })
        .await
    }
}
