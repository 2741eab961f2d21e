//! SOFARPC's key layout, shared by the ZooKeeper and etcd backends:
//! `{root}/sofa-rpc/{interface}/providers/{URL-encoded provider URL}` and
//! `{root}/sofa-rpc/{interface}/consumers/{URL-encoded consumer URL}`.

use crate::error::{Error, Result};
use crate::provider::ProviderInfo;
use crate::url::{decode_component, encode_component};

/// `/sofa-rpc` under `root`, as SOFARPC Java builds it: the registry address path is a
/// prefix (`/myroot` gives `/myroot/sofa-rpc`). sofa-rpc-node instead *replaces* `/sofa-rpc`
/// with the address path; both agree only with the default root.
pub(crate) fn base_path(root: &str) -> String {
    let root = root.trim_matches('/');
    if root.is_empty() {
        "/sofa-rpc".to_string()
    } else {
        format!("/{root}/sofa-rpc")
    }
}

/// `{base}/{interface}/providers`.
pub(crate) fn providers_dir(base: &str, interface: &str) -> String {
    format!("{base}/{interface}/providers")
}

/// `{base}/{interface}/consumers`.
pub(crate) fn consumers_dir(base: &str, interface: &str) -> String {
    format!("{base}/{interface}/consumers")
}

/// The full path of the node for `url` under `dir`: the URL form-encoded as Java's
/// `URLEncoder` does, so it is one path segment.
pub(crate) fn node_path(dir: &str, url: &str) -> String {
    format!("{dir}/{}", encode_component(url))
}

/// Reads a child name written by SOFARPC Java (form encoding) or sofa-rpc-node
/// (`encodeURIComponent`); `None` for names that are not provider URLs.
pub(crate) fn parse_child(name: &str) -> Option<ProviderInfo> {
    match decode_component(name).parse::<ProviderInfo>() {
        Ok(p) => Some(p),
        Err(e) => {
            tracing::debug!(name, error = %e, "ignoring a registry entry that is not a provider url");
            None
        }
    }
}

/// Checks that an interface name can be one path segment.
pub(crate) fn check_interface(interface: &str) -> Result<()> {
    let valid = !interface.is_empty()
        && interface != "."
        && interface != ".."
        && !interface
            .chars()
            .any(|c| c == '/' || c.is_control() || c.is_whitespace());
    if valid {
        Ok(())
    } else {
        Err(Error::invalid(format!("bad interface name {interface:?}")))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn java_layout() {
        assert_eq!(base_path(""), "/sofa-rpc");
        assert_eq!(base_path("/"), "/sofa-rpc");
        assert_eq!(base_path("/myroot/"), "/myroot/sofa-rpc");
        let dir = providers_dir(&base_path(""), "com.example.Echo");
        assert_eq!(dir, "/sofa-rpc/com.example.Echo/providers");
        assert_eq!(consumers_dir("/sofa-rpc", "I"), "/sofa-rpc/I/consumers");
        let path = node_path(&dir, "bolt://1.2.3.4:12200?uniqueId=&weight=100");
        assert_eq!(
            path,
            "/sofa-rpc/com.example.Echo/providers/bolt%3A%2F%2F1.2.3.4%3A12200%3FuniqueId%3D%26weight%3D100"
        );
        let child = path.rsplit('/').next().unwrap();
        let p = parse_child(child).unwrap();
        assert_eq!(p.weight(), 100);
        assert_eq!(p.unique_id(), Some(""));
        assert!(parse_child("not%20a%20url").is_none());
        assert!(check_interface("com.example.Echo").is_ok());
        assert!(check_interface("a/b").is_err());
        assert!(check_interface("").is_err());
    }
}
