//! SOFARPC for Rust (in progress).
