//! The raw-TCP reference server.

use sofa_rpc_benches::load::{runtime, Args};
use sofa_rpc_benches::raw;
use tokio::net::TcpListener;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args = Args::from_env()?;
    runtime(args.threads)?.block_on(async move {
        let listener = TcpListener::bind(&args.addr).await?;
        eprintln!("raw-bench-server listening on {}", listener.local_addr()?);
        loop {
            let (stream, _) = listener.accept().await?;
            tokio::spawn(raw::serve(stream));
        }
    })
}
