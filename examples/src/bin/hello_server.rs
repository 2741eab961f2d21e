//! Serves `HelloService` until Ctrl-C.
//!
//! `cargo run -p sofa-rpc-examples --bin hello-server [ADDR] [REGISTRY_URL]` (default
//! `127.0.0.1:12200`, no registry; e.g. `local:///tmp/demo.reg` to publish the service there)

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
    let mut builder = Server::builder()
        .bind(addr)
        .app_name("hello-server")
        .service(HelloServiceServer::new(Greeter));
    if let Some(registry) = std::env::args().nth(2) {
        builder = builder.registry(registry);
    }
    let server = builder.start().await?;
    println!("serving {:?} on {}", server.services(), server.local_addr());
    tokio::signal::ctrl_c().await?;
    println!("shutting down");
    server.shutdown().await;
    Ok(())
}
