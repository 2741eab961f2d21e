//! The raw-TCP reference client.

use sofa_rpc_benches::load::{connect_with_retry, drive, runtime, Args};
use sofa_rpc_benches::raw::RawClient;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args = Args::from_env()?;
    let line = runtime(args.threads)?.block_on(async {
        let mut clients = Vec::with_capacity(args.conns);
        for _ in 0..args.conns {
            clients.push(
                connect_with_retry(|| RawClient::connect(&args.addr))
                    .await
                    .map_err(|e| e.to_string())?,
            );
        }
        drive("raw", &args, clients, |c: RawClient, p| async move {
            c.call(p).await.map(|b| b.len())
        })
        .await
    })?;
    println!("{line}");
    Ok(())
}
