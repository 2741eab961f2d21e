//! Judging one window: which providers are abnormal, and the weight each degraded or
//! recovering provider gets next.

use std::collections::HashMap;
use std::sync::Arc;

use sofa_rpc_registry::ProviderInfo;

use super::{Counts, Degraded, FaultToleranceConfig, Key};
use crate::service_id::ServiceId;

/// A provider's next weight.
pub(super) struct Change {
    pub(super) service: ServiceId,
    pub(super) provider: Arc<ProviderInfo>,
    pub(super) weight: u32,
    /// Degraded (rather than recovering).
    pub(super) degrade: bool,
}

/// The weight changes one window calls for.
pub(super) fn judge(
    config: &FaultToleranceConfig,
    window: HashMap<Key, Counts>,
    degraded: &HashMap<Key, Degraded>,
) -> Vec<Change> {
    let mut by_service: HashMap<String, Vec<(Key, Counts)>> = HashMap::new();
    // Too few calls to judge, but some failed: no evidence of health either.
    let mut doubtful: Vec<Key> = Vec::new();
    for (key, counts) in window {
        if counts.calls < config.least_window_count && counts.exceptions > 0 {
            doubtful.push(key.clone());
        }
        by_service
            .entry(key.0.clone())
            .or_default()
            .push((key, counts));
    }
    let mut changes = Vec::new();
    let mut abnormal_keys = Vec::new();
    for (service, mut providers) in by_service {
        // The busiest first, so the cap on degraded providers picks deterministically.
        providers.sort_by(|a, b| b.1.calls.cmp(&a.1.calls).then(a.0.cmp(&b.0)));
        let judged: Vec<&(Key, Counts)> = providers
            .iter()
            .filter(|(_, c)| c.calls >= config.least_window_count)
            // Warming up: its weight is not its own yet.
            .filter(|(_, c)| c.provider.effective_weight() == c.provider.weight())
            .collect();
        let calls: u64 = judged.iter().map(|(_, c)| c.calls).sum();
        let exceptions: u64 = judged.iter().map(|(_, c)| c.exceptions).sum();
        if calls == 0 || exceptions == 0 {
            continue;
        }
        let average = exceptions as f64 / calls as f64;
        let mut degraded_now = degraded.keys().filter(|k| k.0 == service).count();
        for (key, counts) in judged {
            let rate = counts.exceptions as f64 / counts.calls as f64;
            if rate < average * config.exception_rate_multiple {
                continue;
            }
            let current = degraded.get(key);
            if current.is_none() {
                if degraded_now >= config.degrade_max_ip_count {
                    continue;
                }
                degraded_now += 1;
            }
            let weight = current.map_or(counts.provider.weight(), Degraded::weight);
            let lowered = (f64::from(weight) * config.weight_degrade_rate) as u32;
            changes.push(Change {
                service: counts.service.clone(),
                provider: current.map_or_else(|| counts.provider.clone(), |d| d.provider.clone()),
                weight: lowered.max(config.degrade_least_weight),
                degrade: true,
            });
            abnormal_keys.push(key.clone());
        }
    }
    // Degraded providers not found abnormal this window take a step back up: judged healthy,
    // or too few calls to judge (which a low weight makes likely) none of which failed. One
    // whose few calls did fail keeps its weight.
    for (key, current) in degraded {
        if abnormal_keys.contains(key) || doubtful.contains(key) {
            continue;
        }
        let raised = (f64::from(current.weight()) * config.weight_recover_rate).ceil() as u32;
        changes.push(Change {
            service: current.service.clone(),
            provider: current.provider.clone(),
            weight: raised
                .max(current.weight().saturating_add(1))
                .min(current.original),
            degrade: false,
        });
    }
    changes
}

#[cfg(test)]
mod tests {
    use super::*;

    fn window(rates: &[(u16, u64, u64)]) -> HashMap<Key, Counts> {
        let service = ServiceId::parse("s:1.0");
        rates
            .iter()
            .map(|&(port, calls, exceptions)| {
                let provider = Arc::new(ProviderInfo::bolt("10.0.0.1", port));
                let key = (
                    service.unique_name().to_string(),
                    provider.address().to_string(),
                );
                let counts = Counts {
                    service: service.clone(),
                    provider,
                    calls,
                    exceptions,
                };
                (key, counts)
            })
            .collect()
    }

    #[test]
    fn at_most_degrade_max_ip_count_providers_are_degraded_and_the_quiet_are_not_judged() {
        let config = FaultToleranceConfig {
            enabled: true,
            exception_rate_multiple: 1.5,
            ..FaultToleranceConfig::default()
        };
        // Ten providers: three failing half their calls, one failing but with too few calls.
        let mut rates = vec![(1, 100, 50), (2, 90, 45), (3, 80, 40), (4, 5, 5)];
        rates.extend((5..11).map(|port| (port, 100, 0)));
        let changes = judge(&config, window(&rates), &HashMap::new());
        let degraded: Vec<u16> = changes.iter().map(|c| c.provider.port()).collect();
        // The busiest two of the three abnormal ones; the quiet one is not judged.
        assert_eq!(degraded, [1, 2]);
        assert!(changes.iter().all(|c| c.degrade && c.weight == 5));
    }
}
