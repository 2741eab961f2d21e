//! The closed-loop load generator shared by every client binary.

mod args;
mod cpu;
mod driver;
mod per_thread;
mod report;

pub use args::Args;
pub use driver::{drive, payload};
pub use report::{report, Tally, WindowStart};

/// A multi-thread tokio runtime with `threads` workers.
pub fn runtime(threads: usize) -> std::io::Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(threads.max(1))
        .enable_all()
        .build()
}

/// Retries `connect` for up to 10 s (the server may still be starting).
pub async fn connect_with_retry<T, E, F, Fut>(mut connect: F) -> Result<T, E>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Result<T, E>>,
{
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    loop {
        match connect().await {
            Ok(v) => return Ok(v),
            Err(e) if std::time::Instant::now() > deadline => return Err(e),
            Err(_) => tokio::time::sleep(std::time::Duration::from_millis(50)).await,
        }
    }
}
