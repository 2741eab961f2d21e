//! The same echo as a tarpc service (bincode over length-delimited TCP).

/// Echoes a byte payload.
#[tarpc::service]
pub trait TarpcEcho {
    /// Returns `payload`.
    async fn echo(payload: serde_bytes::ByteBuf) -> serde_bytes::ByteBuf;
}
