//! `context`: baggage flows from callers to the calls they make, and back.

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

use futures::future::BoxFuture;
use pin_project_lite::pin_project;
use tower::Service;

use super::{Filter, Invoker};
use crate::context::RequestContext;
use crate::error::{Result, RpcError};
use crate::invocation::Invocation;
use crate::response::Response;

/// The `context` filter. A call made while a provider handles a request inherits that
/// request's baggage (keys the call sets itself win) and continues its trace as a child span;
/// the response baggage it gets back is added to the response baggage of the request being
/// handled, so baggage crosses any number of hops in both directions.
#[derive(Clone, Copy, Debug, Default)]
pub struct ContextFilter;

impl Filter for ContextFilter {
    fn consumer(&self, next: Invoker) -> Invoker {
        // The layer hands on the inner future as it is when there is nothing to wrap it for.
        Invoker::from_boxed(ContextService { inner: next })
    }
}

#[derive(Clone, Debug)]
struct ContextService {
    inner: Invoker,
}

impl Service<Invocation> for ContextService {
    type Response = Response;
    type Error = RpcError;
    type Future = BoxFuture<'static, Result<Response>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<()>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, mut invocation: Invocation) -> Self::Future {
        let inherited = RequestContext::with_current(|ctx| {
            (ctx.baggage().clone(), ctx.child_trace(), ctx.deadline())
        });
        // A call made outside any request has nothing to inherit and no request to pass
        // response baggage up to: its future needs no wrapping (nor an allocation for one).
        let Some((baggage, trace, deadline)) = inherited else {
            return self.inner.call(invocation);
        };
        // No call made for a request outlives its caller's patience.
        if let Some(deadline) = deadline {
            let context = invocation.context_mut();
            context.fix_deadline();
            if context.deadline().map_or(true, |own| deadline < own) {
                context.set_deadline(deadline);
            }
        }
        for (k, v) in baggage {
            if !invocation.context().baggage().contains_key(&k) {
                invocation.context_mut().insert_baggage(k, v);
            }
        }
        if let (Some(trace), None) = (trace, invocation.context().trace()) {
            invocation.context_mut().set_trace(trace);
        }
        Box::pin(ContextFuture {
            inner: self.inner.call(invocation),
        })
    }
}

pin_project! {
    /// The `context` filter's future: the call, then its response baggage passed up.
    #[derive(Debug)]
    struct ContextFuture<F> {
        #[pin]
        inner: F,
    }
}

impl<F: Future<Output = Result<Response>>> Future for ContextFuture<F> {
    type Output = Result<Response>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.project();
        let response = match this.inner.poll(cx) {
            Poll::Ready(Ok(response)) => response,
            other => return other,
        };
        let baggage = response.baggage();
        if !baggage.is_empty() {
            RequestContext::with_current(|ctx| {
                for (k, v) in baggage {
                    ctx.set_response_baggage(k, v);
                }
            });
        }
        Poll::Ready(Ok(response))
    }
}
