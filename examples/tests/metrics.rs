//! Runs the `metrics` example, scrapes its Prometheus text over HTTP and checks SOFARPC's
//! counters, histograms and labels for the calls it made.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs)]

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

/// Kills the example when the test ends, passed or not.
struct Running(Child);

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn scrape(addr: &str) -> String {
    let mut stream = TcpStream::connect(addr).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    stream
        .write_all(format!("GET /metrics HTTP/1.1\r\nHost: {addr}\r\n\r\n").as_bytes())
        .unwrap();
    let mut text = String::new();
    stream.read_to_string(&mut text).unwrap();
    let (head, body) = text.split_once("\r\n\r\n").unwrap();
    assert!(head.starts_with("HTTP/1.1 200"), "{head}");
    body.to_string()
}

/// Samples of `name`: each line's labels and value.
fn samples(text: &str, name: &str) -> Vec<(BTreeMap<String, String>, f64)> {
    let prefix = format!("{name}{{");
    text.lines()
        .filter_map(|line| line.strip_prefix(&prefix))
        .map(|rest| {
            let (labels, value) = rest.rsplit_once("} ").unwrap();
            let labels = labels
                .split("\",")
                .map(|pair| {
                    let (k, v) = pair.split_once("=\"").unwrap();
                    (k.to_string(), v.trim_end_matches('"').to_string())
                })
                .collect();
            (labels, value.trim().parse().unwrap())
        })
        .collect()
}

/// The value of the one sample of `name` whose labels include all of `want`.
fn value(text: &str, name: &str, want: &[(&str, &str)]) -> f64 {
    let found: Vec<f64> = samples(text, name)
        .into_iter()
        .filter(|(labels, _)| {
            want.iter()
                .all(|(k, v)| labels.get(*k).map(String::as_str) == Some(*v))
        })
        .map(|(_, v)| v)
        .collect();
    assert_eq!(found.len(), 1, "{name} {want:?} in:\n{text}");
    found[0]
}

#[test]
fn metrics_example_exports_sofarpc_names_and_labels() {
    let mut child = Command::new(env!("CARGO_BIN_EXE_metrics"))
        .args(["--listen", "127.0.0.1:0", "--serve-for", "120"])
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let _running = Running(child);
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines() {
            let Ok(line) = line else { break };
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    let deadline = Instant::now() + Duration::from_secs(60);
    let mut addr = None;
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        let line = rx.recv_timeout(left).expect("the example's output");
        if let Some(url) = line.strip_prefix("metrics: http://") {
            addr = Some(url.trim_end_matches("/metrics").to_string());
        }
        if line == "calls: done" {
            break;
        }
    }
    let text = scrape(&addr.expect("the metrics address"));

    let client = [
        ("app", "hello-client"),
        ("protocol", "bolt"),
        ("invoke_type", "sync"),
    ];
    let hello = [("method", "sayHello")];
    let with =
        |a: &[(&'static str, &'static str)], b: &[(&'static str, &'static str)]| [a, b].concat();
    assert_eq!(
        value(&text, "sofa_client_total", &with(&client, &hello)),
        5.0
    );
    assert_eq!(
        value(
            &text,
            "sofa_client_fail",
            &with(&client, &[("method", "slow")])
        ),
        1.0
    );
    let service = samples(&text, "sofa_client_total")[0].0["service"].clone();
    assert!(
        service.starts_with("com.example.hello.HelloService"),
        "{service}"
    );

    let server = [
        ("app", "hello-server"),
        ("caller_app", "hello-client"),
        ("protocol", "bolt"),
        ("invoke_type", "sync"),
    ];
    assert_eq!(
        value(&text, "sofa_server_total", &with(&server, &hello)),
        5.0
    );
    // The refused greeting is an application exception: an answer, not a failure.
    assert_eq!(
        value(
            &text,
            "sofa_server_total",
            &with(&server, &[("method", "greet")])
        ),
        1.0
    );
    assert!(samples(&text, "sofa_server_fail").is_empty(), "{text}");

    // Histograms: one observation per call, sizes above zero.
    let client_sizes = with(&with(&client, &hello), &[("side", "client")]);
    assert_eq!(value(&text, "sofa_request_size_count", &client_sizes), 5.0);
    assert!(value(&text, "sofa_request_size_sum", &client_sizes) > 0.0);
    assert_eq!(value(&text, "sofa_response_size_count", &client_sizes), 5.0);
    let server_sizes = with(&with(&server, &hello), &[("side", "server")]);
    assert_eq!(value(&text, "sofa_response_size_count", &server_sizes), 5.0);
    assert_eq!(
        value(
            &text,
            "sofa_client_duration_seconds_count",
            &with(&client, &hello)
        ),
        5.0
    );
    assert_eq!(
        value(
            &text,
            "sofa_server_duration_seconds_count",
            &with(&server, &hello)
        ),
        5.0
    );

    // The rules file the guard follows: one set applied, one rejected, the source up.
    for (name, want) in [
        ("sofa_config_applied", 1.0),
        ("sofa_config_rejected", 1.0),
        ("sofa_config_source_up", 1.0),
    ] {
        let found = samples(&text, name);
        assert_eq!(found.len(), 1, "{name} in:\n{text}");
        assert!(found[0].0["key"].starts_with("file://"), "{found:?}");
        assert_eq!(found[0].1, want, "{name}");
    }
    println!("{text}");
}
