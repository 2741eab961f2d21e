//! How the cluster sends one attempt: through the attempt filters when there are any, then the
//! transport; with events around it when anyone listens.

use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Instant;

use futures::future::BoxFuture;
use tower::{Service, ServiceExt};

use crate::error::{Result, RpcError};
use crate::event::{AttemptEnd, AttemptStart, EventBus, Outcome};
use crate::filter::{Attempt, AttemptInvoker, Filter};
use crate::response::Response;
use crate::transport::Transport;

/// The path of every attempt of one consumer.
pub(crate) struct AttemptPath {
    transport: Arc<Transport>,
    /// The attempt filters around the transport; `None` when no filter wraps attempts.
    filters: Option<AttemptInvoker>,
    events: EventBus,
}

impl AttemptPath {
    /// The path through `filters` (outermost first) to `transport`.
    pub(crate) fn new(
        transport: Arc<Transport>,
        filters: &[Arc<dyn Filter>],
        events: EventBus,
    ) -> Self {
        let mut stack = AttemptInvoker::innermost(Send {
            transport: transport.clone(),
        });
        for filter in filters.iter().rev() {
            stack = filter.attempt(stack);
        }
        AttemptPath {
            transport,
            filters: stack.is_wrapped().then_some(stack),
            events,
        }
    }

    /// Makes `attempt`.
    pub(crate) async fn run(&self, attempt: Attempt) -> Result<Response> {
        let events = &self.events;
        if !events.is_enabled::<AttemptStart>() && !events.is_enabled::<AttemptEnd>() {
            return self.send(attempt).await;
        }
        let (service, method) = (
            attempt.invocation.service().clone(),
            attempt.invocation.method_name(),
        );
        let (provider, number) = (attempt.provider.clone(), attempt.number);
        events.publish_with(|| AttemptStart {
            service: service.clone(),
            method: method.clone(),
            provider: provider.clone(),
            attempt: number,
        });
        let start = Instant::now();
        let outcome = self.send(attempt).await;
        events.publish_with(|| AttemptEnd {
            service,
            method,
            provider,
            attempt: number,
            elapsed: start.elapsed(),
            outcome: Outcome::of(&outcome),
        });
        outcome
    }

    async fn send(&self, attempt: Attempt) -> Result<Response> {
        match &self.filters {
            None => {
                self.transport
                    .call(attempt.provider, attempt.invocation)
                    .await
            }
            Some(stack) => stack.clone().oneshot(attempt).await,
        }
    }
}

/// The innermost attempt step as a service: serialize and send.
#[derive(Clone)]
struct Send {
    transport: Arc<Transport>,
}

impl Service<Attempt> for Send {
    type Response = Response;
    type Error = RpcError;
    type Future = BoxFuture<'static, Result<Response>>;

    fn poll_ready(&mut self, _cx: &mut Context<'_>) -> Poll<Result<()>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, attempt: Attempt) -> Self::Future {
        let transport = self.transport.clone();
        Box::pin(async move { transport.call(attempt.provider, attempt.invocation).await })
    }
}
