//! [`Invoker`]: the consumer's call stack as one cloneable service.
//!
//! tower's `BoxCloneSyncService` boxes the future of whatever it wraps, even a future that is
//! a box already: the cluster's, whose own trait returns one, was boxed twice per call. An
//! invoker made with [`Invoker::from_boxed`] hands such a future on as it is.

use std::fmt;
use std::task::{Context, Poll};

use futures::future::BoxFuture;
use tower::Service;

use crate::error::{Result, RpcError};
use crate::invocation::Invocation;
use crate::response::Response;

/// The consumer-side service every call goes through: filters, then the cluster.
///
/// A filter wraps the invoker it is given in its own layer and makes an invoker of the result
/// with [`new`](Self::new), or with [`from_boxed`](Self::from_boxed) when its layer's future is
/// already a [`BoxFuture`] (then it is not boxed again).
pub struct Invoker {
    inner: Box<dyn Erased>,
}

impl Invoker {
    /// An invoker running `service`, whose future is boxed once per call.
    pub fn new<S>(service: S) -> Self
    where
        S: Service<Invocation, Response = Response, Error = RpcError>
            + Clone
            + Send
            + Sync
            + 'static,
        S::Future: Send + 'static,
    {
        Invoker {
            inner: Box::new(Boxing(service)),
        }
    }

    /// An invoker running `service`, whose future is a box already: it is passed on as it is,
    /// saving an allocation per call.
    pub fn from_boxed<S>(service: S) -> Self
    where
        S: Service<
                Invocation,
                Response = Response,
                Error = RpcError,
                Future = BoxFuture<'static, Result<Response>>,
            > + Clone
            + Send
            + Sync
            + 'static,
    {
        Invoker {
            inner: Box::new(Passing(service)),
        }
    }
}

impl Clone for Invoker {
    fn clone(&self) -> Self {
        Invoker {
            inner: self.inner.clone_box(),
        }
    }
}

impl Service<Invocation> for Invoker {
    type Response = Response;
    type Error = RpcError;
    type Future = BoxFuture<'static, Result<Response>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<()>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, invocation: Invocation) -> Self::Future {
        self.inner.call(invocation)
    }
}

impl fmt::Debug for Invoker {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Invoker").finish_non_exhaustive()
    }
}

/// A service of either kind, behind one trait object.
trait Erased: Send + Sync + 'static {
    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<()>>;
    fn call(&mut self, invocation: Invocation) -> BoxFuture<'static, Result<Response>>;
    fn clone_box(&self) -> Box<dyn Erased>;
}

/// A service whose future is boxed here.
#[derive(Clone)]
struct Boxing<S>(S);

impl<S> Erased for Boxing<S>
where
    S: Service<Invocation, Response = Response, Error = RpcError> + Clone + Send + Sync + 'static,
    S::Future: Send + 'static,
{
    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<()>> {
        self.0.poll_ready(cx)
    }

    fn call(&mut self, invocation: Invocation) -> BoxFuture<'static, Result<Response>> {
        Box::pin(self.0.call(invocation))
    }

    fn clone_box(&self) -> Box<dyn Erased> {
        Box::new(self.clone())
    }
}

/// A service whose future is a box already.
#[derive(Clone)]
struct Passing<S>(S);

impl<S> Erased for Passing<S>
where
    S: Service<
            Invocation,
            Response = Response,
            Error = RpcError,
            Future = BoxFuture<'static, Result<Response>>,
        > + Clone
        + Send
        + Sync
        + 'static,
{
    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<()>> {
        self.0.poll_ready(cx)
    }

    fn call(&mut self, invocation: Invocation) -> BoxFuture<'static, Result<Response>> {
        self.0.call(invocation)
    }

    fn clone_box(&self) -> Box<dyn Erased> {
        Box::new(self.clone())
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use tower::ServiceExt;

    use super::*;
    use crate::service_id::ServiceId;

    fn invocation() -> Invocation {
        Invocation::new(ServiceId::parse("s:1.0"), "m", Arc::new(()))
    }

    #[test]
    fn both_kinds_answer_and_clone() {
        let boxed = Invoker::new(tower::service_fn(|_inv: Invocation| {
            std::future::ready(Ok::<_, RpcError>(Response::none()))
        }));
        let passed = Invoker::from_boxed(tower::service_fn(
            |_inv: Invocation| -> BoxFuture<'static, Result<Response>> {
                Box::pin(std::future::ready(Err(RpcError::config("passed"))))
            },
        ));
        let answer = futures::executor::block_on(boxed.clone().oneshot(invocation()));
        assert!(answer.is_ok());
        let answer = futures::executor::block_on(passed.clone().oneshot(invocation()));
        assert_eq!(answer.unwrap_err().message(), "passed");
        assert_eq!(format!("{passed:?}"), "Invoker { .. }");
    }
}
