//! A consumer's own view of the guard's rules, remembering the rules of the methods it called
//! last: a call that finds its method there compares pointers instead of hashing names.

use std::borrow::Cow;
use std::sync::Arc;

use arc_swap::ArcSwap;

use super::state::{CallRules, Compiled};
use crate::invocation::Invocation;
use crate::service_id::ServiceId;

/// How many methods a view remembers; beyond that the oldest is forgotten.
const REMEMBERED: usize = 8;

/// A consumer's view of the current rules. Each clone of a consumer's filter stack has its
/// own (`&mut` access, no lock): checking it for a replacement costs one atomic load.
#[derive(Clone)]
pub(crate) struct RulesCache {
    current: arc_swap::Cache<Arc<ArcSwap<Compiled>>, Arc<Compiled>>,
    /// The rule set `remembered` was read from. Held, so that a later set cannot take its
    /// address while its entries are still trusted.
    read_from: Option<Arc<Compiled>>,
    remembered: Vec<Remembered>,
    /// The entry to forget next when all are taken.
    oldest: usize,
}

/// The consumer rules of one method, as found in `read_from`.
#[derive(Clone)]
struct Remembered {
    service: ServiceId,
    method: Cow<'static, str>,
    rules: Option<Arc<CallRules>>,
}

impl RulesCache {
    pub(crate) fn new(current: Arc<ArcSwap<Compiled>>) -> Self {
        RulesCache {
            current: arc_swap::Cache::new(current),
            read_from: None,
            remembered: Vec::new(),
            oldest: 0,
        }
    }

    /// The consumer rules of `invocation`'s method in the current rule set, if it has any.
    pub(crate) fn call_rules(&mut self, invocation: &Invocation) -> Option<&Arc<CallRules>> {
        let current = self.current.load();
        if !self
            .read_from
            .as_ref()
            .is_some_and(|seen| Arc::ptr_eq(seen, current))
        {
            self.read_from = Some(current.clone());
            self.remembered.clear();
            self.oldest = 0;
        }
        let (service, method) = (invocation.service(), invocation.method());
        let found = self
            .remembered
            .iter()
            .position(|r| r.service == *service && r.method == method);
        let slot = match found {
            Some(slot) => slot,
            None => {
                let rules = self
                    .read_from
                    .as_ref()?
                    .consumer
                    .get(service, method)
                    .cloned();
                self.remember(Remembered {
                    service: service.clone(),
                    method: invocation.method_name(),
                    rules,
                })
            }
        };
        self.remembered.get(slot)?.rules.as_ref()
    }

    /// Keeps `entry` in place of the oldest once all places are taken; returns its place.
    fn remember(&mut self, entry: Remembered) -> usize {
        if self.remembered.len() < REMEMBERED {
            self.remembered.push(entry);
            return self.remembered.len() - 1;
        }
        let slot = self.oldest;
        if let Some(place) = self.remembered.get_mut(slot) {
            *place = entry;
        }
        self.oldest = (slot + 1) % REMEMBERED;
        slot
    }
}
