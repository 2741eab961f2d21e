//! [`Invocation`]: one call on its way from a stub to a provider.

use std::any::Any;
use std::borrow::Cow;
use std::fmt;
use std::sync::Arc;

use crate::context::InvokeContext;
use crate::service_id::ServiceId;
use crate::value::ValueRef;

/// How the caller waits for the outcome (SOFARPC's `invokeType`). Only `Oneway` changes the
/// frame; the others differ in how the result is delivered and travel in the `type` header.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum InvokeType {
    /// The caller awaits the result.
    #[default]
    Sync,
    /// No response is expected or sent.
    Oneway,
    /// The caller gets a handle to await later.
    Future,
    /// A callback receives the result.
    Callback,
}

impl InvokeType {
    /// SOFARPC's name: `sync`, `oneway`, `future`, `callback`.
    pub fn as_str(self) -> &'static str {
        match self {
            InvokeType::Sync => "sync",
            InvokeType::Oneway => "oneway",
            InvokeType::Future => "future",
            InvokeType::Callback => "callback",
        }
    }
}

/// The arguments of a call, type-erased so that any serializer can encode them.
///
/// Generated stubs implement it for each method; [`DynArgs`] serves generic calls.
pub trait Args: Send + Sync + 'static {
    /// Number of arguments.
    fn len(&self) -> usize;

    /// `true` when the method takes no arguments.
    fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Argument `index`, or `None` past the end.
    fn arg(&self, index: usize) -> Option<ValueRef<'_>>;

    /// The arguments as their own type, for an in-process provider of the same service
    /// definition to take without serializing them. Generated stubs return themselves; the
    /// default, `None`, keeps a call on the remote path.
    fn as_any(&self) -> Option<&dyn Any> {
        None
    }
}

impl Args for () {
    fn len(&self) -> usize {
        0
    }

    fn arg(&self, _: usize) -> Option<ValueRef<'_>> {
        None
    }
}

/// Arguments given as serde values with explicit Java types, for generic calls.
///
/// ```
/// use sofa_rpc_core::DynArgs;
///
/// let args = DynArgs::new().arg("java.lang.String", "hi").arg("int", 3);
/// assert_eq!(args.java_types().collect::<Vec<_>>(), ["java.lang.String", "int"]);
/// ```
#[derive(Default)]
pub struct DynArgs {
    values: Vec<(
        Cow<'static, str>,
        Box<dyn erased_serde::Serialize + Send + Sync>,
    )>,
}

impl DynArgs {
    /// No arguments.
    pub fn new() -> Self {
        DynArgs { values: Vec::new() }
    }

    /// Appends an argument of Java type `java_type` (e.g. `java.lang.String`, `int`,
    /// `com.example.User`).
    pub fn arg<T>(mut self, java_type: impl Into<Cow<'static, str>>, value: T) -> Self
    where
        T: serde::Serialize + Send + Sync + 'static,
    {
        self.values.push((java_type.into(), Box::new(value)));
        self
    }

    /// The Java types, in order.
    pub fn java_types(&self) -> impl Iterator<Item = &str> {
        self.values.iter().map(|(t, _)| t.as_ref())
    }
}

impl fmt::Debug for DynArgs {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list().entries(self.java_types()).finish()
    }
}

impl Args for DynArgs {
    fn len(&self) -> usize {
        self.values.len()
    }

    fn arg(&self, index: usize) -> Option<ValueRef<'_>> {
        let (java_type, value) = self.values.get(index)?;
        let value: &dyn erased_serde::Serialize = value.as_ref();
        Some(ValueRef::new(Some(value), None, java_type))
    }
}

/// One call: which service and method, with what arguments and context.
///
/// Cheap to clone (the arguments are shared), so clusters can retry it on another provider.
#[derive(Clone)]
pub struct Invocation {
    service: ServiceId,
    method: Cow<'static, str>,
    args: Arc<dyn Args>,
    context: InvokeContext,
    invoke_type: InvokeType,
}

impl Invocation {
    /// A call of `method` on `service`.
    pub fn new(
        service: ServiceId,
        method: impl Into<Cow<'static, str>>,
        args: Arc<dyn Args>,
    ) -> Self {
        Invocation {
            service,
            method: method.into(),
            args,
            context: InvokeContext::default(),
            invoke_type: InvokeType::Sync,
        }
    }

    /// The target service.
    pub fn service(&self) -> &ServiceId {
        &self.service
    }

    /// The method name.
    pub fn method(&self) -> &str {
        &self.method
    }

    /// The method name, cheap to clone (it is usually `'static`).
    pub fn method_name(&self) -> Cow<'static, str> {
        self.method.clone()
    }

    /// The arguments.
    pub fn args(&self) -> &dyn Args {
        self.args.as_ref()
    }

    /// The per-call context: timeout, baggage, attachments.
    pub fn context(&self) -> &InvokeContext {
        &self.context
    }

    /// The per-call context, for filters to amend.
    pub fn context_mut(&mut self) -> &mut InvokeContext {
        &mut self.context
    }

    /// How the caller waits.
    pub fn invoke_type(&self) -> InvokeType {
        self.invoke_type
    }

    /// Sets how the caller waits.
    pub fn set_invoke_type(&mut self, invoke_type: InvokeType) {
        self.invoke_type = invoke_type;
    }
}

impl fmt::Debug for Invocation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Invocation")
            .field("service", &self.service)
            .field("method", &self.method)
            .field("args", &self.args.len())
            .field("invoke_type", &self.invoke_type)
            .finish()
    }
}
