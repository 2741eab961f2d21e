//! Where a command sends its calls: one provider address, or a registry to find them in.

use std::fmt;

use crate::error::{Failure, Result};

/// The registry schemes the command line understands.
const REGISTRY_SCHEMES: &[&str] = &["zookeeper", "etcd", "nacos", "local"];

/// A parsed `<target>` argument.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Target {
    /// `bolt://host:port` or `host:port`: one provider.
    Direct(String),
    /// `zookeeper://`, `etcd://`, `nacos://`, `local://`: providers found in a registry.
    Registry(String),
}

impl Target {
    /// Parses `text`; an unknown scheme or a malformed address is a usage error naming it.
    pub(crate) fn parse(text: &str) -> Result<Target> {
        match text.split_once("://") {
            None => direct(text, text),
            Some((scheme, rest)) => {
                let scheme = scheme.to_ascii_lowercase();
                if scheme == "bolt" || scheme == "bolt+tls" {
                    direct(rest.trim_end_matches('/'), text)
                } else if REGISTRY_SCHEMES.contains(&scheme.as_str()) {
                    registry(&scheme, text)
                } else {
                    Err(Failure::usage(format!(
                        "unknown scheme {scheme:?} in target {text:?}: use bolt://host:port, \
                         host:port, zookeeper://, etcd://, nacos:// or local://"
                    )))
                }
            }
        }
    }

    /// Parses `text`, which must name a registry (for `sofa list`).
    pub(crate) fn parse_registry(text: &str) -> Result<String> {
        match Target::parse(text)? {
            Target::Registry(url) => Ok(url),
            Target::Direct(_) => Err(Failure::usage(format!(
                "{text:?} is not a registry URL: use zookeeper://, etcd://, nacos:// or local://"
            ))),
        }
    }
}

fn direct(addr: &str, original: &str) -> Result<Target> {
    let bad = |why: &str| {
        Failure::usage(format!(
            "bad target {original:?}: {why} (expected bolt://host:port or host:port)"
        ))
    };
    let (host, port) = addr.rsplit_once(':').ok_or_else(|| bad("no port"))?;
    if host.is_empty() || host.contains(['/', '?', ' ']) {
        return Err(bad("no host"));
    }
    match port.parse::<u16>() {
        Ok(p) if p > 0 => Ok(Target::Direct(addr.to_string())),
        _ => Err(bad(&format!(
            "port {port:?} is not a number from 1 to 65535"
        ))),
    }
}

fn registry(scheme: &str, url: &str) -> Result<Target> {
    let factories = sofa_rpc_core::registry::RegistryFactories::default();
    if factories.contains(scheme) {
        Ok(Target::Registry(url.to_string()))
    } else {
        Err(Failure::usage(format!(
            "registry {scheme:?} is not compiled into this sofa (cargo feature {scheme})"
        )))
    }
}

impl fmt::Display for Target {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Target::Direct(addr) => write!(f, "bolt://{addr}"),
            Target::Registry(url) => f.write_str(url),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn addresses_and_registries() {
        assert_eq!(
            Target::parse("bolt://127.0.0.1:12200").unwrap(),
            Target::Direct("127.0.0.1:12200".into())
        );
        assert_eq!(
            Target::parse("localhost:1").unwrap(),
            Target::Direct("localhost:1".into())
        );
        assert_eq!(
            Target::parse("local:///tmp/x.reg").unwrap(),
            Target::Registry("local:///tmp/x.reg".into())
        );
        assert_eq!(
            Target::parse("bolt://[::1]:12200").unwrap().to_string(),
            "bolt://[::1]:12200"
        );
    }

    #[test]
    fn mistakes_say_what_and_where() {
        let e = Target::parse("redis://h:1").unwrap_err();
        assert!(e.to_string().contains("unknown scheme \"redis\""), "{e}");
        assert_eq!(e.exit_code(), 2);
        assert!(Target::parse("h:99999")
            .unwrap_err()
            .to_string()
            .contains("port"));
        assert!(Target::parse("hostonly")
            .unwrap_err()
            .to_string()
            .contains("no port"));
        assert!(Target::parse_registry("h:1").is_err());
    }
}
