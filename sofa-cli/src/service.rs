//! The `interface[:version[:uniqueId]]` argument.

use crate::error::{Failure, Result};

/// A service as the command line names it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ServiceSpec {
    /// The interface, e.g. `com.example.EchoService`.
    pub(crate) interface: String,
    /// The version; SOFARPC's default `1.0` when not given.
    pub(crate) version: String,
    /// The uniqueId; empty when not given.
    pub(crate) unique_id: String,
}

impl ServiceSpec {
    /// Parses `interface[:version[:uniqueId]]`.
    pub(crate) fn parse(text: &str) -> Result<ServiceSpec> {
        let mut parts = text.splitn(3, ':');
        let interface = parts.next().unwrap_or_default();
        if interface.is_empty() || interface.contains(char::is_whitespace) {
            return Err(Failure::usage(format!(
                "bad service {text:?}: expected interface[:version[:uniqueId]]"
            )));
        }
        let version = match parts.next() {
            Some(v) if !v.is_empty() => v,
            _ => "1.0",
        };
        Ok(ServiceSpec {
            interface: interface.to_string(),
            version: version.to_string(),
            unique_id: parts.next().unwrap_or_default().to_string(),
        })
    }

    /// `interface:version[:uniqueId]`, the name providers know the service by.
    pub(crate) fn unique_name(&self) -> String {
        if self.unique_id.is_empty() {
            format!("{}:{}", self.interface, self.version)
        } else {
            format!("{}:{}:{}", self.interface, self.version, self.unique_id)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_and_parts() {
        let s = ServiceSpec::parse("a.B").unwrap();
        assert_eq!(s.unique_name(), "a.B:1.0");
        let s = ServiceSpec::parse("a.B:2.0:blue").unwrap();
        assert_eq!((s.version.as_str(), s.unique_id.as_str()), ("2.0", "blue"));
        assert_eq!(s.unique_name(), "a.B:2.0:blue");
        assert!(ServiceSpec::parse(":1.0").is_err());
    }
}
