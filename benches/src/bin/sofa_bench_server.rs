//! The echo service on a sofa-rpc-rs server; over TLS with `--tls <dir>`, with a self-signed
//! certificate for 127.0.0.1 made at start and written to `<dir>/cert.pem` for the client.

use sofa_rpc_benches::echo::{Echo, EchoBenchServer};
use sofa_rpc_benches::load::{runtime, Args};
use sofa_rpc_core::bolt::tls::{TlsAcceptor, TlsServerConfig};
use sofa_rpc_core::Server;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args = Args::from_env()?;
    let tls = match &args.tls {
        Some(dir) => {
            let made = rcgen::generate_simple_self_signed(vec!["127.0.0.1".to_string()])?;
            std::fs::create_dir_all(dir)?;
            let (cert, key) = (dir.join("cert.pem"), dir.join("key.pem"));
            std::fs::write(&cert, made.cert.pem())?;
            std::fs::write(&key, made.signing_key.serialize_pem())?;
            Some(TlsAcceptor::new(TlsServerConfig::new(cert, key))?)
        }
        None => None,
    };
    runtime(args.threads)?.block_on(async move {
        let mut builder = Server::builder()
            .bind(args.addr.as_str())
            .service(EchoBenchServer::new(Echo));
        if let Some(tls) = tls {
            builder = builder.tls(tls);
        }
        let server = builder.start().await?;
        eprintln!("sofa-bench-server listening on {}", server.local_addr());
        std::future::pending::<()>().await;
        Ok(())
    })
}
