//! How the cluster sends one attempt: through the attempt filters when there are any, then the
//! transport (or, for an in-process provider, the implementation itself); with events around
//! it when anyone listens, and the load balancer told of it when it learns from attempts.

use std::future::Future;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Instant;

use futures::future::{BoxFuture, Either};
use sofa_rpc_registry::ProviderInfo;
use tower::{Service, ServiceExt};

use crate::error::{Result, RpcError};
use crate::event::{AttemptEnd, AttemptStart, EventBus, Outcome};
use crate::fault::FaultIsolation;
use crate::filter::{Attempt, AttemptInvoker, Filter};
use crate::guard::Guard;
use crate::inproc;
use crate::loadbalance::LoadBalancer;
use crate::response::Response;
use crate::transport::Transport;

/// The path of every attempt of one consumer.
pub(crate) struct AttemptPath {
    transport: Arc<Transport>,
    /// The attempt filters around the transport; `None` when no filter wraps attempts.
    filters: Option<AttemptInvoker>,
    events: EventBus,
    /// The consumer's balancer, when it learns from attempts.
    learner: Option<Arc<dyn LoadBalancer>>,
    /// Fault isolation, when enabled: counts every attempt's outcome.
    fault: Option<Arc<FaultIsolation>>,
    /// The traffic guard: breakers per provider.
    guard: Option<Guard>,
}

impl AttemptPath {
    /// The path through `filters` (outermost first) to `transport`.
    pub(crate) fn new(
        transport: Arc<Transport>,
        filters: &[Arc<dyn Filter>],
        events: EventBus,
        load_balancer: &Arc<dyn LoadBalancer>,
        fault: Option<Arc<FaultIsolation>>,
        guard: Option<Guard>,
    ) -> Self {
        let mut stack = AttemptInvoker::innermost(Transmit {
            transport: transport.clone(),
        });
        for filter in filters.iter().rev() {
            stack = filter.attempt(stack);
        }
        AttemptPath {
            transport,
            filters: stack.is_wrapped().then_some(stack),
            events,
            learner: load_balancer
                .observes_attempts()
                .then(|| load_balancer.clone()),
            fault,
            guard,
        }
    }

    /// The transport attempts end in (for the health of its connections).
    pub(crate) fn transport(&self) -> &Transport {
        &self.transport
    }

    /// Makes `attempt`. With nobody watching attempts, the future is the transport's own:
    /// no layer of state around it to move the attempt through.
    pub(crate) fn run(
        &self,
        attempt: Attempt,
    ) -> impl Future<Output = Result<Response>> + Send + '_ {
        let guarded = self
            .guard
            .as_ref()
            .and_then(|guard| Some((guard, guard.attempt_rules(&attempt.invocation)?)));
        match guarded {
            None => Either::Left(self.run_unguarded(attempt)),
            // Boxed: the breakers' bookkeeping would more than double the size of every
            // attempt's future, guarded or not, and every call moves its future at least once.
            Some((guard, rules)) => {
                Either::Right(Box::pin(
                    guard.guarded_attempt(rules, attempt, |a| self.run_unguarded(a)),
                ))
            }
        }
    }

    /// [`run`](Self::run) past the guard's breakers.
    fn run_unguarded(
        &self,
        attempt: Attempt,
    ) -> impl Future<Output = Result<Response>> + Send + '_ {
        let events = &self.events;
        let observed = events.is_enabled::<AttemptStart>() || events.is_enabled::<AttemptEnd>();
        if !observed && self.learner.is_none() && self.fault.is_none() {
            Either::Left(self.send(attempt))
        } else {
            // Boxed, as the guarded attempt: its bookkeeping nearly doubles the future.
            Either::Right(Box::pin(self.run_watched(attempt, observed)))
        }
    }

    /// [`run`](Self::run) with events, balancer feedback and fault accounting around it.
    async fn run_watched(&self, attempt: Attempt, observed: bool) -> Result<Response> {
        let events = &self.events;
        let service = self
            .fault
            .as_ref()
            .map(|_| attempt.invocation.service().clone());
        let provider = attempt.provider.clone();
        let number = attempt.number;
        let names = observed.then(|| {
            let names = (
                attempt.invocation.service().clone(),
                attempt.invocation.method_name(),
            );
            events.publish_with(|| AttemptStart {
                service: names.0.clone(),
                method: names.1.clone(),
                provider: provider.clone(),
                attempt: number,
            });
            names
        });
        let start = Instant::now();
        let learning = self.learner.as_ref().map(|balancer| {
            balancer.on_attempt_start(&provider);
            Learning {
                balancer,
                provider: &provider,
                start,
                ok: false,
            }
        });
        let outcome = self.send(attempt).await;
        if let Some(mut learning) = learning {
            learning.ok = outcome.is_ok();
        }
        if let (Some(fault), Some(service)) = (&self.fault, &service) {
            let error = outcome.as_ref().err().map(|e| e.kind());
            fault.record(service, &provider, error);
        }
        if let Some((service, method)) = names {
            events.publish_with(|| AttemptEnd {
                service,
                method,
                provider: provider.clone(),
                attempt: number,
                elapsed: start.elapsed(),
                outcome: Outcome::of(&outcome),
            });
        }
        outcome
    }

    fn send(&self, attempt: Attempt) -> impl Future<Output = Result<Response>> + Send + '_ {
        match &self.filters {
            None if inproc::is_local(&attempt.provider) => {
                Either::Left(Either::Left(call_local(&self.transport, attempt)))
            }
            None => Either::Left(Either::Right(
                self.transport.call(attempt.provider, attempt.invocation),
            )),
            Some(stack) => Either::Right(stack.clone().oneshot(attempt)),
        }
    }
}

/// Tells the balancer an attempt ended, exactly once: when it completes, or as a failure when
/// the call is dropped before.
struct Learning<'a> {
    balancer: &'a Arc<dyn LoadBalancer>,
    provider: &'a ProviderInfo,
    start: Instant,
    ok: bool,
}

impl Drop for Learning<'_> {
    fn drop(&mut self) {
        self.balancer
            .on_attempt_end(self.provider, self.start.elapsed(), self.ok);
    }
}

/// The innermost attempt step as a service: serialize and send.
#[derive(Clone)]
struct Transmit {
    transport: Arc<Transport>,
}

impl Service<Attempt> for Transmit {
    type Response = Response;
    type Error = RpcError;
    type Future = BoxFuture<'static, Result<Response>>;

    fn poll_ready(&mut self, _cx: &mut Context<'_>) -> Poll<Result<()>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, attempt: Attempt) -> Self::Future {
        if inproc::is_local(&attempt.provider) {
            return call_local(&self.transport, attempt);
        }
        let transport = self.transport.clone();
        Box::pin(async move { transport.call(attempt.provider, attempt.invocation).await })
    }
}

/// Makes an attempt at the in-process provider the cluster chose. Should the service have been
/// withdrawn since (its server stopping at that instant), the attempt fails as unsent, which
/// `failover` may retry elsewhere.
fn call_local(transport: &Transport, attempt: Attempt) -> BoxFuture<'static, Result<Response>> {
    let invocation = attempt.invocation;
    // The cluster checked that it accepts the arguments; the call checks again as it takes them.
    match inproc::find(invocation.service()) {
        Some(local) => local.call(invocation, transport.app_name().cloned()),
        None => Box::pin(std::future::ready(Err(RpcError::unavailable(format!(
            "{}#{}: the in-process provider {} was withdrawn before the call was made",
            invocation.service(),
            invocation.method(),
            attempt.provider.address()
        ))))),
    }
}
