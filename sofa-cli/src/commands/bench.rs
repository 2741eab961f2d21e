//! `sofa bench`: concurrent generic calls for a while, then a latency histogram.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use hdrhistogram::Histogram;
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use serde_json::json;

use crate::cli::BenchArgs;
use crate::error::{Failure, Result};
use crate::output::{ms, print_json};
use crate::prepare::Prepared;

/// Latencies recorded, in microseconds: 1 µs to 10 minutes at 3 significant digits.
const MAX_MICROS: u64 = 600_000_000;

/// Runs `--concurrency` callers for `--duration` seconds and prints what they saw.
pub(crate) async fn run(args: BenchArgs, json: bool) -> Result<()> {
    let prepared = Arc::new(
        Prepared::new(
            &args.target,
            &args.service,
            &args.method,
            args.args_json.as_deref(),
            &args.options,
        )
        .await?,
    );
    let generic = prepared.generic()?;
    // One call first: a wrong method or unreachable target fails at once, not N times.
    prepared.call(&generic).await?;

    let duration = Duration::from_secs(args.duration);
    let counts = Arc::new(Counts::default());
    let bar = progress(duration, json);
    let start = Instant::now();
    let deadline = start + duration;
    let mut workers = Vec::new();
    for _ in 0..args.concurrency {
        let prepared = prepared.clone();
        let generic = generic.clone();
        let counts = counts.clone();
        workers.push(tokio::spawn(async move {
            let mut histogram = new_histogram()?;
            let mut first_error = None;
            while Instant::now() < deadline {
                let begun = Instant::now();
                let outcome = prepared.call(&generic).await;
                let micros = u64::try_from(begun.elapsed().as_micros()).unwrap_or(u64::MAX);
                match outcome {
                    Ok(_) => {
                        histogram.saturating_record(micros.max(1));
                        counts.ok.fetch_add(1, Ordering::Relaxed);
                    }
                    Err(e) => {
                        counts.errors.fetch_add(1, Ordering::Relaxed);
                        first_error.get_or_insert(e);
                    }
                }
            }
            Ok::<_, Failure>((histogram, first_error))
        }));
    }
    let ticker = tokio::spawn({
        let bar = bar.clone();
        let counts = counts.clone();
        async move {
            loop {
                tokio::time::sleep(Duration::from_millis(200)).await;
                bar.set_position(start.elapsed().as_secs().min(duration.as_secs()));
                bar.set_message(format!(
                    "{} calls, {} errors",
                    counts.ok.load(Ordering::Relaxed),
                    counts.errors.load(Ordering::Relaxed)
                ));
            }
        }
    });
    let mut total = new_histogram()?;
    let mut first_error = None;
    for worker in workers {
        let (histogram, error) = worker
            .await
            .map_err(|e| Failure::Runtime(format!("a bench worker failed: {e}")))??;
        total
            .add(&histogram)
            .map_err(|e| Failure::Runtime(format!("merging latencies: {e}")))?;
        first_error = first_error.or(error);
    }
    ticker.abort();
    bar.finish_and_clear();
    let elapsed = start.elapsed();
    let report = Report::new(
        &total,
        counts.errors.load(Ordering::Relaxed),
        elapsed,
        args.concurrency,
    );
    if json {
        let mut doc = report.to_json();
        doc["firstError"] = json!(first_error.map(|e| e.to_string()));
        print_json(&doc);
    } else {
        print!("{}", report.render());
        if let Some(e) = first_error {
            println!("first error: {e}");
        }
    }
    Ok(())
}

#[derive(Debug, Default)]
struct Counts {
    ok: AtomicU64,
    errors: AtomicU64,
}

fn new_histogram() -> Result<Histogram<u64>> {
    Histogram::new_with_bounds(1, MAX_MICROS, 3)
        .map_err(|e| Failure::Runtime(format!("latency histogram: {e}")))
}

/// A bar over the seconds of the run, on stderr (hidden when stderr is not a terminal or
/// the output is JSON).
fn progress(duration: Duration, json: bool) -> ProgressBar {
    let bar = ProgressBar::new(duration.as_secs());
    if json {
        bar.set_draw_target(ProgressDrawTarget::hidden());
    }
    if let Ok(style) = ProgressStyle::with_template("{bar:40} {pos}/{len} s  {msg}") {
        bar.set_style(style);
    }
    bar
}

/// What a run measured.
#[derive(Debug, Clone, PartialEq)]
struct Report {
    calls: u64,
    errors: u64,
    seconds: f64,
    concurrency: u32,
    /// p50, p90, p99, p99.9 and max, in microseconds.
    quantiles: [u64; 5],
}

impl Report {
    fn new(h: &Histogram<u64>, errors: u64, elapsed: Duration, concurrency: u32) -> Report {
        Report {
            calls: h.len(),
            errors,
            seconds: elapsed.as_secs_f64(),
            concurrency,
            quantiles: [
                h.value_at_quantile(0.5),
                h.value_at_quantile(0.9),
                h.value_at_quantile(0.99),
                h.value_at_quantile(0.999),
                h.max(),
            ],
        }
    }

    fn rate(&self) -> f64 {
        if self.seconds > 0.0 {
            self.calls as f64 / self.seconds
        } else {
            0.0
        }
    }

    fn render(&self) -> String {
        let [p50, p90, p99, p999, max] = self.quantiles.map(ms);
        format!(
            "{} calls in {:.1} s with {} in flight: {:.0} calls/s, {} errors\n\
             latency (ms)  p50 {p50:.3}  p90 {p90:.3}  p99 {p99:.3}  p99.9 {p999:.3}  max {max:.3}\n",
            self.calls,
            self.seconds,
            self.concurrency,
            self.rate(),
            self.errors
        )
    }

    fn to_json(&self) -> serde_json::Value {
        let [p50, p90, p99, p999, max] = self.quantiles.map(ms);
        json!({
            "calls": self.calls,
            "errors": self.errors,
            "seconds": self.seconds,
            "concurrency": self.concurrency,
            "callsPerSecond": self.rate(),
            "latencyMs": { "p50": p50, "p90": p90, "p99": p99, "p999": p999, "max": max },
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reports_quantiles_and_rate() {
        let mut h = new_histogram().unwrap();
        for micros in 1..=1000 {
            h.record(micros).unwrap();
        }
        let r = Report::new(&h, 2, Duration::from_secs(2), 4);
        assert_eq!(r.calls, 1000);
        assert_eq!(r.rate(), 500.0);
        assert_eq!(r.quantiles[0], 500);
        assert_eq!(r.quantiles[4], 1000);
        let text = r.render();
        assert!(text.starts_with("1000 calls in 2.0 s with 4 in flight: 500 calls/s, 2 errors"));
        assert!(text.contains("p50 0.500"), "{text}");
        assert_eq!(r.to_json()["latencyMs"]["max"], 1.0);
    }
}
