//! A generic call made ready once: target, service, typed arguments, client settings (shared
//! by `call` and `bench`).

use std::time::Duration;

use sofa_rpc_core::{DynArgs, GenericService, Value};

use crate::args::{parse_args, parse_types, resolve_types};
use crate::cli::{CallOptions, Serialization};
use crate::connect::{client, ClientSettings};
use crate::error::{Failure, Result};
use crate::metadata::declared_types;
use crate::service::ServiceSpec;
use crate::target::Target;
use crate::to_java::argument;

/// A call ready to send, any number of times.
#[derive(Debug, Clone)]
pub(crate) struct Prepared {
    /// Where the calls go.
    pub(crate) target: Target,
    /// The service called.
    pub(crate) service: ServiceSpec,
    /// The method name.
    pub(crate) method: String,
    /// The arguments with their Java types.
    pub(crate) args: Vec<(String, Value)>,
    /// Baggage entries.
    pub(crate) baggage: Vec<(String, String)>,
    /// Client settings.
    pub(crate) settings: ClientSettings,
}

impl Prepared {
    /// Checks and converts everything the user typed; asks the provider's metadata service
    /// for the parameter types when `--types` is not given.
    pub(crate) async fn new(
        target: &str,
        service: &str,
        method: &str,
        args_json: Option<&str>,
        options: &CallOptions,
    ) -> Result<Prepared> {
        if options.serialization == Serialization::Protobuf {
            return Err(Failure::usage(
                "--serialization protobuf: protobuf messages need their generated types, which \
                 a generic call does not have; use hessian2, hessian4, json or msgpack",
            ));
        }
        let tls = options.tls.connector(target)?;
        let target = Target::parse(target)?;
        let service = ServiceSpec::parse(service)?;
        let values = parse_args(args_json)?;
        let explicit = options.types.as_deref().map(parse_types).transpose()?;
        let baggage = options
            .baggage
            .iter()
            .map(|kv| parse_baggage(kv))
            .collect::<Result<Vec<_>>>()?;
        let settings = ClientSettings {
            serialization: options.serialization.name(),
            timeout: Duration::from_millis(options.timeout.max(1)),
            app: options.app.clone(),
            tls,
        };
        let declared = if explicit.is_none() {
            declared_types(&target, &service, method, values.len(), &settings).await
        } else {
            None
        };
        let types = resolve_types(&values, explicit, declared)?;
        let args = values
            .iter()
            .zip(types)
            .enumerate()
            .map(|(i, (json, java))| argument(json, &java, i).map(|v| (java, v)))
            .collect::<Result<Vec<_>>>()?;
        Ok(Prepared {
            target,
            service,
            method: method.to_string(),
            args,
            baggage,
            settings,
        })
    }

    /// The generic view of the service, through a new client.
    pub(crate) fn generic(&self) -> Result<GenericService> {
        Ok(client(&self.target, &self.settings)?.generic(&self.service.unique_name()))
    }

    /// One call, decoded into a dynamic value.
    pub(crate) async fn call(&self, generic: &GenericService) -> Result<Value> {
        let mut dyn_args = DynArgs::new();
        for (java, value) in &self.args {
            dyn_args = dyn_args.arg(java.clone(), value.clone());
        }
        let mut call = generic
            .invoke::<Value>(self.method.clone(), dyn_args)
            .timeout(self.settings.timeout);
        for (k, v) in &self.baggage {
            call = call.baggage(k.clone(), v.clone());
        }
        call.await
            .map_err(|e| Failure::from_rpc(e, &self.target.to_string()))
    }

    /// The Java types sent, in order.
    pub(crate) fn java_types(&self) -> Vec<&str> {
        self.args.iter().map(|(java, _)| java.as_str()).collect()
    }
}

fn parse_baggage(kv: &str) -> Result<(String, String)> {
    match kv.split_once('=') {
        Some((k, v)) if !k.trim().is_empty() => Ok((k.trim().to_string(), v.to_string())),
        _ => Err(Failure::usage(format!(
            "--baggage {kv:?}: expected key=value"
        ))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn baggage_is_key_equals_value() {
        assert_eq!(
            parse_baggage("k=v=w").unwrap(),
            ("k".to_string(), "v=w".to_string())
        );
        assert!(parse_baggage("novalue").is_err());
        assert!(parse_baggage("=v").is_err());
    }
}
