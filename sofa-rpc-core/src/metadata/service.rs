//! [`MetadataService`]: the dispatcher behind the built-in metadata service.

use std::sync::Arc;

use super::{ServiceDescription, INTERFACE, VERSION};
use crate::dispatch::{Dispatch, MethodDescriptor, Prepared};
use crate::error::{ErrorKind, Result, RpcError};
use crate::serialize::{Reply, ReplyValue, RequestReader};
use crate::service_id::ServiceId;
use crate::value::{RemoteException, ValueRef};

const METHODS: &[&str] = &["list", "describe"];

/// Answers `list` and `describe` from a snapshot of the services taken when the server starts
/// (a server's exports do not change while it runs).
#[derive(Clone, Debug)]
pub(crate) struct MetadataService {
    services: Arc<Vec<ServiceDescription>>,
}

impl MetadataService {
    /// A metadata service describing `services`.
    pub(crate) fn new(services: Vec<ServiceDescription>) -> Self {
        MetadataService {
            services: Arc::new(services),
        }
    }

    fn list(&self) -> Vec<String> {
        self.services
            .iter()
            .map(|s| s.unique_name.clone())
            .collect()
    }

    /// The service named `name`: by unique name, or by interface when exported only once.
    fn find(&self, name: &str) -> std::result::Result<&ServiceDescription, RemoteException> {
        if let Some(found) = self.services.iter().find(|s| s.unique_name == name) {
            return Ok(found);
        }
        let matching: Vec<&ServiceDescription> = self
            .services
            .iter()
            .filter(|s| s.interface == name)
            .collect();
        match matching.as_slice() {
            [one] => Ok(one),
            [] => Err(illegal(format!(
                "no service {name} is exported here; exported: {}",
                self.list().join(", ")
            ))),
            several => Err(illegal(format!(
                "{name} is exported {} times; name one of: {}",
                several.len(),
                several
                    .iter()
                    .map(|s| s.unique_name.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            ))),
        }
    }
}

fn illegal(message: String) -> RemoteException {
    RemoteException::new("java.lang.IllegalArgumentException", message)
}

/// A reply as a plain JSON-shaped value: maps, lists and strings are what every serializer
/// and every peer's generic decoder understands (a struct would travel as a Hessian object
/// of a class Java peers do not have).
struct Plain {
    value: serde_json::Value,
    java_type: &'static str,
}

impl ReplyValue for Plain {
    fn value(&self) -> ValueRef<'_> {
        ValueRef::serde(&self.value, self.java_type)
    }
}

fn reply<T: serde::Serialize>(value: &T, java_type: &'static str) -> Reply {
    match serde_json::to_value(value) {
        Ok(value) => Reply::Value(Box::new(Plain { value, java_type })),
        Err(e) => Reply::Error(RpcError::new(
            ErrorKind::ServerSerialize,
            format!("metadata: {e}"),
        )),
    }
}

impl Dispatch for MetadataService {
    fn service_id(&self) -> ServiceId {
        ServiceId::new(INTERFACE, VERSION, "")
    }

    fn methods(&self) -> &'static [&'static str] {
        METHODS
    }

    fn method_descriptors(&self) -> Vec<MethodDescriptor> {
        vec![
            MethodDescriptor::new("list", vec![], "java.util.List"),
            MethodDescriptor::new("describe", vec!["java.lang.String".into()], "java.util.Map"),
        ]
    }

    fn prepare(&self, method: &str, args: &mut dyn RequestReader<'_>) -> Result<Prepared> {
        let outcome = match method {
            "list" => reply(&self.list(), "java.util.List"),
            "describe" => {
                args.set_arg_count(1);
                let name = args
                    .next_arg()?
                    .deserialize_serde(|de| erased_serde::deserialize::<String>(de))
                    .map_err(|e| {
                        RpcError::new(
                            ErrorKind::ServerDeserialize,
                            format!("argument 0 of describe: {e}"),
                        )
                    })?;
                match self.find(&name) {
                    Ok(found) => reply(found, "java.util.Map"),
                    Err(e) => Reply::AppError(e),
                }
            }
            _ => {
                return Err(RpcError::not_found(format!(
                    "service {} has no method {method}",
                    self.service_id()
                )))
            }
        };
        Ok(Box::pin(std::future::ready(outcome)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn described(interface: &str, version: &str) -> ServiceDescription {
        ServiceDescription {
            interface: interface.into(),
            version: version.into(),
            unique_id: String::new(),
            unique_name: format!("{interface}:{version}"),
            serialization: "hessian2".into(),
            serializations: vec![],
            methods: vec![],
        }
    }

    #[test]
    fn finds_by_unique_name_or_single_interface() {
        let m = MetadataService::new(vec![
            described("a.A", "1.0"),
            described("b.B", "1.0"),
            described("b.B", "2.0"),
        ]);
        assert_eq!(m.find("a.A").unwrap().unique_name, "a.A:1.0");
        assert_eq!(m.find("b.B:2.0").unwrap().version, "2.0");
        let ambiguous = m.find("b.B").unwrap_err();
        assert_eq!(ambiguous.class_name, "java.lang.IllegalArgumentException");
        assert!(ambiguous.message.contains("b.B:1.0, b.B:2.0"));
        assert!(m
            .find("c.C")
            .unwrap_err()
            .message
            .contains("no service c.C"));
        assert_eq!(m.list(), ["a.A:1.0", "b.B:1.0", "b.B:2.0"]);
    }
}
