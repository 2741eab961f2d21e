//! The Cluster extension point: how one call uses the candidate providers.

mod attempts;
mod failfast;
mod failover;

use std::borrow::Cow;
use std::future::Future;
use std::sync::Arc;

use futures::future::BoxFuture;
use sofa_rpc_registry::ProviderInfo;

pub(crate) use attempts::AttemptPath;
pub use failfast::FailFast;
pub use failover::FailOver;

use crate::directory::Directory;
use crate::error::{Result, RpcError};
use crate::fault::FaultIsolation;
use crate::filter::Attempt;
use crate::guard::Guard;
use crate::inproc;
use crate::invocation::Invocation;
use crate::loadbalance::LoadBalancer;
use crate::response::Response;
use crate::router::{RouteContext, Router};

/// Runs one call against the providers [`ClusterContext`] offers: picks, sends, and decides
/// what to do on failure (try another provider, or give up).
pub trait Cluster: Send + Sync + 'static {
    /// Performs `invocation`.
    fn invoke(
        &self,
        invocation: Invocation,
        ctx: ClusterContext,
    ) -> BoxFuture<'static, Result<Response>>;
}

/// What a [`Cluster`] works with: the routers, the load balancer, the providers and the
/// attempt path of one consumer.
#[derive(Clone)]
pub struct ClusterContext {
    inner: Arc<ClusterParts>,
}

/// The parts of a [`ClusterContext`].
pub(crate) struct ClusterParts {
    pub(crate) routers: Vec<Arc<dyn Router>>,
    pub(crate) load_balancer: Arc<dyn LoadBalancer>,
    pub(crate) direct: Vec<Arc<ProviderInfo>>,
    /// The registry's lists; `None` for a consumer of direct URLs only.
    pub(crate) directory: Option<Arc<Directory>>,
    /// Attempt filters, then the transport.
    pub(crate) attempts: AttemptPath,
    /// Fault isolation, when enabled.
    pub(crate) fault: Option<Arc<FaultIsolation>>,
    /// The traffic guard: providers whose breaker is open are left out.
    pub(crate) guard: Option<Guard>,
    pub(crate) retries: u32,
    /// Whether a provider exported in this process takes the calls it can.
    pub(crate) in_process: bool,
    /// Set when the router chain is made of the built-in `directUrl` and `registry` only:
    /// whether each is in it. Such a chain picks a list as it is, so a call reads that list in
    /// place instead of copying it.
    pub(crate) plain_routes: Option<PlainRoutes>,
}

/// Which built-in list routers a chain of nothing else holds.
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct PlainRoutes {
    /// `directUrl`: the direct URLs, when there are any.
    pub(crate) direct: bool,
    /// `registry`: the registry's list, when no router before chose a list.
    pub(crate) registry: bool,
}

impl PlainRoutes {
    /// The routes of a chain of `names`, if it holds only the built-in list routers.
    pub(crate) fn of<S: AsRef<str>>(names: &[S]) -> Option<PlainRoutes> {
        names
            .iter()
            .try_fold(PlainRoutes::default(), |routes, name| match name.as_ref() {
                "directUrl" => Some(PlainRoutes {
                    direct: true,
                    ..routes
                }),
                "registry" => Some(PlainRoutes {
                    registry: true,
                    ..routes
                }),
                _ => None,
            })
    }
}

impl ClusterContext {
    pub(crate) fn new(parts: ClusterParts) -> Self {
        ClusterContext {
            inner: Arc::new(parts),
        }
    }

    /// Extra attempts allowed after the first (the consumer's `retries`).
    pub fn retries(&self) -> u32 {
        self.inner.retries
    }

    /// The candidates for `invocation` after the router chain (none when a router refuses
    /// the call).
    pub fn candidates(&self, invocation: &Invocation) -> Vec<Arc<ProviderInfo>> {
        self.try_candidates(invocation).unwrap_or_default()
    }

    /// The candidates for `invocation` after the router chain, or the error of a router that
    /// refuses the call.
    pub fn try_candidates(&self, invocation: &Invocation) -> Result<Vec<Arc<ProviderInfo>>> {
        let registry = self
            .inner
            .directory
            .as_ref()
            .map(|d| d.providers(invocation.service()));
        let ctx = RouteContext {
            direct: &self.inner.direct,
            registry: registry.as_deref().unwrap_or_default(),
        };
        self.inner
            .routers
            .iter()
            .try_fold(Vec::new(), |candidates, router| {
                router.try_route(invocation, &ctx, candidates)
            })
    }

    /// Routes, leaves out the providers in `exclude` (those a call already tried) and those
    /// without a live connection, then lets the load balancer choose. A call with a
    /// [target](crate::InvokeContext::target) goes there, nowhere else. Otherwise a provider
    /// exported in this process that can take the call is chosen before any other, unless the
    /// consumer turned [in-process calls](crate::ConsumerConfig::in_process) off or the call
    /// tried it already.
    ///
    /// Fails with a [`ClientRouter`](crate::ErrorKind::ClientRouter) error naming the service
    /// when no provider is listed, when every one was already tried, or when none has a live
    /// connection (the pool keeps reconnecting to those in the background, and they come back
    /// as soon as a connection succeeds).
    pub fn select(
        &self,
        invocation: &Invocation,
        exclude: &[Arc<ProviderInfo>],
    ) -> Result<Arc<ProviderInfo>> {
        if let Some(target) = invocation.context().target() {
            return if exclude.contains(target) {
                Err(RpcError::no_provider(format!(
                    "the call's target {} was tried already",
                    target.address()
                )))
            } else {
                Ok(target.clone())
            };
        }
        if self.inner.in_process {
            if let Some(local) = inproc::find(invocation.service()) {
                if !exclude.contains(local.provider()) && local.accepts(invocation) {
                    return Ok(local.provider().clone());
                }
            }
        }
        // The registry's list of the service, held while the call reads it in place.
        let registry;
        let mut candidates: Cow<'_, [Arc<ProviderInfo>]> = match self.inner.plain_routes {
            Some(routes) if routes.direct && !self.inner.direct.is_empty() => {
                Cow::Borrowed(&self.inner.direct)
            }
            Some(PlainRoutes { registry: true, .. }) => match &self.inner.directory {
                Some(directory) => {
                    registry = directory.providers(invocation.service());
                    Cow::Borrowed(&registry[..])
                }
                None => Cow::Borrowed(&[]),
            },
            Some(_) => Cow::Borrowed(&[]),
            None => Cow::Owned(self.try_candidates(invocation)?),
        };
        if candidates.is_empty() {
            return Err(RpcError::no_provider(format!(
                "no provider of {} is available: none is listed",
                invocation.service()
            )));
        }
        // The list is copied only when some of it is left out.
        if candidates.iter().any(|p| exclude.contains(p)) {
            candidates.to_mut().retain(|p| !exclude.contains(p));
            if candidates.is_empty() {
                return Err(RpcError::no_provider(format!(
                    "no provider of {} is left to try: all {} were tried",
                    invocation.service(),
                    exclude.len()
                )));
            }
        }
        let transport = self.inner.attempts.transport();
        if transport.any_down() && candidates.iter().any(|p| transport.is_down(p.address())) {
            let listed = candidates.len();
            candidates
                .to_mut()
                .retain(|p| !transport.is_down(p.address()));
            if candidates.is_empty() {
                return Err(RpcError::no_provider(format!(
                    "no provider of {} is available: none of the {listed} has a live connection \
                     (reconnecting in the background)",
                    invocation.service()
                )));
            }
        }
        if let Some(guard) = &self.inner.guard {
            guard.skip_open(invocation, &mut candidates);
        }
        if let Some(fault) = &self.inner.fault {
            if fault.degrades_any() {
                fault.apply(invocation.service(), candidates.to_mut());
            }
        }
        self.inner
            .load_balancer
            .select(invocation, &candidates)
            .ok_or_else(|| {
                RpcError::no_provider(format!(
                    "the load balancer chose none of {} providers of {}",
                    candidates.len(),
                    invocation.service()
                ))
            })
    }

    /// Whether a provider exported in this process would take `invocation` (and in-process
    /// calls are on): then no provider list is needed to make it.
    pub(crate) fn takes_in_process(&self, invocation: &Invocation) -> bool {
        self.inner.in_process
            && invocation.context().target().is_none()
            && inproc::find(invocation.service()).is_some_and(|local| local.accepts(invocation))
    }

    /// Makes `attempt`: through the consumer's attempt filters, to its provider.
    pub fn invoke(&self, attempt: Attempt) -> impl Future<Output = Result<Response>> + Send + '_ {
        self.inner.attempts.run(attempt)
    }
}
