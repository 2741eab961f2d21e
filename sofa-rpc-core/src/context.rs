//! Per-call context on both sides: [`InvokeContext`] for consumers, [`RequestContext`] for
//! the provider code handling a request.

use std::borrow::Cow;
use std::cell::RefCell;
use std::collections::BTreeMap;
use std::future::Future;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::{Arc, OnceLock};
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use pin_project_lite::pin_project;
use sofa_bolt::{HeaderMap, PeerIdentity};
use sofa_rpc_registry::ProviderInfo;

use crate::service_id::ServiceId;
use crate::trace::{ChildSpans, TraceContext};

/// What travels with one call from the consumer: timeout, baggage and attachments.
///
/// Baggage is propagated end to end: it reaches the provider (as `rpc_req_baggage.*`
/// headers), and calls the provider makes while handling the request carry it on. Attachments
/// are extra header entries for this hop only (SOFARPC's request props).
#[derive(Clone, Debug, Default)]
pub struct InvokeContext {
    timeout: Option<Duration>,
    deadline: Option<Instant>,
    /// Most calls carry none of these: kept out of line so invocations stay small to move.
    extras: Option<Box<Extras>>,
}

#[derive(Clone, Debug, Default)]
struct Extras {
    baggage: BTreeMap<String, String>,
    attachments: BTreeMap<String, String>,
    trace: Option<TraceContext>,
    target: Option<Arc<ProviderInfo>>,
}

static NONE: BTreeMap<String, String> = BTreeMap::new();

impl InvokeContext {
    fn extras(&mut self) -> &mut Extras {
        self.extras.get_or_insert_with(Box::default)
    }

    /// The trace context the call carries, if any.
    pub fn trace(&self) -> Option<&TraceContext> {
        self.extras.as_ref().and_then(|e| e.trace.as_ref())
    }

    /// Sets the trace context the call carries (sent in both SOFATracer header forms).
    pub fn set_trace(&mut self, trace: TraceContext) {
        self.extras().trace = Some(trace);
    }

    /// The per-call timeout, if one was set (otherwise the consumer's applies).
    pub fn timeout(&self) -> Option<Duration> {
        self.timeout
    }

    /// Sets the per-call timeout.
    pub fn set_timeout(&mut self, timeout: Duration) {
        self.timeout = Some(timeout);
    }

    /// The instant the whole call (retries included) must finish by, once fixed: by a cluster
    /// before it retries, before waiting for a first provider list, or by the `timeout`
    /// filter. A call that makes a single attempt needs none (its timeout bounds it).
    pub fn deadline(&self) -> Option<Instant> {
        self.deadline
    }

    /// Fixes the deadline.
    pub fn set_deadline(&mut self, deadline: Instant) {
        self.deadline = Some(deadline);
    }

    /// Fixes the deadline at the timeout from now, unless it is fixed already or there is no
    /// timeout.
    pub fn fix_deadline(&mut self) {
        if let (None, Some(timeout)) = (self.deadline, self.timeout) {
            self.deadline = Some(Instant::now() + timeout);
        }
    }

    /// Time left until the deadline (zero once passed), or `None` without a deadline.
    pub fn remaining(&self) -> Option<Duration> {
        self.deadline
            .map(|d| d.saturating_duration_since(Instant::now()))
    }

    /// Request baggage.
    pub fn baggage(&self) -> &BTreeMap<String, String> {
        self.extras.as_ref().map_or(&NONE, |e| &e.baggage)
    }

    /// Adds a baggage entry.
    pub fn insert_baggage(&mut self, key: impl Into<String>, value: impl Into<String>) {
        self.extras().baggage.insert(key.into(), value.into());
    }

    /// The provider this call must go to, if one was named for it (SOFARPC's per-call target
    /// URL): routers and the load balancer are skipped.
    pub fn target(&self) -> Option<&Arc<ProviderInfo>> {
        self.extras.as_ref().and_then(|e| e.target.as_ref())
    }

    /// Sends this call to `provider`, whether or not the registry lists it.
    pub fn set_target(&mut self, provider: ProviderInfo) {
        self.extras().target = Some(Arc::new(provider));
    }

    /// Attachments: extra request header entries.
    pub fn attachments(&self) -> &BTreeMap<String, String> {
        self.extras.as_ref().map_or(&NONE, |e| &e.attachments)
    }

    /// Adds an attachment.
    pub fn insert_attachment(&mut self, key: impl Into<String>, value: impl Into<String>) {
        self.extras().attachments.insert(key.into(), value.into());
    }
}

tokio::task_local! {
    /// Set while a request's method is polled: the context, taken back after every poll.
    /// Only the task that polls reaches it, so a `RefCell` does: no lock to take.
    static CURRENT: RefCell<Option<RequestContext>>;
}

/// What a provider knows about the request it is handling: who called, which service and
/// method, the request's baggage and headers, and the response baggage to send back.
///
/// Service methods reach it through [`RequestContext::with_current`]; it is set for the whole
/// time the method runs, and calls made from there inherit its baggage.
///
/// ```
/// use sofa_rpc_core::RequestContext;
///
/// // Outside a request there is none.
/// assert!(RequestContext::with_current(|ctx| ctx.peer_addr()).is_none());
/// ```
#[derive(Clone, Debug)]
pub struct RequestContext {
    peer: SocketAddr,
    /// Who the caller proved to be over mutual TLS.
    identity: Option<Arc<PeerIdentity>>,
    service: ServiceId,
    method: Cow<'static, str>,
    headers: HeaderMap,
    /// Read from the headers when first asked for: most methods never ask.
    baggage: OnceLock<BTreeMap<String, String>>,
    response_baggage: BTreeMap<String, String>,
    deadline: Option<Instant>,
    trace: OnceLock<Option<TraceContext>>,
    child_spans: ChildSpans,
}

impl RequestContext {
    pub(crate) fn new(
        peer: SocketAddr,
        service: ServiceId,
        method: Cow<'static, str>,
        headers: HeaderMap,
        deadline: Option<Instant>,
    ) -> Self {
        RequestContext {
            peer,
            identity: None,
            service,
            method,
            headers,
            baggage: OnceLock::new(),
            response_baggage: BTreeMap::new(),
            deadline,
            trace: OnceLock::new(),
            child_spans: ChildSpans::default(),
        }
    }

    /// Runs `f` on the context of the request being handled by the current task, if any.
    ///
    /// Inside `f` the context is in use: a nested `with_current` gets `None`.
    pub fn with_current<R>(f: impl FnOnce(&mut RequestContext) -> R) -> Option<R> {
        CURRENT
            .try_with(|cell| cell.try_borrow_mut().ok()?.as_mut().map(f))
            .ok()
            .flatten()
    }

    /// Runs `fut` with `ctx` as the current request context; returns its output and the
    /// context as the method left it.
    pub(crate) fn scope<F: Future>(ctx: RequestContext, fut: F) -> Scoped<F> {
        Scoped {
            inner: fut,
            peer: ctx.peer,
            ctx: Some(ctx),
        }
    }

    /// The caller's address.
    pub fn peer_addr(&self) -> SocketAddr {
        self.peer
    }

    /// The caller's verified identity: the subject and alternative names of the certificate
    /// it presented over mutual TLS. `None` on a plain connection, or over TLS without a
    /// client certificate. What an authorization filter (the `authz` filter of the filter
    /// module) decides on.
    pub fn peer_identity(&self) -> Option<&PeerIdentity> {
        self.identity.as_deref()
    }

    /// Sets the caller's identity (the server does, from the connection).
    pub(crate) fn set_peer_identity(&mut self, identity: Option<Arc<PeerIdentity>>) {
        self.identity = identity;
    }

    /// The service being called.
    pub fn service(&self) -> &ServiceId {
        &self.service
    }

    /// The method being called.
    pub fn method(&self) -> &str {
        &self.method
    }

    /// A request header entry.
    pub fn header(&self, key: &str) -> Option<&str> {
        self.headers.get(key)
    }

    /// The calling application's name, if it sent one.
    pub fn caller_app(&self) -> Option<&str> {
        self.headers.get(crate::headers::CALLER_APP)
    }

    /// The trace context the caller sent, in either SOFATracer form.
    pub fn trace(&self) -> Option<&TraceContext> {
        self.trace
            .get_or_init(|| TraceContext::from_header(&self.headers))
            .as_ref()
    }

    /// The trace context for the next call made while handling this request: a child span.
    pub fn child_trace(&self) -> Option<TraceContext> {
        self.trace().map(|t| self.child_spans.child_of(t))
    }

    /// The request's baggage.
    pub fn baggage(&self) -> &BTreeMap<String, String> {
        self.baggage.get_or_init(|| {
            self.headers
                .iter()
                .filter_map(|(k, v)| {
                    k.strip_prefix(crate::headers::REQUEST_BAGGAGE_PREFIX)
                        .map(|k| (k.to_string(), v.to_string()))
                })
                .collect()
        })
    }

    /// When the caller gives up, if it said (its timeout, or the time left it sent).
    pub fn deadline(&self) -> Option<Instant> {
        self.deadline
    }

    /// Time left before the caller gives up, if it said.
    pub fn remaining(&self) -> Option<Duration> {
        self.deadline
            .map(|d| d.saturating_duration_since(Instant::now()))
    }

    /// Adds an entry to the baggage sent back with the response.
    pub fn set_response_baggage(&mut self, key: impl Into<String>, value: impl Into<String>) {
        self.response_baggage.insert(key.into(), value.into());
    }

    /// The response baggage set so far.
    pub fn response_baggage(&self) -> &BTreeMap<String, String> {
        &self.response_baggage
    }
}

pin_project! {
    /// A future run with a request context as the current one: its output comes with the
    /// context as the future left it. The context is moved into the task-local slot for each
    /// poll and taken back out after it (no shared cell to allocate: nothing outside this
    /// task can reach it), so this future is `Unpin` whenever the one it runs is.
    pub(crate) struct Scoped<F> {
        #[pin]
        inner: F,
        ctx: Option<RequestContext>,
        // Only for a context found missing, which cannot happen: it is taken out here alone.
        peer: SocketAddr,
    }
}

impl<F: Future> Future for Scoped<F> {
    type Output = (F::Output, RequestContext);

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.project();
        let inner = this.inner;
        let (polled, back) = CURRENT.sync_scope(RefCell::new(this.ctx.take()), || {
            let polled = inner.poll(cx);
            let back = CURRENT
                .try_with(|cell| cell.try_borrow_mut().ok()?.take())
                .ok()
                .flatten();
            (polled, back)
        });
        *this.ctx = back;
        let Poll::Ready(out) = polled else {
            return Poll::Pending;
        };
        let peer = *this.peer;
        let ctx = this.ctx.take().unwrap_or_else(|| {
            let unknown = ServiceId::new("unknown", "", "");
            RequestContext::new(peer, unknown, Cow::Borrowed(""), HeaderMap::new(), None)
        });
        Poll::Ready((out, ctx))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_context_asked_for_while_in_use_is_refused_not_waited_for() {
        let peer = SocketAddr::from(([127, 0, 0, 1], 12200));
        let service = ServiceId::new("com.example.Echo", "", "");
        let ctx = RequestContext::new(peer, service, Cow::Borrowed("echo"), HeaderMap::new(), None);
        let run = RequestContext::scope(ctx, async {
            RequestContext::with_current(|outer| {
                let nested = RequestContext::with_current(|inner| inner.peer_addr());
                (outer.method().to_string(), nested)
            })
        });
        // On a thread of its own: a nested use that waited for the context would never end.
        let (done, result) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            let _ = done.send(futures::executor::block_on(run));
        });
        let (seen, back) = result
            .recv_timeout(std::time::Duration::from_secs(10))
            .expect("the nested use of the context waited for it");
        assert_eq!(seen, Some(("echo".to_string(), None)));
        assert_eq!(back.method(), "echo", "the context comes back after use");
        assert!(
            RequestContext::with_current(|_| ()).is_none(),
            "none outside a request"
        );
    }
}
