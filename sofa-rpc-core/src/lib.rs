//! # sofa-rpc-core
//!
//! SOFARPC for Rust: services defined as Rust traits, called across the network over
//! SOFABolt, wire-compatible with Java SOFARPC, sofa-rpc-node and anthunder.
//!
//! A call flows through the layers SOFARPC is known for, each an extension point registered by
//! name in an [`ExtensionLoader`]:
//!
//! ```text
//! FooClient (generated) -> Invocation -> call filters (tower layers, once per call)
//!   -> Cluster (failover | failfast): Router chain -> LoadBalancer -> one provider
//!   -> attempt filters (tower layers, once per attempt, seeing the provider)
//!   -> Serializer -> sofa-bolt ConnectionPool -> Connection
//! Server -> provider filters -> FooServer<T> (generated) -> your implementation
//! ```
//!
//! | extension point | trait | built-ins |
//! |---|---|---|
//! | serializer | [`Serializer`] | `hessian2` (alias `hessian`), `hessian4`, `protobuf`, `json`, `msgpack` |
//! | filter | [`Filter`] (any `tower::Layer`, on calls, attempts or requests) | `context`, `timeout`; `authz` ([`filter::AuthzFilter`]) is registered with its rules |
//! | router | [`Router`] | `directUrl`, `registry`, `zone`, `tag`, `mesh` |
//! | cluster | [`Cluster`] | `failover`, `failfast` |
//! | load balancer | [`LoadBalancer`] | `random`, `roundRobin` |
//! | registry | [`registry::Registry`] | `local`; `zookeeper`, `etcd`, `nacos` (cargo features) |
//!
//! What happens along the way (calls, attempts, requests, providers, connections) is published
//! on an [`event::EventBus`] for fault isolation, metrics and logs to subscribe to, and runs in
//! `tracing` spans (`rpc.call`, `rpc.request`, one per connection).
//!
//! Rate limits, circuit breakers, degradation and fault injection come from a traffic
//! [`guard::Guard`] on a consumer or a server, driven by rules (JSON or TOML) that can be
//! replaced while calls run.
//!
//! Invoke types: await a [`Call`] (sync), [`Call::oneway`], [`Call::future`],
//! [`Call::callback`]; generic calls by name through [`GenericService`], with results as any
//! serde type or the dynamic [`Value`].
//!
//! ## Layout
//!
//! Modules import only downward (a test, `tests/layers.rs`, holds the code to this table):
//!
//! | layer | modules | what |
//! |---|---|---|
//! | model | `error`, `headers`, `service_id`, `value`, `trace`, `java_type`, `context`, `invocation`, `request_head` | what a call is: its service, arguments, context, errors and request header |
//! | wire and extension traits | `serialize`, `response`, `dispatch`, [`metadata`], `directory`, `transport`, `inproc`, [`event`] | serializers, what a provider exports and how it describes it, provider lists, sending one request, the services exported in this process, the event bus |
//! | governance | [`filter`], [`router`], [`loadbalance`], [`fault`], [`guard`], [`cluster`], `metrics` | how a call is wrapped, routed, balanced, isolated from sick providers, limited and broken, retried, and counted (feature `metrics`) |
//! | assembly | `extension` | the [`ExtensionLoader`]: every extension by name |
//! | front | `client`, `server` | [`Client`] and [`Server`], built from configs |
//!
//! ## Example
//!
//! ```
//! use sofa_rpc_core::{Client, ConsumerConfig, Server};
//!
//! // The service: a trait of async methods. `interface` is the name Java and Node peers use.
//! #[sofa_rpc_core::service(interface = "com.example.EchoService")]
//! pub trait EchoService {
//!     async fn echo(&self, message: String) -> String;
//!     async fn add(&self, a: i32, b: i32) -> i32;
//! }
//!
//! struct Echo;
//!
//! impl EchoService for Echo {
//!     async fn echo(&self, message: String) -> String {
//!         message
//!     }
//!     async fn add(&self, a: i32, b: i32) -> i32 {
//!         a + b
//!     }
//! }
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> sofa_rpc_core::Result<()> {
//! // Provider side: export the generated dispatcher.
//! let server = Server::builder()
//!     .bind("127.0.0.1:0")
//!     .service(EchoServiceServer::new(Echo))
//!     .start()
//!     .await?;
//!
//! // Consumer side: a client from a config, wrapped in the generated stub.
//! let config = ConsumerConfig::new().direct_url(server.local_addr().to_string());
//! let echo = EchoServiceClient::new(Client::new(config)?);
//! assert_eq!(echo.echo("hi".into()).await?, "hi");
//! assert_eq!(echo.add(2, 3).await?, 5);
//!
//! server.shutdown().await;
//! # Ok(())
//! # }
//! ```
//!
//! ## Features of the wire
//!
//! Requests use SOFARPC's class names and header keys (`service`, `sofa_head_target_service`,
//! `sofa_head_method_name`, baggage as `rpc_req_baggage.*`), so a provider routes them the way
//! a Java one does; the serializer's codec byte travels in every frame and providers answer in
//! kind.

mod client;
pub mod cluster;
mod context;
mod directory;
mod dispatch;
mod error;
pub mod event;
mod extension;
pub mod fault;
pub mod filter;
pub mod guard;
pub mod headers;
mod inproc;
mod invocation;
mod java_type;
pub mod loadbalance;
pub mod metadata;
#[cfg(feature = "metrics")]
pub mod metrics;
mod request_head;
mod response;
pub mod router;
pub mod serialize;
mod server;
mod service_id;
mod trace;
mod transport;
mod value;

#[doc(hidden)]
#[path = "private.rs"]
pub mod __private;

pub use client::{
    Call, CallFuture, Client, ConsumerConfig, Decode, GenericService, ResponseHandle,
};
pub use cluster::{Cluster, ClusterContext};
pub use context::{InvokeContext, RequestContext};
pub use dispatch::{Dispatch, MethodDescriptor, Prepared};
pub use error::{ErrorKind, Result, RpcError};
pub use extension::ExtensionLoader;
pub use filter::Filter;
pub use invocation::{Args, DynArgs, Invocation, InvokeType};
pub use java_type::{java_array_of, JavaType};
pub use loadbalance::LoadBalancer;
pub use response::{Response, RpcResponse};
pub use router::Router;
pub use serialize::{Reply, ReplyValue, RequestReader, ResponseBody, Serializer};
pub use server::{ProviderConfig, Server, ServerBuilder, ServerConfig};
pub use service_id::ServiceId;
pub use sofa_bolt::PeerIdentity;
pub use sofa_rpc_registry::ProviderInfo;
pub use trace::TraceContext;
pub use value::{AppError, ProtoEncode, RemoteException, ValueRef, ValueSource};

pub use sofa_rpc_macros::{reference, service};

/// The SOFABolt protocol and transport (the `sofa-bolt` crate): frames, connection and server
/// settings named in this crate's signatures.
pub use sofa_bolt as bolt;
/// Hessian 2 in both dialects, serde and the dynamic [`hessian::Value`] (the `sofa-hessian` crate).
pub use sofa_hessian as hessian;
/// A dynamic value: what a generic call's result decodes into when no type is at hand (Java
/// objects keep their class name and fields).
pub use sofa_hessian::Value;
/// Service discovery (the `sofa-rpc-registry` crate): provider URLs, the `Registry` trait and
/// its backends.
pub use sofa_rpc_registry as registry;
/// Live configuration (from the `sofa-rpc-registry` crate): watched keys in a file,
/// ZooKeeper, etcd or Nacos, and `LiveRules` to apply them with a last-good disk copy.
pub use sofa_rpc_registry::config;
