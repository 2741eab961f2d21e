//! The raw-pipe reference client: the wire and system-call limit of the echo.

use sofa_rpc_benches::load::{runtime, Args};
use sofa_rpc_benches::pipe;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args = Args::from_env()?;
    let line = runtime(args.threads)?.block_on(pipe::run(&args))?;
    println!("{line}");
    Ok(())
}
