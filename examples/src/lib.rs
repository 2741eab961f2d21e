//! Workspace support crate.
