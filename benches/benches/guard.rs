#![allow(missing_docs, clippy::unwrap_used)]
//! The traffic guard's cost on the consumer pipeline of the `pipeline` bench (stub, `context`
//! filter, cluster, router, random balancer over three providers, msgpack, frame codec both
//! ways; 128 B): without a guard, with a guard that has no rules, and with a guard that has one
//! rate limit on the method called (at a rate no call reaches, so every call is admitted).
//!
//! Times are wall-clock by default. With `SOFA_BENCH_CPU_TIME=1` they are the bench thread's CPU
//! time instead (group `guard-cpu`): the call runs on that thread (`block_on`), and on a machine
//! shared with other work wall time also counts the slices the scheduler gave to others.
//!
//! Criterion measures one case after the other, so a drift of the machine between them shows
//! as a difference of a few percent, which is the size of what is measured here. After the
//! criterion groups the bench therefore also runs the cases interleaved (`GUARD_ROUNDS` rounds,
//! 20 000 calls of each case per round, the thread's CPU time) and prints the median over the
//! rounds of each case's time and of its ratio to `no_guard` in the same round.

#[path = "common/cpu_time.rs"]
mod cpu_time;

use std::future::IntoFuture;
use std::time::Duration;

use bytes::Bytes;
use cpu_time::ThreadCpuTime;
use criterion::measurement::Measurement;
use criterion::Criterion;
use sofa_rpc_benches::echo::EchoBenchClient;
use sofa_rpc_benches::loopback;
use sofa_rpc_core::guard::{Guard, GuardRules};
use sofa_rpc_core::Client;

fn bench_guard<M: Measurement>(c: &mut Criterion<M>, group_name: &str) {
    let mut group = c.benchmark_group(group_name);
    let payload = Bytes::from(vec![0x5a; 128]);
    let loader = loopback::extensions(&payload).unwrap();
    let config = loopback::consumer_config();
    let one_limit = Guard::new();
    one_limit
        .replace(
            GuardRules::from_json(
                r#"{"rate_limit": [{"id": "echo", "service": "com.example.bench.EchoBench",
                    "method": "echo", "token_bucket": {"rate": 1e9, "burst": 1000}}]}"#,
            )
            .unwrap(),
        )
        .unwrap();
    let cases = [
        ("no_guard", config.clone()),
        ("guard_no_rules", config.clone().guard(Guard::new())),
        ("guard_one_limit", config.clone().guard(one_limit.clone())),
    ];
    let stubs: Vec<_> = cases
        .into_iter()
        .map(|(name, config)| {
            let client = Client::with_extensions(config, &loader).unwrap();
            (name, EchoBenchClient::new(client))
        })
        .collect();
    let call = |stub: &EchoBenchClient| {
        futures::executor::block_on(stub.echo(payload.clone()).into_future()).unwrap()
    };
    for (name, stub) in &stubs {
        group.bench_function(*name, |b| b.iter(|| call(stub)));
    }
    group.finish();
    interleaved(&stubs, call);
    let stats = one_limit.stats("echo").unwrap();
    assert!(
        stats.passed > 0 && stats.refused == 0,
        "the rule was on the path: {stats:?}"
    );
}

/// Runs the cases in turn, round after round, and prints each one's median CPU time per call
/// and median ratio to the first case of the same round.
fn interleaved<S>(stubs: &[(&str, S)], call: impl Fn(&S) -> Bytes) {
    const CALLS: u32 = 20_000;
    let rounds: usize = std::env::var("GUARD_ROUNDS")
        .ok()
        .and_then(|r| r.parse().ok())
        .unwrap_or(30);
    let mut times = vec![Vec::with_capacity(rounds); stubs.len()];
    for _ in 0..rounds {
        for (case, (_, stub)) in stubs.iter().enumerate() {
            let start = ThreadCpuTime.start();
            for _ in 0..CALLS {
                std::hint::black_box(call(stub));
            }
            times[case].push(ThreadCpuTime.end(start) as f64 / f64::from(CALLS));
        }
    }
    let median = |mut v: Vec<f64>| {
        v.sort_by(f64::total_cmp);
        v[v.len() / 2]
    };
    println!("interleaved: {rounds} rounds x {CALLS} calls per case, thread CPU time");
    for (case, (name, _)) in stubs.iter().enumerate() {
        let ratios = times[case].iter().zip(&times[0]).map(|(t, base)| t / base);
        println!(
            "  {name:<16} {:>7.1} ns/call  {:+.1} % vs {}",
            median(times[case].clone()),
            (median(ratios.collect()) - 1.0) * 100.0,
            stubs[0].0
        );
    }
}

fn configured<M: Measurement>(c: Criterion<M>) -> Criterion<M> {
    c.warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(4))
        .configure_from_args()
}

fn main() {
    if std::env::var_os("SOFA_BENCH_CPU_TIME").is_some() {
        let mut c = configured(Criterion::default().with_measurement(ThreadCpuTime));
        bench_guard(&mut c, "guard-cpu");
        c.final_summary();
    } else {
        let mut c = configured(Criterion::default());
        bench_guard(&mut c, "guard");
        c.final_summary();
    }
}
