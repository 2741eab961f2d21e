//! The rule types of the traffic guard: plain data, as a configuration center pushes them.

use serde::{Deserialize, Serialize};

/// Every rule of a [`Guard`](super::Guard), by kind. Read with [`GuardRules::from_json`],
/// [`GuardRules::from_toml`] or [`GuardRules::parse`] (or deserialize it in any serde format),
/// which validate the set as a whole.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct GuardRules {
    /// Rate limits.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub rate_limit: Vec<RateLimitRule>,
    /// Circuit breakers.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub circuit_breaker: Vec<BreakerRule>,
    /// What a refused call returns instead of an error.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub degrade: Vec<DegradeRule>,
    /// Faults injected for drills.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub fault: Vec<FaultRule>,
}

/// Which end of a call a rule guards.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Side {
    /// The consumer, before the call leaves: a refusal is `CLIENT_RATE_LIMITED`.
    #[default]
    Consumer,
    /// The provider, before the method runs: a refusal answers Bolt status
    /// `SERVER_THREADPOOL_BUSY`, which every SOFA consumer fails over on.
    Provider,
}

/// Whether a rule enforces or only watches.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Mode {
    /// Refuses what the rule refuses.
    #[default]
    Intercept,
    /// Counts and publishes what would have been refused, and lets it through: to try a rule
    /// on live traffic first.
    Monitor,
}

/// A rate limit on a service, or one method of it, optionally for one caller app.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct RateLimitRule {
    /// Names the rule in errors, events and [`stats`](super::Guard::stats); unique in a set.
    pub id: String,
    /// The service: its interface name, or its unique name (`interface:version[:uniqueId]`).
    pub service: String,
    /// The method; `None` limits the whole service at once.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub method: Option<String>,
    /// The caller app (request header `app`); provider side only.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub app: Option<String>,
    /// Which end enforces it. Default consumer.
    pub side: Side,
    /// Intercept (default) or monitor.
    pub mode: Mode,
    /// How calls are admitted (written as a `token_bucket` or `leaky_bucket` table).
    #[serde(flatten)]
    pub limiter: Limiter,
}

/// How a rate limit admits calls.
#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Limiter {
    /// Calls pass at `rate` a second on average, up to `burst` at once after a quiet time;
    /// a call without a token is refused at once.
    TokenBucket {
        /// Calls a second.
        rate: f64,
        /// Calls that may pass at once (at least 1).
        burst: u32,
    },
    /// Calls leave at a steady `rate` a second; a call waits for its turn, unless more than
    /// `queue` calls wait before it or its wait would exceed `max_wait_ms`.
    LeakyBucket {
        /// Calls a second.
        rate: f64,
        /// Calls that may wait.
        queue: u32,
        /// The longest a call waits, in milliseconds.
        max_wait_ms: u64,
    },
}

/// Which calls one circuit breaker watches.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum BreakerScope {
    /// One breaker for the method (or the service without `method`), around the whole call.
    #[default]
    Method,
    /// One breaker per provider, around each attempt: an open one takes the provider out of
    /// the candidates, so failover goes elsewhere.
    Provider,
}

/// A circuit breaker: a sliding window of `buckets` buckets of `bucket_ms` each; it opens
/// when the window holds at least `min_requests` calls and `error_rate` percent of them failed
/// (or `slow_rate` percent took longer than `slow_call_ms`), stays open `sleep_ms`, then lets
/// `probes` calls through half-open: it closes when they all succeed and reopens at the first
/// failure. Defaults as sofa-rpc-node's: 6 buckets of 10 s, 20 calls, 50 %, 5 s, 1 probe.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct BreakerRule {
    /// Names the rule; unique in a set.
    pub id: String,
    /// The service (interface or unique name).
    pub service: String,
    /// The method; `None` watches all the service's calls together.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub method: Option<String>,
    /// Per method (default) or per provider.
    pub scope: BreakerScope,
    /// Intercept (default) or monitor: a monitored breaker changes state and publishes it but
    /// refuses nothing.
    pub mode: Mode,
    /// Buckets in the window. Default 6.
    pub buckets: u32,
    /// The length of one bucket, in milliseconds. Default 10 000.
    pub bucket_ms: u64,
    /// Calls the window must hold before it may open. Default 20.
    pub min_requests: u64,
    /// Percent of failed calls that opens it. Default 50.
    pub error_rate: f64,
    /// A call slower than this counts as slow, in milliseconds.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub slow_call_ms: Option<u64>,
    /// Percent of slow calls that opens it (needs `slow_call_ms`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub slow_rate: Option<f64>,
    /// How long it stays open, in milliseconds. Default 5 000.
    pub sleep_ms: u64,
    /// Calls let through half-open. Default 1.
    pub probes: u32,
}

/// What a call of a service (or method) returns when the guard refuses it on the consumer
/// (a rate limit, an open breaker), instead of the refusal's error.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct DegradeRule {
    /// Names the rule; unique in a set.
    pub id: String,
    /// The service (interface or unique name).
    pub service: String,
    /// The method; `None` applies to every method without a rule of its own.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub method: Option<String>,
    /// What to return (`action = "empty" | "fixed" | "error"`, with its fields beside it).
    #[serde(flatten)]
    pub action: DegradeAction,
}

/// What a degraded call returns.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(tag = "action", rename_all = "snake_case")]
pub enum DegradeAction {
    /// The return type's empty value: `None`, zero, `false`, an empty string or collection, a
    /// struct of empty fields, an enum's first unit variant.
    Empty,
    /// This value, decoded into the method's return type as a JSON response would be.
    Fixed {
        /// The value (`value` in the rule).
        value: serde_json::Value,
    },
    /// This error instead of the refusal's.
    Error {
        /// The SOFARPC name of its kind, e.g. `SERVER_BUSY`.
        kind: String,
        /// Its message.
        message: String,
    },
}

/// Faults injected into a service's (or method's) calls on the consumer, for drills.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct FaultRule {
    /// Names the rule; unique in a set.
    pub id: String,
    /// The service (interface or unique name).
    pub service: String,
    /// The method; `None` applies to every method without a rule of its own.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub method: Option<String>,
    /// Delays some calls before they leave.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub delay: Option<FaultDelay>,
    /// Fails some calls without sending them.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub abort: Option<FaultAbort>,
}

/// A delay injected into a share of calls.
#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
pub struct FaultDelay {
    /// How long, in milliseconds.
    pub ms: u64,
    /// The share of calls delayed, 0 to 100.
    pub percent: f64,
}

/// A failure injected into a share of calls.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct FaultAbort {
    /// The SOFARPC name of the error kind, e.g. `CLIENT_TIMEOUT`.
    pub kind: String,
    /// The share of calls failed, 0 to 100.
    pub percent: f64,
}
