//! Keeps `concurrency` calls in flight, measures, and reports one JSON line.

use std::future::Future;
use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;

use super::per_thread::PerThread;
use super::report::{report, WindowStart};
use super::Args;

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

    // Readings at the start of the measured window.
    let snapshot = tokio::spawn(WindowStart::at(warm_end, args.server_pid));

    let clients = Arc::new(clients);
    let tallies = PerThread::new();
    let mut tasks = Vec::with_capacity(args.concurrency);
    for i in 0..args.concurrency {
        let client = clients[i % clients.len()].clone();
        let call = call.clone();
        let body = body.clone();
        let expect = args.payload;
        let tallies = tallies.clone();
        tasks.push(tokio::spawn(async move {
            loop {
                let t0 = Instant::now();
                if t0 >= end {
                    break;
                }
                let outcome = call(client.clone(), body.clone()).await;
                let elapsed = t0.elapsed();
                let give_up = tallies.with(|tally| {
                    match outcome {
                        Ok(n) if n == expect => {
                            if t0 >= warm_end {
                                tally.record(elapsed.as_nanos());
                            }
                        }
                        Ok(n) => tally.fail(1, || format!("echo returned {n} bytes, not {expect}")),
                        Err(e) => tally.fail(1, || e),
                    }
                    tally.errors > 1000
                })?;
                if give_up {
                    break;
                }
            }
            Ok::<_, String>(())
        }));
    }

    for task in tasks {
        task.await.map_err(|e| e.to_string())??;
    }
    let total = tallies.merged()?;
    let window = snapshot.await.map_err(|e| e.to_string())?;
    Ok(report(framework, args, window, &total))
}
