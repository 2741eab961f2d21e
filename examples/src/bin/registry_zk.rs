//! Providers and consumers that find each other through ZooKeeper, in SOFARPC's layout (so
//! Java and Node consumers find the provider too).
//!
//! ```text
//! tests/registry/start-zk.sh          # prints READY <port>; runs until Ctrl-C (or any ZooKeeper)
//! cargo run -p sofa-rpc-examples --features zookeeper --bin registry-zk -- 127.0.0.1:<port>
//! ```
//!
//! With `local://<file>` instead of a ZooKeeper address the same program needs no server.

use std::time::Duration;

use sofa_rpc_core::{Client, ConsumerConfig, ProviderConfig, Server};
use sofa_rpc_examples::{Greeter, HelloServiceClient, HelloServiceServer};

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::from_default_env())
        .init();
    let target = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "127.0.0.1:2181".into());
    let registry = if target.contains("://") {
        target
    } else {
        format!("zookeeper://{target}")
    };

    // Two providers of the same service publish themselves.
    let mut servers = Vec::new();
    for weight in [100, 50] {
        let server = Server::builder()
            .bind("127.0.0.1:0")
            .registry(registry.as_str())
            .app_name("hello-provider")
            .provider(ProviderConfig::new(HelloServiceServer::new(Greeter)).weight(weight))
            .start()
            .await?;
        println!(
            "provider on {} published to {registry}",
            server.local_addr()
        );
        servers.push(server);
    }

    // A consumer that knows only the registry.
    let hello = HelloServiceClient::new(Client::new(
        ConsumerConfig::new()
            .registry(registry.as_str())
            .app_name("hello-consumer")
            .timeout(Duration::from_secs(3)),
    )?);
    for i in 0..4 {
        println!(
            "call {i} -> {}",
            hello.say_hello(format!("caller {i}")).await?
        );
    }

    // Shutting a provider down withdraws it first; calls go on on the other one.
    if let Some(first) = servers.pop() {
        first.shutdown().await;
    }
    tokio::time::sleep(Duration::from_millis(500)).await;
    println!(
        "after one provider left -> {}",
        hello.say_hello("still".into()).await?
    );
    for server in servers {
        server.shutdown().await;
    }
    Ok(())
}
