//! The echo service on a sofa-rpc-rs server.

use sofa_rpc_benches::echo::{Echo, EchoBenchServer};
use sofa_rpc_benches::load::{runtime, Args};
use sofa_rpc_core::Server;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args = Args::from_env()?;
    runtime(args.threads)?.block_on(async move {
        let server = Server::builder()
            .bind(args.addr.as_str())
            .service(EchoBenchServer::new(Echo))
            .start()
            .await?;
        eprintln!("sofa-bench-server listening on {}", server.local_addr());
        std::future::pending::<()>().await;
        Ok(())
    })
}
