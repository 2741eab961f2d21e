//! Load through the whole client pipeline: stub, filters, cluster, load balancer, serializer,
//! pooled Bolt connection.

use sofa_rpc_benches::echo::EchoBenchClient;
use sofa_rpc_benches::load::{connect_with_retry, drive, runtime, Args};
use sofa_rpc_core::bolt::tls::{TlsClientConfig, TlsConnector};
use sofa_rpc_core::{Client, ConsumerConfig};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args = Args::from_env()?;
    let line = runtime(args.threads)?.block_on(async {
        let mut clients = Vec::with_capacity(args.conns);
        for _ in 0..args.conns {
            // One client (one connection pool) per connection, as the other frameworks do.
            let mut config = match &args.tls {
                // Trusts the server's self-signed certificate, which names 127.0.0.1.
                Some(dir) => {
                    let tls = TlsConnector::new(TlsClientConfig::new(dir.join("cert.pem")))
                        .map_err(|e| e.to_string())?;
                    ConsumerConfig::new()
                        .direct_url(format!("bolt+tls://{}", args.addr))
                        .tls(tls)
                }
                None => ConsumerConfig::new().direct_url(args.addr.clone()),
            };
            if !args.mode.is_empty() {
                config = config.serialization(args.mode.clone());
            }
            let stub = EchoBenchClient::new(Client::new(config).map_err(|e| e.to_string())?);
            // Open the connection before the clock starts.
            connect_with_retry(|| {
                std::future::IntoFuture::into_future(stub.echo(bytes::Bytes::new()))
            })
            .await
            .map_err(|e| e.to_string())?;
            clients.push(stub);
        }
        drive("sofa", &args, clients, |c: EchoBenchClient, p| async move {
            c.echo(p).await.map(|b| b.len()).map_err(|e| e.to_string())
        })
        .await
    })?;
    println!("{line}");
    Ok(())
}
