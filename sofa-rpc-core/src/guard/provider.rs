//! The guard as a [`Filter`]: on the provider, rate limits per service, method and caller app;
//! on the consumer, the same call and attempt paths a [`ConsumerConfig::guard`](crate::ConsumerConfig::guard)
//! wires in directly.

use std::convert::Infallible;
use std::sync::Arc;
use std::task::{Context, Poll};

use futures::future::BoxFuture;
use tower::Service;

use super::state::ProviderRules;
use super::{Guard, Quick, RulesCache};
use crate::context::RequestContext;
use crate::error::{ErrorKind, Result, RpcError};
use crate::filter::{Attempt, AttemptInvoker, Filter, Invoker, ProviderCall, ProviderInvoker};
use crate::invocation::Invocation;
use crate::response::Response;
use crate::serialize::Reply;

impl Guard {
    /// The provider rules for `method` of `service`, if any: one atomic load when none.
    fn provider_rules(&self, context: &RequestContext) -> Option<Arc<ProviderRules>> {
        if !self.is_active(super::PROVIDER) {
            return None;
        }
        let current = self.shared.current.load();
        current
            .provider
            .get(context.service(), context.method())
            .cloned()
    }
}

/// The error a provider-side refusal answers with: the server turns it into Bolt status
/// `SERVER_THREADPOOL_BUSY`, as when its executor is full.
fn busy(context: &RequestContext, rule: &str) -> Reply {
    Reply::Error(RpcError::new(
        ErrorKind::ServerBusy,
        format!(
            "{}.{} refused by rate limit {rule}",
            context.service(),
            context.method()
        ),
    ))
}

impl Filter for Guard {
    fn consumer(&self, next: Invoker) -> Invoker {
        Invoker::new(CallLayer {
            guard: self.clone(),
            cache: self.cache(),
            next,
        })
    }

    fn attempt(&self, next: AttemptInvoker) -> AttemptInvoker {
        AttemptInvoker::new(AttemptLayer {
            guard: self.clone(),
            next,
        })
    }

    fn provider(&self, next: ProviderInvoker) -> ProviderInvoker {
        ProviderInvoker::new(ProviderLayer {
            guard: self.clone(),
            next,
        })
    }
}

#[derive(Clone)]
struct CallLayer {
    guard: Guard,
    cache: RulesCache,
    next: Invoker,
}

impl Service<Invocation> for CallLayer {
    type Response = Response;
    type Error = RpcError;
    type Future = BoxFuture<'static, Result<Response>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<()>> {
        self.next.poll_ready(cx)
    }

    fn call(&mut self, invocation: Invocation) -> Self::Future {
        match self.guard.quick(&mut self.cache, &invocation) {
            Quick::Go => self.next.call(invocation),
            Quick::Done(outcome) => Box::pin(std::future::ready(outcome)),
            Quick::Wait(wait) => {
                let mut next = self.next.clone();
                Box::pin(async move {
                    tokio::time::sleep(wait).await;
                    next.call(invocation).await
                })
            }
            Quick::Full(rules) => {
                let mut next = self.next.clone();
                self.guard
                    .guarded_call(rules, invocation, move |inv| next.call(inv))
            }
        }
    }
}

#[derive(Clone)]
struct AttemptLayer {
    guard: Guard,
    next: AttemptInvoker,
}

impl Service<Attempt> for AttemptLayer {
    type Response = Response;
    type Error = RpcError;
    type Future = BoxFuture<'static, Result<Response>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<()>> {
        self.next.poll_ready(cx)
    }

    fn call(&mut self, attempt: Attempt) -> Self::Future {
        match self.guard.attempt_rules(&attempt.invocation) {
            None => self.next.call(attempt),
            Some(rules) => {
                let guard = self.guard.clone();
                let mut next = self.next.clone();
                Box::pin(async move {
                    guard
                        .guarded_attempt(rules, attempt, |a| next.call(a))
                        .await
                })
            }
        }
    }
}

#[derive(Clone)]
struct ProviderLayer {
    guard: Guard,
    next: ProviderInvoker,
}

impl Service<ProviderCall> for ProviderLayer {
    type Response = (Reply, RequestContext);
    type Error = Infallible;
    type Future = BoxFuture<'static, std::result::Result<(Reply, RequestContext), Infallible>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<std::result::Result<(), Infallible>> {
        self.next.poll_ready(cx)
    }

    fn call(&mut self, call: ProviderCall) -> Self::Future {
        let Some(rules) = self.guard.provider_rules(&call.context) else {
            return self.next.call(call);
        };
        // The refusal's events name the request as a consumer would see it.
        let invocation = Invocation::new(
            call.context.service().clone(),
            call.context.method().to_string(),
            Arc::new(()),
        );
        let admitted = self
            .guard
            .admit(&rules.limits, &invocation, call.context.caller_app());
        match admitted {
            Ok(wait) if wait.is_zero() => self.next.call(call),
            Ok(wait) => {
                let mut next = self.next.clone();
                Box::pin(async move {
                    tokio::time::sleep(wait).await;
                    next.call(call).await
                })
            }
            Err(limit) => {
                let reply = busy(&call.context, &limit.rule.id);
                Box::pin(std::future::ready(Ok((reply, call.context))))
            }
        }
    }
}
