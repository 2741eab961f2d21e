//! The server of the raw-pipe pair: the raw-TCP reference server under the name `benches/run.sh`
//! looks for (`<framework>-bench-server`). It already decodes every complete frame of a read and
//! answers them all in one write, which is all a pipelined client needs of it.

use sofa_rpc_benches::load::{runtime, Args};
use sofa_rpc_benches::raw;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args = Args::from_env()?;
    runtime(args.threads)?.block_on(raw::listen(&args.addr, "raw-pipe-bench-server"))?;
    Ok(())
}
