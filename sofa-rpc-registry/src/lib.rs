//! Service discovery for sofa-rpc-rs (in progress).
