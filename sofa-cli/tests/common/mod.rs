//! A provider to point the `sofa` binary at, and a way to run the binary with a deadline.

#![allow(
    dead_code,
    unreachable_pub,
    missing_docs,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic
)]

use std::collections::HashMap;
use std::net::SocketAddr;
use std::process::{Command, Output, Stdio};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};
use sofa_rpc_core::{RemoteException, RequestContext, Server};

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename = "com.example.cli.User")]
pub struct User {
    pub name: String,
    pub age: i32,
}

#[sofa_rpc_core::service(interface = "com.example.cli.DemoService")]
pub trait DemoService {
    async fn echo(&self, message: String) -> String;
    async fn add(&self, a: i64, b: i64) -> i64;
    async fn keys(&self, map: HashMap<String, i64>) -> Vec<String>;
    async fn sum(&self, values: Vec<i64>) -> i64;
    async fn fail(&self, why: String) -> Result<String, RemoteException>;
    async fn user(&self, name: String, age: i32) -> User;
    async fn baggage(&self, key: String) -> Option<String>;
}

pub struct Demo;

impl DemoService for Demo {
    async fn echo(&self, message: String) -> String {
        message
    }
    async fn add(&self, a: i64, b: i64) -> i64 {
        a + b
    }
    async fn keys(&self, map: HashMap<String, i64>) -> Vec<String> {
        let mut keys: Vec<String> = map.into_keys().collect();
        keys.sort();
        keys
    }
    async fn sum(&self, values: Vec<i64>) -> i64 {
        values.iter().sum()
    }
    async fn fail(&self, why: String) -> Result<String, RemoteException> {
        Err(RemoteException::new("java.lang.IllegalStateException", why))
    }
    async fn user(&self, name: String, age: i32) -> User {
        User { name, age }
    }
    async fn baggage(&self, key: String) -> Option<String> {
        RequestContext::with_current(|ctx| ctx.baggage().get(&key).cloned()).flatten()
    }
}

/// A provider running on a runtime of its own for the whole test binary.
pub struct Provider {
    pub addr: SocketAddr,
    _server: Server,
    _runtime: tokio::runtime::Runtime,
}

/// The shared provider (started on first use, on 127.0.0.1:0).
pub fn provider() -> &'static Provider {
    static PROVIDER: OnceLock<Provider> = OnceLock::new();
    PROVIDER.get_or_init(|| start(None))
}

/// A provider of its own, published in `registry` when given.
pub fn start(registry: Option<&str>) -> Provider {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let server = runtime.block_on(async {
        let mut builder = Server::builder()
            .bind("127.0.0.1:0")
            .publish_host("127.0.0.1")
            .app_name("cli-test")
            .service(DemoServiceServer::new(Demo));
        if let Some(url) = registry {
            builder = builder.registry(url);
        }
        builder.start().await.unwrap()
    });
    Provider {
        addr: server.local_addr(),
        _server: server,
        _runtime: runtime,
    }
}

/// What a run of `sofa` printed and returned.
pub struct Run {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

impl Run {
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.stdout)
            .unwrap_or_else(|e| panic!("stdout is not JSON ({e}): {}", self.stdout))
    }
}

/// Runs the `sofa` binary with `args`, killed after 60 s.
pub fn sofa(args: &[&str]) -> Run {
    let mut child = Command::new(env!("CARGO_BIN_EXE_sofa"))
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(60);
    while child.try_wait().unwrap().is_none() {
        if Instant::now() > deadline {
            let _ = child.kill();
            panic!("sofa {args:?} ran for more than 60 s");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    let Output {
        status,
        stdout,
        stderr,
    } = child.wait_with_output().unwrap();
    Run {
        code: status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&stdout).into_owned(),
        stderr: String::from_utf8_lossy(&stderr).into_owned(),
    }
}

/// `sofa` must exit 2 with exactly one line on stderr containing `expected`.
pub fn assert_usage_error(run: &Run, expected: &str) {
    assert_eq!(
        run.code, 2,
        "stdout: {}\nstderr: {}",
        run.stdout, run.stderr
    );
    assert_eq!(run.stderr.lines().count(), 1, "stderr: {}", run.stderr);
    assert!(run.stderr.contains(expected), "stderr: {}", run.stderr);
    assert!(!run.stderr.contains("panicked"), "stderr: {}", run.stderr);
}
