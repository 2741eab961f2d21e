//! [`ZoneRulesHandle`]: the rules in force, swapped whole while calls run.

use std::sync::{Arc, RwLock};

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
/// use sofa_rpc_core::router::zone::{ZoneRules, ZoneRulesHandle};
///
/// let handle = ZoneRulesHandle::default();
/// let bad = br#"{"zones": [], "services": [{"service": "a.B", "kind": "rzone"}]}"#;
/// assert!(handle.replace_bytes(bad).is_err());
/// handle.replace_bytes(br#"{"zones": [{"name": "GZ", "kind": "gzone"}]}"#).unwrap();
/// assert_eq!(handle.current().spec().zones.len(), 1);
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
}
