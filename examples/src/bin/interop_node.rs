//! A Rust client calling a sofa-rpc-node provider: Hessian calls with Java types, an
//! exception, and a protobuf call.
//!
//! Start the provider (sofa-rpc-node, installed by the script on first use), then the client:
//!
//! ```text
//! tests/peers/node-server.sh 12200 &
//! cargo run -p sofa-rpc-examples --bin interop-node -- 127.0.0.1:12200
//! ```

use serde::{Deserialize, Serialize};
use sofa_rpc_core::{Client, ConsumerConfig, RemoteException};

/// The Java class `com.example.User` the node provider echoes.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename = "com.example.User")]
pub struct User {
    /// `String name`.
    pub name: String,
    /// `int age`.
    pub age: i32,
}

sofa_rpc_core::java_type!(User => "com.example.User");

/// The node provider's `com.example.EchoService:1.0`, as a Rust trait.
#[sofa_rpc_core::service(interface = "com.example.EchoService")]
pub trait EchoService {
    /// `String echo(String)`.
    async fn echo(&self, message: String) -> String;
    /// `int add(int, int)`.
    async fn add(&self, a: i32, b: i32) -> i32;
    /// `User echoUser(User)`.
    #[sofa(name = "echoUser")]
    async fn echo_user(&self, user: User) -> User;
    /// Returns an exception object.
    #[sofa(name = "failReturn")]
    async fn fail_return(&self, message: String) -> Result<String, RemoteException>;
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let addr = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "127.0.0.1:12200".into());
    // Hessian 2 in the sofa-hessian 3.x dialect: what SOFARPC and sofa-rpc-node speak by default.
    let config = ConsumerConfig::new()
        .direct_url(format!("bolt://{addr}"))
        .serialization("hessian2")
        .app_name("rust-consumer");
    let echo = EchoServiceClient::new(Client::new(config)?);

    println!(
        "echo      -> {}",
        echo.echo("hello from Rust 🦀".into()).await?
    );
    println!("add       -> {}", echo.add(40, 2).await?);
    let user = User {
        name: "ann".into(),
        age: 42,
    };
    println!("echoUser  -> {:?}", echo.echo_user(user).await?);
    match echo.fail_return("on purpose".into()).await? {
        Ok(value) => println!("failReturn -> unexpectedly {value}"),
        Err(exception) => println!("failReturn -> {exception}"),
    }
    Ok(())
}
