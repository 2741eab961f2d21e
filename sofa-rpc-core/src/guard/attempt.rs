//! Breakers per provider: each attempt asks its provider's breaker, and the cluster leaves out
//! the providers whose breaker refuses before the load balancer chooses.

use std::borrow::Cow;
use std::future::Future;
use std::sync::Arc;
use std::time::Instant;

use sofa_rpc_registry::ProviderInfo;

use super::breaker::{Breaker, Permit};
use super::state::{AttemptRules, BreakerState, Counters};
use super::Guard;
use crate::error::{ErrorKind, Result, RpcError};
use crate::filter::Attempt;
use crate::invocation::Invocation;
use crate::response::Response;

impl Guard {
    /// The per-provider breakers for `invocation`, if any: one atomic load when there are none.
    pub(crate) fn attempt_rules(&self, invocation: &Invocation) -> Option<Arc<AttemptRules>> {
        if !self.is_active(super::ATTEMPTS) {
            return None;
        }
        let current = self.shared.current.load();
        current
            .attempts
            .get(invocation.service(), invocation.method())
            .cloned()
    }

    /// Leaves out of `candidates` the providers whose breaker refuses calls now, unless that
    /// leaves none: then they stay, and each attempt is refused with `CLIENT_CIRCUIT_OPEN`,
    /// which the call can degrade.
    pub(crate) fn skip_open(
        &self,
        invocation: &Invocation,
        candidates: &mut Cow<'_, [Arc<ProviderInfo>]>,
    ) {
        let Some(rules) = self.attempt_rules(invocation) else {
            return;
        };
        if !rules.breakers.iter().any(|rule| rule.any_tripped()) {
            return;
        }
        let now = self.now();
        let refusing = |p: &Arc<ProviderInfo>| {
            rules.breakers.iter().any(|rule| {
                rule.intercepts()
                    && rule
                        .existing(p.address())
                        .is_some_and(|b| b.is_refusing(now))
            })
        };
        // Copied only when a breaker leaves some out (and not all: then none is left out).
        if !candidates.iter().any(refusing) || candidates.iter().all(refusing) {
            return;
        }
        candidates.to_mut().retain(|p| !refusing(p));
    }

    /// Makes `attempt` through the breakers of `rules`, with `send` making it.
    pub(crate) async fn guarded_attempt<F, Fut>(
        &self,
        rules: Arc<AttemptRules>,
        attempt: Attempt,
        send: F,
    ) -> Result<Response>
    where
        F: FnOnce(Attempt) -> Fut,
        Fut: Future<Output = Result<Response>>,
    {
        let provider = attempt.provider.clone();
        let invocation = attempt.invocation.clone();
        let now = self.now();
        let mut permits: Vec<(&Arc<BreakerState>, Arc<Breaker>, Permit)> =
            Vec::with_capacity(rules.breakers.len());
        for rule in &rules.breakers {
            let breaker = rule.of_provider(provider.address());
            let (permit, change) = breaker.permit(now);
            rule.provider_changed(change);
            self.breaker_changed(&rule.rule.id, &invocation, Some(&provider), change);
            if permit == Permit::Refused {
                if rule.intercepts() {
                    Counters::add(&rule.counters.refused);
                    self.triggered(&rule.rule.id, "circuit_breaker", &invocation, false);
                    return Err(RpcError::new(
                        ErrorKind::ClientCircuitOpen,
                        format!(
                            "{}: circuit breaker {} of provider {} is open",
                            invocation.service(),
                            rule.rule.id,
                            provider.address()
                        ),
                    ));
                }
                Counters::add(&rule.counters.monitored);
                self.triggered(&rule.rule.id, "circuit_breaker", &invocation, true);
            }
            permits.push((rule, breaker, permit));
        }
        let start = Instant::now();
        let outcome = send(attempt).await;
        for (rule, breaker, permit) in permits {
            let change = self.record(&breaker, permit, start, &outcome);
            rule.provider_changed(change);
            self.breaker_changed(&rule.rule.id, &invocation, Some(&provider), change);
        }
        outcome
    }
}
