//! The command line every benchmark binary takes.

use std::fmt;

/// `--addr --conns --concurrency --payload --duration --warmup --threads --label --server-pid
/// --mode --tls`, each followed by its value.
#[derive(Clone, Debug)]
pub struct Args {
    /// Server address.
    pub addr: String,
    /// Connections (clients) to spread the load over.
    pub conns: usize,
    /// Calls in flight in total.
    pub concurrency: usize,
    /// Payload bytes per call.
    pub payload: usize,
    /// Measured seconds.
    pub duration: f64,
    /// Unmeasured seconds first.
    pub warmup: f64,
    /// Runtime worker threads.
    pub threads: usize,
    /// Free-form label copied to the result.
    pub label: String,
    /// The server's pid, to measure its CPU and memory.
    pub server_pid: Option<u32>,
    /// Free-form mode.
    pub mode: String,
    /// TLS: the directory where the server writes the self-signed certificate it makes at
    /// start (`cert.pem`, `key.pem`) and where the client finds it to trust.
    pub tls: Option<std::path::PathBuf>,
}

/// A bad command line.
#[derive(Debug)]
pub struct ArgsError(String);

impl fmt::Display for ArgsError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for ArgsError {}

impl Default for Args {
    fn default() -> Self {
        Args {
            addr: "127.0.0.1:12200".into(),
            conns: 1,
            concurrency: 1,
            payload: 128,
            duration: 5.0,
            warmup: 1.0,
            threads: 1,
            label: String::new(),
            server_pid: None,
            mode: String::new(),
            tls: None,
        }
    }
}

fn num<T: std::str::FromStr>(key: &str, value: &str) -> Result<T, ArgsError> {
    value
        .parse()
        .map_err(|_| ArgsError(format!("{key} takes a number, got {value:?}")))
}

impl Args {
    /// Parses the process arguments.
    pub fn from_env() -> Result<Self, ArgsError> {
        Self::parse(std::env::args().skip(1))
    }

    /// Parses `argv` (without the program name).
    pub fn parse(argv: impl IntoIterator<Item = String>) -> Result<Self, ArgsError> {
        let mut a = Args::default();
        let mut it = argv.into_iter();
        while let Some(key) = it.next() {
            let value = it
                .next()
                .ok_or_else(|| ArgsError(format!("{key} needs a value")))?;
            match key.as_str() {
                "--addr" => a.addr = value,
                "--conns" => a.conns = num(&key, &value)?,
                "--concurrency" | "-c" => a.concurrency = num(&key, &value)?,
                "--payload" => a.payload = num(&key, &value)?,
                "--duration" => a.duration = num(&key, &value)?,
                "--warmup" => a.warmup = num(&key, &value)?,
                "--threads" => a.threads = num(&key, &value)?,
                "--label" => a.label = value,
                "--server-pid" => a.server_pid = Some(num(&key, &value)?),
                "--mode" => a.mode = value,
                "--tls" => a.tls = Some(value.into()),
                other => return Err(ArgsError(format!("unknown argument {other}"))),
            }
        }
        if a.conns == 0 || a.concurrency == 0 || a.threads == 0 {
            return Err(ArgsError(
                "conns, concurrency and threads must be at least 1".into(),
            ));
        }
        // Checked here so that the load loops can turn them into durations without failing.
        for (key, secs) in [("--duration", a.duration), ("--warmup", a.warmup)] {
            if std::time::Duration::try_from_secs_f64(secs).is_err() {
                return Err(ArgsError(format!(
                    "{key} takes a number of seconds of at least 0, got {secs}"
                )));
            }
        }
        Ok(a)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_the_shared_command_line() {
        let argv = "--addr 127.0.0.1:9 --conns 4 -c 128 --payload 4096 --duration 2 --warmup 0.5 --threads 1 --server-pid 42 --mode x";
        let a = Args::parse(argv.split(' ').map(String::from)).unwrap();
        assert_eq!((a.conns, a.concurrency, a.payload), (4, 128, 4096));
        assert_eq!(a.server_pid, Some(42));
        assert!(Args::parse(["--conns".to_string()]).is_err());
        assert!(Args::parse(["--bogus".to_string(), "1".to_string()]).is_err());
        assert!(Args::parse(["--warmup".to_string(), "-1".to_string()]).is_err());
        assert!(Args::parse(["--duration".to_string(), "NaN".to_string()]).is_err());
    }
}
