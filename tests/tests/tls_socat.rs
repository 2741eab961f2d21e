//! Third-party TLS ends: socat (OpenSSL) terminating TLS in front of our plain server serves
//! our TLS client, and socat originating TLS lets a plain sofa-rpc-node client call our TLS
//! server, with socat presenting a client certificate that the server verifies. Both show
//! that our TLS is plain TLS on the Bolt stream, as Java SOFABolt's, with no ALPN or framing
//! of its own.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

#[path = "../../sofa-bolt/tests/common/pki.rs"]
mod pki;

use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use pki::Pki;
use sofa_rpc_core::bolt::tls::{
    ClientAuth, TlsAcceptor, TlsClientConfig, TlsConnector, TlsServerConfig,
};
use sofa_rpc_core::filter::{AuthzFilter, AuthzRule};
use sofa_rpc_core::{Client, ConsumerConfig, ExtensionLoader, Server};
use sofa_rpc_tests::interop::*;
use sofa_rpc_tests::run_client;

/// A socat process, killed when dropped.
struct Socat {
    child: Child,
    port: u16,
}

impl Socat {
    /// Runs socat with `listen` (given the port as `{port}`) and `connect`, and waits until it
    /// accepts connections on 127.0.0.1.
    fn start(listen: &str, connect: &str) -> Socat {
        // A port the system just handed out, released for socat to take.
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let listen = listen.replace("{port}", &port.to_string());
        let child = Command::new("socat")
            .arg("-d")
            .arg(&listen)
            .arg(connect)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("socat is installed (.ci/run installs it)");
        let mut socat = Socat { child, port };
        let deadline = Instant::now() + Duration::from_secs(10);
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(
                socat.child.try_wait().unwrap().is_none(),
                "socat {listen} {connect} exited"
            );
            assert!(Instant::now() < deadline, "socat did not listen on {port}");
            std::thread::sleep(Duration::from_millis(20));
        }
        socat
    }

    fn addr(&self) -> String {
        format!("127.0.0.1:{}", self.port)
    }
}

impl Drop for Socat {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn path(p: &Path) -> String {
    p.display().to_string()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn our_tls_client_calls_our_plain_server_behind_socat_terminating_tls() {
    let pki = Pki::new("socat-terminates");
    let (cert, key) = pki.issue("socat", "socat", &["127.0.0.1", "localhost"]);
    let server = Server::builder()
        .bind("127.0.0.1:0")
        .service(EchoServiceServer::new(Echo))
        .start()
        .await
        .unwrap();
    let socat = Socat::start(
        &format!(
            "OPENSSL-LISTEN:{{port}},bind=127.0.0.1,reuseaddr,fork,verify=0,cert={},key={}",
            path(&cert),
            path(&key)
        ),
        &format!("TCP:{}", server.local_addr()),
    );
    let tls = TlsConnector::new(TlsClientConfig::new(pki.ca())).unwrap();
    let client = Client::new(
        ConsumerConfig::new()
            .direct_url(format!("bolt+tls://{}", socat.addr()))
            .serialization("hessian2")
            .timeout(Duration::from_secs(5))
            .tls(tls),
    )
    .unwrap();
    let echo = EchoServiceClient::new(client);
    assert_eq!(
        echo.echo("through socat".into()).await.unwrap(),
        "through socat"
    );
    assert_eq!(echo.add(20, 22).await.unwrap(), 42);
    let big = "y".repeat(200 * 1024);
    assert_eq!(echo.echo(big.clone()).await.unwrap(), big);
    drop(socat);
    server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_plain_node_client_calls_our_mtls_server_through_socat_originating_tls() {
    let pki = Pki::new("socat-originates");
    let (cert, key) = pki.issue("server", "orders", &["127.0.0.1", "localhost"]);
    let (client_cert, client_key) = pki.issue("node", "node-gateway", &[]);
    let tls = TlsAcceptor::new(
        TlsServerConfig::new(&cert, &key).client_auth(ClientAuth::Required(pki.ca())),
    )
    .unwrap();
    // Only the certificate socat presents may call, and only EchoService: proves the
    // identity came through.
    let mut loader = ExtensionLoader::default();
    loader.register_filter(
        "authz",
        AuthzFilter::new([AuthzRule::allow(
            "node-gateway",
            "com.example.EchoService",
            "*",
        )]),
    );
    let server = Server::builder()
        .bind("127.0.0.1:0")
        .service(EchoServiceServer::new(Echo))
        .extensions(loader)
        .filters(["authz"])
        .tls(tls)
        .start()
        .await
        .unwrap();
    let socat = Socat::start(
        "TCP-LISTEN:{port},bind=127.0.0.1,reuseaddr,fork",
        &format!(
            "OPENSSL:{},cafile={},cert={},key={},commonname=localhost",
            server.local_addr(),
            path(&pki.ca()),
            path(&client_cert),
            path(&client_key)
        ),
    );
    let addr = socat.addr();
    let scenarios = ["echo", "add", "echoUser"];
    let run = tokio::task::spawn_blocking(move || {
        run_client("node-client.sh", &addr, &scenarios, &[]).unwrap()
    })
    .await
    .unwrap();
    run.assert_passed(&scenarios);
    drop(socat);
    server.shutdown().await;
}
