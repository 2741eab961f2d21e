//! The Filter extension point: tower layers around calls, attempts and requests.
//!
//! A filter can wrap three stacks, each in the order the config lists the filters, outermost
//! first:
//!
//! * the consumer's [`Invoker`], once per call, around the cluster;
//! * the consumer's [`AttemptInvoker`], once per attempt, inside the cluster: it sees the
//!   provider chosen, the attempt number and that attempt's outcome;
//! * the provider's [`ProviderInvoker`], once per request, around the service method.
//!
//! Any `tower::Layer` becomes a filter with [`ConsumerLayer`], [`AttemptLayer`] or
//! [`ProviderLayer`]; a type implementing [`Filter`] by hand can wrap several stacks.

mod attempt;
mod authz;
mod context;
mod invoker;
mod timeout;

use std::convert::Infallible;

use tower::util::BoxCloneSyncService;
use tower::{Layer, Service};

pub use attempt::{Attempt, AttemptInvoker};
pub use authz::{AuthzFilter, AuthzRule};
pub use context::ContextFilter;
pub use invoker::Invoker;
pub use timeout::{Timeout, TimeoutFilter, TimeoutLayer};

use crate::context::RequestContext;
use crate::dispatch::Prepared;
use crate::error::RpcError;
use crate::invocation::Invocation;
use crate::response::Response;
use crate::serialize::Reply;

/// A service method about to run on the provider, with its request's context.
pub struct ProviderCall {
    /// What the provider knows about the request.
    pub context: RequestContext,
    /// The method call, arguments already decoded; it runs when awaited.
    pub prepared: Prepared,
}

/// The provider-side service that runs a method: filters, then the method itself. It returns
/// the reply and the request context as the method left it (with its response baggage).
pub type ProviderInvoker = BoxCloneSyncService<ProviderCall, (Reply, RequestContext), Infallible>;

/// Wraps calls on the consumer side, the provider side, or both. Registered by name in an
/// [`ExtensionLoader`](crate::ExtensionLoader) and selected by configs.
pub trait Filter: Send + Sync + 'static {
    /// Wraps the consumer's invoker. The default leaves it as is.
    fn consumer(&self, next: Invoker) -> Invoker {
        next
    }

    /// Wraps the consumer's attempt invoker: what each attempt at a provider goes through. The
    /// default leaves it as is.
    fn attempt(&self, next: AttemptInvoker) -> AttemptInvoker {
        next
    }

    /// Wraps the provider's invoker. The default leaves it as is.
    fn provider(&self, next: ProviderInvoker) -> ProviderInvoker {
        next
    }
}

/// A consumer-side filter made of any `tower::Layer` over the [`Invoker`].
///
/// A client keeps a clone of its stack for each thread that calls it (so that calls never wait
/// on one another), and clones it again for a call that finds its filters not ready: state a
/// layer means to share across all calls belongs behind an `Arc`, as in tower's
/// `ConcurrencyLimit`, not in the layer's service by value.
///
/// ```
/// use sofa_rpc_core::filter::ConsumerLayer;
/// use sofa_rpc_core::{ExtensionLoader, Invocation};
/// use tower::util::MapRequestLayer;
///
/// let mut loader = ExtensionLoader::default();
/// // Any tower layer: here, one that tags every call with a header entry.
/// loader.register_filter(
///     "tag",
///     ConsumerLayer(MapRequestLayer::new(|mut inv: Invocation| {
///         inv.context_mut().insert_attachment("zone", "gz01");
///         inv
///     })),
/// );
/// ```
#[derive(Clone, Debug)]
pub struct ConsumerLayer<L>(pub L);

impl<L> Filter for ConsumerLayer<L>
where
    L: Layer<Invoker> + Send + Sync + 'static,
    L::Service:
        Service<Invocation, Response = Response, Error = RpcError> + Clone + Send + Sync + 'static,
    <L::Service as Service<Invocation>>::Future: Send + 'static,
{
    fn consumer(&self, next: Invoker) -> Invoker {
        Invoker::new(self.0.layer(next))
    }
}

/// An attempt filter made of any `tower::Layer` over the [`AttemptInvoker`].
///
/// ```
/// use sofa_rpc_core::filter::{Attempt, AttemptLayer};
/// use sofa_rpc_core::ExtensionLoader;
/// use tower::util::MapRequestLayer;
///
/// let mut loader = ExtensionLoader::default();
/// // Logs every provider a call tries.
/// loader.register_filter(
///     "log-attempts",
///     AttemptLayer(MapRequestLayer::new(|attempt: Attempt| {
///         println!("attempt {} at {}", attempt.number, attempt.provider.address());
///         attempt
///     })),
/// );
/// ```
#[derive(Clone, Debug)]
pub struct AttemptLayer<L>(pub L);

impl<L> Filter for AttemptLayer<L>
where
    L: Layer<AttemptInvoker> + Send + Sync + 'static,
    L::Service:
        Service<Attempt, Response = Response, Error = RpcError> + Clone + Send + Sync + 'static,
    <L::Service as Service<Attempt>>::Future: Send + 'static,
{
    fn attempt(&self, next: AttemptInvoker) -> AttemptInvoker {
        AttemptInvoker::new(self.0.layer(next))
    }
}

/// A provider-side filter made of any `tower::Layer` over the [`ProviderInvoker`].
#[derive(Clone, Debug)]
pub struct ProviderLayer<L>(pub L);

impl<L> Filter for ProviderLayer<L>
where
    L: Layer<ProviderInvoker> + Send + Sync + 'static,
    L::Service: Service<ProviderCall, Response = (Reply, RequestContext), Error = Infallible>
        + Clone
        + Send
        + Sync
        + 'static,
    <L::Service as Service<ProviderCall>>::Future: Send + 'static,
{
    fn provider(&self, next: ProviderInvoker) -> ProviderInvoker {
        ProviderInvoker::new(self.0.layer(next))
    }
}
