//! Opening a configuration source by URL, and the table of backends by name.

use std::fmt;
use std::sync::Arc;

use futures::future::BoxFuture;
use futures::FutureExt;

use super::{ConfigSource, ConfigStream};
use crate::address::RegistryUrl;
use crate::error::{Error, Result};
use crate::schemes::Schemes;

/// What a backend factory returns.
pub type ConfigFuture = BoxFuture<'static, Result<ConfigTarget>>;

/// A source and the key a URL names in it: what [`open`] returns.
#[derive(Clone)]
pub struct ConfigTarget {
    /// The configuration center.
    pub source: Arc<dyn ConfigSource>,
    /// The key in it.
    pub key: String,
}

impl ConfigTarget {
    /// A target for `key` in `source`.
    pub fn new(source: Arc<dyn ConfigSource>, key: impl Into<String>) -> Self {
        ConfigTarget {
            source,
            key: key.into(),
        }
    }

    /// Watches the key (see [`ConfigSource::watch`]).
    pub fn watch(&self) -> Result<ConfigStream> {
        self.source.watch(&self.key)
    }
}

impl fmt::Debug for ConfigTarget {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ConfigTarget")
            .field("source", &self.source.describe())
            .field("key", &self.key)
            .finish()
    }
}

/// Configuration backends by name (the URL scheme), for an extension loader, as
/// [`RegistryFactories`](crate::RegistryFactories) is for registries.
///
/// `ConfigFactories::default()` holds `file` always and `zookeeper`, `etcd`, `nacos` with
/// their cargo features.
#[derive(Clone)]
pub struct ConfigFactories {
    schemes: Schemes<ConfigTarget>,
}

impl ConfigFactories {
    /// A table with no backend.
    pub fn empty() -> Self {
        ConfigFactories {
            schemes: Schemes::new("config"),
        }
    }

    /// Registers (or replaces) the backend called `name`; URLs whose scheme is `name` open
    /// with `open`.
    pub fn register<F>(&mut self, name: impl Into<String>, open: F) -> &mut Self
    where
        F: Fn(RegistryUrl) -> ConfigFuture + Send + Sync + 'static,
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

    /// Opens the source and key `url` names (grammar in the [module docs](super)).
    pub fn open(&self, url: &str) -> ConfigFuture {
        self.schemes.open(url)
    }
}

/// The key a URL's path names, which must not be empty.
#[cfg_attr(not(any(feature = "zookeeper", feature = "etcd")), allow(dead_code))]
pub(super) fn path_key(url: &RegistryUrl) -> Result<String> {
    let key = url.path();
    if key.is_empty() || key == "/" {
        return Err(Error::invalid(format!(
            "config url {url} names no key (write it as the path: {}://host:port/the/key)",
            url.scheme()
        )));
    }
    Ok(key.to_string())
}

impl Default for ConfigFactories {
    fn default() -> Self {
        let mut f = ConfigFactories::empty();
        f.register("file", |url| {
            async move {
                let (source, key) = super::file::FileSource::from_url(&url)?;
                Ok(ConfigTarget::new(Arc::new(source), key))
            }
            .boxed()
        });
        #[cfg(feature = "zookeeper")]
        f.register("zookeeper", |url| {
            async move {
                let source = super::zookeeper::ZookeeperSource::from_url(&url)?;
                Ok(ConfigTarget::new(Arc::new(source), path_key(&url)?))
            }
            .boxed()
        });
        #[cfg(feature = "etcd")]
        f.register("etcd", |url| {
            async move {
                let source = super::etcd::EtcdSource::from_url(&url)?;
                Ok(ConfigTarget::new(Arc::new(source), path_key(&url)?))
            }
            .boxed()
        });
        #[cfg(feature = "nacos")]
        f.register("nacos", |url| {
            async move {
                let (source, key) = super::nacos::NacosSource::from_url(&url)?;
                Ok(ConfigTarget::new(Arc::new(source), key))
            }
            .boxed()
        });
        f
    }
}

impl fmt::Debug for ConfigFactories {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.schemes.fmt(f)
    }
}

/// Opens the source and key `url` names with the built-in backends (grammar in the
/// [module docs](super)). Connects to nothing yet: the watch does. Fails with
/// [`ErrorKind::Unsupported`](crate::ErrorKind::Unsupported) for a scheme unknown or not compiled in, and with
/// [`ErrorKind::InvalidArgument`](crate::ErrorKind::InvalidArgument) for a URL that names no key.
pub async fn open(url: &str) -> Result<ConfigTarget> {
    ConfigFactories::default().open(url).await
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ErrorKind;

    #[tokio::test]
    async fn schemes_and_keys() {
        let t = open("file:///tmp/sofa/rules.json?pollPeriod=50")
            .await
            .unwrap();
        assert_eq!(t.key, "/tmp/sofa/rules.json");
        assert!(t.source.describe().starts_with("file://"));
        let e = open("consul://h:1/k").await.unwrap_err();
        assert_eq!(e.kind(), ErrorKind::Unsupported);
        let e = ConfigFactories::empty()
            .open("etcd://h:1/k")
            .await
            .unwrap_err();
        assert!(e.to_string().contains("feature"), "{e}");
        assert_eq!(
            open("nonsense").await.unwrap_err().kind(),
            ErrorKind::InvalidArgument
        );
        assert!(ConfigFactories::default().contains("FILE"));
    }
}
