//! A server's services as consumers in the same process call them: the implementation with
//! the stub's typed arguments, behind the server's provider filters, with no serializer and
//! no socket in between.

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use futures::future::BoxFuture;
use sofa_bolt::{HeaderMap, HeaderStr};
use sofa_rpc_registry::ProviderInfo;
use tower::ServiceExt;

use super::processor::execute;
use crate::context::RequestContext;
use crate::dispatch::Dispatch;
use crate::error::{ErrorKind, Result, RpcError};
use crate::filter::{ProviderCall, ProviderInvoker};
use crate::headers;
use crate::inproc::{self, LocalExport, LocalProvider};
use crate::invocation::{Invocation, InvokeType};
use crate::response::Response;
use crate::serialize::common_request_header;
use crate::service_id::ServiceId;

/// One exported service, as the in-process table offers it.
pub(crate) struct LocalService {
    id: ServiceId,
    dispatch: Arc<dyn Dispatch>,
    invoker: Option<ProviderInvoker>,
    provider: Arc<ProviderInfo>,
    /// What the method sees as its caller's address: the server's own.
    addr: SocketAddr,
}

/// Exports every service to this process, each behind `invoker` (the provider filters).
pub(crate) fn export_all<'a>(
    services: impl Iterator<Item = (ServiceId, Arc<dyn Dispatch>)> + 'a,
    invoker: &'a Option<ProviderInvoker>,
    addr: SocketAddr,
) -> impl Iterator<Item = LocalExport> + 'a {
    let provider = Arc::new(ProviderInfo::new(
        inproc::PROTOCOL,
        addr.ip().to_string(),
        addr.port(),
    ));
    services.map(move |(id, dispatch)| {
        let name = id.unique_name().to_string();
        let service = LocalService {
            id,
            dispatch,
            invoker: invoker.clone(),
            provider: provider.clone(),
            addr,
        };
        inproc::export(&name, Arc::new(service))
    })
}

impl LocalProvider for LocalService {
    fn provider(&self) -> &Arc<ProviderInfo> {
        &self.provider
    }

    fn accepts(&self, invocation: &Invocation) -> bool {
        self.dispatch
            .accepts_local(invocation.method(), invocation.args())
    }

    fn call(
        &self,
        invocation: Invocation,
        caller_app: Option<HeaderStr>,
    ) -> BoxFuture<'static, Result<Response>> {
        match self.start(invocation, caller_app) {
            Ok(call) => call,
            Err(e) => Box::pin(std::future::ready(Err(e))),
        }
    }
}

impl LocalService {
    fn start(
        &self,
        invocation: Invocation,
        caller_app: Option<HeaderStr>,
    ) -> Result<BoxFuture<'static, Result<Response>>> {
        let what = || format!("{}#{}", invocation.service(), invocation.method());
        // The client always sets one; the fallback is SOFARPC's default.
        let mut timeout = invocation
            .context()
            .timeout()
            .unwrap_or(Duration::from_millis(3000));
        if let Some(remaining) = invocation.context().remaining() {
            if remaining.is_zero() {
                return Err(RpcError::timeout(format!(
                    "{}: the deadline passed before the call was sent",
                    what()
                )));
            }
            timeout = timeout.min(remaining);
        }
        let prepared = self
            .dispatch
            .prepare_local(invocation.method(), invocation.args())
            .ok_or_else(|| {
                RpcError::unavailable(format!(
                    "{}: the in-process provider cannot take these arguments",
                    what()
                ))
            })?;
        // The method sees what a remote request would have told it: baggage, attachments,
        // trace, the caller's application and when the caller gives up.
        let mut header = HeaderMap::with_capacity(8);
        common_request_header(&invocation, &mut header);
        if let Some(app) = caller_app {
            header.insert(headers::CALLER_APP, app);
        }
        // A timeout too long to add to the clock means no deadline, not a panic.
        let deadline = Instant::now().checked_add(timeout);
        let context = RequestContext::new(
            self.addr,
            self.id.clone(),
            invocation.method_name(),
            header,
            deadline,
        );
        let call = ProviderCall { context, prepared };
        let invoker = self.invoker.clone();
        let provider = self.provider.clone();
        let work = async move {
            let (reply, context) = match invoker {
                Some(invoker) => match invoker.oneshot(call).await {
                    Ok(done) => done,
                    Err(never) => match never {},
                },
                None => execute(call).await,
            };
            Response::local(reply, provider, context.response_baggage())
        };
        if invocation.invoke_type() == InvokeType::Oneway {
            let runtime = tokio::runtime::Handle::try_current().map_err(|_| {
                RpcError::config("in-process oneway calls must be made from within a tokio runtime")
            })?;
            runtime.spawn(work);
            return Ok(Box::pin(std::future::ready(Ok(Response::none()))));
        }
        // Run here until the method first waits, as the server runs a request on its
        // connection's task: a method that answers at once costs no task. The attempt is being
        // polled already (this is its first step), so running the method now changes no order;
        // the no-op waker is fine because a method that waits is polled again at once, below.
        let mut work = Box::pin(work);
        let mut cx = Context::from_waker(futures::task::noop_waker_ref());
        if let Poll::Ready(response) = work.as_mut().poll(&mut cx) {
            return Ok(Box::pin(std::future::ready(Ok(response))));
        }
        let Ok(runtime) = tokio::runtime::Handle::try_current() else {
            // No runtime to time it with: the call takes as long as the method.
            return Ok(Box::pin(async move { Ok(work.await) }));
        };
        // One that waits gets a task of its own, so that like a remote provider it finishes
        // its work even when the caller stops waiting.
        let running = runtime.spawn(work);
        let what = what();
        let addr = self.addr;
        Ok(Box::pin(async move {
            match tokio::time::timeout(timeout, running).await {
                Ok(Ok(response)) => Ok(response),
                Ok(Err(e)) => Err(RpcError::new(
                    ErrorKind::ServerUndeclared,
                    format!("{what}: the in-process call ended abnormally: {e}"),
                )),
                Err(_) => Err(RpcError::timeout(format!(
                    "{what} got no response from the in-process provider at {addr} within {} ms",
                    timeout.as_millis()
                ))),
            }
        }))
    }
}
