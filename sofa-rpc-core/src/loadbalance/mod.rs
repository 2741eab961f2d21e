//! The LoadBalancer extension point: which one provider gets a call.

mod random;
mod rng;
mod round_robin;

use std::sync::Arc;

use sofa_rpc_registry::ProviderInfo;

pub use random::Random;
pub use round_robin::RoundRobin;

use crate::invocation::Invocation;

/// Picks one provider among the candidates the routers left.
///
/// Registered by name (through a factory, so each consumer gets its own state) in an
/// [`ExtensionLoader`](crate::ExtensionLoader).
pub trait LoadBalancer: Send + Sync + 'static {
    /// The chosen provider; `None` only when `providers` is empty.
    fn select(
        &self,
        invocation: &Invocation,
        providers: &[Arc<ProviderInfo>],
    ) -> Option<Arc<ProviderInfo>>;
}
