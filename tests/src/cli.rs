//! Running the `sofa` command line (the `sofa-cli` package) from these tests.
//!
//! Cargo only hands a package's own tests the path of its binaries, so this builds `sofa`
//! once per test binary with the cargo that runs the tests, into the same target directory.

use std::path::PathBuf;
use std::process::{Command, Output, Stdio};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use crate::PeerError;

/// What one run of `sofa` printed and returned.
#[derive(Debug)]
pub struct SofaRun {
    /// The exit code (-1 when killed by a signal).
    pub code: i32,
    /// Standard output.
    pub stdout: String,
    /// Standard error.
    pub stderr: String,
}

impl SofaRun {
    /// Standard output as JSON (for `--json` runs).
    pub fn json(&self) -> Result<serde_json::Value, PeerError> {
        serde_json::from_str(&self.stdout)
            .map_err(|e| PeerError(format!("sofa printed no JSON ({e}): {}", self.stdout)))
    }
}

/// The path of a fresh `sofa` binary, built on first use.
pub fn sofa_binary() -> Result<PathBuf, PeerError> {
    static BUILT: OnceLock<Result<PathBuf, String>> = OnceLock::new();
    BUILT.get_or_init(build).clone().map_err(PeerError)
}

fn build() -> Result<PathBuf, String> {
    // The test binary lives in `<target>/<profile>/deps/`; `sofa` goes to `<target>/<profile>/`.
    let exe = std::env::current_exe().map_err(|e| format!("no current exe: {e}"))?;
    let profile_dir = exe
        .parent()
        .and_then(|deps| deps.parent())
        .ok_or("the test binary is not in a cargo target directory")?;
    let target_dir = profile_dir
        .parent()
        .ok_or("the test binary is not in a cargo target directory")?;
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let mut cmd = Command::new(cargo);
    cmd.args(["build", "--quiet", "-p", "sofa-cli", "--bin", "sofa"])
        .arg("--target-dir")
        .arg(target_dir)
        .current_dir(env!("CARGO_MANIFEST_DIR"));
    if profile_dir.file_name().is_some_and(|p| p == "release") {
        cmd.arg("--release");
    }
    let out = cmd.output().map_err(|e| format!("cannot run cargo: {e}"))?;
    if !out.status.success() {
        return Err(format!(
            "cargo build -p sofa-cli failed:\n{}",
            String::from_utf8_lossy(&out.stderr)
        ));
    }
    let bin = profile_dir.join(format!("sofa{}", std::env::consts::EXE_SUFFIX));
    if bin.exists() {
        Ok(bin)
    } else {
        Err(format!("{} is missing after the build", bin.display()))
    }
}

/// Runs `sofa` with `args`; killed after 60 s.
pub fn run_sofa(args: &[&str]) -> Result<SofaRun, PeerError> {
    let bin = sofa_binary()?;
    let mut child = Command::new(&bin)
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| PeerError(format!("cannot run {}: {e}", bin.display())))?;
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        match child.try_wait() {
            Ok(Some(_)) => break,
            Ok(None) if Instant::now() < deadline => std::thread::sleep(Duration::from_millis(20)),
            _ => {
                let _ = child.kill();
                let _ = child.wait();
                return Err(PeerError(format!("sofa {args:?} did not finish in 60 s")));
            }
        }
    }
    let Output {
        status,
        stdout,
        stderr,
    } = child
        .wait_with_output()
        .map_err(|e| PeerError(format!("sofa {args:?}: {e}")))?;
    Ok(SofaRun {
        code: status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&stdout).into_owned(),
        stderr: String::from_utf8_lossy(&stderr).into_owned(),
    })
}
