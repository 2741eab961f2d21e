//! The attempt stack: filters that see each attempt of a call at one provider.

use std::fmt;
use std::sync::Arc;
use std::task::{Context, Poll};

use futures::future::BoxFuture;
use sofa_rpc_registry::ProviderInfo;
use tower::util::BoxCloneSyncService;
use tower::Service;

use crate::error::{Result, RpcError};
use crate::invocation::Invocation;
use crate::response::Response;

/// One attempt of a call at one provider, as the cluster makes it: what attempt filters see.
/// A failover call that retries makes several.
#[derive(Clone, Debug)]
pub struct Attempt {
    /// The provider the router chain and load balancer chose.
    pub provider: Arc<ProviderInfo>,
    /// 1 for the first attempt, 2 for the first retry, ...
    pub number: u32,
    /// The call.
    pub invocation: Invocation,
}

/// The service every attempt goes through on the consumer: attempt filters (circuit breakers,
/// per-provider accounting, ...), then serialization and the connection to the provider.
///
/// Wrap one with [`AttemptInvoker::new`] around your layer's service; the outcome the stack
/// returns is the attempt's (the cluster decides on retries after it).
#[derive(Clone)]
pub struct AttemptInvoker {
    inner: BoxCloneSyncService<Attempt, Response, RpcError>,
    /// Whether any filter wrapped the innermost step: without one, the cluster skips the stack.
    wrapped: bool,
}

impl AttemptInvoker {
    /// An invoker running `service` for each attempt.
    pub fn new<S>(service: S) -> Self
    where
        S: Service<Attempt, Response = Response, Error = RpcError> + Clone + Send + Sync + 'static,
        S::Future: Send + 'static,
    {
        AttemptInvoker {
            inner: BoxCloneSyncService::new(service),
            wrapped: true,
        }
    }

    /// The innermost step, before any filter.
    pub(crate) fn innermost<S>(service: S) -> Self
    where
        S: Service<Attempt, Response = Response, Error = RpcError> + Clone + Send + Sync + 'static,
        S::Future: Send + 'static,
    {
        AttemptInvoker {
            inner: BoxCloneSyncService::new(service),
            wrapped: false,
        }
    }

    /// Whether a filter wrapped it.
    pub(crate) fn is_wrapped(&self) -> bool {
        self.wrapped
    }
}

impl Service<Attempt> for AttemptInvoker {
    type Response = Response;
    type Error = RpcError;
    type Future = BoxFuture<'static, Result<Response>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<()>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, attempt: Attempt) -> Self::Future {
        self.inner.call(attempt)
    }
}

impl fmt::Debug for AttemptInvoker {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AttemptInvoker")
            .field("wrapped", &self.wrapped)
            .finish()
    }
}
