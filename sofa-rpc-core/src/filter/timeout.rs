//! `timeout`: one deadline for the whole call, retries included.

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Instant;

use tower::{Layer, Service};

use super::{Filter, Invoker};
use crate::error::{Result, RpcError};
use crate::invocation::Invocation;
use crate::response::Response;

/// The `timeout` filter: fixes the call's deadline from its timeout and fails the call with
/// `CLIENT_TIMEOUT` once it passes, whatever stage the call is in. Each attempt's own timeout
/// (and the timeout field the provider sees) is then the time left, so retries never extend a
/// call beyond what the caller allowed.
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
    type Future = Pin<Box<dyn Future<Output = Result<Response>> + Send>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<()>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, mut invocation: Invocation) -> Self::Future {
        let Some(timeout) = invocation.context().timeout() else {
            return Box::pin(self.inner.call(invocation));
        };
        let deadline = match invocation.context().deadline() {
            Some(deadline) => deadline,
            None => {
                let deadline = Instant::now() + timeout;
                invocation.context_mut().set_deadline(deadline);
                deadline
            }
        };
        let service = invocation.service().clone();
        let method = invocation.method_name();
        let call = self.inner.call(invocation);
        Box::pin(async move {
            match tokio::time::timeout_at(deadline.into(), call).await {
                Ok(outcome) => outcome,
                Err(_) => Err(RpcError::timeout(format!(
                    "{service}#{method} did not complete within {} ms",
                    timeout.as_millis()
                ))),
            }
        })
    }
}
