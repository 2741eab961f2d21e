//! The echo server in a child process of the bench itself, so that what a bench measures in
//! its own process (allocations, CPU, threads) is the client's alone.
//!
//! The bench re-runs its own executable with [`SERVE_FLAG`]; the child prints the address it
//! listens on, then answers each line of its standard input with the line a bench-supplied
//! handler returns (to report its own counters), and exits when the input closes.

use std::io::{BufRead, BufReader, Write};
use std::process::{Child, ChildStdin, ChildStdout, Command, Stdio};

use crate::echo::{Echo, EchoBenchServer};
use crate::load::runtime;

/// The argument that makes a bench executable serve instead of measure.
pub const SERVE_FLAG: &str = "--serve-echo";

/// Whether this process was started as the server child.
pub fn is_server_child() -> bool {
    std::env::args().any(|a| a == SERVE_FLAG)
}

/// Serves the echo service on 127.0.0.1 (an ephemeral port) with `threads` worker threads,
/// printing the address, then answers every input line with `answer(line)` until the input
/// closes.
pub fn serve(
    threads: usize,
    events: Option<sofa_rpc_core::event::EventBus>,
    mut answer: impl FnMut(&str) -> String,
) -> Result<(), Box<dyn std::error::Error>> {
    let rt = runtime(threads)?;
    // The server is dropped in the runtime's context.
    let _enter = rt.enter();
    let mut builder = sofa_rpc_core::Server::builder()
        .bind("127.0.0.1:0")
        .service(EchoBenchServer::new(Echo));
    if let Some(bus) = events {
        builder = builder.events(bus);
    }
    let server = rt.block_on(builder.start())?;
    let mut out = std::io::stdout().lock();
    writeln!(out, "{}", server.local_addr())?;
    out.flush()?;
    for line in std::io::stdin().lock().lines() {
        writeln!(out, "{}", answer(line?.trim()))?;
        out.flush()?;
    }
    drop(server);
    Ok(())
}

/// The server child, seen from the bench.
pub struct ServerChild {
    process: Child,
    input: ChildStdin,
    output: BufReader<ChildStdout>,
    /// The address it listens on.
    pub addr: String,
}

impl ServerChild {
    /// Starts this executable again as the server child, passing `extra` arguments.
    pub fn spawn(extra: &[&str]) -> std::io::Result<Self> {
        let mut process = Command::new(std::env::current_exe()?)
            .arg(SERVE_FLAG)
            .args(extra)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()?;
        let missing = || std::io::Error::other("the server child has no pipes");
        let input = process.stdin.take().ok_or_else(missing)?;
        let mut output = BufReader::new(process.stdout.take().ok_or_else(missing)?);
        let mut addr = String::new();
        output.read_line(&mut addr)?;
        let addr = addr.trim().to_string();
        if addr.is_empty() {
            return Err(std::io::Error::other("the server child printed no address"));
        }
        Ok(ServerChild {
            process,
            input,
            output,
            addr,
        })
    }

    /// Sends `line` to the child and returns its answer.
    pub fn ask(&mut self, line: &str) -> std::io::Result<String> {
        writeln!(self.input, "{line}")?;
        self.input.flush()?;
        let mut answer = String::new();
        self.output.read_line(&mut answer)?;
        Ok(answer.trim().to_string())
    }
}

impl Drop for ServerChild {
    fn drop(&mut self) {
        // Closing its input ends the child; kill it should it not stop.
        let _ = self.process.kill();
        let _ = self.process.wait();
    }
}
