//! Cross-crate integration tests of sofa-rpc-rs, and what they share: the interop services
//! ([`interop`]), the harness that runs the third-party peers in `tests/peers/` ([`peers`]),
//! and a way to run the `sofa` command line ([`cli`]).

pub mod cli;
pub mod interop;
pub mod peers;

pub use cli::{run_sofa, sofa_binary, SofaRun};
pub use peers::{peers_dir, run_client, ClientRun, PeerError, PeerServer, Scenario};
