//! Serves `HelloService` until Ctrl-C.
//!
//! `cargo run -p sofa-rpc-examples --bin hello-server [ADDR]` (default `127.0.0.1:12200`)

use sofa_rpc_core::Server;
use sofa_rpc_examples::{Greeter, HelloServiceServer};

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::from_default_env())
        .init();
    let addr = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "127.0.0.1:12200".into());
    let server = Server::builder()
        .bind(addr)
        .service(HelloServiceServer::new(Greeter))
        .start()
        .await?;
    println!("serving {:?} on {}", server.services(), server.local_addr());
    tokio::signal::ctrl_c().await?;
    println!("shutting down");
    server.shutdown().await;
    Ok(())
}
