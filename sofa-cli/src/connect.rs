//! Clients for a target, and the one provider address a command needs when it must talk to
//! a provider directly (the metadata service is not published in registries).

use std::time::Duration;

use sofa_rpc_core::bolt::tls::TlsConnector;
use sofa_rpc_core::registry::ProviderInfo;
use sofa_rpc_core::{Client, ConsumerConfig};

use crate::error::{Failure, Result};
use crate::service::ServiceSpec;
use crate::target::Target;

/// How a command's client calls.
#[derive(Debug, Clone)]
pub(crate) struct ClientSettings {
    /// The serializer's name.
    pub(crate) serialization: &'static str,
    /// Per-call (and connect) timeout.
    pub(crate) timeout: Duration,
    /// The application name calls are made as.
    pub(crate) app: String,
    /// How to reach providers over TLS (`--cacert` and friends); with it, direct targets are
    /// called over TLS.
    pub(crate) tls: Option<TlsConnector>,
}

/// A client that calls `target` with `settings`.
pub(crate) fn client(target: &Target, settings: &ClientSettings) -> Result<Client> {
    let config = ConsumerConfig::new()
        .serialization(settings.serialization)
        .timeout(settings.timeout)
        .connect_timeout(settings.timeout)
        .app_name(settings.app.clone());
    let config = match (target, &settings.tls) {
        (Target::Direct(addr), Some(_)) => config.direct_url(format!("bolt+tls://{addr}")),
        (Target::Direct(addr), None) => config.direct_url(addr.clone()),
        (Target::Registry(url), _) => config.registry(url.clone()),
    };
    let config = match &settings.tls {
        Some(tls) => config.tls(tls.clone()),
        None => config,
    };
    Client::new(config).map_err(|e| Failure::usage(format!("cannot use {target}: {}", e.message())))
}

/// The address (`host:port`) of one provider of `service` at `target`: the target itself,
/// or the first matching provider the registry lists.
pub(crate) async fn provider_address(target: &Target, service: &ServiceSpec) -> Result<String> {
    let url = match target {
        Target::Direct(addr) => return Ok(addr.clone()),
        Target::Registry(url) => url,
    };
    let listing = crate::listing::read(url, Some(&service.interface)).await?;
    listing
        .get(&service.interface)
        .and_then(|providers| providers.iter().find(|p| serves(p, service)))
        .map(|p| p.address().to_string())
        .ok_or_else(|| {
            Failure::Runtime(format!(
                "{url} lists no provider of {}",
                service.unique_name()
            ))
        })
}

/// Whether `provider` exports `service` (SOFARPC's defaults for missing parameters).
fn serves(provider: &ProviderInfo, service: &ServiceSpec) -> bool {
    provider.version().unwrap_or("1.0") == service.version
        && provider.unique_id().unwrap_or("") == service.unique_id
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn providers_match_version_and_unique_id() {
        let spec = ServiceSpec::parse("a.B:1.0").unwrap();
        let p = ProviderInfo::bolt("h", 1).with_param("version", "1.0");
        assert!(serves(&p, &spec));
        assert!(!serves(&p.clone().with_param("uniqueId", "x"), &spec));
        assert!(!serves(&p.with_param("version", "2.0"), &spec));
    }
}
