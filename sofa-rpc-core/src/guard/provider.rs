//! Provider-side rate limits (per service, method and caller app), which a server with
//! [`ServerBuilder::guard`](crate::ServerBuilder::guard) checks before its filters; and the
//! guard as a [`Filter`] registered by name, with the same call, attempt and request paths that
//! `ConsumerConfig::guard` and `ServerBuilder::guard` wire in directly.

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
    /// Whether any rule applies on the provider: one atomic load.
    #[inline]
    pub(crate) fn guards_requests(&self) -> bool {
        self.is_active(super::PROVIDER)
    }

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

    /// Admits a request to run (after a leaky bucket's wait, if any), or returns the reply that
    /// refuses it.
    pub(crate) async fn admit_request(&self, context: &RequestContext) -> Option<Reply> {
        let rules = self.provider_rules(context)?;
        // The refusal's events name the request as a consumer would see it.
        let invocation = Invocation::new(
            context.service().clone(),
            context.method().to_string(),
            Arc::new(()),
        );
        match self.admit(&rules.limits, &invocation, context.caller_app()) {
            Ok(wait) if wait.is_zero() => None,
            Ok(wait) => {
                tokio::time::sleep(wait).await;
                None
            }
            Err(limit) => Some(busy(context, &limit.rule.id)),
        }
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
        if !self.guard.guards_requests() {
            return self.next.call(call);
        }
        let guard = self.guard.clone();
        let mut next = self.next.clone();
        Box::pin(async move {
            match guard.admit_request(&call.context).await {
                None => next.call(call).await,
                Some(refusal) => Ok((refusal, call.context)),
            }
        })
    }
}
