//! `context`: baggage flows from callers to the calls they make, and back.

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

use pin_project_lite::pin_project;
use tower::{Layer, Service};

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
        Invoker::new(ContextLayer.layer(next))
    }
}

#[derive(Clone, Copy, Debug, Default)]
struct ContextLayer;

impl<S> Layer<S> for ContextLayer {
    type Service = ContextService<S>;

    fn layer(&self, inner: S) -> Self::Service {
        ContextService { inner }
    }
}

#[derive(Clone, Debug)]
struct ContextService<S> {
    inner: S,
}

impl<S> Service<Invocation> for ContextService<S>
where
    S: Service<Invocation, Response = Response, Error = RpcError>,
    S::Future: Send + 'static,
{
    type Response = Response;
    type Error = RpcError;
    type Future = ContextFuture<S::Future>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<()>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, mut invocation: Invocation) -> Self::Future {
        let inherited = RequestContext::with_current(|ctx| {
            (ctx.baggage().clone(), ctx.child_trace(), ctx.deadline())
        });
        let nested = inherited.is_some();
        if let Some((baggage, trace, deadline)) = inherited {
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
        }
        ContextFuture {
            inner: self.inner.call(invocation),
            nested,
        }
    }
}

pin_project! {
    /// The `context` filter's future: the call, then its response baggage passed up.
    #[derive(Debug)]
    struct ContextFuture<F> {
        #[pin]
        inner: F,
        nested: bool,
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
        if *this.nested {
            let baggage = response.baggage();
            if !baggage.is_empty() {
                RequestContext::with_current(|ctx| {
                    for (k, v) in baggage {
                        ctx.set_response_baggage(k, v);
                    }
                });
            }
        }
        Poll::Ready(Ok(response))
    }
}
