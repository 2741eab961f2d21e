//! One-shot listing of `{base}/*/providers/*`, for [`Registry::list`](crate::Registry::list).

use etcd_client as etcd;

use super::watch::provider_of;
use super::{bounded, Inner};
use crate::error::Result;
use crate::layout::{check_interface, providers_dir};
use crate::registry::Listing;

/// The providers of `interface`, or of every interface under the base path, in one range read.
pub(super) async fn list(inner: &Inner, interface: Option<&str>) -> Result<Listing> {
    let prefix = match interface {
        Some(i) => {
            check_interface(i)?;
            format!("{}/", providers_dir(&inner.base, i))
        }
        None => format!("{}/", inner.base),
    };
    let got = bounded(
        "get",
        inner
            .client
            .clone()
            .get(prefix.as_str(), Some(etcd::GetOptions::new().with_prefix())),
    )
    .await?;
    let mut listing = Listing::new();
    for kv in got.kvs() {
        let Some(interface) = interface_of(&inner.base, kv.key()) else {
            continue;
        };
        if let Some(provider) = provider_of(kv.key(), kv.value()) {
            listing.entry(interface).or_default().push(provider);
        }
    }
    Ok(listing)
}

/// The interface of a provider key `{base}/{interface}/providers/{url}`; `None` for other
/// keys (consumers).
fn interface_of(base: &str, key: &[u8]) -> Option<String> {
    let key = std::str::from_utf8(key).ok()?;
    let rest = key.strip_prefix(base)?.strip_prefix('/')?;
    let (interface, rest) = rest.split_once('/')?;
    rest.strip_prefix("providers/")?;
    Some(interface.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_provider_keys_name_an_interface() {
        let base = "/sofa-rpc";
        let key = b"/sofa-rpc/com.example.Echo/providers/bolt%3A%2F%2Fh%3A1";
        assert_eq!(interface_of(base, key).as_deref(), Some("com.example.Echo"));
        assert_eq!(interface_of(base, b"/sofa-rpc/I/consumers/x"), None);
        assert_eq!(interface_of(base, b"/other/I/providers/x"), None);
    }
}
