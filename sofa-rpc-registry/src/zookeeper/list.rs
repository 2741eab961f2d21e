//! One-shot listing of `{base}/*/providers`, for [`Registry::list`](crate::Registry::list).

use zookeeper_client as zk;

use super::Inner;
use crate::error::{Error, ErrorKind, Result};
use crate::layout::{check_interface, parse_child, providers_dir};
use crate::registry::Listing;

/// The providers of `interface`, or of every interface under the base path. Interfaces
/// without providers (only consumers, or emptied) are left out.
pub(super) async fn list(inner: &Inner, interface: Option<&str>) -> Result<Listing> {
    let client = inner.client()?;
    let interfaces = match interface {
        Some(i) => {
            check_interface(i)?;
            vec![i.to_string()]
        }
        None => children(inner, &client, &inner.base).await?,
    };
    let mut listing = Listing::new();
    for interface in interfaces {
        let dir = providers_dir(&inner.base, &interface);
        let providers: Vec<_> = children(inner, &client, &dir)
            .await?
            .iter()
            .filter_map(|c| parse_child(c))
            .collect();
        if !providers.is_empty() {
            listing.insert(interface, providers);
        }
    }
    Ok(listing)
}

/// The children of `path`, sorted; none when it does not exist.
async fn children(inner: &Inner, client: &zk::Client, path: &str) -> Result<Vec<String>> {
    match tokio::time::timeout(inner.op_timeout(), client.list_children(path)).await {
        Ok(Ok(mut names)) => {
            names.sort_unstable();
            Ok(names)
        }
        Ok(Err(zk::Error::NoNode)) => Ok(Vec::new()),
        Ok(Err(e)) => Err(super::zk_error("list", path, e)),
        Err(_) => Err(Error::new(
            ErrorKind::Timeout,
            format!("ZooKeeper list {path}: no answer"),
        )),
    }
}
