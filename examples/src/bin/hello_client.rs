//! Calls a running `hello-server`.
//!
//! `cargo run -p sofa-rpc-examples --bin hello-client [ADDR] [NAME]`

use std::time::Duration;

use sofa_rpc_core::{Client, ConsumerConfig};
use sofa_rpc_examples::HelloServiceClient;

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let addr = args.next().unwrap_or_else(|| "127.0.0.1:12200".into());
    let name = args.next().unwrap_or_else(|| "world".into());
    let config = ConsumerConfig::new()
        .direct_url(format!("bolt://{addr}"))
        .timeout(Duration::from_secs(2))
        .app_name("hello-client");
    let hello = HelloServiceClient::new(Client::new(config)?);
    println!("{}", hello.say_hello(name).await?);
    Ok(())
}
