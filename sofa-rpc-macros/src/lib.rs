//! # sofa-rpc-macros
//!
//! The procedural macros of sofa-rpc-rs. Use them through `sofa_rpc_core`
//! (`sofa_rpc_core::service`, `sofa_rpc_core::reference`); their output refers to
//! `::sofa_rpc_core` and reaches it only through its hidden `__private` module.
//!
//! | macro | on | generates |
//! |---|---|---|
//! | [`macro@service`] | a trait of async methods | the trait (with `Send` futures), `FooClient`, `FooServer<T>` |
//! | [`macro@reference`] | a function declaration | a function returning a shared client built from the attribute's configuration |

mod attrs;
mod reference;
mod service;

use proc_macro::TokenStream;

/// Turns a trait of async methods into a SOFARPC service: the trait itself (its methods return
/// `Send` futures, so implementations can be served on any runtime thread), a client stub
/// `<Trait>Client` whose methods return `sofa_rpc_core::Call`s, and a dispatcher
/// `<Trait>Server<T>` that serves any `T: Trait`. A server of the same process also takes the
/// stub's calls in-process: the stub's typed arguments are handed to the dispatcher as they are
/// (copied, so argument types must be `Clone` for that) and the result comes back unserialized.
///
/// Attribute keys, all optional:
///
/// | key | meaning | default |
/// |---|---|---|
/// | `interface` | the service interface name, e.g. `"com.example.EchoService"` to match Java | the trait's Rust path |
/// | `version` | the service version | `"1.0"` |
/// | `unique_id` | the service uniqueId | none |
///
/// Per method, `#[sofa(name = "echoObj")]` sets the method name on the wire; per argument,
/// `#[sofa(java_type = "com.example.User")]` sets its Java type (otherwise derived from the Rust
/// type, `java.lang.Object` when unknown). A method returning `Result<T, E>` (spelled
/// `Result`, two type arguments) reports `Err(e)` as an application exception; `E` must
/// implement `sofa_rpc_core::AppError`.
///
/// ```
/// use sofa_rpc_core::{Dispatch, RemoteException};
///
/// #[sofa_rpc_core::service(interface = "com.example.EchoService")]
/// pub trait EchoService {
///     /// Returns its argument.
///     async fn echo(&self, message: String) -> String;
///     /// Java-style name on the wire; `Err` travels as an application exception.
///     #[sofa(name = "checkName")]
///     async fn check_name(&self, name: String) -> Result<bool, RemoteException>;
/// }
///
/// struct Echo;
///
/// impl EchoService for Echo {
///     async fn echo(&self, message: String) -> String {
///         message
///     }
///     async fn check_name(&self, name: String) -> Result<bool, RemoteException> {
///         match name.is_empty() {
///             true => Err(RemoteException::new("java.lang.IllegalArgumentException", "empty")),
///             false => Ok(true),
///         }
///     }
/// }
///
/// let server = EchoServiceServer::new(Echo);
/// assert_eq!(server.service_id().unique_name(), "com.example.EchoService:1.0");
/// assert_eq!(server.methods(), &["echo", "checkName"]);
/// assert_eq!(EchoServiceClient::INTERFACE, "com.example.EchoService");
/// ```
#[proc_macro_attribute]
pub fn service(attr: TokenStream, item: TokenStream) -> TokenStream {
    service::expand(attr.into(), item.into())
        .unwrap_or_else(syn::Error::into_compile_error)
        .into()
}

/// Declares a client built from configuration, the counterpart of SOFA's `@SofaReference`.
///
/// Put it on a function declaration that returns `Result<Stub, _>` for a generated stub type;
/// the function builds the client from the attribute's settings on first use and then returns
/// clones of that one shared client (connections included).
///
/// | key | meaning |
/// |---|---|
/// | `direct_url` | provider URLs, `;`-separated |
/// | `registry` | registry URL |
/// | `timeout` | call timeout in milliseconds |
/// | `connect_timeout` | connect timeout in milliseconds |
/// | `serialization`, `load_balancer`, `cluster` | extension names |
/// | `retries`, `conn_num` | numbers |
/// | `version`, `unique_id`, `app_name` | strings |
///
/// ```
/// # #[sofa_rpc_core::service(interface = "com.example.EchoService")]
/// # pub trait EchoService {
/// #     async fn echo(&self, message: String) -> String;
/// # }
/// #[sofa_rpc_core::reference(direct_url = "bolt://127.0.0.1:12200", timeout = 1000, retries = 1)]
/// fn echo_service() -> sofa_rpc_core::Result<EchoServiceClient>;
///
/// # fn main() -> Result<(), Box<dyn std::error::Error>> {
/// // Built on first use (no connection is made until a call), shared afterwards.
/// let echo = echo_service()?;
/// assert_eq!(echo.service_id().unique_name(), "com.example.EchoService:1.0");
/// assert_eq!(echo.client().config().retries, 1);
/// # Ok(())
/// # }
/// ```
#[proc_macro_attribute]
pub fn reference(attr: TokenStream, item: TokenStream) -> TokenStream {
    reference::expand(attr.into(), item.into())
        .unwrap_or_else(syn::Error::into_compile_error)
        .into()
}
