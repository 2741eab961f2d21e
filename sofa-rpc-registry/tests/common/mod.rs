//! Test harness: starts the real registry servers through `tests/registry/start-*.sh`, runs
//! provider child processes, and follows subscription streams with deadlines.
#![allow(dead_code, unreachable_pub)]

pub mod live;

use std::io::{BufRead, BufReader, Read, Write};
use std::path::PathBuf;
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use futures::StreamExt;
use sofa_rpc_registry::{ProviderChange, ProviderInfo, ProviderStream, Registration};

static SERVERS: AtomicUsize = AtomicUsize::new(0);

/// One registry server, run by its start script; stopped on drop.
pub struct Server {
    kind: &'static str,
    child: Option<Child>,
    stdin: Option<ChildStdin>,
    /// The client port (Nacos: the HTTP port).
    pub port: u16,
    /// Further ports on the READY line (Nacos: the gRPC port).
    pub extra_ports: Vec<u16>,
    stderr_path: PathBuf,
}

fn script(kind: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("..")
        .join("tests")
        .join("registry")
        .join(format!("start-{kind}.sh"))
}

impl Server {
    /// Starts `kind` (`zk`, `etcd`, `nacos`) on a free port.
    pub fn start(kind: &'static str) -> Server {
        Self::launch(kind, None, None)
    }

    /// Starts `kind` keeping its data in `data` (kept after it stops; a second start with the
    /// same directory finds the data again), on `port` or a free one.
    pub fn start_kept(kind: &'static str, port: Option<u16>, data: &std::path::Path) -> Server {
        Self::launch(kind, port, Some(data))
    }

    /// Starts `kind` on `port` (a restart on the same address), with fresh data.
    pub fn start_on(kind: &'static str, port: u16) -> Server {
        Self::launch(kind, Some(port), None)
    }

    fn launch(kind: &'static str, port: Option<u16>, data: Option<&std::path::Path>) -> Server {
        let n = SERVERS.fetch_add(1, Ordering::Relaxed);
        let stderr_path = std::env::temp_dir().join(format!(
            "sofa-registry-test-{kind}-{}-{n}.stderr",
            std::process::id()
        ));
        let stderr = std::fs::File::create(&stderr_path).expect("stderr file");
        let mut cmd = Command::new("bash");
        cmd.arg(script(kind))
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::from(stderr));
        if let Some(port) = port {
            cmd.env("REG_PORT", port.to_string());
        }
        if let Some(data) = data {
            cmd.env("REG_DATA_DIR", data);
        }
        let mut child = cmd.spawn().expect("spawn start script");
        let stdout = child.stdout.take().expect("stdout");
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines() {
                let Ok(line) = line else { break };
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
        // Installing (apt-get, or building rnacos on a fresh machine) can take minutes.
        let limit = match kind {
            "nacos" => Duration::from_secs(1500),
            _ => Duration::from_secs(600),
        };
        let deadline = Instant::now() + limit;
        let ports = loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match rx.recv_timeout(left) {
                Ok(line) if line.starts_with("READY ") => {
                    let ports: Vec<u16> = line
                        .split_whitespace()
                        .skip(1)
                        .map(|p| p.parse().expect("READY port"))
                        .collect();
                    break ports;
                }
                Ok(_) => continue,
                Err(_) => {
                    let _ = child.kill();
                    let _ = child.wait();
                    let mut err = String::new();
                    let _ = std::fs::File::open(&stderr_path)
                        .and_then(|mut f| f.read_to_string(&mut err));
                    panic!("{kind} server did not start within {limit:?}; script stderr:\n{err}");
                }
            }
        };
        let stdin = child.stdin.take();
        Server {
            kind,
            child: Some(child),
            stdin,
            port: ports[0],
            extra_ports: ports[1..].to_vec(),
            stderr_path,
        }
    }

    /// Stops the server (closes the script's stdin and waits, then signals).
    pub fn stop(&mut self) {
        let Some(mut child) = self.child.take() else {
            return;
        };
        drop(self.stdin.take());
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            match child.try_wait() {
                Ok(Some(_)) => break,
                Ok(None) if Instant::now() < deadline => {
                    std::thread::sleep(Duration::from_millis(50))
                }
                _ => {
                    let _ = Command::new("kill")
                        .args(["-TERM", &child.id().to_string()])
                        .status();
                    std::thread::sleep(Duration::from_secs(2));
                    let _ = child.kill();
                    let _ = child.wait();
                    break;
                }
            }
        }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.stop();
        let _ = std::fs::remove_file(&self.stderr_path);
        let _ = self.kind;
    }
}

/// Env var that turns a test binary into a provider process (see [`child_provider_main`]).
pub const CHILD_ENV: &str = "SOFA_REGISTRY_TEST_CHILD";

/// Body of each test file's `child_provider_process` test. In a normal run it does nothing.
/// Re-executed by [`ChildProvider::spawn`] with [`CHILD_ENV`] = `url|interface|port`, it
/// registers a provider, prints `CHILD-REGISTERED`, and waits (for at most 2 minutes) to be
/// killed.
pub fn child_provider_main() {
    let Ok(spec) = std::env::var(CHILD_ENV) else {
        return;
    };
    let mut parts = spec.split('|');
    let (url, interface, port) = (
        parts.next().expect("url").to_string(),
        parts.next().expect("interface").to_string(),
        parts.next().expect("port").parse::<u16>().expect("port"),
    );
    let rt = tokio::runtime::Runtime::new().expect("runtime");
    rt.block_on(async move {
        let registry = sofa_rpc_registry::open(&url).await.expect("open registry");
        let reg = Registration::sofa(interface, "127.0.0.1", port).with_app_name("child");
        registry.register(&reg).await.expect("register");
        println!("CHILD-REGISTERED");
        let _ = std::io::stdout().flush();
        let wait = tokio::task::spawn_blocking(|| {
            let mut line = String::new();
            let _ = std::io::stdin().read_line(&mut line);
        });
        let _ = tokio::time::timeout(Duration::from_secs(120), wait).await;
        // Leaves without unregistering: as if it crashed.
        std::process::exit(0);
    });
}

/// A provider in another process, to be killed.
pub struct ChildProvider {
    child: Child,
}

impl ChildProvider {
    /// Re-runs this test binary's `child_provider_process` test as a provider of
    /// `interface` at `127.0.0.1:port` on `url`; returns once it registered.
    pub fn spawn(url: &str, interface: &str, port: u16) -> ChildProvider {
        let exe = std::env::current_exe().expect("current exe");
        let mut child = Command::new(exe)
            .args([
                "child_provider_process",
                "--exact",
                "--nocapture",
                "--test-threads=1",
            ])
            .env(CHILD_ENV, format!("{url}|{interface}|{port}"))
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("spawn child provider");
        let stdout = child.stdout.take().expect("stdout");
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
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match rx.recv_timeout(left) {
                Ok(line) if line.contains("CHILD-REGISTERED") => break,
                Ok(_) => continue,
                Err(_) => {
                    let _ = child.kill();
                    panic!("child provider did not register within 60 s");
                }
            }
        }
        ChildProvider { child }
    }

    /// The child's process id.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// SIGKILL: no chance to unregister.
    pub fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for ChildProvider {
    fn drop(&mut self) {
        self.kill();
    }
}

/// Follows a subscription stream, applying changes to a list.
pub struct Watcher {
    stream: ProviderStream,
    /// The list as the consumer would keep it.
    pub list: Vec<ProviderInfo>,
    /// Every item received, for failure messages.
    pub log: Vec<String>,
    /// Errors (outage reports) received.
    pub errors: usize,
    /// Whether the list ever went from non-empty to empty.
    pub emptied: bool,
    /// Whether the stream ended.
    pub ended: bool,
    /// Snapshots received (the first one included).
    pub snapshots: usize,
}

impl Watcher {
    /// Wraps `stream`; its first item must be a snapshot within 10 s.
    pub async fn new(stream: ProviderStream) -> Watcher {
        let mut w = Watcher {
            stream,
            list: Vec::new(),
            log: Vec::new(),
            errors: 0,
            emptied: false,
            ended: false,
            snapshots: 0,
        };
        let first = w.next(Duration::from_secs(10)).await;
        match first {
            Some(Ok(ProviderChange::Snapshot(_))) => {}
            other => panic!("first item is not a snapshot: {other:?}"),
        }
        w
    }

    /// The next item within `limit` (`None` on timeout or end), applied to the list.
    pub async fn next(
        &mut self,
        limit: Duration,
    ) -> Option<sofa_rpc_registry::Result<ProviderChange>> {
        let item = match tokio::time::timeout(limit, self.stream.next()).await {
            Ok(Some(item)) => item,
            Ok(None) => {
                self.ended = true;
                self.log.push("<end>".into());
                return None;
            }
            Err(_) => return None,
        };
        match &item {
            Ok(change) => {
                if matches!(change, ProviderChange::Snapshot(_)) {
                    self.snapshots += 1;
                }
                let before = self.list.len();
                change.apply_to(&mut self.list);
                if before > 0 && self.list.is_empty() {
                    self.emptied = true;
                }
                self.log.push(format!("{change:?}"));
            }
            Err(e) => {
                self.errors += 1;
                self.log.push(format!("Err({e})"));
            }
        }
        Some(item)
    }

    /// Applies items until `pred(list)` holds; returns how long it took. Panics after `limit`.
    pub async fn wait_until(
        &mut self,
        what: &str,
        limit: Duration,
        pred: impl Fn(&[ProviderInfo]) -> bool,
    ) -> Duration {
        let start = Instant::now();
        while !pred(&self.list) {
            let left = limit.saturating_sub(start.elapsed());
            if left.is_zero() || self.ended {
                panic!(
                    "{what}: not reached within {limit:?}; list {:?}; items {:#?}",
                    self.list, self.log
                );
            }
            self.next(left).await;
        }
        start.elapsed()
    }

    /// Waits for a new snapshot (a resync after recovery) after which `pred(list)` holds.
    pub async fn wait_resync(
        &mut self,
        what: &str,
        limit: Duration,
        pred: impl Fn(&[ProviderInfo]) -> bool,
    ) -> Duration {
        let start = Instant::now();
        let seen = self.snapshots;
        while self.snapshots == seen || !pred(&self.list) {
            let left = limit.saturating_sub(start.elapsed());
            if left.is_zero() || self.ended {
                panic!(
                    "{what}: not reached within {limit:?}; list {:?}; items {:#?}",
                    self.list, self.log
                );
            }
            self.next(left).await;
        }
        start.elapsed()
    }

    /// Waits for an error item; returns how long it took. Panics after `limit`.
    pub async fn wait_error(&mut self, what: &str, limit: Duration) -> Duration {
        let start = Instant::now();
        let seen = self.errors;
        while self.errors == seen {
            let left = limit.saturating_sub(start.elapsed());
            if left.is_zero() || self.ended {
                panic!("{what}: no error within {limit:?}; items {:#?}", self.log);
            }
            self.next(left).await;
        }
        start.elapsed()
    }

    /// Applies whatever arrives during `period`.
    pub async fn drain_for(&mut self, period: Duration) {
        let start = Instant::now();
        while !self.ended {
            let left = period.saturating_sub(start.elapsed());
            if left.is_zero() {
                break;
            }
            self.next(left).await;
        }
    }

    /// Whether the list holds a provider at `address`.
    pub fn has(&self, address: &str) -> bool {
        self.list.iter().any(|p| p.address() == address)
    }
}

/// Prints a measurement so `--nocapture` runs can collect them.
pub fn measure(backend: &str, what: &str, took: Duration) {
    eprintln!("[measure] {backend} {what}: {} ms", took.as_millis());
}

/// Sorted parameters, to compare URLs whose parameter order a backend may change.
pub fn sorted_params(p: &ProviderInfo) -> Vec<(String, String)> {
    let mut v: Vec<(String, String)> = p
        .params()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    v.sort();
    v
}

/// What a backend may change about what it stores.
#[derive(Clone, Copy)]
pub struct Quirks {
    /// Whether the URL parameters come back in the order they were registered (Nacos keeps
    /// them in a map).
    pub keeps_param_order: bool,
    /// How long a change may take to reach a subscriber.
    pub patience: Duration,
}

/// The life of one provider as every backend must show it to a subscriber: it appears with
/// all its parameters, an update replaces it, a provider with another uniqueId stays apart,
/// unregistering and closing remove it, and a closed registry refuses further work.
pub async fn register_discover_update_unregister(url: &str, iface: &str, quirks: Quirks) {
    let provider = sofa_rpc_registry::open(url).await.unwrap();
    let consumer = sofa_rpc_registry::open(url).await.unwrap();
    let backend = provider.name().to_string();
    assert!(
        url.starts_with(&format!("{backend}://")),
        "{url} opened {backend}"
    );
    let subscribe =
        |unique_id: &str| sofa_rpc_registry::Subscription::new(iface).with_unique_id(unique_id);
    let mut all = Watcher::new(consumer.subscribe(&subscribe("")).await.unwrap()).await;
    let mut blue = Watcher::new(consumer.subscribe(&subscribe("blue")).await.unwrap()).await;
    assert!(all.list.is_empty());
    let patience = quirks.patience;

    let reg = Registration::sofa(iface, "127.0.0.1", 12200)
        .with_app_name(format!("{backend} app"))
        .with_warmup(Duration::from_secs(60), 10)
        .with_param("custom", "a&b=c/d");
    let t0 = Instant::now();
    provider.register(&reg).await.unwrap();
    all.wait_until("appear", patience, |l| l.len() == 1).await;
    measure(&backend, "appear (register -> consumer list)", t0.elapsed());
    if quirks.keeps_param_order {
        assert_eq!(
            &all.list[0],
            reg.provider(),
            "every parameter survives, in order"
        );
    } else {
        assert_eq!(sorted_params(&all.list[0]), sorted_params(reg.provider()));
        assert_eq!(all.list[0].identity(), reg.provider().identity());
    }
    assert_eq!(all.list[0].effective_weight(), 10, "warming up");

    let heavier = reg.clone().with_weight(7);
    provider.register(&heavier).await.unwrap();
    all.wait_until("update", patience, |l| l.len() == 1 && l[0].weight() == 7)
        .await;

    let blue_reg = Registration::sofa(iface, "127.0.0.1", 12201).with_unique_id("blue");
    provider.register(&blue_reg).await.unwrap();
    blue.wait_until("blue appears", patience, |l| l.len() == 1)
        .await;
    all.drain_for(Duration::from_millis(500)).await;
    assert_eq!(
        all.list.len(),
        1,
        "uniqueId=blue must not match an empty uniqueId"
    );

    let t0 = Instant::now();
    provider.unregister(&heavier).await.unwrap();
    all.wait_until("disappear", patience, |l| l.is_empty())
        .await;
    measure(
        &backend,
        "disappear (unregister -> consumer list)",
        t0.elapsed(),
    );

    let t0 = Instant::now();
    provider.close().await.unwrap();
    blue.wait_until("close removes", patience, |l| l.is_empty())
        .await;
    measure(&backend, "disappear (close -> consumer list)", t0.elapsed());
    let refused = provider.register(&reg).await.unwrap_err();
    assert_eq!(refused.kind(), sofa_rpc_registry::ErrorKind::Closed);

    consumer.close().await.unwrap();
    all.drain_for(Duration::from_millis(200)).await;
    assert!(all.ended, "close ends the streams");
}

/// `Registry::list`: every interface with its providers (uniqueIds included), or only the one
/// named; an interface with only a consumer is not listed.
pub async fn list_reads_what_is_published(url: &str, prefix: &str) {
    use sofa_rpc_registry::Subscription;

    let reg = sofa_rpc_registry::open(url).await.unwrap();
    let a = Registration::sofa(format!("{prefix}.ListA"), "127.0.0.1", 12301);
    let b =
        Registration::sofa(format!("{prefix}.ListB"), "127.0.0.1", 12302).with_unique_id("blue");
    reg.register(&a).await.unwrap();
    reg.register(&b).await.unwrap();
    let consumer_only = format!("{prefix}.ListC");
    let _stream = reg
        .subscribe(&Subscription::new(consumer_only.clone()))
        .await
        .unwrap();

    let all = reg.list(None).await.unwrap();
    assert_eq!(all[a.interface()].len(), 1, "{all:?}");
    assert_eq!(all[a.interface()][0].port(), 12301);
    assert_eq!(all[b.interface()][0].unique_id(), Some("blue"));
    assert!(!all.contains_key(&consumer_only), "{all:?}");

    let one = reg.list(Some(a.interface())).await.unwrap();
    assert_eq!(one.keys().collect::<Vec<_>>(), [a.interface()]);
    assert!(reg.list(Some("bad/name")).await.is_err());
    reg.close().await.unwrap();
}
