//! The harness of the third-party peers in `tests/peers/`.
//!
//! Start the peers and talk to them.
//!
//! Servers are started with a piped stdin (they exit when it closes, so a test that dies never
//! leaks one) and killed when dropped; clients run scenarios and report one JSON line each.

use std::io::{BufRead, BufReader, Read};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

/// How long a peer may take to print `READY` (the first start installs the peers).
const READY_TIMEOUT: Duration = Duration::from_secs(180);

/// The directory holding the peer scripts.
pub fn peers_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("peers")
}

/// A failure to start or run a peer, with what it printed.
#[derive(Debug)]
pub struct PeerError(pub String);

impl std::fmt::Display for PeerError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for PeerError {}

/// A running peer server.
pub struct PeerServer {
    name: String,
    child: Child,
    port: u16,
}

impl PeerServer {
    /// Runs `script` (e.g. `node-server.sh`) on an ephemeral port with `envs`, and waits for
    /// its `READY <port>` line.
    pub fn start(script: &str, envs: &[(&str, &str)]) -> Result<PeerServer, PeerError> {
        Self::start_path(&peers_dir().join(script), &["0"], envs)
    }

    /// Runs a registry server script of `tests/registry/` (e.g. `start-zk.sh`), which picks a
    /// free port itself, and waits for its `READY <port>` line.
    pub fn start_registry(script: &str) -> Result<PeerServer, PeerError> {
        let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
            .join("registry")
            .join(script);
        Self::start_path(&path, &[], &[])
    }

    /// Runs the server script at `path` with `args` and `envs`, and waits for its
    /// `READY <port>` line.
    pub fn start_path(
        path: &Path,
        args: &[&str],
        envs: &[(&str, &str)],
    ) -> Result<PeerServer, PeerError> {
        let script = path.display().to_string();
        let mut child = Command::new("bash")
            .arg(path)
            .args(args)
            .envs(envs.iter().copied())
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .map_err(|e| PeerError(format!("cannot run {script}: {e}")))?;
        let stdout = child
            .stdout
            .take()
            .ok_or_else(|| PeerError("no stdout".into()))?;
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || {
            let mut lines = BufReader::new(stdout).lines();
            let first = lines.next().and_then(Result::ok);
            let _ = tx.send(first);
            // Keep draining so the peer never blocks on a full pipe.
            for _ in lines {}
        });
        let stderr = child.stderr.take();
        let ready = rx.recv_timeout(READY_TIMEOUT).ok().flatten();
        let port = ready
            .as_deref()
            .and_then(|l| l.strip_prefix("READY "))
            .and_then(|p| p.split_whitespace().next())
            .and_then(|p| p.parse::<u16>().ok());
        match port {
            Some(port) => {
                if let Some(stderr) = stderr {
                    std::thread::spawn(move || drain(stderr));
                }
                Ok(PeerServer {
                    name: script,
                    child,
                    port,
                })
            }
            None => {
                let _ = child.kill();
                let _ = child.wait();
                let mut log = String::new();
                if let Some(mut stderr) = stderr {
                    let _ = stderr.read_to_string(&mut log);
                }
                Err(PeerError(format!(
                    "{script} did not become ready (first line {ready:?}); stderr:\n{log}"
                )))
            }
        }
    }

    /// The port it listens on (127.0.0.1).
    pub fn port(&self) -> u16 {
        self.port
    }

    /// `127.0.0.1:<port>`.
    pub fn addr(&self) -> String {
        format!("127.0.0.1:{}", self.port)
    }
}

impl Drop for PeerServer {
    /// Closes the server's stdin and sends SIGTERM, so its script stops what it started (a JVM,
    /// a node process); kills it after 10 s if it is still there.
    fn drop(&mut self) {
        drop(self.child.stdin.take());
        let _ = Command::new("kill")
            .arg("-TERM")
            .arg(self.child.id().to_string())
            .status();
        let deadline = std::time::Instant::now() + Duration::from_secs(10);
        while std::time::Instant::now() < deadline {
            if matches!(self.child.try_wait(), Ok(Some(_))) {
                return;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        eprintln!("{} did not stop on SIGTERM; killing it", self.name);
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn drain(mut r: impl Read) {
    let mut sink = [0u8; 4096];
    while matches!(r.read(&mut sink), Ok(n) if n > 0) {}
}

/// One scenario's outcome, as a peer client reported it.
#[derive(Clone, Debug)]
pub struct Scenario {
    /// Its name.
    pub name: String,
    /// Whether it passed.
    pub ok: bool,
    /// The whole JSON line.
    pub line: serde_json::Value,
}

/// What a peer client run printed.
#[derive(Debug)]
pub struct ClientRun {
    /// One entry per scenario, in order.
    pub scenarios: Vec<Scenario>,
    /// The exit code.
    pub code: Option<i32>,
    /// What it printed on stderr.
    pub stderr: String,
}

impl ClientRun {
    /// The scenario called `name`.
    pub fn get(&self, name: &str) -> Option<&Scenario> {
        self.scenarios.iter().find(|s| s.name == name)
    }

    /// Panics with everything the client printed unless every scenario in `names` passed.
    pub fn assert_passed(&self, names: &[&str]) {
        for name in names {
            match self.get(name) {
                Some(s) if s.ok => {}
                Some(s) => panic_with(self, &format!("scenario {name} failed: {}", s.line)),
                None => panic_with(self, &format!("scenario {name} did not run")),
            }
        }
    }
}

#[allow(clippy::panic)]
fn panic_with(run: &ClientRun, what: &str) -> ! {
    let lines: Vec<String> = run.scenarios.iter().map(|s| s.line.to_string()).collect();
    panic!(
        "{what}\nexit code {:?}\nscenarios:\n{}\nstderr:\n{}",
        run.code,
        lines.join("\n"),
        run.stderr
    )
}

/// Runs `script` (e.g. `node-client.sh`) against `addr` with `scenarios` and `envs`.
pub fn run_client(
    script: &str,
    addr: &str,
    scenarios: &[&str],
    envs: &[(&str, &str)],
) -> Result<ClientRun, PeerError> {
    let (host, port) = addr
        .rsplit_once(':')
        .ok_or_else(|| PeerError(format!("address {addr} has no port")))?;
    let path = peers_dir().join(script);
    let output = Command::new(&path)
        .arg(host)
        .arg(port)
        .args(scenarios)
        .envs(envs.iter().copied())
        .stdin(Stdio::null())
        .output()
        .map_err(|e| PeerError(format!("cannot run {}: {e}", path.display())))?;
    let stdout = String::from_utf8_lossy(&output.stdout);
    let scenarios = stdout
        .lines()
        .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .map(|line| Scenario {
            name: line["scenario"].as_str().unwrap_or_default().to_string(),
            ok: line["ok"].as_bool().unwrap_or(false),
            line,
        })
        .collect();
    Ok(ClientRun {
        scenarios,
        code: output.status.code(),
        stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
    })
}
