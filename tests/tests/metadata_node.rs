//! A sofa-rpc-node consumer reads our built-in metadata service with plain generic calls, in
//! both Hessian dialects: the answers are lists and maps any peer decodes.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use sofa_rpc_core::Server;
use sofa_rpc_tests::interop::*;
use sofa_rpc_tests::run_client;

async fn node_reads_metadata(envs: &'static [(&'static str, &'static str)]) {
    let server = Server::builder()
        .bind("127.0.0.1:0")
        // Over the network, even from this process.
        .in_process(false)
        .service(EchoServiceServer::new(Echo))
        .start()
        .await
        .unwrap();
    let addr = server.local_addr().to_string();
    let run = tokio::task::spawn_blocking(move || {
        run_client("node-client.sh", &addr, &["metadata"], envs).unwrap()
    })
    .await
    .unwrap();
    run.assert_passed(&["metadata"]);
    let result = &run.get("metadata").unwrap().line["result"];
    assert_eq!(result["interface"], "com.example.EchoService", "{result}");
    server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn node_reads_metadata_in_hessian3() {
    node_reads_metadata(&[]).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn node_reads_metadata_in_hessian4() {
    node_reads_metadata(&[("HESSIAN_VERSION", "4.0")]).await;
}
