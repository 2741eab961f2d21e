//! `sofa describe`: a service's methods and Java signatures, from its provider's metadata.

use std::time::Duration;

use sofa_rpc_core::metadata::{MethodDescription, ServiceDescription};

use crate::cli::DescribeArgs;
use crate::connect::ClientSettings;
use crate::error::{Failure, Result};
use crate::metadata::{describe, describe_name};
use crate::output::print_json;
use crate::service::ServiceSpec;
use crate::target::Target;

/// Prints the description: Java-like signatures, or the metadata service's map with `--json`.
pub(crate) async fn run(args: DescribeArgs, json: bool) -> Result<()> {
    let target = Target::parse(&args.target)?;
    let service = ServiceSpec::parse(&args.service)?;
    let settings = ClientSettings {
        serialization: args.serialization.name(),
        timeout: Duration::from_millis(args.timeout.max(1)),
        app: "sofa-cli".into(),
        tls: args.tls.connector(&args.target)?,
    };
    let name = describe_name(&args.service, &service);
    let described = describe(&target, &service, &name, &settings).await?;
    if json {
        let doc = serde_json::to_value(&described)
            .map_err(|e| Failure::Runtime(format!("cannot print the description: {e}")))?;
        print_json(&doc);
    } else {
        print!("{}", render(&described));
    }
    Ok(())
}

/// The description as text: a header, then one Java signature per method.
fn render(d: &ServiceDescription) -> String {
    let mut out = format!(
        "service {} (version {}, uniqueId {:?})\nserialization: {} (accepts {})\nmethods:\n",
        d.interface,
        d.version,
        d.unique_id,
        d.serialization,
        d.serializations.join(", ")
    );
    for m in &d.methods {
        out.push_str("  ");
        out.push_str(&signature(m));
        out.push('\n');
    }
    out
}

/// `String echo(java.lang.String)`; `?` where the provider does not know the types.
fn signature(m: &MethodDescription) -> String {
    let ret = m.return_type.as_deref().unwrap_or("?");
    let params = match &m.parameter_types {
        Some(types) => types.join(", "),
        None => "?".into(),
    };
    format!("{ret} {}({params})", m.name)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signatures_read_like_java() {
        let d = ServiceDescription {
            interface: "a.B".into(),
            version: "1.0".into(),
            unique_id: String::new(),
            unique_name: "a.B:1.0".into(),
            serialization: "hessian2".into(),
            serializations: vec!["hessian2".into(), "json".into()],
            methods: vec![
                MethodDescription {
                    name: "add".into(),
                    parameter_types: Some(vec!["int".into(), "int".into()]),
                    return_type: Some("int".into()),
                },
                MethodDescription {
                    name: "raw".into(),
                    parameter_types: None,
                    return_type: None,
                },
            ],
        };
        assert_eq!(
            render(&d),
            "service a.B (version 1.0, uniqueId \"\")\nserialization: hessian2 (accepts hessian2, json)\nmethods:\n  int add(int, int)\n  ? raw(?)\n"
        );
    }
}
