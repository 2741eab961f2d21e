//! Reading what a registry publishes, with a bound on how long an unreachable one may take.

use std::time::Duration;

use sofa_rpc_core::registry::{ErrorKind, Listing};

use crate::error::{Failure, Result};

/// How long opening and reading a registry may take before it counts as unreachable.
const REGISTRY_WAIT: Duration = Duration::from_secs(15);

/// Reads what registry `url` publishes (every interface, or only `interface`), closing it
/// afterwards.
pub(crate) async fn read(url: &str, interface: Option<&str>) -> Result<Listing> {
    let unreachable = |why: String| Failure::usage(format!("cannot read registry {url}: {why}"));
    let work = async {
        let registry = sofa_rpc_core::registry::open(url)
            .await
            .map_err(|e| unreachable(e.to_string()))?;
        let listed = registry.list(interface).await;
        // Closing only ends this process's session; nothing was registered.
        let _ = registry.close().await;
        listed.map_err(|e| match e.kind() {
            ErrorKind::Unsupported | ErrorKind::InvalidArgument => Failure::usage(e.to_string()),
            _ => unreachable(e.to_string()),
        })
    };
    match tokio::time::timeout(REGISTRY_WAIT, work).await {
        Ok(outcome) => outcome,
        Err(_) => Err(unreachable(format!("no answer in {REGISTRY_WAIT:?}"))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_registry_that_cannot_open_is_a_usage_error() {
        let e = read("redis://127.0.0.1:1", None).await.unwrap_err();
        assert_eq!(e.exit_code(), 2, "{e}");
        assert!(
            e.to_string()
                .starts_with("cannot read registry redis://127.0.0.1:1: "),
            "{e}"
        );
    }
}
