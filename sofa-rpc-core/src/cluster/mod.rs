//! The Cluster extension point: how one call uses the candidate providers.

mod attempts;
mod failfast;
mod failover;

use std::sync::Arc;

use futures::future::BoxFuture;
use sofa_rpc_registry::ProviderInfo;

pub(crate) use attempts::AttemptPath;
pub use failfast::FailFast;
pub use failover::FailOver;

use crate::directory::Directory;
use crate::error::{Result, RpcError};
use crate::filter::Attempt;
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
    pub(crate) retries: u32,
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

    /// The candidates for `invocation` after the router chain.
    pub fn candidates(&self, invocation: &Invocation) -> Vec<Arc<ProviderInfo>> {
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
            .fold(Vec::new(), |candidates, router| {
                router.route(invocation, &ctx, candidates)
            })
    }

    /// Routes, then lets the load balancer choose, avoiding the providers in `exclude` while
    /// any other candidate remains.
    pub fn select(
        &self,
        invocation: &Invocation,
        exclude: &[Arc<ProviderInfo>],
    ) -> Result<Arc<ProviderInfo>> {
        let mut candidates = self.candidates(invocation);
        if candidates.is_empty() {
            return Err(RpcError::no_provider(format!(
                "no provider of {} is available",
                invocation.service()
            )));
        }
        if !exclude.is_empty() && candidates.len() > exclude.len() {
            let remaining: Vec<_> = candidates
                .iter()
                .filter(|p| !exclude.contains(p))
                .cloned()
                .collect();
            if !remaining.is_empty() {
                candidates = remaining;
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

    /// Makes `attempt`: through the consumer's attempt filters, to its provider.
    pub async fn invoke(&self, attempt: Attempt) -> Result<Response> {
        self.inner.attempts.run(attempt).await
    }
}
