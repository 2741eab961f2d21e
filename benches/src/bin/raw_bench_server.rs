//! The raw-TCP reference server.

use sofa_rpc_benches::load::{runtime, Args};
use sofa_rpc_benches::raw;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args = Args::from_env()?;
    runtime(args.threads)?.block_on(raw::listen(&args.addr, "raw-bench-server"))?;
    Ok(())
}
