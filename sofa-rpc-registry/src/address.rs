//! [`RegistryUrl`]: which registry to use, as a URL.

use std::fmt;
use std::str::FromStr;
use std::time::Duration;

use crate::error::{Error, Result};
use crate::url::decode_component;

/// A registry address: `scheme://host:port[,host:port...][/path][?key=value&...]`.
///
/// The path is the ZooKeeper root, the etcd key root or the Nacos namespace; for `local` the
/// whole part after `local://` is the file path (`local:///tmp/reg` is `/tmp/reg`).
/// Options ride in the query, e.g. `zookeeper://127.0.0.1:2181?sessionTimeout=5000`.
///
/// ```
/// use sofa_rpc_registry::RegistryUrl;
///
/// # fn main() -> Result<(), Box<dyn std::error::Error>> {
/// let url: RegistryUrl = "zookeeper://h1:2181,h2:2181/myroot?sessionTimeout=4000".parse()?;
/// assert_eq!(url.scheme(), "zookeeper");
/// assert_eq!(url.hosts(), ["h1:2181", "h2:2181"]);
/// assert_eq!(url.path(), "/myroot");
/// assert_eq!(url.param("sessionTimeout"), Some("4000"));
/// # Ok(())
/// # }
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RegistryUrl {
    raw: String,
    scheme: String,
    authority: String,
    path: String,
    params: Vec<(String, String)>,
}

impl RegistryUrl {
    /// Parses `url`.
    pub fn parse(url: &str) -> Result<Self> {
        let raw = url.trim();
        let (scheme, rest) = raw
            .split_once("://")
            .ok_or_else(|| Error::invalid(format!("registry url {raw:?} has no scheme://")))?;
        if scheme.is_empty() {
            return Err(Error::invalid(format!(
                "registry url {raw:?} has no scheme"
            )));
        }
        let (before_query, query) = rest.split_once('?').unwrap_or((rest, ""));
        let (authority, path) = match before_query.find('/') {
            Some(i) => before_query.split_at(i),
            None => (before_query, ""),
        };
        let params = query
            .split('&')
            .filter(|p| !p.is_empty())
            .map(|pair| {
                let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
                (decode_component(k), decode_component(v))
            })
            .collect();
        Ok(RegistryUrl {
            raw: raw.to_string(),
            scheme: scheme.to_ascii_lowercase(),
            authority: authority.to_string(),
            path: path.to_string(),
            params,
        })
    }

    /// The scheme, lower case: the backend's name.
    pub fn scheme(&self) -> &str {
        &self.scheme
    }

    /// The `host:port` list (empty entries skipped).
    pub fn hosts(&self) -> Vec<&str> {
        self.authority
            .split(',')
            .map(str::trim)
            .filter(|h| !h.is_empty())
            .collect()
    }

    /// Everything between `://` and the path or query, as written.
    pub fn authority(&self) -> &str {
        &self.authority
    }

    /// The path (with its leading `/`), or empty.
    pub fn path(&self) -> &str {
        &self.path
    }

    /// Query parameter `key`.
    pub fn param(&self, key: &str) -> Option<&str> {
        self.params
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }

    /// Query parameter `key` as a number, `None` when absent.
    pub fn param_u64(&self, key: &str) -> Result<Option<u64>> {
        self.param(key)
            .map(|v| {
                v.trim().parse::<u64>().map_err(|_| {
                    Error::invalid(format!("registry option {key}={v:?} is not a number"))
                })
            })
            .transpose()
    }

    /// Query parameter `key` as milliseconds, `default` when absent.
    pub fn param_millis(&self, key: &str, default: Duration) -> Result<Duration> {
        Ok(self
            .param_u64(key)?
            .map(Duration::from_millis)
            .unwrap_or(default))
    }

    /// Fails unless at least one `host:port` is given.
    #[cfg_attr(
        not(any(feature = "zookeeper", feature = "etcd", feature = "nacos")),
        allow(dead_code)
    )]
    pub(crate) fn require_hosts(&self) -> Result<Vec<&str>> {
        let hosts = self.hosts();
        if hosts.is_empty() {
            return Err(Error::invalid(format!(
                "registry url {:?} names no host:port",
                self.raw
            )));
        }
        Ok(hosts)
    }
}

impl FromStr for RegistryUrl {
    type Err = Error;

    fn from_str(s: &str) -> Result<Self> {
        RegistryUrl::parse(s)
    }
}

impl fmt::Display for RegistryUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.raw)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::ErrorKind;

    #[test]
    fn parses_the_backends_urls() {
        let u = RegistryUrl::parse("local:///tmp/a b.reg?scanPeriod=200").unwrap();
        assert_eq!((u.authority(), u.path()), ("", "/tmp/a b.reg"));
        assert_eq!(u.param_u64("scanPeriod").unwrap(), Some(200));
        assert!(u.require_hosts().is_err());
        let u = RegistryUrl::parse("NACOS://127.0.0.1:8848/ns").unwrap();
        assert_eq!(u.scheme(), "nacos");
        assert_eq!(u.path(), "/ns");
        assert_eq!(u.to_string(), "NACOS://127.0.0.1:8848/ns");
        let u = RegistryUrl::parse("etcd://a:1,,b:2?ttl=x").unwrap();
        assert_eq!(u.hosts(), ["a:1", "b:2"]);
        assert_eq!(
            u.param_u64("ttl").unwrap_err().kind(),
            ErrorKind::InvalidArgument
        );
        assert!(RegistryUrl::parse("127.0.0.1:2181").is_err());
        assert!(RegistryUrl::parse("://x").is_err());
    }
}
