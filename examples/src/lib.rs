//! The service the examples share, and its implementation.
//!
//! Run one with `cargo run -p sofa-rpc-examples --bin <name>`: `quickstart`, `hello-server` and
//! `hello-client`, `generic`, `callback`.

use serde::{Deserialize, Serialize};
use sofa_rpc_core::{AppError, RemoteException, RequestContext};

/// A greeting request.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(rename = "com.example.hello.Greeting")]
pub struct Greeting {
    /// Who to greet.
    pub name: String,
    /// How many exclamation marks.
    pub excitement: u8,
}

/// Why a greeting was refused: an application error, reported to callers as the Java
/// exception `com.example.hello.RefusedException`.
#[derive(Debug, PartialEq, Eq)]
pub struct Refused(pub String);

impl AppError for Refused {
    fn to_exception(&self) -> RemoteException {
        RemoteException::new("com.example.hello.RefusedException", self.0.clone())
    }

    fn from_exception(e: RemoteException) -> Self {
        Refused(e.message)
    }
}

/// The examples' service.
#[sofa_rpc_core::service(interface = "com.example.hello.HelloService")]
pub trait HelloService {
    /// Greets `name`.
    #[sofa(name = "sayHello")]
    async fn say_hello(&self, name: String) -> String;

    /// Greets with style; refuses empty names.
    async fn greet(&self, greeting: Greeting) -> Result<String, Refused>;

    /// Takes a while, then answers.
    async fn slow(&self, ms: u64) -> String;
}

/// The implementation every example serves.
#[derive(Clone, Debug, Default)]
pub struct Greeter;

impl HelloService for Greeter {
    async fn say_hello(&self, name: String) -> String {
        let caller = RequestContext::with_current(|ctx| ctx.peer_addr().to_string());
        format!("hello, {name} (from {})", caller.unwrap_or_default())
    }

    async fn greet(&self, greeting: Greeting) -> Result<String, Refused> {
        if greeting.name.trim().is_empty() {
            return Err(Refused("a greeting needs a name".into()));
        }
        let marks = "!".repeat(usize::from(greeting.excitement));
        Ok(format!("hello, {}{marks}", greeting.name))
    }

    async fn slow(&self, ms: u64) -> String {
        tokio::time::sleep(std::time::Duration::from_millis(ms)).await;
        format!("done after {ms} ms")
    }
}
