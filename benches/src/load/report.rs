//! What a load run counts and the one JSON line it reports, shared by every client loop.

use std::time::Instant;

use hdrhistogram::Histogram;

use super::cpu::{machine_busy_secs, peak_rss_kib, process_cpu_secs};
use super::Args;

/// Calls counted by one load task (or by all of them, once merged).
pub struct Tally {
    /// Latencies of the measured calls, in nanoseconds.
    pub hist: Histogram<u64>,
    /// Measured calls that came back whole.
    pub ok: u64,
    /// Calls that failed or came back wrong, measured or not.
    pub errors: u64,
    /// The first failure seen, to name in the report.
    pub first_error: Option<String>,
}

impl Tally {
    /// An empty tally.
    pub fn new() -> Result<Tally, String> {
        Ok(Tally {
            // 1 µs .. 60 s with 3 significant digits, in nanoseconds.
            hist: Histogram::new_with_bounds(1_000, 60_000_000_000, 3)
                .map_err(|e| e.to_string())?,
            ok: 0,
            errors: 0,
            first_error: None,
        })
    }

    /// Records one call that came back whole after `nanos`.
    pub fn record(&mut self, nanos: u128) {
        self.ok += 1;
        self.hist
            .saturating_record(u64::try_from(nanos).unwrap_or(u64::MAX));
    }

    /// Counts `calls` failed calls; `why` names the first failure if none is named yet.
    pub fn fail(&mut self, calls: u64, why: impl FnOnce() -> String) {
        self.errors += calls;
        if self.first_error.is_none() {
            self.first_error = Some(why());
        }
    }

    /// Adds another task's tally to this one.
    pub fn merge(&mut self, other: Tally) -> Result<(), String> {
        self.hist.add(&other.hist).map_err(|e| e.to_string())?;
        self.ok += other.ok;
        self.errors += other.errors;
        if self.first_error.is_none() {
            self.first_error = other.first_error;
        }
        Ok(())
    }
}

/// CPU readings and the clock at the start of the measured window.
pub struct WindowStart {
    client_cpu: Option<f64>,
    server_cpu: Option<f64>,
    busy: Option<f64>,
    at: Instant,
}

impl WindowStart {
    /// Waits until `at` (the end of the warm-up), then takes the readings: this process, the
    /// server `server` if known, and the whole machine.
    pub async fn at(at: Instant, server: Option<u32>) -> WindowStart {
        tokio::time::sleep_until(at.into()).await;
        WindowStart {
            client_cpu: process_cpu_secs("self"),
            server_cpu: server.and_then(|pid| process_cpu_secs(&pid.to_string())),
            busy: machine_busy_secs(),
            at: Instant::now(),
        }
    }
}

/// Ends the measured window now and formats the result line of `framework`.
pub fn report(framework: &str, args: &Args, start: WindowStart, tally: &Tally) -> String {
    let t_end = Instant::now();
    let server = args.server_pid;
    let client_cpu_end = process_cpu_secs("self");
    let server_cpu_end = server.and_then(|pid| process_cpu_secs(&pid.to_string()));
    let server_rss = server.and_then(peak_rss_kib);
    let busy_end = machine_busy_secs();

    let window = t_end.duration_since(start.at).as_secs_f64().max(1e-9);
    let per_sec = |a: Option<f64>, b: Option<f64>| match (a, b) {
        (Some(a), Some(b)) => format!("{:.3}", (b - a) / window),
        _ => "null".to_string(),
    };
    let foreign = match (
        start.busy,
        busy_end,
        start.server_cpu,
        server_cpu_end,
        start.client_cpu,
        client_cpu_end,
    ) {
        (Some(b0), Some(b1), Some(s0), Some(s1), Some(c0), Some(c1)) => {
            format!("{:.3}", ((b1 - b0) - (s1 - s0) - (c1 - c0)) / window)
        }
        _ => "null".to_string(),
    };
    let hist = &tally.hist;
    let us = |q: f64| hist.value_at_quantile(q) as f64 / 1000.0;
    let first_error = match &tally.first_error {
        Some(e) => format!("\"{}\"", e.replace(['"', '\\'], "'")),
        None => "null".to_string(),
    };
    format!(
        "{{\"framework\":\"{framework}\",\"label\":\"{}\",\"conns\":{},\"concurrency\":{},\"payload\":{},\"threads\":{},\"window_s\":{window:.3},\"ok\":{},\"errors\":{},\"qps\":{:.1},\"mean_us\":{:.1},\"p50_us\":{:.1},\"p90_us\":{:.1},\"p99_us\":{:.1},\"p999_us\":{:.1},\"max_us\":{:.1},\"client_cpu\":{},\"server_cpu\":{},\"server_rss_kb\":{},\"foreign_cpu\":{foreign},\"first_error\":{first_error}}}",
        args.label,
        args.conns,
        args.concurrency,
        args.payload,
        args.threads,
        tally.ok,
        tally.errors,
        tally.ok as f64 / window,
        hist.mean() / 1000.0,
        us(0.5),
        us(0.9),
        us(0.99),
        us(0.999),
        hist.max() as f64 / 1000.0,
        per_sec(start.client_cpu, client_cpu_end),
        per_sec(start.server_cpu, server_cpu_end),
        server_rss.map_or_else(|| "null".to_string(), |v| v.to_string()),
    )
}
