//! Load balancers that learn from attempts, over real sockets: `adaptive` steers away from a
//! slow provider, `random` does not.

#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

mod common;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use common::*;
use sofa_rpc_core::{Client, ConsumerConfig, Server};

#[sofa_rpc_core::service(interface = "com.example.Slow")]
trait Slow {
    async fn work(&self) -> u32;
}

#[derive(Clone)]
struct Provider {
    delay: Duration,
    hits: Arc<AtomicUsize>,
}

impl Slow for Provider {
    async fn work(&self) -> u32 {
        self.hits.fetch_add(1, Ordering::Relaxed);
        tokio::time::sleep(self.delay).await;
        1
    }
}

/// Sends 1,000 calls, 10 at a time, to two 1 ms providers and one 21 ms provider; returns the
/// slow provider's share of them.
async fn slow_share(balancer: &str) -> f64 {
    let mut servers: Vec<Server> = Vec::new();
    let mut hits = Vec::new();
    for delay_ms in [1, 1, 21] {
        let provider = Provider {
            delay: Duration::from_millis(delay_ms),
            hits: Arc::default(),
        };
        hits.push(provider.hits.clone());
        servers.push(
            builder()
                .service(SlowServer::new(provider))
                .start()
                .await
                .unwrap(),
        );
    }
    let urls: Vec<String> = servers.iter().map(|s| s.local_addr().to_string()).collect();
    let client = Client::new(
        ConsumerConfig::new()
            .direct_url(urls.join(";"))
            .load_balancer(balancer),
    )
    .unwrap();
    let stub = SlowClient::new(client);
    let mut workers = Vec::new();
    for _ in 0..10 {
        let stub = stub.clone();
        workers.push(tokio::spawn(async move {
            for _ in 0..100 {
                assert_eq!(stub.work().await.unwrap(), 1);
            }
        }));
    }
    for worker in workers {
        worker.await.unwrap();
    }
    let counts: Vec<usize> = hits.iter().map(|h| h.load(Ordering::Relaxed)).collect();
    println!("{balancer}: calls per provider (1 ms, 1 ms, 21 ms) = {counts:?}");
    for server in servers {
        server.shutdown().await;
    }
    assert_eq!(counts.iter().sum::<usize>(), 1000);
    counts[2] as f64 / 1000.0
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn adaptive_sends_a_slow_provider_well_under_its_third_and_random_does_not() {
    let adaptive = slow_share("adaptive").await;
    let random = slow_share("random").await;
    println!("slow provider's share: adaptive {adaptive:.3}, random {random:.3}");
    assert!(
        adaptive < 0.15,
        "adaptive gave the slow provider {adaptive:.3}"
    );
    assert!(random > 0.25, "random gave the slow provider {random:.3}");
}
