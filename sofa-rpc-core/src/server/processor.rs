//! The Bolt processor of SOFARPC requests: admission, decoding, routing, dispatch, reply.

use std::borrow::Cow;
use std::convert::Infallible;
use std::future::Future;
use std::panic::AssertUnwindSafe;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use bytes::Bytes;
use futures::FutureExt;
use sofa_bolt::{Frame, HeaderMap, LogLimit, Processor, Responder, ResponseStatus};
use tower::{Service, ServiceExt};
use tracing::Instrument;

use super::admission::{Admitted, Executor, Slot};
use crate::context::RequestContext;
use crate::dispatch::Dispatch;
use crate::error::{ErrorKind, RpcError};
use crate::event::{EventBus, Outcome, ServerReceive, ServerSend};
use crate::filter::{ProviderCall, ProviderInvoker};
use crate::guard::Guard;
use crate::headers;
use crate::invocation::InvokeType;
use crate::serialize::Serializers;
use crate::serialize::{Reply, Serializer};
use crate::service_id::ServiceId;

/// A service as exported: the id it is served under and its implementation.
pub(crate) struct Exported {
    pub(crate) id: ServiceId,
    pub(crate) dispatch: Arc<dyn Dispatch>,
}

/// Everything the processor needs, shared by all requests of one server.
pub(crate) struct Provided {
    pub(crate) services: foldhash::HashMap<String, Exported>,
    pub(crate) serializers: Serializers,
    /// Provider filters around the method; `None` when there are none.
    pub(crate) invoker: Option<ProviderInvoker>,
    /// Requests admitted (max_concurrency + queue) and running (max_concurrency).
    pub(crate) executor: Executor,
    /// Run requests on the connection's task until they first wait.
    pub(crate) inline_first: bool,
    pub(crate) events: EventBus,
    /// The server's application name, for events.
    pub(crate) app: Option<Arc<str>>,
    /// The traffic guard's provider-side limits, before the filters.
    pub(crate) guard: Option<Guard>,
}

/// Handles `SofaRequest` frames.
pub(crate) struct RpcProcessor {
    pub(crate) provided: Arc<Provided>,
}

impl Processor for RpcProcessor {
    fn process(&self, request: Frame, responder: Responder) {
        let Some(admitted) = Executor::admit(self.provided.clone()) else {
            // Under overload this happens thousands of times a second: one line a second.
            if let Some(suppressed) = BUSY_LOG.allow() {
                tracing::warn!(
                    peer = %responder.peer_addr(),
                    suppressed,
                    "business executor full: answering SERVER_THREADPOOL_BUSY \
                     (suppressed: how many more since the previous line)"
                );
            }
            responder.send_status(ResponseStatus::SERVER_THREADPOOL_BUSY);
            return;
        };
        let shared = &self.provided;
        let inline_first = shared.inline_first;
        // Filled in once the request is read; made only if a subscriber wants it (a disabled
        // span still records its fields when tracing's `log` feature is on).
        let span = if tracing::enabled!(tracing::Level::DEBUG) {
            tracing::debug_span!(
                "rpc.request",
                id = request.request_id(),
                peer = %responder.peer_addr(),
                service = tracing::field::Empty,
                method = tracing::field::Empty,
            )
        } else {
            tracing::Span::none()
        };
        // The common case needs no future of its own: no provider filter or request guard to
        // await, no span to enter, a free slot at once. The method's future (boxed already)
        // runs here until it first waits, and only then moves to a task of its own.
        let direct = inline_first
            && span.is_disabled()
            && shared.invoker.is_none()
            && !shared.guard.as_ref().is_some_and(|g| g.guards_requests());
        if direct {
            if let Some(slot) = shared.executor.try_slot() {
                let Some(Begun { call, answering }) =
                    begin(shared, request, responder, &span, false)
                else {
                    return;
                };
                let mut method = Running {
                    run: execute(call),
                    answering: Some(answering),
                    admitted,
                    _slot: slot,
                };
                let mut cx = Context::from_waker(futures::task::noop_waker_ref());
                if Pin::new(&mut method).poll(&mut cx).is_pending() {
                    tokio::spawn(method);
                }
                return;
            }
        }
        let request_span = span.clone();
        let work = async move {
            let shared = admitted.owner();
            // A request that finds a free slot at once was just read: it cannot be stale, and
            // the clock need not be read. One that had to wait in the queue may be.
            let (_running, waited) = match shared.executor.try_slot() {
                Some(slot) => (slot, false),
                None => match shared.executor.slot().await {
                    Some(slot) => (slot, true),
                    None => return,
                },
            };
            if waited && is_stale(&request, &responder) {
                tracing::debug!(
                    peer = %responder.peer_addr(),
                    id = request.request_id(),
                    waited = ?responder.received_at().elapsed(),
                    "dropping a request that waited longer than its timeout"
                );
                return;
            }
            handle(shared, request, responder, &request_span, waited).await;
        };
        if span.is_disabled() {
            run(work, inline_first);
        } else {
            run(work.instrument(span), inline_first);
        }
    }
}

/// Runs `work` on a task of its own, or with `inline_first` here until it first has to wait,
/// and only then on a task of its own. A call that completes at once costs no task switch, and
/// its answer leaves with the others of the same read. Polling with a no-op waker is fine: the
/// task re-polls it at once, which registers the real waker.
fn run<F>(work: F, inline_first: bool)
where
    F: Future<Output = ()> + Send + 'static,
{
    if !inline_first {
        tokio::spawn(work);
        return;
    }
    let mut work = Box::pin(work);
    let mut cx = Context::from_waker(futures::task::noop_waker_ref());
    if work.as_mut().poll(&mut cx).is_pending() {
        tokio::spawn(work);
    }
}

static BUSY_LOG: LogLimit = LogLimit::new();
static REJECT_LOG: LogLimit = LogLimit::new();

/// When the caller gives up: the frame's timeout, or the time left it sent
/// (`sofa_head_deadline_remain_time`) if that is sooner, from when the request was read.
fn deadline(request: &Frame, header: &HeaderMap, responder: &Responder) -> Option<Instant> {
    let timeout = u64::try_from(request.timeout()).ok().filter(|t| *t > 0);
    let remain = header
        .get(headers::DEADLINE_REMAIN)
        .and_then(|v| v.parse::<u64>().ok());
    let ms = match (timeout, remain) {
        (Some(t), Some(r)) => t.min(r),
        (t, r) => t.or(r)?,
    };
    Some(responder.received_at() + Duration::from_millis(ms))
}

/// Whether the caller has already given up: SOFARPC drops such requests without a response.
fn is_stale(request: &Frame, responder: &Responder) -> bool {
    let timeout = request.timeout();
    timeout > 0
        && responder.received_at().elapsed()
            > Duration::from_millis(u64::try_from(timeout).unwrap_or(0))
}

/// A request whose method is running without a future around it: answered when it is done.
struct Running<F> {
    run: F,
    answering: Option<Answering>,
    /// Its place among the admitted requests (and the server it was admitted to), and its
    /// slot to run: held until it is answered.
    admitted: Admitted<Arc<Provided>>,
    _slot: Slot,
}

impl<F> Future for Running<F>
where
    F: Future<Output = (Reply, RequestContext)> + Unpin,
{
    type Output = ();

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        let (reply, context) = match Pin::new(&mut self.run).poll(cx) {
            Poll::Ready(done) => done,
            Poll::Pending => return Poll::Pending,
        };
        if let Some(answering) = self.answering.take() {
            finish(self.admitted.owner(), answering, &reply, &context);
        }
        Poll::Ready(())
    }
}

/// A request read and about to run, with what answering it takes once the method is done.
struct Begun {
    call: ProviderCall,
    answering: Answering,
}

/// What answering a request takes once its method is done.
struct Answering {
    request: Frame,
    responder: Responder,
    serializer: Arc<dyn Serializer>,
    /// The service and method, when someone listens for [`ServerSend`].
    observed: Option<(ServiceId, Cow<'static, str>)>,
}

async fn handle(
    shared: &Provided,
    request: Frame,
    responder: Responder,
    span: &tracing::Span,
    waited: bool,
) {
    let Some(Begun { call, answering }) = begin(shared, request, responder, span, waited) else {
        return;
    };
    if let Some(guard) = shared.guard.as_ref().filter(|g| g.guards_requests()) {
        if let Some(refusal) = guard.admit_request(&call.context).await {
            // Answered as a full executor answers (see `encode`): SOFA consumers fail over on
            // it. Published like any answer, so that the server's metrics count it.
            return finish(shared, answering, &refusal, &call.context);
        }
    }
    let (reply, context) = match &shared.invoker {
        Some(invoker) => match invoker.clone().oneshot(call).await {
            Ok(done) => done,
            Err(never) => match never {},
        },
        // No provider filters: run the method directly, without a service stack.
        None => execute(call).await,
    };
    finish(shared, answering, &reply, &context);
}

/// Reads `request` up to the call of its method: `None` when it was answered (it could not be
/// read, or named no method we have) or dropped (its caller gave up) instead. A request that
/// has not `waited` for a slot is as old as the read that brought it: the clock is not read
/// again to see whether its caller gave up.
fn begin(
    shared: &Provided,
    request: Frame,
    responder: Responder,
    span: &tracing::Span,
    waited: bool,
) -> Option<Begun> {
    let peer = responder.peer_addr();
    let header = match request.header() {
        Ok(h) => h.into_owned(),
        Err(e) => {
            reject(
                &request,
                responder,
                ResponseStatus::SERVER_DESERIAL_EXCEPTION,
                &e,
            );
            return None;
        }
    };
    let Some(serializer) = shared.serializers.by_code(request.codec()).cloned() else {
        let reason = format!("no serializer for codec {}", request.codec());
        reject(
            &request,
            responder,
            ResponseStatus::SERVER_DESERIAL_EXCEPTION,
            &reason,
        );
        return None;
    };
    let (service, method, prepared) =
        match prepare(shared, &*serializer, &header, request.content()) {
            Ok(prepared) => prepared,
            Err(Rejection::Status(status, reason)) => {
                reject(&request, responder, status, &reason);
                return None;
            }
            Err(Rejection::Reply(id, method, error)) => {
                tracing::debug!(%peer, service = %id, method, error = %error, "request failed");
                let reply = Reply::Error(error);
                respond(
                    &request,
                    responder,
                    &*serializer,
                    &reply,
                    &Default::default(),
                );
                return None;
            }
        };
    let deadline = deadline(&request, &header, &responder);
    let now = if waited {
        Instant::now()
    } else {
        responder.received_at()
    };
    if deadline.is_some_and(|d| d <= now) {
        tracing::debug!(%peer, service = %service, method = &*method, "dropping a request whose caller's deadline has passed");
        return None;
    }
    span.record("service", tracing::field::display(&service));
    span.record("method", &*method);
    let events = &shared.events;
    let observed = events
        .is_enabled::<ServerSend>()
        .then(|| (service.clone(), method.clone()));
    events.publish_with(|| ServerReceive {
        service: service.clone(),
        method: method.clone(),
        peer,
    });
    let mut context = RequestContext::new(peer, service, method, header, deadline);
    context.set_peer_identity(responder.peer_identity().cloned());
    Some(Begun {
        call: ProviderCall { context, prepared },
        answering: Answering {
            request,
            responder,
            serializer,
            observed,
        },
    })
}

/// Answers a request whose method has run with `reply`, `context` as the method left it.
fn finish(shared: &Provided, answering: Answering, reply: &Reply, context: &RequestContext) {
    let Answering {
        request,
        responder,
        serializer,
        observed,
    } = answering;
    let answer = encode(&request, &*serializer, reply, context.response_baggage());
    // Published before the answer leaves, so that a caller holding its answer finds the
    // event already delivered.
    if let Some((service, method)) = observed {
        let outcome = match reply {
            Reply::Error(e) => Outcome::Failed {
                kind: e.kind(),
                message: e.message().to_string(),
            },
            _ => Outcome::Success,
        };
        let oneway = responder.is_oneway();
        let invoke_type = match context.header(headers::INVOKE_TYPE) {
            Some("oneway") => InvokeType::Oneway,
            Some("future") => InvokeType::Future,
            Some("callback") => InvokeType::Callback,
            _ if oneway => InvokeType::Oneway,
            _ => InvokeType::Sync,
        };
        shared.events.publish(ServerSend {
            service,
            method,
            peer: responder.peer_addr(),
            elapsed: responder.received_at().elapsed(),
            outcome,
            app_exception: matches!(reply, Reply::AppError(_)),
            app: shared.app.clone(),
            caller_app: context.caller_app().map(str::to_string),
            protocol: "bolt",
            invoke_type,
            request_size: request.content().len(),
            response_size: answer
                .as_ref()
                .ok()
                .filter(|_| !oneway)
                .map(|frame| frame.content().len()),
        });
    }
    send(&request, responder, answer);
}

enum Rejection {
    /// Answer with a bare status (the request could not be read).
    Status(ResponseStatus, String),
    /// Answer with a framework error inside a normal response.
    Reply(String, String, RpcError),
}

/// A request read: its service, its method, and the call ready to run.
type Ready = (ServiceId, Cow<'static, str>, crate::dispatch::Prepared);

/// Reads the request and finds its service and method; returns the call ready to run.
fn prepare(
    shared: &Provided,
    serializer: &dyn Serializer,
    header: &HeaderMap,
    content: &Bytes,
) -> Result<Ready, Rejection> {
    let mut prepared = None;
    serializer
        .lend_request(header, content, &mut |reader| {
            prepared = Some(prepare_from(shared, header, reader));
        })
        .map_err(|e| Rejection::Status(ResponseStatus::SERVER_DESERIAL_EXCEPTION, e.to_string()))?;
    prepared.unwrap_or_else(|| {
        Err(Rejection::Status(
            ResponseStatus::SERVER_DESERIAL_EXCEPTION,
            format!("serializer {} lent no request reader", serializer.name()),
        ))
    })
}

/// [`prepare`] with the request's reader.
fn prepare_from(
    shared: &Provided,
    header: &HeaderMap,
    reader: &mut dyn crate::serialize::RequestReader<'_>,
) -> Result<Ready, Rejection> {
    // Routing: header `service`, then `sofa_head_target_service`, then the body.
    let target = header
        .get(headers::SERVICE)
        .or_else(|| header.get(headers::TARGET_SERVICE))
        .or_else(|| reader.target_service());
    let method = reader.method().or_else(|| header.get(headers::METHOD_NAME));
    let (Some(target), Some(method)) = (target, method) else {
        return Err(Rejection::Status(
            ResponseStatus::SERVER_DESERIAL_EXCEPTION,
            "the request names no target service or no method".into(),
        ));
    };
    // Looked up by the name as it is read: only a failure copies it.
    let Some(exported) = shared.services.get(target) else {
        let error = RpcError::not_found(format!("cannot find service {target}"));
        return Err(Rejection::Reply(
            target.to_string(),
            method.to_string(),
            error,
        ));
    };
    // The service's own name for the method, when it has it: no copy of the one read.
    let method = match exported.dispatch.methods().iter().find(|m| **m == method) {
        Some(name) => Cow::Borrowed(*name),
        None => Cow::Owned(method.to_string()),
    };
    let prepared = exported
        .dispatch
        .prepare(&method, reader)
        .map_err(|e| Rejection::Reply(exported.id.to_string(), method.to_string(), e))?;
    Ok((exported.id.clone(), method, prepared))
}

fn respond(
    request: &Frame,
    responder: Responder,
    serializer: &dyn Serializer,
    reply: &Reply,
    baggage: &std::collections::BTreeMap<String, String>,
) {
    let answer = encode(request, serializer, reply, baggage);
    send(request, responder, answer);
}

/// The response frame for `reply`, or why it could not be encoded.
fn encode(
    request: &Frame,
    serializer: &dyn Serializer,
    reply: &Reply,
    baggage: &std::collections::BTreeMap<String, String>,
) -> Result<Frame, RpcError> {
    // A refusal for load (a provider-side rate limit, a filter that sheds) is answered as a
    // full executor is: the bare status every SOFA consumer fails over on.
    if matches!(reply, Reply::Error(e) if e.kind() == ErrorKind::ServerBusy) {
        return Ok(Frame::response_to(
            request,
            ResponseStatus::SERVER_THREADPOOL_BUSY,
        ));
    }
    let mut header = HeaderMap::new();
    for (k, v) in baggage {
        header.insert(
            format!("{}{k}", headers::RESPONSE_BAGGAGE_PREFIX),
            v.clone(),
        );
    }
    let content = serializer.encode_response(reply, request.content(), &mut header)?;
    Ok(Frame::response_to(request, serializer.reply_status(reply))
        .with_class(Bytes::from_static(headers::SOFA_RESPONSE_CLASS.as_bytes()))
        .with_header(header)
        .with_content(content))
}

/// Sends the encoded answer, or a bare `SERVER_SERIAL_EXCEPTION` when encoding failed.
fn send(request: &Frame, responder: Responder, answer: Result<Frame, RpcError>) {
    match answer {
        Ok(frame) => responder.send(frame),
        Err(e) => reject(
            request,
            responder,
            ResponseStatus::SERVER_SERIAL_EXCEPTION,
            &e,
        ),
    }
}

/// Answers with a bare status, as SOFABolt does for requests it cannot read or answer: codec
/// 1, no CRC switch.
fn reject(
    request: &Frame,
    responder: Responder,
    status: ResponseStatus,
    reason: &dyn std::fmt::Display,
) {
    // A peer can send unreadable requests as fast as it likes: one line a second.
    if let Some(suppressed) = REJECT_LOG.allow() {
        tracing::warn!(
            peer = %responder.peer_addr(),
            id = request.request_id(),
            %status,
            %reason,
            suppressed,
            "rejecting request"
        );
    }
    let mut frame = Frame::response_to(request, status)
        .with_codec(sofa_bolt::CODEC_HESSIAN2)
        .with_switch(0)
        .with_class(Bytes::from_static(
            headers::RPC_SERVER_EXCEPTION_CLASS.as_bytes(),
        ));
    // Java SOFABolt puts a Hessian RpcServerException in the body; clients show its message.
    if let Some(body) = crate::serialize::rpc_server_exception(&reason.to_string()) {
        frame = frame.with_content(body);
    }
    responder.send(frame);
}

/// The innermost provider service: runs the method with its request context set, turning a
/// panic into a framework error instead of a lost request.
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct Execute;

impl Service<ProviderCall> for Execute {
    type Response = (Reply, RequestContext);
    type Error = Infallible;
    type Future = Pin<Box<dyn Future<Output = Result<(Reply, RequestContext), Infallible>> + Send>>;

    fn poll_ready(&mut self, _cx: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, call: ProviderCall) -> Self::Future {
        Box::pin(async move { Ok(execute(call).await) })
    }
}

/// Runs the method with its request context set; a panic becomes a framework error instead of
/// a lost request.
///
/// Built as one future without an `async fn` around it: the state of such a function keeps
/// its arguments (the request context) beside the futures it makes from them.
pub(crate) fn execute(call: ProviderCall) -> impl Future<Output = (Reply, RequestContext)> + Unpin {
    let run = AssertUnwindSafe(call.prepared).catch_unwind();
    RequestContext::scope(call.context, run).map(settle)
}

/// The reply of a method that ran to its end or panicked.
fn settle(
    (outcome, context): (std::thread::Result<Reply>, RequestContext),
) -> (Reply, RequestContext) {
    let reply = outcome.unwrap_or_else(|panic| {
        let what = panic
            .downcast_ref::<&str>()
            .map(|s| s.to_string())
            .or_else(|| panic.downcast_ref::<String>().cloned())
            .unwrap_or_else(|| "a non-string panic".into());
        let method = context.method();
        tracing::error!(method, panic = %what, "service method panicked");
        Reply::Error(RpcError::new(
            ErrorKind::ServerUndeclared,
            format!("method {method} panicked: {what}"),
        ))
    });
    (reply, context)
}

impl AsRef<Executor> for Arc<Provided> {
    fn as_ref(&self) -> &Executor {
        &self.executor
    }
}
