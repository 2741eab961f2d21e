//! The traffic guard: rate limits, circuit breakers, degradation and fault injection, driven
//! by rules that can be replaced while calls run.
//!
//! A [`Guard`] holds a [`GuardRules`] set and the live state behind it (limiters, breaker
//! windows, counters). Hand it to a consumer ([`ConsumerConfig::guard`](crate::ConsumerConfig::guard))
//! and to a server ([`ServerBuilder::guard`](crate::ServerBuilder::guard)); push new rules with
//! [`Guard::replace`], typically from a configuration center's callback with the bytes
//! it received ([`GuardRules::parse`]).
//!
//! | rule | where | refusal |
//! |---|---|---|
//! | `rate_limit`, consumer side | once per call, before the cluster | `CLIENT_RATE_LIMITED` (270), not retried |
//! | `rate_limit`, provider side (per caller `app` too) | before the method | Bolt status `SERVER_THREADPOOL_BUSY`: every SOFA consumer fails over |
//! | `circuit_breaker`, scope `method` | around the whole call | `CLIENT_CIRCUIT_OPEN` (271) |
//! | `circuit_breaker`, scope `provider` | around each attempt | the provider leaves the candidates; with none left, `CLIENT_CIRCUIT_OPEN` |
//! | `degrade` | a consumer-side refusal | the empty value, a fixed JSON value, or an error |
//! | `fault` | once per call, before the cluster | a delay, or an error of the kind named |
//!
//! Every rule but `degrade` and `fault` has a `mode`: `intercept` refuses, `monitor` counts
//! and publishes ([`GuardTriggered`](crate::event::GuardTriggered) with `monitored`) what it
//! would have refused and lets it through. Breakers publish their changes of state
//! ([`BreakerStateChanged`](crate::event::BreakerStateChanged)) and log them.
//!
//! ```
//! use sofa_rpc_core::guard::{Guard, GuardRules};
//!
//! let rules = GuardRules::from_toml(r#"
//!     [[rate_limit]]
//!     id = "echo-100"
//!     service = "com.example.EchoService"
//!     method = "echo"
//!     token_bucket = { rate = 100.0, burst = 10 }
//!
//!     [[degrade]]
//!     id = "echo-fallback"
//!     service = "com.example.EchoService"
//!     method = "echo"
//!     action = "fixed"
//!     value = "busy, try later"
//! "#)?;
//! let guard = Guard::new();
//! guard.replace(rules)?;
//! assert_eq!(guard.stats("echo-100").map(|s| s.passed), Some(0));
//!
//! // Bad rules are refused whole, naming the rule and the field.
//! let bad = GuardRules::from_json(r#"{"rate_limit": [
//!     {"id": "x", "service": "s", "token_bucket": {"rate": 10, "burst": 0}}
//! ]}"#).unwrap_err();
//! assert_eq!((bad.rule.as_str(), bad.field.as_str()), ("rate_limit[0] \"x\"", "token_bucket.burst"));
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

mod attempt;
mod breaker;
mod cache;
mod call;
mod empty;
mod error;
mod fallback;
mod index;
mod limiter;
mod parse;
mod provider;
mod read;
mod rules;
mod state;

use std::fmt;
use std::sync::atomic::{AtomicU8, Ordering};
use std::sync::Arc;
use std::time::Duration;

use arc_swap::ArcSwap;
use sofa_rpc_registry::config::{ConfigTarget, LiveOptions, LiveRules};

pub use error::RuleError;
pub use parse::Format;
pub use rules::{
    BreakerRule, BreakerScope, DegradeAction, DegradeRule, FaultAbort, FaultDelay, FaultRule,
    GuardRules, Limiter, Mode, RateLimitRule, Side,
};

pub(crate) use cache::RulesCache;
pub(crate) use call::Quick;

use crate::event::{BreakerState, EventBus};
use state::Compiled;

/// Rules on the consumer's call path.
const CONSUMER: u8 = 1;
/// Rules on the consumer's attempts (breakers per provider).
const ATTEMPTS: u8 = 2;
/// Rules on the provider.
const PROVIDER: u8 = 4;

/// The traffic guard of a consumer, a server, or several: its current rules and their live
/// state. Cheap to clone; clones share everything.
#[derive(Clone)]
pub struct Guard {
    shared: Arc<Shared>,
}

struct Shared {
    /// Which paths have rules ([`CONSUMER`], [`ATTEMPTS`], [`PROVIDER`]): the one atomic load
    /// a call pays when its path has none.
    active: AtomicU8,
    /// The rules and their state, replaced whole.
    current: Arc<ArcSwap<Compiled>>,
    /// Serializes replacements, so that each takes over the state of the one before.
    replacing: std::sync::Mutex<()>,
    /// The clock limiters and breakers read: the TSC where it is reliable.
    clock: quanta::Clock,
    /// `clock`'s reading when the guard was made: the guard's clock starts there.
    origin_raw: u64,
    events: EventBus,
}

/// What one rule has done since it was added (unchanged replacements keep counting).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct RuleStats {
    /// Calls it let through (rate limits).
    pub passed: u64,
    /// Calls it refused.
    pub refused: u64,
    /// Calls it would have refused, in monitor mode.
    pub monitored: u64,
    /// Calls it injected a fault into (fault rules).
    pub injected: u64,
    /// The guard's clock when these were read (see [`Guard::clock`]).
    pub at: Duration,
}

impl Guard {
    /// A guard with no rules, publishing on a bus of its own.
    pub fn new() -> Self {
        Self::with_events(EventBus::new())
    }

    /// A guard with no rules, publishing its events on `events`.
    pub fn with_events(events: EventBus) -> Self {
        let clock = quanta::Clock::new();
        Guard {
            shared: Arc::new(Shared {
                active: AtomicU8::new(0),
                current: Arc::new(ArcSwap::from_pointee(Compiled::new(
                    GuardRules::default(),
                    None,
                ))),
                replacing: std::sync::Mutex::new(()),
                origin_raw: clock.raw(),
                clock,
                events,
            }),
        }
    }

    /// Validates `rules` and makes them the current ones, for calls already under way and new
    /// ones alike. Rules that did not change (same id, same settings) keep their state:
    /// limiter, breaker window, counters. Invalid rules change nothing.
    pub fn replace(&self, rules: GuardRules) -> Result<(), RuleError> {
        rules.validate()?;
        let _one_at_a_time = self
            .shared
            .replacing
            .lock()
            .unwrap_or_else(|e| e.into_inner());
        let old = self.shared.current.load_full();
        let count = rules.rate_limit.len()
            + rules.circuit_breaker.len()
            + rules.degrade.len()
            + rules.fault.len();
        let compiled = Compiled::new(rules, Some(&old));
        let active = [
            (CONSUMER, compiled.consumer.is_empty()),
            (ATTEMPTS, compiled.attempts.is_empty()),
            (PROVIDER, compiled.provider.is_empty()),
        ]
        .iter()
        .fold(
            0,
            |bits, (bit, empty)| if *empty { bits } else { bits | bit },
        );
        self.shared.current.store(Arc::new(compiled));
        self.shared.active.store(active, Ordering::Release);
        tracing::info!(rules = count, "guard rules replaced");
        Ok(())
    }

    /// Parses `bytes` in `format` and [replaces](Self::replace) the rules with them: what a
    /// configuration source's callback calls.
    pub fn replace_from(&self, bytes: &[u8], format: Format) -> Result<(), RuleError> {
        self.replace(GuardRules::parse(bytes, format)?)
    }

    /// Keeps the rules in step with a key of a [config source](crate::config): each valid
    /// rule set stored there (JSON or TOML, told by the key's suffix or the text) replaces
    /// the rules as it arrives; a malformed or contradictory one is rejected whole, logged
    /// with the rule and field it is about (and shown by [`LiveRules::last_error`]), and the
    /// rules in force stay. With a cache directory in `options`, the last good set is kept on
    /// disk and used when the source cannot be reached at start. The source going down or
    /// coming back, and each value applied or rejected, are published on the guard's bus
    /// ([`ConfigStatusChanged`](crate::event::ConfigStatusChanged)). Watching stops when the
    /// returned [`LiveRules`] is dropped.
    ///
    /// ```no_run
    /// use sofa_rpc_core::config::{open, LiveOptions};
    /// use sofa_rpc_core::guard::Guard;
    ///
    /// # async fn run() -> Result<(), Box<dyn std::error::Error>> {
    /// let guard = Guard::new();
    /// let target = open("zookeeper://127.0.0.1:2181/sofa/guard/orders.toml").await?;
    /// let live = guard
    ///     .follow(target, LiveOptions::new().cache_dir("/var/cache/sofa"))
    ///     .await;
    /// # drop(live);
    /// # Ok(())
    /// # }
    /// ```
    pub async fn follow(&self, target: ConfigTarget, options: LiveOptions) -> LiveRules {
        let guard = self.clone();
        let key = target.key.clone();
        let live = LiveRules::start(
            target,
            options,
            move |raw: &[u8]| GuardRules::parse(raw, Format::detect(&key, raw)),
            move |rules| {
                // Checked by the parser already: replacing cannot fail on these.
                if let Err(e) = guard.replace(rules) {
                    tracing::warn!(error = %e, "guard rules not applied");
                }
            },
        )
        .await;
        crate::event::publish_config_status(&live, &self.shared.events);
        live
    }

    /// The current rules.
    pub fn rules(&self) -> GuardRules {
        self.shared.current.load().rules.clone()
    }

    /// The bus the guard publishes on.
    pub fn events(&self) -> &EventBus {
        &self.shared.events
    }

    /// The guard's clock: time since it was made, as its limiters and breakers read it.
    pub fn clock(&self) -> Duration {
        Duration::from_nanos(self.now())
    }

    /// What the rule `id` has done, if the current rules have it.
    pub fn stats(&self, id: &str) -> Option<RuleStats> {
        let current = self.shared.current.load();
        let counters = current.states.get(id)?.counters();
        let read = |c: &std::sync::atomic::AtomicU64| c.load(Ordering::Relaxed);
        Some(match counters {
            Some(c) => RuleStats {
                at: self.clock(),
                passed: read(&c.passed),
                refused: read(&c.refused),
                monitored: read(&c.monitored),
                injected: read(&c.injected),
            },
            None => RuleStats {
                at: self.clock(),
                ..RuleStats::default()
            },
        })
    }

    /// The state of the breaker of rule `id`: the rule's own (scope `method`), or with
    /// `provider` (an address), that provider's. `None` for no such rule or breaker.
    pub fn breaker_state(&self, id: &str, provider: Option<&str>) -> Option<BreakerState> {
        let current = self.shared.current.load();
        let state::RuleState::Breaker(rule) = current.states.get(id)? else {
            return None;
        };
        let now = self.now();
        match provider {
            None => Some(rule.single.state(now)),
            Some(addr) => rule.existing(addr).map(|b| b.state(now)),
        }
    }

    /// Whether any rule applies to consumer calls: one atomic load.
    #[inline]
    pub(crate) fn guards_calls(&self) -> bool {
        self.is_active(CONSUMER)
    }

    /// A view of the current rules for one consumer's calls.
    pub(crate) fn cache(&self) -> RulesCache {
        RulesCache::new(self.shared.current.clone())
    }

    /// Whether any rule applies on `path` ([`CONSUMER`], [`ATTEMPTS`], [`PROVIDER`]).
    #[inline]
    fn is_active(&self, path: u8) -> bool {
        self.shared.active.load(Ordering::Acquire) & path != 0
    }

    /// Nanoseconds on the guard's clock.
    fn now(&self) -> u64 {
        let shared = &self.shared;
        shared
            .clock
            .delta_as_nanos(shared.origin_raw, shared.clock.raw())
    }
}

impl Default for Guard {
    fn default() -> Self {
        Self::new()
    }
}

impl fmt::Debug for Guard {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let current = self.shared.current.load();
        f.debug_struct("Guard")
            .field("rules", &current.states.len())
            .finish()
    }
}
