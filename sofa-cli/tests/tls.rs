//! The `sofa` binary against a provider that serves over mutual TLS: `call`, `describe` and
//! `ping` with `--cacert`, `--cert` and `--key`; a missing client certificate, an untrusted
//! CA and a `bolt+tls://` target without `--cacert` are clear errors.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs)]

mod common;
#[path = "../../sofa-bolt/tests/common/pki.rs"]
mod pki;

use common::{sofa, Demo, DemoServiceServer};
use pki::Pki;
use sofa_rpc_core::bolt::tls::{ClientAuth, TlsAcceptor, TlsServerConfig};
use sofa_rpc_core::Server;

const SERVICE: &str = "com.example.cli.DemoService";

/// A provider that requires client certificates from `pki`, on a runtime of its own.
fn tls_provider(pki: &Pki) -> (String, Server, tokio::runtime::Runtime) {
    let (cert, key) = pki.issue("server", "demo", &["127.0.0.1"]);
    let acceptor = TlsAcceptor::new(
        TlsServerConfig::new(cert, key).client_auth(ClientAuth::Required(pki.ca())),
    )
    .unwrap();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let server = runtime.block_on(async {
        Server::builder()
            .bind("127.0.0.1:0")
            .service(DemoServiceServer::new(Demo))
            .tls(acceptor)
            .start()
            .await
            .unwrap()
    });
    (
        format!("bolt+tls://{}", server.local_addr()),
        server,
        runtime,
    )
}

#[test]
fn call_describe_and_ping_over_mutual_tls() {
    let pki = Pki::new("cli");
    let (target, _server, _runtime) = tls_provider(&pki);
    let (cert, key) = pki.issue("cli", "operator", &[]);
    let ca = pki.ca().display().to_string();
    let (cert, key) = (cert.display().to_string(), key.display().to_string());
    let tls = ["--cacert", &ca, "--cert", &cert, "--key", &key];

    let mut args = vec!["call", &target, SERVICE, "echo", r#"["over tls"]"#];
    args.extend(tls);
    let run = sofa(&args);
    assert_eq!(
        (run.code, run.stdout.trim()),
        (0, "\"over tls\""),
        "{}",
        run.stderr
    );

    let mut args = vec!["describe", &target, SERVICE];
    args.extend(tls);
    let run = sofa(&args);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(
        run.stdout.contains("long add(long, long)"),
        "{}",
        run.stdout
    );

    let mut args = vec!["ping", &target, "--count", "2"];
    args.extend(tls);
    let run = sofa(&args);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(run.stdout.contains("heartbeat 2"), "{}", run.stdout);
}

#[test]
fn tls_mistakes_are_one_line_errors() {
    let pki = Pki::new("cli-mistakes");
    let (target, _server, _runtime) = tls_provider(&pki);
    let ca = pki.ca().display().to_string();

    // A TLS target without trust roots: a usage error before anything is dialled.
    let run = sofa(&["call", &target, SERVICE, "echo", r#"["x"]"#]);
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(run.stderr.contains("--cacert"), "{}", run.stderr);

    // No client certificate: the provider refuses the handshake, and the error says TLS.
    let run = sofa(&[
        "call",
        &target,
        SERVICE,
        "echo",
        r#"["x"]"#,
        "--types",
        "java.lang.String",
        "--cacert",
        &ca,
    ]);
    assert_ne!(run.code, 0, "{}", run.stdout);
    assert_eq!(run.stderr.trim().lines().count(), 1, "{}", run.stderr);

    // A CA that did not issue the provider's certificate.
    let stranger = Pki::new("cli-stranger");
    let (cert, key) = stranger.issue("cli", "operator", &[]);
    let run = sofa(&[
        "ping",
        &target,
        "--count",
        "1",
        "--cacert",
        &stranger.ca().display().to_string(),
        "--cert",
        &cert.display().to_string(),
        "--key",
        &key.display().to_string(),
    ]);
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(
        run.stderr.to_lowercase().contains("certificate")
            || run.stderr.to_lowercase().contains("issuer"),
        "{}",
        run.stderr
    );
}
