//! The LoadBalancer extension point: which one provider gets a call.
//!
//! | name | type | chooses |
//! |---|---|---|
//! | `random` | [`Random`] | at random, by weight in effect (SOFARPC's default) |
//! | `roundRobin` | [`RoundRobin`] | each provider in turn, per method |
//! | `weightRoundRobin` | [`WeightRoundRobin`] | in turn by weight (smooth, as nginx) |
//! | `consistentHash` | [`ConsistentHash`] | by the first argument, on Java SOFARPC's ring |
//! | `weightConsistentHash` | [`WeightConsistentHash`] | the same, virtual nodes scaled by weight |
//! | `localPref` | [`LocalPref`] | a provider on this machine first, else `random` |
//! | `auto` | [`Auto`] | `random`, unless configured otherwise |
//! | `leastActive` | [`LeastActive`] | the fewest calls in flight (not in SOFARPC) |
//! | `adaptive` | [`Adaptive`] | two random, the lower peak-EWMA latency x load (not in SOFARPC) |
//!
//! Balancers keep what they derive from a provider list (weights, rings) until the list
//! changes, so a selection costs nanoseconds; `leastActive` and `adaptive` learn from the
//! attempts the cluster reports through [`LoadBalancer::on_attempt_start`] and
//! [`LoadBalancer::on_attempt_end`].

mod adaptive;
mod auto;
mod cache;
mod consistent_hash;
mod hash_key;
mod java_string;
mod least_active;
mod local_addr;
mod local_pref;
mod random;
mod ring;
pub(crate) mod rng;
mod round_robin;
mod stats;
mod tracked;
mod weight_consistent_hash;
mod weight_round_robin;
mod weights;

use std::sync::Arc;
use std::time::Duration;

use sofa_rpc_registry::ProviderInfo;

pub use adaptive::Adaptive;
pub use auto::Auto;
pub use consistent_hash::ConsistentHash;
pub use least_active::LeastActive;
pub use local_pref::LocalPref;
pub use random::Random;
pub use round_robin::RoundRobin;
pub use weight_consistent_hash::WeightConsistentHash;
pub use weight_round_robin::WeightRoundRobin;

use crate::invocation::Invocation;

/// Picks one provider among the candidates the routers left.
///
/// Registered by name (through a factory, so each consumer gets its own state) in an
/// [`ExtensionLoader`](crate::ExtensionLoader).
pub trait LoadBalancer: Send + Sync + 'static {
    /// The chosen provider; `None` only when `providers` is empty.
    fn select(
        &self,
        invocation: &Invocation,
        providers: &[Arc<ProviderInfo>],
    ) -> Option<Arc<ProviderInfo>>;

    /// An attempt is about to be sent to `provider` (the one [`select`](Self::select)
    /// chose). The cluster calls it once per attempt, retries included, and then
    /// [`on_attempt_end`](Self::on_attempt_end) exactly once for that attempt whatever
    /// happens to it. Balancers that weigh load count calls in flight from these two; the
    /// others need not implement them.
    fn on_attempt_start(&self, provider: &ProviderInfo) {
        let _ = provider;
    }

    /// Whether this balancer wants [`on_attempt_start`](Self::on_attempt_start) and
    /// [`on_attempt_end`](Self::on_attempt_end) calls. Default `false`: the cluster then
    /// neither calls them nor reads the clock for them.
    fn observes_attempts(&self) -> bool {
        false
    }

    /// The attempt on `provider` reported by [`on_attempt_start`](Self::on_attempt_start)
    /// ended after `elapsed` (from just before it was sent); `ok` is `false` when it failed
    /// for any reason, a timeout included (a business error returned by the service is a
    /// success here: the provider answered).
    fn on_attempt_end(&self, provider: &ProviderInfo, elapsed: Duration, ok: bool) {
        let _ = (provider, elapsed, ok);
    }
}
