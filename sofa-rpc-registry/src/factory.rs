//! Opening a registry by URL, and the table of backends by name.

use std::fmt;
use std::sync::Arc;

use futures::future::BoxFuture;
use futures::FutureExt;

use crate::address::RegistryUrl;
use crate::error::Result;
use crate::registry::Registry;
use crate::schemes::Schemes;

/// What a backend factory returns.
pub type RegistryFuture = BoxFuture<'static, Result<Arc<dyn Registry>>>;

/// Backends by name (the URL scheme), for an extension loader: SOFARPC's registry
/// extensions made explicit.
///
/// `RegistryFactories::default()` holds the backends compiled in: `local` always, and
/// `zookeeper`, `etcd`, `nacos` with their cargo features. Add your own with
/// [`register`](RegistryFactories::register).
///
/// ```
/// use std::sync::Arc;
/// use sofa_rpc_registry::{LocalRegistry, Registry, RegistryFactories};
///
/// let mut factories = RegistryFactories::default();
/// assert!(factories.contains("local"));
/// // A second name for the local backend, rooted in the temp directory.
/// factories.register("tmp", |url| {
///     Box::pin(async move {
///         let path = std::env::temp_dir().join(url.authority());
///         Ok(Arc::new(LocalRegistry::new(path)) as Arc<dyn Registry>)
///     })
/// });
/// assert!(factories.names().any(|n| n == "tmp"));
/// ```
#[derive(Clone)]
pub struct RegistryFactories {
    schemes: Schemes<Arc<dyn Registry>>,
}

impl RegistryFactories {
    /// A table with no backend.
    pub fn empty() -> Self {
        RegistryFactories {
            schemes: Schemes::new("registry"),
        }
    }

    /// Registers (or replaces) the backend called `name`; URLs whose scheme is `name` open
    /// with `open`.
    pub fn register<F>(&mut self, name: impl Into<String>, open: F) -> &mut Self
    where
        F: Fn(RegistryUrl) -> RegistryFuture + Send + Sync + 'static,
    {
        self.schemes.register(name, open);
        self
    }

    /// Whether a backend called `name` is registered.
    pub fn contains(&self, name: &str) -> bool {
        self.schemes.contains(name)
    }

    /// The registered names, sorted.
    pub fn names(&self) -> impl Iterator<Item = &str> {
        self.schemes.names()
    }

    /// Opens the registry `url` names, e.g. `zookeeper://127.0.0.1:2181`.
    pub fn open(&self, url: &str) -> RegistryFuture {
        self.schemes.open(url)
    }
}

impl Default for RegistryFactories {
    fn default() -> Self {
        let mut f = RegistryFactories::empty();
        f.register("local", |url| {
            async move { Ok(Arc::new(crate::local::LocalRegistry::from_url(&url)?) as _) }.boxed()
        });
        #[cfg(feature = "zookeeper")]
        f.register("zookeeper", |url| {
            async move {
                let r = crate::zookeeper::ZookeeperRegistry::connect(&url).await?;
                Ok(Arc::new(r) as _)
            }
            .boxed()
        });
        #[cfg(feature = "etcd")]
        f.register("etcd", |url| {
            async move {
                let r = crate::etcd::EtcdRegistry::connect(&url).await?;
                Ok(Arc::new(r) as _)
            }
            .boxed()
        });
        #[cfg(feature = "nacos")]
        f.register("nacos", |url| {
            async move {
                let r = crate::nacos::NacosRegistry::connect(&url).await?;
                Ok(Arc::new(r) as _)
            }
            .boxed()
        });
        f
    }
}

impl fmt::Debug for RegistryFactories {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.schemes.fmt(f)
    }
}

/// Opens the registry `url` names with the built-in backends:
///
/// | URL | backend |
/// |---|---|
/// | `local://<file path>[?scanPeriod=ms]` | [`LocalRegistry`](crate::LocalRegistry) |
/// | `zookeeper://host:port[,host:port][/root][?sessionTimeout=ms]` | `ZookeeperRegistry` (feature `zookeeper`) |
/// | `etcd://host:port[,host:port][/root][?ttl=s]` | `EtcdRegistry` (feature `etcd`) |
/// | `nacos://host:port[/namespace][?grpcPort=port]` | `NacosRegistry` (feature `nacos`) |
///
/// Fails with [`ErrorKind::Unsupported`](crate::ErrorKind::Unsupported) for a scheme that is unknown or not compiled in.
pub async fn open(url: &str) -> Result<Arc<dyn Registry>> {
    RegistryFactories::default().open(url).await
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ErrorKind;

    #[tokio::test]
    async fn unknown_and_disabled_backends() {
        let f = RegistryFactories::default();
        assert!(f.contains("LOCAL"));
        let e = f.open("consul://h:1").await.err().unwrap();
        assert_eq!(e.kind(), ErrorKind::Unsupported);
        let e = RegistryFactories::empty()
            .open("etcd://h:1")
            .await
            .err()
            .unwrap();
        assert_eq!(e.kind(), ErrorKind::Unsupported);
        assert!(e.to_string().contains("feature"));
        let e = f.open("nonsense").await.err().unwrap();
        assert_eq!(e.kind(), ErrorKind::InvalidArgument);
        assert_eq!(format!("{:?}", RegistryFactories::empty()), "{}");
    }
}
