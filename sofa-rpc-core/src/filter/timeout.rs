//! `timeout`: one deadline for the whole call, retries included.

use std::task::{Context, Poll};

use tower::{Layer, Service};

use super::{Filter, Invoker};
use crate::error::{Result, RpcError};
use crate::invocation::Invocation;
use crate::response::Response;

/// The `timeout` filter: fixes the call's deadline from its timeout, so that every stage after
/// it, filters included, is bounded by the time left, and the call fails with `CLIENT_TIMEOUT`
/// once the deadline passes. Without it the deadline is fixed where it starts to matter (a
/// cluster about to retry, a first wait for providers), which bounds the same stages at no cost
/// to single-attempt calls. No timer of its own: the bolt connection's sweep fails late calls.
#[derive(Clone, Copy, Debug, Default)]
pub struct TimeoutFilter;

impl Filter for TimeoutFilter {
    fn consumer(&self, next: Invoker) -> Invoker {
        Invoker::new(TimeoutLayer.layer(next))
    }
}

/// The layer of the `timeout` filter.
#[derive(Clone, Copy, Debug, Default)]
pub struct TimeoutLayer;

impl<S> Layer<S> for TimeoutLayer {
    type Service = Timeout<S>;

    fn layer(&self, inner: S) -> Self::Service {
        Timeout { inner }
    }
}

/// The service of the `timeout` filter.
#[derive(Clone, Debug)]
pub struct Timeout<S> {
    inner: S,
}

impl<S> Service<Invocation> for Timeout<S>
where
    S: Service<Invocation, Response = Response, Error = RpcError>,
    S::Future: Send + 'static,
{
    type Response = Response;
    type Error = RpcError;
    type Future = S::Future;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<()>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, mut invocation: Invocation) -> Self::Future {
        invocation.context_mut().fix_deadline();
        self.inner.call(invocation)
    }
}
