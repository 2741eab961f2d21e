//! [`FaultToleranceConfig`]: SOFARPC's automatic fault isolation settings, with its defaults.

use std::time::Duration;

/// When a provider counts as abnormal and how its weight degrades and recovers; SOFARPC's
/// `FaultToleranceConfig` with the same defaults. Off unless [`enabled`](Self::enabled).
///
/// At the end of each window, for each service, the providers that took at least
/// `least_window_count` calls are compared: the service's exception rate is their exceptions
/// over their calls; a provider whose own rate is at least `exception_rate_multiple` times that
/// is abnormal and its weight drops to `weight * weight_degrade_rate` (at least
/// `degrade_least_weight`), at most `degrade_max_ip_count` providers of a service at a time.
/// A degraded provider that is not abnormal in a window gets its weight back
/// `weight_recover_rate` times at a time, up to its registered weight; one that took too few
/// calls to be judged recovers only if none of them failed (a low weight brings few calls,
/// and it must not stay degraded for want of them). Only timeouts and
/// server-busy answers count as exceptions; providers still warming up are left alone.
///
/// As in SOFARPC, a provider's rate can be at most N times the service's when N providers
/// take calls, so with the default multiple of 6 a service needs at least 7 providers for any
/// to be found abnormal; lower the multiple for smaller fleets.
///
/// ```
/// use std::time::Duration;
/// use sofa_rpc_core::fault::FaultToleranceConfig;
///
/// let config = FaultToleranceConfig {
///     enabled: true,
///     exception_rate_multiple: 2.0,
///     ..FaultToleranceConfig::default()
/// };
/// assert_eq!(config.window, Duration::from_secs(10));
/// ```
#[derive(Clone, Debug, PartialEq)]
pub struct FaultToleranceConfig {
    /// Whether providers are isolated at all (`degradeEffective`). Default `false`.
    pub enabled: bool,
    /// The length of a window (`timeWindow`). Default 10 s.
    pub window: Duration,
    /// Calls a provider must take in a window to be judged (`leastWindowCount`). Default 10.
    pub least_window_count: u64,
    /// How many times the service's exception rate makes a provider abnormal
    /// (`leastWindowExceptionRateMultiple`). Default 6.
    pub exception_rate_multiple: f64,
    /// The weight of an abnormal provider is multiplied by this (`weightDegradeRate`).
    /// Default 0.05.
    pub weight_degrade_rate: f64,
    /// The weight of a recovering provider is multiplied by this each healthy window
    /// (`weightRecoverRate`). Default 2.
    pub weight_recover_rate: f64,
    /// The lowest weight degrading leaves (`degradeLeastWeight`). Default 1.
    pub degrade_least_weight: u32,
    /// The most providers of one service degraded at once (`degradeMaxIpCount`). Default 2.
    pub degrade_max_ip_count: usize,
}

impl Default for FaultToleranceConfig {
    fn default() -> Self {
        FaultToleranceConfig {
            enabled: false,
            window: Duration::from_secs(10),
            least_window_count: 10,
            exception_rate_multiple: 6.0,
            weight_degrade_rate: 0.05,
            weight_recover_rate: 2.0,
            degrade_least_weight: 1,
            degrade_max_ip_count: 2,
        }
    }
}
