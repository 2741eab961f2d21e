//! The tarpc reference client.

use sofa_rpc_benches::load::{connect_with_retry, drive, runtime, Args};
use sofa_rpc_benches::tarpc_echo::TarpcEchoClient;
use tarpc::tokio_serde::formats::Bincode;
use tarpc::tokio_util::codec::{Framed, LengthDelimitedCodec};
use tokio::net::TcpStream;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args = Args::from_env()?;
    let line = runtime(args.threads)?.block_on(async {
        let mut clients = Vec::with_capacity(args.conns);
        for _ in 0..args.conns {
            let stream = connect_with_retry(|| TcpStream::connect(&args.addr))
                .await
                .map_err(|e| e.to_string())?;
            stream.set_nodelay(true).map_err(|e| e.to_string())?;
            let mut codec = LengthDelimitedCodec::new();
            codec.set_max_frame_length(64 << 20);
            let transport =
                tarpc::serde_transport::new(Framed::new(stream, codec), Bincode::default());
            let mut config = tarpc::client::Config::default();
            config.max_in_flight_requests = 4096;
            config.pending_request_buffer = 4096;
            clients.push(TarpcEchoClient::new(config, transport).spawn());
        }
        drive(
            "tarpc",
            &args,
            clients,
            |c: TarpcEchoClient, p| async move {
                c.echo(
                    tarpc::context::current(),
                    serde_bytes::ByteBuf::from(p.to_vec()),
                )
                .await
                .map(|b| b.len())
                .map_err(|e| e.to_string())
            },
        )
        .await
    })?;
    println!("{line}");
    Ok(())
}
