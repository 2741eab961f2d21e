//! [`Schemes`]: backends by URL scheme, the table behind both the registry factories and
//! the configuration-source factories.

use std::collections::BTreeMap;
use std::fmt;
use std::sync::Arc;

use futures::future::BoxFuture;
use futures::FutureExt;

use crate::address::RegistryUrl;
use crate::error::{Error, ErrorKind, Result};

/// The backends that exist only with the cargo feature of the same name.
const OPTIONAL: [&str; 3] = ["zookeeper", "etcd", "nacos"];

type Opener<T> = Arc<dyn Fn(RegistryUrl) -> BoxFuture<'static, Result<T>> + Send + Sync>;

/// Openers of `T` by scheme (case-insensitive), for what `kind` names in error messages.
pub(crate) struct Schemes<T> {
    kind: &'static str,
    openers: BTreeMap<String, Opener<T>>,
}

impl<T: Send + 'static> Schemes<T> {
    /// A table with no backend.
    pub(crate) fn new(kind: &'static str) -> Self {
        Schemes {
            kind,
            openers: BTreeMap::new(),
        }
    }

    /// Registers (or replaces) the opener of `name`.
    pub(crate) fn register<F>(&mut self, name: impl Into<String>, open: F)
    where
        F: Fn(RegistryUrl) -> BoxFuture<'static, Result<T>> + Send + Sync + 'static,
    {
        self.openers
            .insert(name.into().to_ascii_lowercase(), Arc::new(open));
    }

    /// Whether `name` is registered.
    pub(crate) fn contains(&self, name: &str) -> bool {
        self.openers.contains_key(&name.to_ascii_lowercase())
    }

    /// The registered names, sorted.
    pub(crate) fn names(&self) -> impl Iterator<Item = &str> {
        self.openers.keys().map(String::as_str)
    }

    /// Opens what `url` names with the opener of its scheme; a malformed URL is
    /// [`ErrorKind::InvalidArgument`], a scheme unknown or not compiled in
    /// [`ErrorKind::Unsupported`].
    pub(crate) fn open(&self, url: &str) -> BoxFuture<'static, Result<T>> {
        let parsed = match RegistryUrl::parse(url) {
            Ok(parsed) => parsed,
            Err(e) => return futures::future::ready(Err(e)).boxed(),
        };
        if let Some(open) = self.openers.get(parsed.scheme()) {
            return open(parsed);
        }
        let (kind, scheme) = (self.kind, parsed.scheme());
        let why = if OPTIONAL.contains(&scheme) {
            format!(
                "{kind} backend {scheme:?} is not compiled in (enable the cargo feature {scheme:?})"
            )
        } else {
            format!("unknown {kind} backend {scheme:?} in {url:?}")
        };
        futures::future::ready(Err(Error::new(ErrorKind::Unsupported, why))).boxed()
    }
}

impl<T> Clone for Schemes<T> {
    fn clone(&self) -> Self {
        Schemes {
            kind: self.kind,
            openers: self.openers.clone(),
        }
    }
}

impl<T> fmt::Debug for Schemes<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_set().entries(self.openers.keys()).finish()
    }
}
