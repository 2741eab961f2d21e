//! Automatic fault isolation, as SOFARPC's fault tolerance module does it: a provider whose
//! timeouts and busy answers stand out from its service's in a time window has its weight
//! degraded, so the load balancer sends it little; it recovers window by window once healthy.
//!
//! Configured with [`FaultToleranceConfig`] on the consumer (off by default, as in SOFARPC).
//! Every attempt's outcome is counted per service and provider; each window's end judges them
//! (see [`FaultToleranceConfig`] for the rule). Degrading and recovering are log lines and
//! [`ProviderDegraded`] / [`ProviderRecovered`] events.

mod config;
mod judge;

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, Weak};

use sofa_rpc_registry::ProviderInfo;

pub use config::FaultToleranceConfig;

use crate::error::ErrorKind;
use crate::event::{EventBus, ProviderDegraded, ProviderRecovered};
use crate::service_id::ServiceId;

/// One consumer's fault isolation: counts attempts, judges windows, degrades weights.
pub struct FaultIsolation {
    config: FaultToleranceConfig,
    events: EventBus,
    state: Mutex<State>,
    /// Whether any provider is degraded: what every selection reads first.
    any_degraded: AtomicBool,
    /// Whether the window timer runs.
    ticking: AtomicBool,
}

/// (service unique name, provider address).
type Key = (String, String);

#[derive(Default)]
struct State {
    /// This window's counts.
    window: HashMap<Key, Counts>,
    /// Providers whose weight is degraded now.
    degraded: HashMap<Key, Degraded>,
}

struct Counts {
    service: ServiceId,
    provider: Arc<ProviderInfo>,
    calls: u64,
    exceptions: u64,
}

/// A degraded provider: a copy with the lowered weight, kept (not rebuilt per call) so that
/// balancers keep their state for the list.
struct Degraded {
    service: ServiceId,
    original: u32,
    provider: Arc<ProviderInfo>,
}

impl Degraded {
    fn weight(&self) -> u32 {
        self.provider.weight()
    }
}

impl FaultIsolation {
    /// Fault isolation with `config`, publishing on `events`.
    pub fn new(config: FaultToleranceConfig, events: EventBus) -> Self {
        FaultIsolation {
            config,
            events,
            state: Mutex::new(State::default()),
            any_degraded: AtomicBool::new(false),
            ticking: AtomicBool::new(false),
        }
    }

    /// The settings.
    pub fn config(&self) -> &FaultToleranceConfig {
        &self.config
    }

    /// Counts one attempt of a call of `service` at `provider`, failed with `error` (or not).
    /// Starts the window timer on first use (it stops when this is dropped).
    pub fn record(
        self: &Arc<Self>,
        service: &ServiceId,
        provider: &Arc<ProviderInfo>,
        error: Option<ErrorKind>,
    ) {
        if !self.ticking.swap(true, Ordering::AcqRel) {
            spawn_windows(Arc::downgrade(self), self.config.window);
        }
        let exception = matches!(
            error,
            Some(ErrorKind::ClientTimeout | ErrorKind::ServerBusy)
        );
        let mut state = self.lock();
        let key = (
            service.unique_name().to_string(),
            provider.address().to_string(),
        );
        let counts = state.window.entry(key).or_insert_with(|| Counts {
            service: service.clone(),
            provider: provider.clone(),
            calls: 0,
            exceptions: 0,
        });
        counts.calls += 1;
        counts.exceptions += u64::from(exception);
    }

    /// Swaps degraded providers of `service` in `candidates` for their copies with the lowered
    /// weight. One atomic load when none is degraded.
    pub fn apply(&self, service: &ServiceId, candidates: &mut [Arc<ProviderInfo>]) {
        if !self.any_degraded.load(Ordering::Acquire) {
            return;
        }
        let state = self.lock();
        for candidate in candidates.iter_mut() {
            let key = (
                service.unique_name().to_string(),
                candidate.address().to_string(),
            );
            if let Some(degraded) = state.degraded.get(&key) {
                *candidate = degraded.provider.clone();
            }
        }
    }

    /// Whether any provider is degraded now: when none is, [`apply`](Self::apply) changes
    /// nothing, and a call need not copy its candidates to let it.
    pub(crate) fn degrades_any(&self) -> bool {
        self.any_degraded.load(Ordering::Acquire)
    }

    /// The degraded weight of `addr` for `service`, if it is degraded.
    pub fn degraded_weight(&self, service: &ServiceId, addr: &str) -> Option<u32> {
        let key = (service.unique_name().to_string(), addr.to_string());
        self.lock().degraded.get(&key).map(Degraded::weight)
    }

    /// Ends the current window now: judges every provider counted in it, degrades and recovers
    /// weights. The window timer calls it every [`window`](FaultToleranceConfig::window); it
    /// is public so that an operator (or a test) can close a window at will.
    pub fn close_window(&self) {
        let mut state = self.lock();
        let window = std::mem::take(&mut state.window);
        let changes = judge::judge(&self.config, window, &state.degraded);
        for change in changes {
            self.apply_change(&mut state, change);
        }
        self.any_degraded
            .store(!state.degraded.is_empty(), Ordering::Release);
    }

    fn apply_change(&self, state: &mut State, change: judge::Change) {
        let key = (
            change.service.unique_name().to_string(),
            change.provider.address().to_string(),
        );
        let original = state
            .degraded
            .get(&key)
            .map_or(change.provider.weight(), |d| d.original);
        let weight = change.weight;
        if weight >= original {
            state.degraded.remove(&key);
        } else {
            let provider = Arc::new(
                (*change.provider)
                    .clone()
                    .with_param("weight", weight.to_string()),
            );
            state.degraded.insert(
                key,
                Degraded {
                    service: change.service.clone(),
                    original,
                    provider,
                },
            );
        }
        let (service, provider) = (change.service, change.provider);
        if change.degrade {
            tracing::warn!(%service, provider = %provider.address(), weight, original, "provider abnormal: weight degraded");
            self.events.publish_with(|| ProviderDegraded {
                service,
                provider,
                weight,
                original,
            });
        } else {
            tracing::info!(%service, provider = %provider.address(), weight, original, "provider healthy: weight recovering");
            self.events.publish_with(|| ProviderRecovered {
                service,
                provider,
                weight,
                original,
            });
        }
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }
}

impl std::fmt::Debug for FaultIsolation {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let state = self.lock();
        let degraded: Vec<String> = state
            .degraded
            .values()
            .map(|d| format!("{} {}: {}", d.service, d.provider.address(), d.weight()))
            .collect();
        f.debug_struct("FaultIsolation")
            .field("config", &self.config)
            .field("degraded", &degraded)
            .finish()
    }
}

/// Closes a window every `period` until the isolation is dropped.
fn spawn_windows(isolation: Weak<FaultIsolation>, period: std::time::Duration) {
    tokio::spawn(async move {
        let mut tick = tokio::time::interval_at(tokio::time::Instant::now() + period, period);
        loop {
            tick.tick().await;
            match isolation.upgrade() {
                Some(isolation) => isolation.close_window(),
                None => return,
            }
        }
    });
}
