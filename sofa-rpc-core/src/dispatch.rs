//! [`Dispatch`]: what a provider exports, implemented by the generated `FooServer<T>`.

use std::future::Future;
use std::pin::Pin;

use crate::error::Result;
use crate::serialize::{Reply, RequestReader};
use crate::service_id::ServiceId;

/// A method call whose arguments are decoded; it runs when awaited.
pub type Prepared = Pin<Box<dyn Future<Output = Reply> + Send + 'static>>;

/// A service a provider can serve: its id, its methods, and how to call one of them with
/// arguments read from a request.
///
/// `#[service]` generates the implementation (`FooServer<T>`); writing one by hand is how to
/// serve a service without a trait.
pub trait Dispatch: Send + Sync + 'static {
    /// The service's id as its definition names it (a provider config may override the version
    /// and uniqueId).
    fn service_id(&self) -> ServiceId;

    /// The method names.
    fn methods(&self) -> &'static [&'static str];

    /// Reads the arguments of `method` from `args` and returns the call, ready to run. Fails
    /// for an unknown method or undecodable arguments.
    fn prepare(&self, method: &str, args: &mut dyn RequestReader<'_>) -> Result<Prepared>;
}
