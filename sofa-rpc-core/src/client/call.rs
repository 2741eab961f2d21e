//! [`Call`]: one typed call, sent the way the caller chooses.

use std::future::{Future, IntoFuture};
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use futures::future::BoxFuture;
use tokio::task::JoinHandle;

use super::Client;
use crate::error::{Result, RpcError};
use crate::invocation::{Invocation, InvokeType};
use crate::response::{Response, RpcResponse};
use sofa_rpc_registry::ProviderInfo;

/// Turns a provider's response into the caller's type.
pub type Decode<R> = fn(Response) -> Result<R>;

/// One call, ready to go: await it for the result (`sync`), or send it [`oneway`](Self::oneway),
/// as a [`future`](Self::future), or with a [`callback`](Self::callback) — SOFARPC's four invoke
/// types. Per-call settings (timeout, baggage, attachments) are set before sending.
///
/// Generated client stubs return a `Call` from every method.
#[must_use = "a call does nothing until it is awaited or sent"]
pub struct Call<R> {
    client: Client,
    invocation: Invocation,
    decode: Decode<R>,
}

impl<R: Send + 'static> Call<R> {
    /// A call of `invocation` through `client`, decoded by `decode`.
    pub fn new(client: Client, invocation: Invocation, decode: Decode<R>) -> Self {
        Call {
            client,
            invocation,
            decode,
        }
    }

    /// Sets this call's timeout (instead of the consumer's).
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.invocation.context_mut().set_timeout(timeout);
        self
    }

    /// Sends this call to the provider at `url` (`bolt://host:port` or `host:port`), whether or
    /// not the registry lists it; routers and the load balancer are skipped. Fails for a URL
    /// that is not one provider address.
    pub fn target_url(mut self, url: &str) -> Result<Self> {
        let mut providers = ProviderInfo::parse_list(url)
            .map_err(|e| RpcError::config(format!("target URL {url:?}: {e}")))?;
        match (providers.pop(), providers.is_empty()) {
            (Some(provider), true) => {
                self.invocation.context_mut().set_target(provider);
                Ok(self)
            }
            _ => Err(RpcError::config(format!(
                "target URL {url:?} must name exactly one provider"
            ))),
        }
    }

    /// Adds a baggage entry: it reaches the provider and the calls it makes in turn.
    pub fn baggage(mut self, key: impl Into<String>, value: impl Into<String>) -> Self {
        self.invocation.context_mut().insert_baggage(key, value);
        self
    }

    /// Starts or continues a trace: the call carries `trace` (calls made while handling a
    /// request continue that request's trace on their own).
    pub fn trace(mut self, trace: crate::TraceContext) -> Self {
        self.invocation.context_mut().set_trace(trace);
        self
    }

    /// Adds a request header entry for this call only.
    pub fn attachment(mut self, key: impl Into<String>, value: impl Into<String>) -> Self {
        self.invocation.context_mut().insert_attachment(key, value);
        self
    }

    /// The invocation as it stands.
    pub fn invocation(&self) -> &Invocation {
        &self.invocation
    }

    async fn run(self) -> Result<R> {
        let response = self.client.invoke(self.invocation).await?;
        (self.decode)(response)
    }

    /// Sends the call and returns the decoded result with the answering provider and the
    /// response baggage.
    pub async fn detailed(self) -> Result<RpcResponse<R>> {
        let decode = self.decode;
        let response = self.client.invoke(self.invocation).await?;
        let provider = response.provider().cloned();
        let baggage = response.baggage();
        let value = decode(response)?;
        Ok(RpcResponse {
            value,
            provider,
            baggage,
        })
    }

    /// Sends the call without expecting an answer. Completes once the request is queued on a
    /// connection; the provider's outcome is never known.
    pub async fn oneway(mut self) -> Result<()> {
        self.invocation.set_invoke_type(InvokeType::Oneway);
        self.client.invoke(self.invocation).await.map(|_| ())
    }

    /// Sends the call now and returns a handle to await its result later.
    pub fn future(mut self) -> ResponseHandle<R> {
        self.invocation.set_invoke_type(InvokeType::Future);
        match tokio::runtime::Handle::try_current() {
            Ok(rt) => ResponseHandle {
                state: HandleState::Running(rt.spawn(self.run())),
            },
            Err(_) => ResponseHandle {
                state: HandleState::Failed(Some(outside_runtime())),
            },
        }
    }

    /// Sends the call now and hands its result to `callback`, on a tokio task.
    pub fn callback<F>(mut self, callback: F)
    where
        F: FnOnce(Result<R>) + Send + 'static,
    {
        self.invocation.set_invoke_type(InvokeType::Callback);
        match tokio::runtime::Handle::try_current() {
            Ok(rt) => {
                rt.spawn(async move { callback(self.run().await) });
            }
            Err(_) => callback(Err(outside_runtime())),
        }
    }
}

fn outside_runtime() -> RpcError {
    RpcError::config("calls must be made from within a tokio runtime")
}

impl<R: Send + 'static> IntoFuture for Call<R> {
    type Output = Result<R>;
    type IntoFuture = CallFuture<R>;

    /// Awaiting a call sends it and waits for its result (the `sync` invoke type).
    fn into_future(self) -> Self::IntoFuture {
        CallFuture {
            response: self.client.start(self.invocation),
            decode: self.decode,
        }
    }
}

/// An awaited [`Call`]: the response on its way, then decoded.
#[must_use = "futures do nothing unless polled"]
pub struct CallFuture<R> {
    response: BoxFuture<'static, Result<Response>>,
    decode: Decode<R>,
}

impl<R> Future for CallFuture<R> {
    type Output = Result<R>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        match self.response.as_mut().poll(cx) {
            Poll::Ready(response) => Poll::Ready(response.and_then(self.decode)),
            Poll::Pending => Poll::Pending,
        }
    }
}

impl<R> std::fmt::Debug for CallFuture<R> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CallFuture").finish_non_exhaustive()
    }
}

/// The result of a call sent with [`Call::future`]: the call proceeds whether or not this is
/// awaited; await it to get the result.
#[must_use = "the result is only seen by awaiting the handle"]
pub struct ResponseHandle<R> {
    state: HandleState<R>,
}

enum HandleState<R> {
    Running(JoinHandle<Result<R>>),
    Failed(Option<RpcError>),
}

impl<R> ResponseHandle<R> {
    /// `true` once the result has arrived.
    pub fn is_done(&self) -> bool {
        match &self.state {
            HandleState::Running(h) => h.is_finished(),
            HandleState::Failed(_) => true,
        }
    }
}

impl<R> Future for ResponseHandle<R> {
    type Output = Result<R>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Result<R>> {
        match &mut self.state {
            HandleState::Running(handle) => Pin::new(handle).poll(cx).map(|joined| {
                joined.unwrap_or_else(|e| {
                    Err(RpcError::config(format!(
                        "the call's task ended abnormally: {e}"
                    )))
                })
            }),
            HandleState::Failed(error) => Poll::Ready(Err(error
                .take()
                .unwrap_or_else(|| RpcError::config("response handle polled after completion")))),
        }
    }
}
