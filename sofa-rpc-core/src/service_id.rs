//! [`ServiceId`]: which service a call is for, as SOFARPC names it.

use std::fmt;
use std::sync::Arc;

use sofa_bolt::HeaderStr;

/// Identifies a service: interface name, version and optional uniqueId.
///
/// Its [`unique_name`](Self::unique_name) is SOFARPC's target service unique name,
/// `interface:version[:uniqueId]`, which providers key their services by.
///
/// ```
/// use sofa_rpc_core::ServiceId;
///
/// let id = ServiceId::new("com.example.EchoService", "1.0", "");
/// assert_eq!(id.unique_name(), "com.example.EchoService:1.0");
/// let id = ServiceId::new("com.example.EchoService", "", "blue");
/// assert_eq!(id.unique_name(), "com.example.EchoService:1.0:blue");
/// ```
#[derive(Clone)]
pub struct ServiceId(Arc<Names>);

/// The names of a service, shared by every clone of its id: a call clones one reference.
#[derive(PartialEq, Eq, Hash)]
struct Names {
    interface: String,
    version: String,
    unique_id: String,
    /// Goes into every request header: kept in the header's string type to be shared, not copied.
    unique_name: HeaderStr,
}

impl ServiceId {
    /// The version a service has when none is given.
    pub const DEFAULT_VERSION: &'static str = "1.0";

    /// A service id; an empty `version` becomes `1.0`, as in SOFARPC.
    pub fn new(interface: &str, version: &str, unique_id: &str) -> Self {
        let version = if version.is_empty() {
            Self::DEFAULT_VERSION
        } else {
            version
        };
        let unique_name = if unique_id.is_empty() {
            format!("{interface}:{version}")
        } else {
            format!("{interface}:{version}:{unique_id}")
        };
        ServiceId(Arc::new(Names {
            interface: interface.into(),
            version: version.into(),
            unique_id: unique_id.into(),
            unique_name: unique_name.into(),
        }))
    }

    /// Parses `interface:version[:uniqueId]` (a missing version becomes `1.0`).
    pub fn parse(unique_name: &str) -> Self {
        let mut parts = unique_name.splitn(3, ':');
        let interface = parts.next().unwrap_or_default();
        let version = parts.next().unwrap_or_default();
        let unique_id = parts.next().unwrap_or_default();
        ServiceId::new(interface, version, unique_id)
    }

    /// The interface name, e.g. `com.example.EchoService`.
    pub fn interface(&self) -> &str {
        &self.0.interface
    }

    /// The version, `1.0` unless set.
    pub fn version(&self) -> &str {
        &self.0.version
    }

    /// The uniqueId, empty unless set.
    pub fn unique_id(&self) -> &str {
        &self.0.unique_id
    }

    /// `interface:version[:uniqueId]`.
    pub fn unique_name(&self) -> &str {
        self.0.unique_name.as_str()
    }

    /// `interface:version[:uniqueId]`, as a header value (a cheap clone).
    pub(crate) fn unique_name_header(&self) -> &HeaderStr {
        &self.0.unique_name
    }
}

/// One pointer comparison when both were cloned from one id (as a stub's calls are), else a
/// comparison of the names.
impl PartialEq for ServiceId {
    fn eq(&self, other: &Self) -> bool {
        Arc::ptr_eq(&self.0, &other.0) || self.0 == other.0
    }
}

impl Eq for ServiceId {}

impl std::hash::Hash for ServiceId {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        self.0.hash(state);
    }
}

impl fmt::Display for ServiceId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.0.unique_name.as_str())
    }
}

impl fmt::Debug for ServiceId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "ServiceId({})", self.0.unique_name)
    }
}
