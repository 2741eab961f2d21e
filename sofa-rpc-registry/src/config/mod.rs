//! Live configuration: one key in a configuration center, watched, with its value on every
//! change, and [`LiveRules`] to parse, apply and keep a last-good copy on disk.
//!
//! Governance rules (traffic guards, zone maps, balancer choices) are pushed at run time from
//! a file, ZooKeeper, etcd or Nacos. A [`ConfigSource`] is one such center; its
//! [`watch`](ConfigSource::watch) yields a key's current value, then every change. [`open`]
//! picks a backend by URL, the URL naming the key too:
//!
//! | backend | URL | key | cargo feature |
//! |---|---|---|---|
//! | file | `file:///abs/path[?pollPeriod=ms]` | the file path | always built |
//! | ZooKeeper | `zookeeper://h:p[,h:p]/node/path[?sessionTimeout=ms]` | the node path | `zookeeper` |
//! | etcd | `etcd://h:p[,h:p]/key` | the key, leading `/` included | `etcd` |
//! | Nacos | `nacos://h:p[/namespace]?dataId=d[&group=g]` | `g/d` (group `DEFAULT_GROUP` by default) | `nacos` |
//!
//! Hosts, paths and options follow the registry URLs ([`RegistryUrl`](crate::RegistryUrl));
//! for Nacos the port is the HTTP port, as for the registry, and the v1 config API is used.
//!
//! What a watch yields ([`ConfigUpdate`]): `Ok(Some(bytes))` for a value, `Ok(None)` while
//! the key is absent (never written, or deleted), `Err` while the source cannot be reached;
//! the stream goes on after an error and yields the value again once the source answers. A
//! value may repeat (after a reconnect); consumers compare. Sources connect lazily inside the
//! watch, so [`open`] fails only for a bad URL or a backend that is not compiled in.

mod cache;
mod driver;
#[cfg(feature = "etcd")]
mod etcd;
mod factory;
mod file;
mod format;
#[cfg(feature = "nacos")]
mod http;
mod live;
#[cfg(feature = "nacos")]
mod nacos;
mod options;
mod stream;
#[cfg(feature = "zookeeper")]
mod zookeeper;

use futures::stream::BoxStream;

use crate::error::Result;

pub use factory::{open, ConfigFactories, ConfigFuture, ConfigTarget};
pub use file::{FileSource, DEFAULT_POLL_PERIOD};
pub use format::ConfigFormat;
pub use live::{LiveRules, LiveValue};
pub use options::{LiveOptions, LiveStatus, OnAbsent, Origin, DEFAULT_STARTUP_WAIT};

#[cfg(feature = "etcd")]
pub use self::etcd::EtcdSource;
#[cfg(feature = "nacos")]
pub use self::nacos::NacosSource;
#[cfg(feature = "zookeeper")]
pub use self::zookeeper::ZookeeperSource;

/// One item of a watch: a value (`Some`), the key absent (`None`), or the source unreachable
/// (`Err`, the watch goes on).
pub type ConfigUpdate = Result<Option<Vec<u8>>>;

/// What [`ConfigSource::watch`] returns: the current value first, then every change; ends
/// only when dropped.
pub type ConfigStream = BoxStream<'static, ConfigUpdate>;

/// A configuration center: watches keys. Implementations: [`FileSource`],
/// `ZookeeperSource`, `EtcdSource`, `NacosSource` (cargo features of those names).
pub trait ConfigSource: Send + Sync + 'static {
    /// The source as a URL without the key, for log lines (e.g. `etcd://127.0.0.1:2379`).
    fn describe(&self) -> String;

    /// Watches `key`: the stream yields its current value (or `None` when absent), then each
    /// change, and an `Err` whenever the source cannot be reached. Call from inside a Tokio
    /// runtime (the watch runs on a task of its own, stopped when the stream is dropped).
    /// Fails for a key the backend cannot name.
    fn watch(&self, key: &str) -> Result<ConfigStream>;
}
