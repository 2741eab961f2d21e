//! Cross-crate integration tests of sofa-rpc-rs, and what they share: the interop services
//! ([`interop`]) and the harness that runs the third-party peers in `tests/peers/` ([`peers`]).

pub mod interop;
pub mod peers;

pub use peers::{peers_dir, run_client, ClientRun, PeerError, PeerServer, Scenario};
