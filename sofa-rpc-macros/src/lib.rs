//! Procedural macros of sofa-rpc-rs (in progress).
