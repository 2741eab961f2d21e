//! `timeout`: one deadline for the whole call, retries included.

use std::task::{Context, Poll};
use std::time::Instant;

use tower::{Layer, Service};

use super::{Filter, Invoker};
use crate::error::{Result, RpcError};
use crate::invocation::Invocation;
use crate::response::Response;

/// The `timeout` filter: fixes the call's deadline from its timeout. Every stage after it is
/// bounded by the time left — waiting for a provider list, connecting, each attempt (whose
/// timeout field tells the provider the same) — so retries never extend a call beyond what the
/// caller allowed, and the call fails with `CLIENT_TIMEOUT` once the deadline passes. No timer
/// of its own: the bolt connection's per-request timer is the one that fires.
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
        if let (Some(timeout), None) = (
            invocation.context().timeout(),
            invocation.context().deadline(),
        ) {
            invocation
                .context_mut()
                .set_deadline(Instant::now() + timeout);
        }
        self.inner.call(invocation)
    }
}
