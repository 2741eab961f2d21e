//! A server and a client in one process: export a service, call it, shut down.
//!
//! `cargo run -p sofa-rpc-examples --bin quickstart`

use sofa_rpc_core::{Client, ConsumerConfig, Server};
use sofa_rpc_examples::{Greeter, Greeting, HelloServiceClient, HelloServiceServer};

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::from_default_env())
        .init();

    // Provider: export the service on a free port of the loopback interface.
    let server = Server::builder()
        .bind("127.0.0.1:0")
        .service(HelloServiceServer::new(Greeter))
        .start()
        .await?;
    println!("server listening on {}", server.local_addr());

    // Consumer: point a client at the provider and call through the generated stub.
    let config = ConsumerConfig::new().direct_url(server.local_addr().to_string());
    let hello = HelloServiceClient::new(Client::new(config)?);

    let reply = hello.say_hello("world".to_string()).await?;
    println!("sayHello -> {reply}");

    let greeting = Greeting {
        name: "SOFA".into(),
        excitement: 3,
    };
    match hello.greet(greeting).await? {
        Ok(text) => println!("greet -> {text}"),
        Err(refused) => println!("greet refused -> {refused:?}"),
    }
    // An application error travels back as an application error, not a framework one.
    let empty = Greeting {
        name: String::new(),
        excitement: 0,
    };
    println!("greet(empty) -> {:?}", hello.greet(empty).await?);

    server.shutdown().await;
    println!("round trip ok");
    Ok(())
}
