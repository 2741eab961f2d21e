//! [`Dispatch`]: what a provider exports, implemented by the generated `FooServer<T>`.

use std::borrow::Cow;
use std::future::Future;
use std::pin::Pin;

use crate::error::Result;
use crate::invocation::Args;
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

    /// Whether [`prepare_local`](Self::prepare_local) can take `args` for `method`: they are the
    /// typed arguments a stub of this very service definition made, and can be owned. Decides
    /// whether a consumer in the same process calls this service in-process. `#[service]`
    /// generates it; the default, `false`, keeps every call on the network.
    fn accepts_local(&self, method: &str, args: &dyn Args) -> bool {
        let _ = (method, args);
        false
    }

    /// The call of `method` with `args` as they are, without serializing them: for a consumer
    /// in the same process. `None` when [`accepts_local`](Self::accepts_local) says no. The
    /// reply's value must be the result as the stub's type (what `#[service]` makes).
    fn prepare_local(&self, method: &str, args: &dyn Args) -> Option<Prepared> {
        let _ = (method, args);
        None
    }

    /// The methods with their Java signatures, for the built-in metadata service (so callers
    /// without the interface's jar or trait know what to send). `#[service]` generates it; the
    /// default knows only the names.
    fn method_descriptors(&self) -> Vec<MethodDescriptor> {
        self.methods()
            .iter()
            .map(|name| MethodDescriptor::untyped(*name))
            .collect()
    }
}

/// A method as a Java caller sees it: its name and the Java types (`Class.getName()` form) of
/// its parameters and result, the types a generic caller puts in `methodArgSigs`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MethodDescriptor {
    /// The method name on the wire.
    pub name: Cow<'static, str>,
    /// The parameter types in order; `None` when the dispatcher does not know them.
    pub parameter_types: Option<Vec<Cow<'static, str>>>,
    /// The return type (`void` for none); `None` when the dispatcher does not know it.
    pub return_type: Option<Cow<'static, str>>,
}

impl MethodDescriptor {
    /// A method with known parameter and return types.
    pub fn new(
        name: impl Into<Cow<'static, str>>,
        parameter_types: Vec<Cow<'static, str>>,
        return_type: impl Into<Cow<'static, str>>,
    ) -> Self {
        MethodDescriptor {
            name: name.into(),
            parameter_types: Some(parameter_types),
            return_type: Some(return_type.into()),
        }
    }

    /// A method known only by name.
    pub fn untyped(name: impl Into<Cow<'static, str>>) -> Self {
        MethodDescriptor {
            name: name.into(),
            parameter_types: None,
            return_type: None,
        }
    }
}
