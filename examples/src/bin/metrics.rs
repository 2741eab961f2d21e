//! SOFARPC's metrics in Prometheus text: a server and a client share one event bus with the
//! metrics subscriber on it; the exporter renders what they record, served over HTTP.
//!
//! `cargo run -p sofa-rpc-examples --bin metrics -- [--listen 127.0.0.1:9464] [--serve-for SECS]`
//!
//! then `curl http://127.0.0.1:9464/metrics`. Prints `metrics: http://<addr>/metrics` once
//! listening (port 0 picks a free one) and `calls: done` once the sample calls are made;
//! serves until Ctrl-C or for `--serve-for` seconds. The client's traffic guard follows a rules
//! file (in the temporary directory), so the state of that source is exported as well.

use std::time::Duration;

use metrics_exporter_prometheus::{PrometheusBuilder, PrometheusHandle};
use sofa_rpc_core::config::{open, LiveOptions};
use sofa_rpc_core::event::EventBus;
use sofa_rpc_core::guard::Guard;
use sofa_rpc_core::{Client, ConsumerConfig, Server};
use sofa_rpc_examples::{Greeter, Greeting, HelloServiceClient, HelloServiceServer};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut listen = "127.0.0.1:9464".to_string();
    let mut serve_for = None;
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--listen" => listen = args.next().ok_or("--listen needs host:port")?,
            "--serve-for" => {
                let secs: u64 = args.next().ok_or("--serve-for needs seconds")?.parse()?;
                serve_for = Some(Duration::from_secs(secs));
            }
            other => return Err(format!("unknown argument {other:?}").into()),
        }
    }

    // The exporter is the application's choice; sofa-rpc-core only speaks the facade.
    let prometheus = PrometheusBuilder::new().install_recorder()?;
    let listener = TcpListener::bind(&listen).await?;
    println!("metrics: http://{}/metrics", listener.local_addr()?);
    tokio::spawn(serve(listener, prometheus));

    // One call attaches the metrics to the bus a client and a server publish on.
    let bus = EventBus::new();
    sofa_rpc_core::metrics::install(&bus).forget();
    let server = Server::builder()
        .bind("127.0.0.1:0")
        .app_name("hello-server")
        .events(bus.clone())
        // Client and server share this process; over the wire, both sides count the calls
        // (an in-process call would be counted by the client alone).
        .in_process(false)
        .service(HelloServiceServer::new(Greeter))
        .start()
        .await?;
    // Guard rules followed live from a file; the guard publishes on the same bus, so the
    // source's state (`sofa_config_*`) is exported beside the calls.
    let rules =
        std::env::temp_dir().join(format!("sofa-metrics-rules-{}.json", std::process::id()));
    std::fs::write(&rules, r#"{"rate_limit": []}"#)?;
    let guard = Guard::with_events(bus.clone());
    let target = open(&format!("file://{}?pollPeriod=50", rules.display())).await?;
    let live = guard.follow(target, LiveOptions::new()).await;
    // A malformed set is rejected whole (and counted); the rules in force stay.
    std::fs::write(&rules, r#"{"rate_limit": 3}"#)?;
    live.wait(|s| s.rejected == 1, Duration::from_secs(5)).await;
    let hello = HelloServiceClient::new(Client::new(
        ConsumerConfig::new()
            .direct_url(server.local_addr().to_string())
            .app_name("hello-client")
            .guard(guard)
            .events(bus),
    )?);

    for i in 0..5 {
        hello.say_hello(format!("caller {i}")).await?;
    }
    // An application exception is an answer: counted, not failed.
    let refused = hello
        .greet(Greeting {
            name: String::new(),
            excitement: 1,
        })
        .await?;
    println!("greet(\"\") -> {refused:?}");
    // A call that times out fails on the client.
    let late = hello.slow(300).timeout(Duration::from_millis(30)).await;
    println!("slow(300) with a 30 ms timeout -> {late:?}");
    println!("calls: done");

    match serve_for {
        Some(limit) => tokio::time::sleep(limit).await,
        None => tokio::signal::ctrl_c().await?,
    }
    server.shutdown().await;
    drop(live);
    std::fs::remove_file(&rules)?;
    Ok(())
}

/// A minimal HTTP endpoint: every request gets the current Prometheus text.
async fn serve(listener: TcpListener, prometheus: PrometheusHandle) {
    loop {
        let Ok((mut stream, _)) = listener.accept().await else {
            continue;
        };
        let prometheus = prometheus.clone();
        tokio::spawn(async move {
            // Read the request head (its content does not matter here), then answer.
            let mut buf = [0u8; 1024];
            let _ = tokio::time::timeout(Duration::from_secs(2), stream.read(&mut buf)).await;
            let body = prometheus.render();
            let head = format!(
                "HTTP/1.1 200 OK\r\nContent-Type: text/plain; version=0.0.4\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
                body.len()
            );
            let _ = stream.write_all(head.as_bytes()).await;
            let _ = stream.write_all(body.as_bytes()).await;
            let _ = stream.shutdown().await;
        });
    }
}
