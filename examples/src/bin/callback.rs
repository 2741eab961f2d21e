//! The four invoke types: sync (await), future, callback and oneway.
//!
//! `cargo run -p sofa-rpc-examples --bin callback`

use std::time::Duration;

use sofa_rpc_core::{Client, ConsumerConfig, Server};
use sofa_rpc_examples::{Greeter, HelloServiceClient, HelloServiceServer};

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let server = Server::builder()
        .bind("127.0.0.1:0")
        .service(HelloServiceServer::new(Greeter))
        .start()
        .await?;
    let hello = HelloServiceClient::new(Client::new(
        ConsumerConfig::new().direct_url(server.local_addr().to_string()),
    )?);

    // sync: await the call.
    println!("sync     -> {}", hello.say_hello("sync".into()).await?);

    // future: the call is sent now; the handle is awaited later.
    let pending = hello.slow(100).future();
    println!("future   -> sent, doing other work...");
    println!("future   -> {}", pending.await?);

    // callback: the result is handed to a closure.
    let (tx, rx) = tokio::sync::oneshot::channel();
    hello.slow(50).callback(move |result| {
        let _ = tx.send(result);
    });
    println!("callback -> {}", rx.await??);

    // oneway: no answer is expected.
    hello.say_hello("oneway".into()).oneway().await?;
    println!("oneway   -> sent");

    // Per-call timeout: the consumer gives up, the error says so.
    match hello.slow(500).timeout(Duration::from_millis(50)).await {
        Ok(reply) => println!("timeout  -> unexpectedly answered: {reply}"),
        Err(err) => println!("timeout  -> {err}"),
    }

    server.shutdown().await;
    Ok(())
}
