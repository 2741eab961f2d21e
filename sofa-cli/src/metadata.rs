//! Asking a provider's built-in metadata service (`sofa.rpc.rs.MetadataService`) what it
//! exports.

use sofa_rpc_core::metadata::{ServiceDescription, INTERFACE, UNIQUE_NAME};
use sofa_rpc_core::{DynArgs, ErrorKind};

use crate::connect::{client, provider_address, ClientSettings};
use crate::error::{Failure, Result};
use crate::service::ServiceSpec;
use crate::target::Target;

/// How `describe` names the service: the unique name when the user gave a version, else the
/// interface (which the provider resolves when it exports it once).
pub(crate) fn describe_name(text: &str, spec: &ServiceSpec) -> String {
    if text.contains(':') {
        spec.unique_name()
    } else {
        spec.interface.clone()
    }
}

/// The description of `name` from the provider of `service` at `target`.
pub(crate) async fn describe(
    target: &Target,
    service: &ServiceSpec,
    name: &str,
    settings: &ClientSettings,
) -> Result<ServiceDescription> {
    let addr = provider_address(target, service).await?;
    let direct = Target::Direct(addr.clone());
    let metadata = client(&direct, settings)?.generic(UNIQUE_NAME);
    metadata
        .invoke::<ServiceDescription>(
            "describe",
            DynArgs::new().arg("java.lang.String", name.to_string()),
        )
        .await
        .map_err(|e| match e.kind() {
            // Java reports an unknown service as "not found invoker"; sofa-rpc-node as a
            // server exception naming the service.
            kind if kind == ErrorKind::ServerNotFoundInvoker
                || (kind.is_server_side() && e.message().contains(INTERFACE)) =>
            {
                Failure::Runtime(format!(
                    "the provider at {addr} has no metadata service (not a sofa-rpc-rs provider, \
                 or its metadata is off): use --types"
                ))
            }
            _ => Failure::from_rpc(e, &direct.to_string()),
        })
}

/// The declared Java parameter types of `method` taking `arity` arguments, if the provider
/// answers its metadata service and exactly one method fits. Any failure means "unknown":
/// the caller falls back to inference.
pub(crate) async fn declared_types(
    target: &Target,
    service: &ServiceSpec,
    method: &str,
    arity: usize,
    settings: &ClientSettings,
) -> Option<Vec<String>> {
    let described = describe(target, service, &service.unique_name(), settings)
        .await
        .ok()?;
    let mut fitting = described.methods.into_iter().filter(|m| {
        m.name == method
            && m.parameter_types
                .as_ref()
                .is_some_and(|types| types.len() == arity)
    });
    match (fitting.next(), fitting.next()) {
        (Some(only), None) => only.parameter_types,
        _ => None,
    }
}
