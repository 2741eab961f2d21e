//! Generic invocation: call a service by name with dynamic values, no generated stub.
//!
//! `cargo run -p sofa-rpc-examples --bin generic`

use std::collections::BTreeMap;

use sofa_rpc_core::{Client, ConsumerConfig, DynArgs, Server};
use sofa_rpc_examples::{Greeter, HelloServiceServer};

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let server = Server::builder()
        .bind("127.0.0.1:0")
        .service(HelloServiceServer::new(Greeter))
        .start()
        .await?;
    let client = Client::new(ConsumerConfig::new().direct_url(server.local_addr().to_string()))?;
    let hello = client.generic("com.example.hello.HelloService:1.0");

    let reply: String = hello
        .invoke(
            "sayHello",
            DynArgs::new().arg("java.lang.String", "generic world"),
        )
        .await?;
    println!("sayHello -> {reply}");

    // A Java object given as a map of its fields.
    let mut greeting = BTreeMap::new();
    greeting.insert("name", "maps");
    greeting.insert("excitement", "2");
    let outcome: Result<String, _> = hello
        .invoke::<String>(
            "greet",
            DynArgs::new().arg("com.example.hello.Greeting", greeting),
        )
        .await;
    // `excitement` is a number in the service: the provider reports the mismatch.
    println!("greet with a string excitement -> {outcome:?}");

    server.shutdown().await;
    Ok(())
}
