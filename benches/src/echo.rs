//! The echo service measured end to end.

use bytes::Bytes;

/// Echoes a byte payload.
#[sofa_rpc_core::service(interface = "com.example.bench.EchoBench")]
pub trait EchoBench {
    /// Returns `payload`.
    async fn echo(&self, payload: Bytes) -> Bytes;
}

/// The implementation: hands the payload back.
#[derive(Clone, Copy, Debug, Default)]
pub struct Echo;

impl EchoBench for Echo {
    async fn echo(&self, payload: Bytes) -> Bytes {
        payload
    }
}
