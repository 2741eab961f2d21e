//! Keeps `concurrency` calls in flight, measures, and reports one JSON line.

use std::future::Future;
use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use hdrhistogram::Histogram;

use super::cpu::{machine_busy_secs, peak_rss_kib, process_cpu_secs};
use super::Args;

/// What each load task brings back.
struct TaskResult {
    hist: Histogram<u64>,
    ok: u64,
    errors: u64,
    first_error: Option<String>,
}

fn histogram() -> Result<Histogram<u64>, String> {
    // 1 µs .. 60 s with 3 significant digits, in nanoseconds.
    Histogram::new_with_bounds(1_000, 60_000_000_000, 3).map_err(|e| e.to_string())
}

/// A payload of `n` bytes with a recognizable pattern.
pub fn payload(n: usize) -> Bytes {
    (0..n).map(|i| (i % 251) as u8).collect::<Vec<u8>>().into()
}

/// Runs the closed loop: `concurrency` tasks, task `i` using `clients[i % conns]`, each calling
/// `call(client, payload)` back to back; the first `warmup` seconds are not measured. `call`
/// returns the number of payload bytes that came back. Returns the JSON result line.
pub async fn drive<C, F, Fut>(
    framework: &str,
    args: &Args,
    clients: Vec<C>,
    call: F,
) -> Result<String, String>
where
    C: Clone + Send + Sync + 'static,
    F: Fn(C, Bytes) -> Fut + Clone + Send + Sync + 'static,
    Fut: Future<Output = Result<usize, String>> + Send + 'static,
{
    if clients.is_empty() {
        return Err("no clients".into());
    }
    let body = payload(args.payload);
    let start = Instant::now();
    let warm_end = start + Duration::from_secs_f64(args.warmup);
    let end = warm_end + Duration::from_secs_f64(args.duration);
    let server = args.server_pid;

    // Readings at the start of the measured window.
    let snapshot = tokio::spawn(async move {
        tokio::time::sleep_until(warm_end.into()).await;
        (
            process_cpu_secs("self"),
            server.and_then(|pid| process_cpu_secs(&pid.to_string())),
            machine_busy_secs(),
            Instant::now(),
        )
    });

    let clients = Arc::new(clients);
    let mut tasks = Vec::with_capacity(args.concurrency);
    for i in 0..args.concurrency {
        let client = clients[i % clients.len()].clone();
        let call = call.clone();
        let body = body.clone();
        let expect = args.payload;
        tasks.push(tokio::spawn(async move {
            let mut result = TaskResult {
                hist: histogram()?,
                ok: 0,
                errors: 0,
                first_error: None,
            };
            loop {
                let t0 = Instant::now();
                if t0 >= end {
                    break;
                }
                let outcome = call(client.clone(), body.clone()).await;
                let elapsed = t0.elapsed();
                match outcome {
                    Ok(n) if n == expect => {
                        if t0 >= warm_end {
                            result.ok += 1;
                            result.hist.saturating_record(
                                u64::try_from(elapsed.as_nanos()).unwrap_or(u64::MAX),
                            );
                        }
                    }
                    Ok(n) => {
                        result.errors += 1;
                        result
                            .first_error
                            .get_or_insert(format!("echo returned {n} bytes, not {expect}"));
                    }
                    Err(e) => {
                        result.errors += 1;
                        result.first_error.get_or_insert(e);
                        if result.errors > 1000 {
                            break;
                        }
                    }
                }
            }
            Ok::<_, String>(result)
        }));
    }

    let mut hist = histogram()?;
    let (mut ok, mut errors, mut first_error) = (0u64, 0u64, None);
    for task in tasks {
        let r = task.await.map_err(|e| e.to_string())??;
        hist.add(&r.hist).map_err(|e| e.to_string())?;
        ok += r.ok;
        errors += r.errors;
        if first_error.is_none() {
            first_error = r.first_error;
        }
    }
    let t_end = Instant::now();
    let client_cpu_end = process_cpu_secs("self");
    let server_cpu_end = server.and_then(|pid| process_cpu_secs(&pid.to_string()));
    let server_rss = server.and_then(peak_rss_kib);
    let busy_end = machine_busy_secs();
    let (client_cpu_start, server_cpu_start, busy_start, t_start) =
        snapshot.await.map_err(|e| e.to_string())?;

    let window = t_end.duration_since(t_start).as_secs_f64().max(1e-9);
    let per_sec = |a: Option<f64>, b: Option<f64>| match (a, b) {
        (Some(a), Some(b)) => format!("{:.3}", (b - a) / window),
        _ => "null".to_string(),
    };
    let foreign = match (
        busy_start,
        busy_end,
        server_cpu_start,
        server_cpu_end,
        client_cpu_start,
        client_cpu_end,
    ) {
        (Some(b0), Some(b1), Some(s0), Some(s1), Some(c0), Some(c1)) => {
            format!("{:.3}", ((b1 - b0) - (s1 - s0) - (c1 - c0)) / window)
        }
        _ => "null".to_string(),
    };
    let us = |q: f64| hist.value_at_quantile(q) as f64 / 1000.0;
    let first_error = match first_error {
        Some(e) => format!("\"{}\"", e.replace(['"', '\\'], "'")),
        None => "null".to_string(),
    };
    Ok(format!(
        "{{\"framework\":\"{framework}\",\"label\":\"{}\",\"conns\":{},\"concurrency\":{},\"payload\":{},\"threads\":{},\"window_s\":{window:.3},\"ok\":{ok},\"errors\":{errors},\"qps\":{:.1},\"mean_us\":{:.1},\"p50_us\":{:.1},\"p90_us\":{:.1},\"p99_us\":{:.1},\"p999_us\":{:.1},\"max_us\":{:.1},\"client_cpu\":{},\"server_cpu\":{},\"server_rss_kb\":{},\"foreign_cpu\":{foreign},\"first_error\":{first_error}}}",
        args.label,
        args.conns,
        args.concurrency,
        args.payload,
        args.threads,
        ok as f64 / window,
        hist.mean() / 1000.0,
        us(0.5),
        us(0.9),
        us(0.99),
        us(0.999),
        hist.max() as f64 / 1000.0,
        per_sec(client_cpu_start, client_cpu_end),
        per_sec(server_cpu_start, server_cpu_end),
        server_rss.map_or_else(|| "null".to_string(), |v| v.to_string()),
    ))
}
