//! One provider: address, protocol and the parameters registries publish.

use std::fmt;
use std::str::FromStr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

use crate::url::{decode_component, encode_component};

/// A provider of a service, as registries and direct URLs describe it.
///
/// The textual form is SOFARPC's provider URL: `protocol://host:port[/path]?key=value&...`
/// (the scheme defaults to `bolt` when absent). Parameters keep their order; the ones the
/// framework reads have accessors. Equality compares everything.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct ProviderInfo {
    protocol: String,
    host: String,
    port: u16,
    /// `host:port`, kept because it is the key of every connection lookup.
    address: String,
    path: String,
    params: Vec<(String, String)>,
}

/// Why a provider URL could not be parsed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ProviderParseError {
    url: String,
    reason: &'static str,
}

impl fmt::Display for ProviderParseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "invalid provider url {:?}: {}", self.url, self.reason)
    }
}

impl std::error::Error for ProviderParseError {}

/// Weight a provider has when it publishes none (SOFARPC's `provider.weight`).
pub const DEFAULT_WEIGHT: u32 = 100;

/// The `rpcVer` a sofa-rpc-rs provider advertises: the SOFARPC release (5.14.3) whose wire
/// behaviour it follows. Consumers use it to pick the trace header form (≥ 50100: the new one).
pub const RPC_VERSION: u32 = 51403;

/// Numbers the `id` parameter (`rpc-cfg-N`) as SOFARPC numbers its config objects.
static CONFIG_ID: AtomicU64 = AtomicU64::new(0);

/// Milliseconds since the Unix epoch (0 if the clock is before it).
pub(crate) fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
        .unwrap_or(0)
}

impl ProviderInfo {
    /// A provider at `host:port` speaking `protocol`, without parameters.
    pub fn new(protocol: impl Into<String>, host: impl Into<String>, port: u16) -> Self {
        let host = host.into();
        let address = if host.contains(':') {
            format!("[{host}]:{port}")
        } else {
            format!("{host}:{port}")
        };
        ProviderInfo {
            protocol: protocol.into(),
            host,
            port,
            address,
            path: String::new(),
            params: Vec::new(),
        }
    }

    /// A `bolt` provider at `host:port`.
    pub fn bolt(host: impl Into<String>, port: u16) -> Self {
        Self::new("bolt", host, port)
    }

    /// A `bolt` provider of `interface` at `host:port` carrying the parameters SOFARPC Java
    /// writes and Java and Node consumers read, in this order: `version=1.0`, `uniqueId=`
    /// (always present: Java consumers never match a provider without it), `interface`,
    /// `protocol=bolt`, `serialization=hessian2`, `weight=100`, `timeout=0`, `accepts=100000`,
    /// `dynamic=true`, `startTime` (now), `id` (`rpc-cfg-N`), `pid`, `language=rust`,
    /// `rpcVer` ([`RPC_VERSION`]).
    ///
    /// Change any of them with [`with_param`](Self::with_param) (the position is kept); add
    /// `appName`, `warmupTime` and `warmupWeight` the same way.
    ///
    /// ```
    /// use sofa_rpc_registry::ProviderInfo;
    ///
    /// let p = ProviderInfo::sofa_provider("10.0.0.5", 12200, "com.example.Echo")
    ///     .with_param("uniqueId", "blue")
    ///     .with_param("appName", "demo");
    /// assert_eq!(p.unique_id(), Some("blue"));
    /// assert_eq!(p.param("language"), Some("rust"));
    /// assert!(p.to_string().starts_with("bolt://10.0.0.5:12200?version=1.0&uniqueId=blue&"));
    /// ```
    pub fn sofa_provider(host: impl Into<String>, port: u16, interface: impl Into<String>) -> Self {
        let id = CONFIG_ID.fetch_add(1, Ordering::Relaxed);
        ProviderInfo::bolt(host, port)
            .with_param("version", "1.0")
            .with_param("uniqueId", "")
            .with_param("interface", interface)
            .with_param("protocol", "bolt")
            .with_param("serialization", "hessian2")
            .with_param("weight", DEFAULT_WEIGHT.to_string())
            .with_param("timeout", "0")
            .with_param("accepts", "100000")
            .with_param("dynamic", "true")
            .with_param("startTime", now_ms().to_string())
            .with_param("id", format!("rpc-cfg-{id}"))
            .with_param("pid", std::process::id().to_string())
            .with_param("language", "rust")
            .with_param("rpcVer", RPC_VERSION.to_string())
    }

    /// Sets parameter `key` (replacing an earlier value).
    pub fn with_param(mut self, key: impl Into<String>, value: impl Into<String>) -> Self {
        self.set_param(key, value);
        self
    }

    /// Sets parameter `key` (replacing an earlier value).
    pub fn set_param(&mut self, key: impl Into<String>, value: impl Into<String>) {
        let key = key.into();
        let value = value.into();
        match self.params.iter_mut().find(|(k, _)| *k == key) {
            Some((_, v)) => *v = value,
            None => self.params.push((key, value)),
        }
    }

    /// The protocol (URL scheme), lower case, e.g. `bolt`.
    pub fn protocol(&self) -> &str {
        &self.protocol
    }

    /// Host name or IP.
    pub fn host(&self) -> &str {
        &self.host
    }

    /// TCP port.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// `host:port`, the key connections are pooled under.
    pub fn address(&self) -> &str {
        &self.address
    }

    /// The context path after `host:port` (empty for bolt providers).
    pub fn path(&self) -> &str {
        &self.path
    }

    /// Removes parameter `key`, returning its value.
    pub fn remove_param(&mut self, key: &str) -> Option<String> {
        let i = self.params.iter().position(|(k, _)| k == key)?;
        Some(self.params.remove(i).1)
    }

    /// What identifies the provider in a list: `protocol://host:port/path`. Two entries with
    /// the same identity are the same provider (one may be a stale registration).
    pub fn identity(&self) -> String {
        format!("{}://{}{}", self.protocol, self.address(), self.path)
    }

    /// The value of parameter `key`.
    pub fn param(&self, key: &str) -> Option<&str> {
        self.params
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }

    /// All parameters in order.
    pub fn params(&self) -> impl Iterator<Item = (&str, &str)> {
        self.params.iter().map(|(k, v)| (k.as_str(), v.as_str()))
    }

    fn param_num<T: FromStr>(&self, key: &str) -> Option<T> {
        self.param(key).and_then(|v| v.trim().parse().ok())
    }

    /// The configured weight (`weight`, default 100).
    pub fn weight(&self) -> u32 {
        self.param_num("weight").unwrap_or(DEFAULT_WEIGHT)
    }

    /// The weight in effect at `now_ms` (milliseconds since the epoch): `warmupWeight` until
    /// `startTime + warmupTime` when all three parameters are present, `weight` otherwise.
    pub fn effective_weight_at(&self, now_ms: u64) -> u32 {
        let warmup = (
            self.param_num::<u64>("startTime"),
            self.param_num::<u64>("warmupTime"),
            self.param_num::<u32>("warmupWeight"),
        );
        match warmup {
            (Some(start), Some(time), Some(weight)) if now_ms < start.saturating_add(time) => {
                weight
            }
            _ => self.weight(),
        }
    }

    /// The weight in effect now.
    pub fn effective_weight(&self) -> u32 {
        self.effective_weight_at(now_ms())
    }

    /// When the provider started (`startTime`, epoch milliseconds).
    pub fn start_time_ms(&self) -> Option<u64> {
        self.param_num("startTime")
    }

    /// The interface it serves (`interface`).
    pub fn interface(&self) -> Option<&str> {
        self.param("interface").filter(|s| !s.is_empty())
    }

    /// The service version (`version`).
    pub fn version(&self) -> Option<&str> {
        self.param("version").filter(|s| !s.is_empty())
    }

    /// The serialization the provider prefers (`serialization`), e.g. `hessian2`.
    pub fn serialization(&self) -> Option<&str> {
        self.param("serialization").filter(|s| !s.is_empty())
    }

    /// The SOFARPC version it runs (`rpcVer`, e.g. 51403), which selects the trace header form.
    pub fn rpc_version(&self) -> Option<u32> {
        self.param_num("rpcVer")
    }

    /// The provider's default timeout in milliseconds (`timeout`; 0 means unset).
    pub fn timeout_ms(&self) -> Option<u64> {
        self.param_num("timeout").filter(|t| *t > 0)
    }

    /// The provider's uniqueId (`uniqueId`); `None` when the parameter is absent.
    pub fn unique_id(&self) -> Option<&str> {
        self.param("uniqueId")
    }

    /// The application the provider belongs to (`appName`).
    pub fn app_name(&self) -> Option<&str> {
        self.param("appName").filter(|s| !s.is_empty())
    }

    /// Parses a list of direct URLs separated by `;` or `,` (SOFARPC's `directUrl` form).
    pub fn parse_list(urls: &str) -> Result<Vec<ProviderInfo>, ProviderParseError> {
        urls.split([';', ','])
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(str::parse)
            .collect()
    }
}

impl FromStr for ProviderInfo {
    type Err = ProviderParseError;

    fn from_str(url: &str) -> Result<Self, Self::Err> {
        let err = |reason| ProviderParseError {
            url: url.to_string(),
            reason,
        };
        let url = url.trim();
        let (protocol, rest) = match url.split_once("://") {
            Some((scheme, rest)) if !scheme.is_empty() => (scheme.to_ascii_lowercase(), rest),
            Some(_) => return Err(err("empty scheme")),
            None => ("bolt".to_string(), url),
        };
        let (authority_path, query) = match rest.split_once('?') {
            Some((a, q)) => (a, q),
            None => (rest, ""),
        };
        let (authority, path) = match authority_path.find('/') {
            Some(i) => authority_path.split_at(i),
            None => (authority_path, ""),
        };
        let (host, port) = if let Some(v6) = authority.strip_prefix('[') {
            let (host, tail) = v6
                .split_once(']')
                .ok_or_else(|| err("unclosed IPv6 bracket"))?;
            (host, tail.strip_prefix(':'))
        } else {
            match authority.rsplit_once(':') {
                Some((h, p)) => (h, Some(p)),
                None => (authority, None),
            }
        };
        if host.is_empty() {
            return Err(err("missing host"));
        }
        // SOFARPC defaults a missing port to 80; a provider without a port is almost always a
        // typo, so it is an error here.
        let port = port
            .ok_or_else(|| err("missing port"))?
            .parse::<u16>()
            .map_err(|_| err("port is not a number from 0 to 65535"))?;
        let mut info = ProviderInfo::new(protocol, host, port);
        info.path = path.trim_end_matches('/').to_string();
        for pair in query.split('&').filter(|p| !p.is_empty()) {
            let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
            info.set_param(decode_component(k), decode_component(v));
        }
        Ok(info)
    }
}

impl fmt::Display for ProviderInfo {
    /// The provider URL, parameters form-encoded.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}://{}{}", self.protocol, self.address(), self.path)?;
        for (i, (k, v)) in self.params.iter().enumerate() {
            let sep = if i == 0 { '?' } else { '&' };
            write!(f, "{sep}{}={}", encode_component(k), encode_component(v))?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_sofarpc_provider_urls() {
        let p: ProviderInfo = "bolt://10.0.0.5:12200?version=1.0&uniqueId=&weight=80&serialization=hessian2&startTime=1000&warmupTime=500&warmupWeight=5"
            .parse()
            .unwrap();
        assert_eq!(p.protocol(), "bolt");
        assert_eq!(p.address(), "10.0.0.5:12200");
        assert_eq!(p.weight(), 80);
        assert_eq!(p.unique_id(), Some(""));
        assert_eq!(p.effective_weight_at(1200), 5);
        assert_eq!(p.effective_weight_at(1500), 80);
        let back: ProviderInfo = p.to_string().parse().unwrap();
        assert_eq!(back, p);
    }

    #[test]
    fn defaults_and_direct_lists() {
        let list = ProviderInfo::parse_list("127.0.0.1:1; bolt://[::1]:2 ,BOLT://h:3/ctx").unwrap();
        assert_eq!(list.len(), 3);
        assert_eq!(list[0].protocol(), "bolt");
        assert_eq!(list[0].weight(), DEFAULT_WEIGHT);
        assert_eq!(list[1].address(), "[::1]:2");
        assert_eq!(list[2].protocol(), "bolt");
        assert_eq!(list[2].to_string(), "bolt://h:3/ctx");
    }

    #[test]
    fn rejects_broken_urls() {
        for bad in [
            "bolt://",
            "bolt://host",
            "bolt://host:x",
            "://h:1",
            "bolt://[::1:2",
        ] {
            assert!(bad.parse::<ProviderInfo>().is_err(), "{bad}");
        }
    }

    #[test]
    fn sofa_provider_has_the_standard_parameters() {
        let p = ProviderInfo::sofa_provider("h", 1, "com.example.Echo")
            .with_param("weight", "7")
            .with_param("appName", "app");
        let keys: Vec<&str> = p.params().map(|(k, _)| k).collect();
        assert_eq!(
            keys,
            [
                "version",
                "uniqueId",
                "interface",
                "protocol",
                "serialization",
                "weight",
                "timeout",
                "accepts",
                "dynamic",
                "startTime",
                "id",
                "pid",
                "language",
                "rpcVer",
                "appName"
            ]
        );
        assert_eq!(p.weight(), 7);
        assert_eq!(p.interface(), Some("com.example.Echo"));
        assert_eq!(p.version(), Some("1.0"));
        assert!(p.start_time_ms().is_some());
        assert_eq!(p.identity(), "bolt://h:1");
        let mut q = p.clone();
        assert_eq!(q.remove_param("appName").as_deref(), Some("app"));
        assert_eq!(q.app_name(), None);
        let back: ProviderInfo = p.to_string().parse().unwrap();
        assert_eq!(back, p);
    }

    #[test]
    fn node_style_encoded_params() {
        let p: ProviderInfo = "bolt://h:1?appName=a%20b&interface=com.example.Echo"
            .parse()
            .unwrap();
        assert_eq!(p.app_name(), Some("a b"));
        assert_eq!(p.param("interface"), Some("com.example.Echo"));
    }
}
