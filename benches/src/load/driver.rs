//! Keeps `concurrency` calls in flight, measures, and reports one JSON line.

use std::future::Future;
use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;

use super::report::{report, Tally, WindowStart};
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
    let mut tasks = Vec::with_capacity(args.concurrency);
    for i in 0..args.concurrency {
        let client = clients[i % clients.len()].clone();
        let call = call.clone();
        let body = body.clone();
        let expect = args.payload;
        tasks.push(tokio::spawn(async move {
            let mut result = Tally::new()?;
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
                            result.record(elapsed.as_nanos());
                        }
                    }
                    Ok(n) => result.fail(1, || format!("echo returned {n} bytes, not {expect}")),
                    Err(e) => {
                        result.fail(1, || e);
                        if result.errors > 1000 {
                            break;
                        }
                    }
                }
            }
            Ok::<_, String>(result)
        }));
    }

    let mut total = Tally::new()?;
    for task in tasks {
        total.merge(task.await.map_err(|e| e.to_string())??)?;
    }
    let window = snapshot.await.map_err(|e| e.to_string())?;
    Ok(report(framework, args, window, &total))
}
