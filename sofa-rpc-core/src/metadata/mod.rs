//! The built-in metadata service: what a server exports, readable by any caller.
//!
//! A server answers [`INTERFACE`] (version [`VERSION`]) next to the services it exports,
//! unless turned off with [`ServerBuilder::metadata(false)`](crate::ServerBuilder::metadata).
//! Its methods take and return only strings, lists and maps, so a generic caller in any
//! language (Java's `GenericService.$invoke`, sofa-rpc-node, the `sofa` command line) reads it
//! in `hessian2` or `json` without an interface jar:
//!
//! | method | parameter types | returns |
//! |---|---|---|
//! | `list` | (none) | `java.util.List` of unique names (`interface:version[:uniqueId]`) |
//! | `describe` | `java.lang.String` (a unique name, or an interface exported once) | `java.util.Map`, shaped as [`ServiceDescription`] |
//!
//! A `describe` result, as JSON:
//!
//! ```json
//! { "interface": "com.example.EchoService", "version": "1.0", "uniqueId": "",
//!   "uniqueName": "com.example.EchoService:1.0", "serialization": "hessian2",
//!   "serializations": ["hessian2", "hessian4", "json", "msgpack", "protobuf"],
//!   "methods": [ { "name": "echo", "parameterTypes": ["java.lang.String"],
//!                  "returnType": "java.lang.String" } ] }
//! ```
//!
//! An unknown or ambiguous name is answered with a `java.lang.IllegalArgumentException`.

mod service;

use serde::{Deserialize, Serialize};

pub(crate) use service::MetadataService;

use crate::dispatch::MethodDescriptor;

/// The interface name of the metadata service. Project-specific on purpose: Java SOFARPC has
/// no such service, and a name of its own cannot collide with one a Java provider exports.
pub const INTERFACE: &str = "sofa.rpc.rs.MetadataService";

/// The version the metadata service is exported under (SOFARPC's default).
pub const VERSION: &str = "1.0";

/// The unique name to call: `INTERFACE:VERSION`.
pub const UNIQUE_NAME: &str = "sofa.rpc.rs.MetadataService:1.0";

/// One exported service, as `describe` answers it (a map with these camelCase keys).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ServiceDescription {
    /// The interface name.
    pub interface: String,
    /// The version it is exported under.
    pub version: String,
    /// The uniqueId it is exported under (empty for none).
    #[serde(default)]
    pub unique_id: String,
    /// `interface:version[:uniqueId]`, the name to call it by.
    pub unique_name: String,
    /// The serialization the provider publishes (what consumers use by default).
    pub serialization: String,
    /// Every serialization the server decodes requests in.
    #[serde(default)]
    pub serializations: Vec<String>,
    /// The methods, in definition order.
    pub methods: Vec<MethodDescription>,
}

/// One method of a [`ServiceDescription`].
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct MethodDescription {
    /// The method name.
    pub name: String,
    /// Java parameter types in order; `None` (null) when the provider does not know them.
    #[serde(default)]
    pub parameter_types: Option<Vec<String>>,
    /// The Java return type; `None` (null) when the provider does not know it.
    #[serde(default)]
    pub return_type: Option<String>,
}

impl From<MethodDescriptor> for MethodDescription {
    fn from(d: MethodDescriptor) -> Self {
        MethodDescription {
            name: d.name.into_owned(),
            parameter_types: d
                .parameter_types
                .map(|types| types.into_iter().map(|t| t.into_owned()).collect()),
            return_type: d.return_type.map(|t| t.into_owned()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unique_name_matches_its_parts() {
        assert_eq!(UNIQUE_NAME, format!("{INTERFACE}:{VERSION}"));
    }

    #[test]
    fn descriptions_use_java_style_keys() {
        let d = ServiceDescription {
            interface: "a.B".into(),
            version: "1.0".into(),
            unique_id: String::new(),
            unique_name: "a.B:1.0".into(),
            serialization: "hessian2".into(),
            serializations: vec!["json".into()],
            methods: vec![MethodDescriptor::new("m", vec!["int".into()], "void").into()],
        };
        let json = serde_json::to_value(&d).unwrap();
        assert_eq!(json["uniqueName"], "a.B:1.0");
        assert_eq!(json["methods"][0]["parameterTypes"][0], "int");
        assert_eq!(json["methods"][0]["returnType"], "void");
        let back: ServiceDescription = serde_json::from_value(json).unwrap();
        assert_eq!(back, d);
    }
}
