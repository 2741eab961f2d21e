//! The live state behind each rule, and the index calls look their rules up in. Built anew on
//! every [`replace`](super::Guard::replace), reusing the state of rules that did not change.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use super::breaker::{Breaker, Change};
use super::fallback::Fallback;
use super::index::{index, Index};
use super::limiter::RateLimiter;
use super::rules::{BreakerRule, BreakerScope, FaultRule, GuardRules, Mode, RateLimitRule, Side};

/// What a rule has done so far.
#[derive(Debug, Default)]
pub(crate) struct Counters {
    pub(crate) passed: AtomicU64,
    pub(crate) refused: AtomicU64,
    pub(crate) monitored: AtomicU64,
    pub(crate) injected: AtomicU64,
}

impl Counters {
    pub(crate) fn add(counter: &AtomicU64) {
        counter.fetch_add(1, Ordering::Relaxed);
    }
}

/// A rate limit rule and its limiter.
#[derive(Debug)]
pub(crate) struct LimitState {
    pub(crate) rule: RateLimitRule,
    pub(crate) limiter: RateLimiter,
    pub(crate) counters: Counters,
}

/// A breaker rule: one breaker, or one per provider address.
#[derive(Debug)]
pub(crate) struct BreakerState {
    pub(crate) rule: BreakerRule,
    pub(crate) single: Breaker,
    pub(crate) per_provider: Mutex<HashMap<String, Arc<Breaker>>>,
    /// How many of `per_provider` are not closed: while none is, the cluster need not ask
    /// each candidate's breaker (and take the map's lock) before choosing.
    tripped: AtomicUsize,
    pub(crate) counters: Counters,
}

impl BreakerState {
    /// The breaker of the provider at `addr`, made on first use.
    pub(crate) fn of_provider(&self, addr: &str) -> Arc<Breaker> {
        let mut map = self.per_provider.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(breaker) = map.get(addr) {
            return breaker.clone();
        }
        let breaker = Arc::new(Breaker::new(&self.rule));
        map.insert(addr.to_string(), breaker.clone());
        breaker
    }

    /// The breaker of `addr` if it exists yet.
    pub(crate) fn existing(&self, addr: &str) -> Option<Arc<Breaker>> {
        let map = self.per_provider.lock().unwrap_or_else(|e| e.into_inner());
        map.get(addr).cloned()
    }

    /// Notes a change of state of one of its per-provider breakers.
    pub(crate) fn provider_changed(&self, change: Option<Change>) {
        use crate::event::BreakerState::Closed;
        match change {
            Some((Closed, to)) if to != Closed => {
                self.tripped.fetch_add(1, Ordering::AcqRel);
            }
            Some((from, Closed)) if from != Closed => {
                self.tripped.fetch_sub(1, Ordering::AcqRel);
            }
            _ => {}
        }
    }

    /// Whether any of its per-provider breakers is open or half-open: one atomic load.
    pub(crate) fn any_tripped(&self) -> bool {
        self.tripped.load(Ordering::Acquire) > 0
    }

    pub(crate) fn intercepts(&self) -> bool {
        self.rule.mode == Mode::Intercept
    }
}

/// A fault rule.
#[derive(Debug)]
pub(crate) struct FaultState {
    pub(crate) rule: FaultRule,
    pub(crate) counters: Counters,
}

/// The state of one rule, by kind.
#[derive(Clone, Debug)]
pub(crate) enum RuleState {
    Limit(Arc<LimitState>),
    Breaker(Arc<BreakerState>),
    Degrade(Arc<Fallback>, super::rules::DegradeRule),
    Fault(Arc<FaultState>),
}

impl RuleState {
    pub(crate) fn counters(&self) -> Option<&Counters> {
        match self {
            RuleState::Limit(s) => Some(&s.counters),
            RuleState::Breaker(s) => Some(&s.counters),
            RuleState::Fault(s) => Some(&s.counters),
            RuleState::Degrade(..) => None,
        }
    }
}

/// The consumer's rules for one method (service-wide rules merged in).
#[derive(Debug, Default)]
pub(crate) struct CallRules {
    pub(crate) limits: Vec<Arc<LimitState>>,
    pub(crate) breaker: Option<Arc<BreakerState>>,
    pub(crate) fallback: Option<Arc<Fallback>>,
    pub(crate) fault: Option<Arc<FaultState>>,
}

/// The provider's rate limits for one method (service-wide ones merged in).
#[derive(Debug, Default)]
pub(crate) struct ProviderRules {
    pub(crate) limits: Vec<Arc<LimitState>>,
}

/// The per-provider breakers for one method (service-wide ones merged in).
#[derive(Debug, Default)]
pub(crate) struct AttemptRules {
    pub(crate) breakers: Vec<Arc<BreakerState>>,
}

/// One rule set, compiled: what a call reads.
#[derive(Debug)]
pub(crate) struct Compiled {
    pub(crate) rules: GuardRules,
    pub(crate) states: HashMap<String, RuleState>,
    pub(crate) consumer: Index<CallRules>,
    pub(crate) provider: Index<ProviderRules>,
    pub(crate) attempts: Index<AttemptRules>,
}

impl Compiled {
    /// Compiles `rules` (already validated), taking over the state of the rules of `old` that
    /// are unchanged (same id, same settings).
    pub(crate) fn new(rules: GuardRules, old: Option<&Compiled>) -> Self {
        let mut states = HashMap::new();
        let keep = |id: &str| old.and_then(|o| o.states.get(id));
        let mut call_items = Vec::new();
        let mut provider_items = Vec::new();
        let mut attempt_items = Vec::new();
        for rule in &rules.rate_limit {
            let state = match keep(&rule.id) {
                Some(RuleState::Limit(s)) if s.rule == *rule => s.clone(),
                _ => Arc::new(LimitState {
                    rule: rule.clone(),
                    limiter: RateLimiter::new(&rule.limiter),
                    counters: Counters::default(),
                }),
            };
            let item = (
                rule.service.clone(),
                rule.method.clone(),
                RuleState::Limit(state.clone()),
            );
            match rule.side {
                Side::Consumer => call_items.push(item),
                Side::Provider => provider_items.push(item),
            }
            states.insert(rule.id.clone(), RuleState::Limit(state));
        }
        for rule in &rules.circuit_breaker {
            let state = match keep(&rule.id) {
                Some(RuleState::Breaker(s)) if s.rule == *rule => s.clone(),
                _ => Arc::new(BreakerState {
                    rule: rule.clone(),
                    single: Breaker::new(rule),
                    per_provider: Mutex::default(),
                    tripped: AtomicUsize::new(0),
                    counters: Counters::default(),
                }),
            };
            let item = (
                rule.service.clone(),
                rule.method.clone(),
                RuleState::Breaker(state.clone()),
            );
            match rule.scope {
                BreakerScope::Method => call_items.push(item),
                BreakerScope::Provider => attempt_items.push(item),
            }
            states.insert(rule.id.clone(), RuleState::Breaker(state));
        }
        for rule in &rules.degrade {
            let state = match keep(&rule.id) {
                Some(RuleState::Degrade(s, r)) if r == rule => s.clone(),
                _ => Arc::new(Fallback::new(rule)),
            };
            let kept = RuleState::Degrade(state, rule.clone());
            call_items.push((rule.service.clone(), rule.method.clone(), kept.clone()));
            states.insert(rule.id.clone(), kept);
        }
        for rule in &rules.fault {
            let state = match keep(&rule.id) {
                Some(RuleState::Fault(s)) if s.rule == *rule => s.clone(),
                _ => Arc::new(FaultState {
                    rule: rule.clone(),
                    counters: Counters::default(),
                }),
            };
            call_items.push((
                rule.service.clone(),
                rule.method.clone(),
                RuleState::Fault(state.clone()),
            ));
            states.insert(rule.id.clone(), RuleState::Fault(state));
        }
        let consumer = index(call_items, |rules: &mut CallRules, item| match item {
            RuleState::Limit(s) => rules.limits.push(s.clone()),
            RuleState::Breaker(s) => {
                rules.breaker.get_or_insert_with(|| s.clone());
            }
            RuleState::Degrade(s, _) => {
                rules.fallback.get_or_insert_with(|| s.clone());
            }
            RuleState::Fault(s) => {
                rules.fault.get_or_insert_with(|| s.clone());
            }
        });
        let provider = index(provider_items, |rules: &mut ProviderRules, item| {
            if let RuleState::Limit(s) = item {
                rules.limits.push(s.clone());
            }
        });
        let attempts = index(attempt_items, |rules: &mut AttemptRules, item| {
            if let RuleState::Breaker(s) = item {
                rules.breakers.push(s.clone());
            }
        });
        Compiled {
            rules,
            states,
            consumer,
            provider,
            attempts,
        }
    }
}
