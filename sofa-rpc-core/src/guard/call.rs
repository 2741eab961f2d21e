//! The consumer's call path: fault injection, rate limits, the method's breaker, and the
//! fallback when the guard refuses.

use std::sync::Arc;
use std::time::{Duration, Instant};

use futures::future::BoxFuture;

use super::breaker::{Breaker, Permit};
use super::limiter::Admit;
use super::rules::Mode;
use super::state::{CallRules, Counters, LimitState};
use super::{Guard, RulesCache};
use crate::error::{ErrorKind, Result, RpcError};
use crate::event::{BreakerStateChanged, GuardTriggered};
use crate::headers;
use crate::invocation::Invocation;
use crate::loadbalance::rng;
use crate::response::Response;
use crate::serialize::ResponseBody;

/// A roll of the dice: `true` for `percent` of the calls.
pub(crate) fn roll(percent: f64) -> bool {
    percent >= 100.0 || (percent > 0.0 && (rng::below(1_000_000) as f64) < percent * 10_000.0)
}

/// What [`Guard::quick`] decided.
pub(crate) enum Quick {
    /// Admitted: make the call.
    Go,
    /// Admitted after this wait (a leaky bucket's queue).
    Wait(Duration),
    /// Refused, or answered by the guard.
    Done(Result<Response>),
    /// Needs [`Guard::guarded_call`] with these rules.
    Full(Arc<CallRules>),
}

/// The refusal of a consumer-side rate limit.
fn rate_limited(invocation: &Invocation, rule: &str) -> RpcError {
    RpcError::new(
        ErrorKind::ClientRateLimited,
        format!(
            "{}.{} refused by rate limit {rule}",
            invocation.service(),
            invocation.method()
        ),
    )
}

impl Guard {
    /// Decides what to do with `invocation` without a future of its own when it can: with no
    /// rules (one atomic load), or rate limits only that admit it at once or refuse it.
    /// Anything else is [`Quick::Full`].
    pub(crate) fn quick(&self, cache: &mut RulesCache, invocation: &Invocation) -> Quick {
        if !self.is_active(super::CONSUMER) {
            return Quick::Go;
        }
        let Some(rules) = cache.call_rules(invocation) else {
            return Quick::Go;
        };
        if rules.fault.is_some() || rules.breaker.is_some() || rules.fallback.is_some() {
            return Quick::Full(rules.clone());
        }
        match self.admit(&rules.limits, invocation, None) {
            Ok(wait) if wait.is_zero() => Quick::Go,
            Ok(wait) => Quick::Wait(wait),
            Err(limit) => Quick::Done(Err(rate_limited(invocation, &limit.rule.id))),
        }
    }

    /// Publishes that rule `id` refused a call (or would have, `monitored`).
    pub(crate) fn triggered(
        &self,
        id: &str,
        what: &'static str,
        invocation: &Invocation,
        monitored: bool,
    ) {
        self.shared.events.publish_with(|| GuardTriggered {
            rule: id.to_string(),
            what,
            service: invocation.service().clone(),
            method: invocation.method_name(),
            monitored,
        });
    }

    /// Logs and publishes a breaker's change of state.
    pub(crate) fn breaker_changed(
        &self,
        id: &str,
        invocation: &Invocation,
        provider: Option<&Arc<sofa_rpc_registry::ProviderInfo>>,
        change: Option<super::breaker::Change>,
    ) {
        let Some((from, to)) = change else { return };
        tracing::warn!(
            rule = id,
            service = %invocation.service(),
            method = invocation.method(),
            provider = provider.map(|p| p.address()),
            ?from,
            ?to,
            "circuit breaker changed state"
        );
        self.shared.events.publish_with(|| BreakerStateChanged {
            rule: id.to_string(),
            service: invocation.service().clone(),
            method: Some(invocation.method().to_string()),
            provider: provider.cloned(),
            from,
            to,
        });
    }

    /// Takes a place in every limit of `limits` at the guard's clock: the longest wait any of
    /// them asks, or the refusal of the first that refuses (in intercept mode).
    pub(crate) fn admit(
        &self,
        limits: &[Arc<LimitState>],
        invocation: &Invocation,
        app: Option<&str>,
    ) -> std::result::Result<Duration, Arc<LimitState>> {
        let now = self.now();
        let mut wait = Duration::ZERO;
        for limit in limits {
            if limit
                .rule
                .app
                .as_deref()
                .is_some_and(|want| app != Some(want))
            {
                continue;
            }
            match limit.limiter.admit(now) {
                Admit::Now => Counters::add(&limit.counters.passed),
                Admit::After(d) => {
                    Counters::add(&limit.counters.passed);
                    wait = wait.max(d);
                }
                Admit::Refused if limit.rule.mode == Mode::Monitor => {
                    Counters::add(&limit.counters.monitored);
                    self.triggered(&limit.rule.id, "rate_limit", invocation, true);
                }
                Admit::Refused => {
                    Counters::add(&limit.counters.refused);
                    self.triggered(&limit.rule.id, "rate_limit", invocation, false);
                    return Err(limit.clone());
                }
            }
        }
        Ok(wait)
    }

    /// Runs `invocation` under `rules`, with `next` (the cluster) making the call.
    pub(crate) fn guarded_call<F>(
        &self,
        rules: Arc<CallRules>,
        invocation: Invocation,
        next: F,
    ) -> BoxFuture<'static, Result<Response>>
    where
        F: FnOnce(Invocation) -> BoxFuture<'static, Result<Response>> + Send + 'static,
    {
        let guard = self.clone();
        Box::pin(async move { guard.run_call(&rules, invocation, next).await })
    }

    async fn run_call<F>(
        &self,
        rules: &CallRules,
        invocation: Invocation,
        next: F,
    ) -> Result<Response>
    where
        F: FnOnce(Invocation) -> BoxFuture<'static, Result<Response>> + Send + 'static,
    {
        if let Some(fault) = &rules.fault {
            let rule = &fault.rule;
            if let Some(delay) = rule.delay.filter(|d| roll(d.percent)) {
                Counters::add(&fault.counters.injected);
                self.triggered(&rule.id, "fault", &invocation, false);
                tokio::time::sleep(Duration::from_millis(delay.ms)).await;
            }
            if let Some(abort) = rule.abort.as_ref().filter(|a| roll(a.percent)) {
                Counters::add(&fault.counters.injected);
                self.triggered(&rule.id, "fault", &invocation, false);
                let kind = ErrorKind::from_name(&abort.kind).unwrap_or(ErrorKind::ClientUndeclared);
                return Err(RpcError::new(
                    kind,
                    format!("fault injected by guard rule {}", rule.id),
                ));
            }
        }
        match self.admit(&rules.limits, &invocation, None) {
            Ok(wait) if wait.is_zero() => {}
            Ok(wait) => tokio::time::sleep(wait).await,
            Err(limit) => {
                let refusal = rate_limited(&invocation, &limit.rule.id);
                return self.refuse(rules, &invocation, refusal);
            }
        }
        let Some(breaker) = &rules.breaker else {
            let outcome = next(invocation.clone()).await;
            return self.fall_back_if_open(rules, &invocation, outcome);
        };
        let (permit, change) = breaker.single.permit(self.now());
        self.breaker_changed(&breaker.rule.id, &invocation, None, change);
        if permit == Permit::Refused {
            if breaker.intercepts() {
                Counters::add(&breaker.counters.refused);
                self.triggered(&breaker.rule.id, "circuit_breaker", &invocation, false);
                let refusal = RpcError::new(
                    ErrorKind::ClientCircuitOpen,
                    format!(
                        "{}.{}: circuit breaker {} is open",
                        invocation.service(),
                        invocation.method(),
                        breaker.rule.id
                    ),
                );
                return self.refuse(rules, &invocation, refusal);
            }
            Counters::add(&breaker.counters.monitored);
            self.triggered(&breaker.rule.id, "circuit_breaker", &invocation, true);
        }
        let start = Instant::now();
        let outcome = next(invocation.clone()).await;
        let change = self.record(&breaker.single, permit, start, &outcome);
        self.breaker_changed(&breaker.rule.id, &invocation, None, change);
        self.fall_back_if_open(rules, &invocation, outcome)
    }

    /// Counts an outcome in `breaker`: the guard's own refusals say nothing of the callee.
    pub(crate) fn record(
        &self,
        breaker: &Breaker,
        permit: Permit,
        start: Instant,
        outcome: &Result<Response>,
    ) -> Option<super::breaker::Change> {
        let failed = match outcome {
            // A framework error inside the answer (the provider could not run the method) is
            // a failure; an application exception is an answer. Only flagged answers are read.
            Ok(response) => {
                response.header().get(headers::RESPONSE_ERROR) == Some("true")
                    && matches!(response.body(), Ok(ResponseBody::Error(_)) | Err(_))
            }
            Err(e)
                if matches!(
                    e.kind(),
                    ErrorKind::ClientRateLimited | ErrorKind::ClientCircuitOpen
                ) =>
            {
                return None
            }
            Err(_) => true,
        };
        let elapsed = u64::try_from(start.elapsed().as_millis()).unwrap_or(u64::MAX);
        breaker.record(permit, self.now(), failed, elapsed)
    }

    /// Every provider's breaker was open: the call degrades like any other refusal.
    fn fall_back_if_open(
        &self,
        rules: &CallRules,
        invocation: &Invocation,
        outcome: Result<Response>,
    ) -> Result<Response> {
        match outcome {
            Err(e) if e.kind() == ErrorKind::ClientCircuitOpen => self.refuse(rules, invocation, e),
            outcome => outcome,
        }
    }

    fn refuse(
        &self,
        rules: &CallRules,
        invocation: &Invocation,
        refusal: RpcError,
    ) -> Result<Response> {
        match &rules.fallback {
            Some(fallback) => fallback.answer(invocation, refusal),
            None => Err(refusal),
        }
    }
}
