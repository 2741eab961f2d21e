//! The event bus and attempt filters: one shared bus hears a server and a client; an attempt
//! filter logs each provider a failover call tries.
//!
//! `cargo run -p sofa-rpc-examples --bin events`

use std::time::Duration;

use sofa_rpc_core::event::{
    AttemptEnd, CallEnd, ConnectionOpened, EventBus, ServerSend, ServerStarted,
};
use sofa_rpc_core::filter::{Attempt, AttemptLayer};
use sofa_rpc_core::{Client, ConsumerConfig, ExtensionLoader, Server};
use sofa_rpc_examples::{Greeter, HelloServiceClient, HelloServiceServer};
use tower::util::MapRequestLayer;

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    // One bus for everything in this process; subscribe before starting to hear the start.
    let bus = EventBus::new();
    bus.subscribe(|e: &ServerStarted| println!("event: server started on {}", e.addr));
    bus.subscribe(|e: &ConnectionOpened| {
        println!("event: {:?} connection {} -> {}", e.side, e.local, e.peer)
    });
    bus.subscribe(|e: &ServerSend| {
        println!(
            "event: answered {}#{} in {:?}",
            e.service, e.method, e.elapsed
        )
    });
    bus.subscribe(|e: &AttemptEnd| {
        println!(
            "event: attempt {} at {} took {:?}: {:?}",
            e.attempt,
            e.provider.address(),
            e.elapsed,
            e.outcome
        )
    });
    bus.subscribe(|e: &CallEnd| {
        let ok = e.outcome.is_success();
        println!(
            "event: call {} ended in {:?}, ok = {ok}",
            e.method, e.elapsed
        )
    });

    let server = Server::builder()
        .bind("127.0.0.1:0")
        // Over the network, even from this process.
        .in_process(false)
        .events(bus.clone())
        .service(HelloServiceServer::new(Greeter))
        .start()
        .await?;

    // An attempt filter sees the provider each attempt goes to.
    let mut loader = ExtensionLoader::default();
    loader.register_filter(
        "log-attempts",
        AttemptLayer(MapRequestLayer::new(|attempt: Attempt| {
            println!(
                "filter: attempt {} of {} goes to {}",
                attempt.number,
                attempt.invocation.method(),
                attempt.provider.address()
            );
            attempt
        })),
    );
    // A provider that is down, then the live one: failover retries on the second.
    let down = "127.0.0.1:1";
    let config = ConsumerConfig::new()
        .direct_url(format!("{down};{}", server.local_addr()))
        .load_balancer("roundRobin")
        .retries(1)
        .timeout(Duration::from_secs(1))
        .filters(["context", "log-attempts"])
        .events(bus.clone());
    let hello = HelloServiceClient::new(Client::with_extensions(config, &loader)?);
    for name in ["first", "second"] {
        println!("reply: {}", hello.say_hello(name.into()).await?);
    }
    server.shutdown().await;
    Ok(())
}
