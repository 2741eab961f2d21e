#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod encoding;
mod fixtures;
mod frame;
mod golden;
mod node_xcheck;
mod robustness;
mod roundtrip;
mod serde_mapping;
