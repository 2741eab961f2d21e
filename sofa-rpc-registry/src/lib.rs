//! # sofa-rpc-registry
//!
//! Where providers come from. [`ProviderInfo`] is one provider as SOFARPC registries describe
//! it: a URL such as `bolt://10.0.0.5:12200?weight=100&serialization=hessian2&uniqueId=`
//! whose parameters carry its weight, warm-up, serialization and version.
//!
//! ```
//! use sofa_rpc_registry::ProviderInfo;
//!
//! let p: ProviderInfo = "bolt://127.0.0.1:12200?weight=50&serialization=hessian2&rpcVer=51403"
//!     .parse()
//!     .unwrap();
//! assert_eq!(p.address(), "127.0.0.1:12200");
//! assert_eq!(p.weight(), 50);
//! assert_eq!(p.serialization(), Some("hessian2"));
//! ```

mod provider;
mod url;

pub use provider::{ProviderInfo, ProviderParseError, DEFAULT_WEIGHT};
pub use url::{decode_component, encode_component};
