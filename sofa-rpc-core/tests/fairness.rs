//! One connection pipelining slow calls cannot take the provider's executor from the others.

#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

mod common;

use std::time::{Duration, Instant};

use common::*;
use sofa_rpc_core::ConsumerConfig;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_pipelining_connection_leaves_room_for_other_clients() {
    // Default settings: 200 executor slots, no queue, 128 requests in flight per connection.
    let server = serve(Echo::default()).await;
    let addr = server.local_addr().to_string();
    let hog = client_with(
        ConsumerConfig::new()
            .direct_url(addr.clone())
            .timeout(Duration::from_secs(30)),
    );
    let good = client_with(ConsumerConfig::new().direct_url(addr));
    good.sleep(0).await.unwrap();

    // 1,000 calls on one connection to a method that waits a second.
    let hog_calls: Vec<_> = (0..1000).map(|_| hog.sleep(1000).future()).collect();
    let hogging = tokio::spawn(futures::future::join_all(hog_calls));
    tokio::time::sleep(Duration::from_millis(100)).await;

    let (mut ok, mut failed) = (0u32, 0u32);
    let until = Instant::now() + Duration::from_millis(1500);
    while Instant::now() < until {
        let calls = (0..4).map(|_| good.sleep(10).future());
        for result in futures::future::join_all(calls).await {
            match result {
                Ok(_) => ok += 1,
                Err(e) => {
                    failed += 1;
                    eprintln!("good client: {e}");
                }
            }
        }
    }
    println!(
        "good client while one connection pipelines 1,000 slow calls: {ok} ok, {failed} failed"
    );
    assert!(
        f64::from(ok) >= 0.9 * f64::from(ok + failed),
        "{ok} ok, {failed} failed"
    );
    hogging.abort();
    server.shutdown().await;
}
