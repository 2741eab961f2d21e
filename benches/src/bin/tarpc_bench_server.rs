//! The tarpc reference server.

use futures::StreamExt;
use sofa_rpc_benches::load::{runtime, Args};
use sofa_rpc_benches::tarpc_echo::TarpcEcho;
use tarpc::server::{BaseChannel, Channel};
use tarpc::tokio_serde::formats::Bincode;
use tarpc::tokio_util::codec::{Framed, LengthDelimitedCodec};
use tokio::net::TcpListener;

#[derive(Clone)]
struct Echo;

impl TarpcEcho for Echo {
    async fn echo(
        self,
        _: tarpc::context::Context,
        payload: serde_bytes::ByteBuf,
    ) -> serde_bytes::ByteBuf {
        payload
    }
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args = Args::from_env()?;
    runtime(args.threads)?.block_on(async move {
        let listener = TcpListener::bind(&args.addr).await?;
        eprintln!("tarpc-bench-server listening on {}", listener.local_addr()?);
        loop {
            let (stream, _) = listener.accept().await?;
            stream.set_nodelay(true)?;
            let mut codec = LengthDelimitedCodec::new();
            codec.set_max_frame_length(64 << 20);
            let transport =
                tarpc::serde_transport::new(Framed::new(stream, codec), Bincode::default());
            let channel = BaseChannel::with_defaults(transport);
            tokio::spawn(channel.execute(Echo.serve()).for_each(|call| async move {
                tokio::spawn(call);
            }));
        }
    })
}
