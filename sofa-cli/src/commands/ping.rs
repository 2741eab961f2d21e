//! `sofa ping`: Bolt heartbeats on one connection, with round-trip statistics.

use std::sync::Arc;
use std::time::{Duration, Instant};

use serde_json::json;
use sofa_rpc_core::bolt::{Connection, ConnectionConfig, ResponseStatus};

use crate::cli::PingArgs;
use crate::error::{Failure, Result};
use crate::output::{ms, print_json};
use crate::target::Target;

/// Pause between heartbeats: quick, yet not a flood.
const INTERVAL: Duration = Duration::from_millis(200);

/// Sends `--count` heartbeats one after another and prints each round trip and the summary.
pub(crate) async fn run(args: PingArgs, json: bool) -> Result<()> {
    let addr = match Target::parse(&args.target)? {
        Target::Direct(addr) => addr,
        Target::Registry(url) => {
            return Err(Failure::usage(format!(
                "ping needs a provider address (bolt://host:port), not a registry: {url}"
            )))
        }
    };
    let timeout = Duration::from_millis(args.timeout.max(1));
    let mut config = ConnectionConfig {
        connect_timeout: timeout,
        ..ConnectionConfig::default()
    };
    if let Some(tls) = args.tls.connector(&args.target)? {
        config.connector = Some(Arc::new(tls));
    }
    let conn = Connection::connect_to(addr.as_str(), config)
        .await
        .map_err(|e| Failure::usage(format!("cannot reach bolt://{addr}: {e}")))?;
    let mut rtts = Rtts::default();
    for seq in 1..=args.count {
        if seq > 1 {
            tokio::time::sleep(INTERVAL).await;
        }
        let start = Instant::now();
        let outcome = conn.heartbeat(timeout).await;
        let micros = u64::try_from(start.elapsed().as_micros()).unwrap_or(u64::MAX);
        match outcome {
            Ok(frame) if frame.status() == ResponseStatus::SUCCESS => {
                rtts.answered.push(micros);
                if !json {
                    println!("heartbeat {seq} to {addr}: {:.3} ms", ms(micros));
                }
            }
            Ok(frame) => {
                if !json {
                    println!("heartbeat {seq} to {addr}: status {}", frame.status());
                }
            }
            Err(e) => {
                if !json {
                    println!("heartbeat {seq} to {addr}: {e}");
                }
            }
        }
    }
    let sent = args.count;
    let stats = rtts.stats();
    if json {
        print_json(&json!({
            "target": format!("bolt://{addr}"),
            "sent": sent,
            "answered": rtts.answered.len(),
            "minMs": stats.map(|s| ms(s.min)),
            "avgMs": stats.map(|s| ms(s.avg)),
            "maxMs": stats.map(|s| ms(s.max)),
        }));
    } else {
        println!("--- bolt://{addr} ---");
        print!("{sent} sent, {} answered", rtts.answered.len());
        match stats {
            Some(s) => println!(
                ", round trip min/avg/max = {:.3}/{:.3}/{:.3} ms",
                ms(s.min),
                ms(s.avg),
                ms(s.max)
            ),
            None => println!(),
        }
    }
    if rtts.answered.is_empty() {
        return Err(Failure::Runtime(format!(
            "bolt://{addr} answered none of {sent} heartbeats"
        )));
    }
    Ok(())
}

/// Round trips of the answered heartbeats, in microseconds.
#[derive(Debug, Default)]
struct Rtts {
    answered: Vec<u64>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Stats {
    min: u64,
    avg: u64,
    max: u64,
}

impl Rtts {
    fn stats(&self) -> Option<Stats> {
        let min = *self.answered.iter().min()?;
        let max = *self.answered.iter().max()?;
        let sum: u64 = self.answered.iter().sum();
        let count = u64::try_from(self.answered.len()).unwrap_or(u64::MAX);
        Some(Stats {
            min,
            avg: sum / count.max(1),
            max,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn min_avg_max() {
        assert_eq!(Rtts::default().stats(), None);
        let r = Rtts {
            answered: vec![300, 100, 200],
        };
        assert_eq!(
            r.stats(),
            Some(Stats {
                min: 100,
                avg: 200,
                max: 300
            })
        );
    }
}
