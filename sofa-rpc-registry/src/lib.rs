//! # sofa-rpc-registry
//!
//! Where providers come from: service discovery for sofa-rpc-rs, wire-compatible with the
//! registries SOFARPC Java and sofa-rpc-node use.
//!
//! * [`ProviderInfo`] is one provider as SOFARPC registries describe it: a URL such as
//!   `bolt://10.0.0.5:12200?version=1.0&uniqueId=&weight=100&serialization=hessian2&...`
//!   whose parameters carry weight, warm-up, serialization, timeout and version.
//! * [`Registry`] publishes [`Registration`]s and answers [`Subscription`]s with a
//!   [`ProviderStream`] of [`ProviderChange`]s: first the complete list, then additions,
//!   removals and updates; outages arrive as `Err` items and the stream goes on.
//! * [`Registry::list`] reads once what is published ([`Listing`]: providers by interface),
//!   for tools such as `sofa list`; it watches nothing and writes no consumer entry.
//! * [`open`] picks a backend by URL; [`RegistryFactories`] is the same table by name for an
//!   extension loader.
//! * [`config`] watches one key of a configuration center (a file, ZooKeeper, etcd, Nacos)
//!   and keeps rules in force with [`config::LiveRules`], with a last-good copy on disk.
//!
//! | backend | URL | cargo feature | layout |
//! |---|---|---|---|
//! | [`LocalRegistry`] | `local://<file>[?scanPeriod=ms]` | always built | one text file per machine, pid-checked lines |
//! | `ZookeeperRegistry` | `zookeeper://h:p[,h:p][/root][?sessionTimeout=ms]` | `zookeeper` | SOFARPC's: `{root}/sofa-rpc/{interface}/providers/{URL-encoded URL}`, ephemeral |
//! | `EtcdRegistry` | `etcd://h:p[,h:p][/root][?ttl=s]` | `etcd` | the same keys, value = URL, under a lease |
//! | `NacosRegistry` | `nacos://h:p[/namespace][?grpcPort=p]` | `nacos` | SOFARPC's: service `{interface}[:{uniqueId}]:DEFAULT`, metadata = URL parameters |
//!
//! ## Example
//!
//! Two processes on one machine (here: one process, two registries) sharing a `local` file:
//!
//! ```
//! use futures::StreamExt;
//! use sofa_rpc_registry::{open, ProviderChange, Registration, Subscription};
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let file = std::env::temp_dir().join(format!("sofa-doc-{}.reg", std::process::id()));
//! let url = format!("local://{}?scanPeriod=100", file.display());
//!
//! let provider_side = open(&url).await?;
//! let registration = Registration::sofa("com.example.Echo", "127.0.0.1", 12200)
//!     .with_app_name("echo-server")
//!     .with_weight(50);
//! provider_side.register(&registration).await?;
//!
//! let consumer_side = open(&url).await?;
//! let mut providers = Vec::new();
//! let mut changes = consumer_side.subscribe(&Subscription::new("com.example.Echo")).await?;
//! let first = changes.next().await.ok_or("the stream ended")??;
//! assert!(matches!(first, ProviderChange::Snapshot(_)));
//! first.apply_to(&mut providers);
//! assert_eq!(providers[0].address(), "127.0.0.1:12200");
//! assert_eq!(providers[0].weight(), 50);
//!
//! provider_side.unregister(&registration).await?;
//! let gone = changes.next().await.ok_or("the stream ended")??;
//! gone.apply_to(&mut providers);
//! assert!(providers.is_empty());
//!
//! consumer_side.close().await?;
//! provider_side.close().await?;
//! # std::fs::remove_file(&file).ok();
//! # Ok(())
//! # }
//! ```
//!
//! ## When the registry server goes away
//!
//! | backend | subscriber sees | registrations |
//! |---|---|---|
//! | `zookeeper` | one `Err` (`Unavailable`) when the connection drops; the last list stands; a fresh `Snapshot` once connected again | kept by the session while it lives; after expiry a new session re-creates every node |
//! | `etcd` | one `Err` when the watch breaks; the last list stands; a fresh `Snapshot` once the prefix could be read again | kept by the lease; a lost lease is replaced and every key rewritten |
//! | `nacos` | nothing: the SDK keeps the last list and reports no outage; pushes resume after it reconnects | the SDK re-registers after reconnecting |
//! | `local` | an `Err` when the file cannot be read; the last list stands | re-written by their owner if removed from the file |
//!
//! A server that comes back without its data (fresh start) may first report an empty or
//! partial list until every provider has re-registered.
//!
//! ## Interoperability notes
//!
//! * Matching is SOFARPC Java's ([`Subscription::matches`]): same scheme as the consumer's
//!   protocol and the same `uniqueId` parameter; a provider without `uniqueId` never matches,
//!   so [`Registration`] always writes `uniqueId=`. sofa-rpc-node providers write `uniqueId=`
//!   and `protocol=` empty and match consumers without a uniqueId.
//! * ZooKeeper root: `zookeeper://h:p/myroot` uses `/myroot/sofa-rpc/...` as Java does;
//!   sofa-rpc-node would use `/myroot/...` for the same address. Use the default root when
//!   Node peers share the registry.
//! * Neither SOFARPC nor sofa-rpc-node has an etcd registry: the etcd layout (SOFARPC's
//!   ZooKeeper keys, value = URL) is only shared among sofa-rpc-rs processes.

mod address;
#[cfg(any(feature = "zookeeper", feature = "etcd"))]
mod backoff;
mod change;
pub mod config;
mod error;
mod factory;
mod fanout;
#[cfg(any(feature = "zookeeper", feature = "etcd"))]
mod layout;
pub mod local;
mod provider;
mod registry;
mod schemes;
mod url;

#[cfg(feature = "etcd")]
pub mod etcd;
#[cfg(feature = "nacos")]
pub mod nacos;
#[cfg(feature = "zookeeper")]
pub mod zookeeper;

pub use address::RegistryUrl;
pub use change::ProviderChange;
pub use error::{Error, ErrorKind, Result};
pub use factory::{open, RegistryFactories, RegistryFuture};
pub use local::LocalRegistry;
pub use provider::{ProviderInfo, ProviderParseError, DEFAULT_WEIGHT, RPC_VERSION};
pub use registry::{Listing, ProviderStream, Registration, Registry, Subscription};
pub use url::{decode_component, encode_component};

#[cfg(feature = "etcd")]
pub use etcd::EtcdRegistry;
#[cfg(feature = "nacos")]
pub use nacos::NacosRegistry;
#[cfg(feature = "zookeeper")]
pub use zookeeper::ZookeeperRegistry;
