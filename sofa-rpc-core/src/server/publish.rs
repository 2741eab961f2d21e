//! Publishing a server's services to registries.

use std::net::{IpAddr, SocketAddr, UdpSocket};
use std::sync::Arc;
use std::time::Duration;

use sofa_rpc_registry::{Registration, Registry, RegistryFactories};

use super::ProviderConfig;
use crate::error::{Result, RpcError};
use crate::headers::TLS_PARAM;

/// The registrations made in one registry.
pub(crate) struct Publication {
    registry: Arc<dyn Registry>,
    url: String,
    registrations: Vec<Registration>,
}

/// The host providers are published with: the configured one, else the address the server is
/// bound to, else (bound to every interface) the address this machine reaches the network
/// from, else the loopback address.
pub(crate) fn publish_host(configured: Option<&str>, bound: SocketAddr) -> String {
    if let Some(host) = configured {
        return host.to_string();
    }
    if !bound.ip().is_unspecified() {
        return bound.ip().to_string();
    }
    // Connecting a UDP socket sends nothing; it only picks the outgoing interface.
    let outward = UdpSocket::bind("0.0.0.0:0")
        .and_then(|s| s.connect("8.8.8.8:80").map(|_| s))
        .and_then(|s| s.local_addr())
        .map(|a| a.ip());
    match outward {
        Ok(ip) if !ip.is_unspecified() => ip.to_string(),
        _ => IpAddr::from([127, 0, 0, 1]).to_string(),
    }
}

fn registration(
    provider: &ProviderConfig,
    host: &str,
    port: u16,
    app: Option<&str>,
    tls: bool,
) -> Registration {
    let id = provider.service_id();
    let mut r = Registration::sofa(id.interface(), host, port)
        .with_version(id.version())
        .with_unique_id(id.unique_id())
        .with_weight(provider.weight)
        .with_serialization(&provider.serialization);
    if let Some((time, weight)) = provider.warmup {
        r = r.with_warmup(time, weight);
    }
    if let Some(app) = app {
        r = r.with_app_name(app);
    }
    for (key, value) in &provider.params {
        r = r.with_param(key, value);
    }
    if tls {
        // Consumers read it to know they must connect with TLS.
        r = r.with_param(TLS_PARAM, "true");
    }
    r
}

/// Registers every provider in every registry.
pub(crate) async fn publish(
    factories: &RegistryFactories,
    urls: &[String],
    providers: &[ProviderConfig],
    host: &str,
    port: u16,
    app: Option<&str>,
    tls: bool,
) -> Result<Vec<Publication>> {
    let mut publications = Vec::with_capacity(urls.len());
    for url in urls {
        let registry = factories
            .open(url)
            .await
            .map_err(|e| RpcError::config(format!("cannot open registry {url}: {e}")))?;
        let mut registrations = Vec::with_capacity(providers.len());
        for provider in providers {
            let r = registration(provider, host, port, app, tls);
            registry.register(&r).await.map_err(|e| {
                RpcError::config(format!(
                    "cannot register {} in {url}: {e}",
                    provider.service_id()
                ))
            })?;
            tracing::info!(registry = %url, provider = %r.provider(), "published");
            registrations.push(r);
        }
        publications.push(Publication {
            registry,
            url: url.clone(),
            registrations,
        });
    }
    Ok(publications)
}

/// The longest a shutdown waits for registries to acknowledge the withdrawal. A registry
/// that cannot be reached by then forgets the server anyway once its session or lease runs out.
const WITHDRAW_TIMEOUT: Duration = Duration::from_secs(3);

/// Withdraws every registration and closes the registries, all registries at once and for
/// at most [`WITHDRAW_TIMEOUT`].
pub(crate) async fn withdraw(publications: Vec<Publication>) {
    let all = futures::future::join_all(publications.iter().map(|p| async move {
        for r in &p.registrations {
            if let Err(e) = p.registry.unregister(r).await {
                tracing::warn!(registry = %p.url, error = %e, "cannot unregister");
            }
        }
        if let Err(e) = p.registry.close().await {
            tracing::debug!(registry = %p.url, error = %e, "closing the registry");
        }
    }));
    if tokio::time::timeout(WITHDRAW_TIMEOUT, all).await.is_err() {
        tracing::warn!(
            "registries did not confirm the withdrawal within {} s; shutting down anyway",
            WITHDRAW_TIMEOUT.as_secs()
        );
    }
}
