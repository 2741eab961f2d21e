#![allow(missing_docs, clippy::unwrap_used)]
//! `LoadBalancer::select` for every built-in balancer, over 10 and 100 providers published
//! as a Java provider publishes them (all of SOFARPC's parameters, weight 100).
//!
//! The list is the same `Vec` on every call. The cluster hands over a fresh `Vec` of the same
//! `Arc`s each time, which costs the cluster (not the balancer) a clone; balancers recognise a
//! list by its elements either way, so per-list state (weights, rings) is found again rather
//! than rebuilt. The first argument is the same string on every call, a hot key: the
//! consistent-hash balancers find its point among the keys the thread remembers, then bisect
//! the ring; `select-distinct-keys` measures them with a new key each time, MD5 included.
//! `leastActive` and `adaptive` are fed one finished attempt per provider first, so they
//! compare real numbers.
//!
//! Times are wall-clock by default. With `SOFA_BENCH_CPU_TIME=1` they are the bench thread's
//! CPU time instead (groups `loadbalance-cpu/...`): on a machine shared with other work, wall
//! time counts the slices the scheduler gave to others, CPU time only what `select` costs.

#[path = "common/cpu_time.rs"]
mod cpu_time;

use std::hint::black_box;
use std::sync::Arc;
use std::time::Duration;

use cpu_time::ThreadCpuTime;
use criterion::measurement::Measurement;
use criterion::{BenchmarkId, Criterion};
use sofa_rpc_core::{DynArgs, ExtensionLoader, Invocation, ProviderInfo, ServiceId};

const BALANCERS: [&str; 9] = [
    "random",
    "roundRobin",
    "weightRoundRobin",
    "consistentHash",
    "weightConsistentHash",
    "localPref",
    "auto",
    "leastActive",
    "adaptive",
];

fn providers(n: u16) -> Vec<Arc<ProviderInfo>> {
    (0..n)
        .map(|i| {
            let host = format!("10.0.{}.{}", i / 200, i % 200 + 1);
            Arc::new(ProviderInfo::sofa_provider(
                host,
                12200,
                "com.example.EchoService",
            ))
        })
        .collect()
}

fn bench_select<M: Measurement>(c: &mut Criterion<M>, prefix: &str) {
    let loader = ExtensionLoader::default();
    let args = DynArgs::new().arg("java.lang.String", "user-4711");
    let invocation = Invocation::new(
        ServiceId::parse("com.example.EchoService:1.0"),
        "echo",
        Arc::new(args),
    );
    let mut group = c.benchmark_group(format!("{prefix}/select"));
    for n in [10u16, 100] {
        let list = providers(n);
        for name in BALANCERS {
            let lb = loader.load_balancer(name).unwrap();
            for p in &list {
                lb.on_attempt_start(p);
                lb.on_attempt_end(p, Duration::from_millis(1), true);
            }
            // The first call derives the list's state (a ring takes milliseconds); the
            // bench measures the calls after it.
            lb.select(&invocation, &list).unwrap();
            group.bench_with_input(BenchmarkId::new(name, n), &list, |b, list| {
                b.iter(|| black_box(lb.select(black_box(&invocation), black_box(list))))
            });
        }
    }
    group.finish();
}

/// The consistent-hash balancers with a different key on every call (4,096 keys in turn, far
/// more than a thread remembers): the MD5 of the key is paid on every call.
fn bench_distinct_keys<M: Measurement>(c: &mut Criterion<M>, prefix: &str) {
    let loader = ExtensionLoader::default();
    let service = ServiceId::parse("com.example.EchoService:1.0");
    let invocations: Vec<Invocation> = (0..4096)
        .map(|i| {
            let args = DynArgs::new().arg("java.lang.String", format!("user-{i}"));
            Invocation::new(service.clone(), "echo", Arc::new(args))
        })
        .collect();
    let mut group = c.benchmark_group(format!("{prefix}/select-distinct-keys"));
    for n in [10u16, 100] {
        let list = providers(n);
        for name in ["consistentHash", "weightConsistentHash"] {
            let lb = loader.load_balancer(name).unwrap();
            lb.select(&invocations[0], &list).unwrap();
            let mut next = invocations.iter().cycle();
            group.bench_with_input(BenchmarkId::new(name, n), &list, |b, list| {
                b.iter(|| {
                    let invocation = next.next().unwrap();
                    black_box(lb.select(black_box(invocation), black_box(list)))
                })
            });
        }
    }
    group.finish();
}

fn configured<M: Measurement>(c: Criterion<M>) -> Criterion<M> {
    c.warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(2))
        .configure_from_args()
}

fn main() {
    if std::env::var_os("SOFA_BENCH_CPU_TIME").is_some() {
        let mut c = configured(Criterion::default().with_measurement(ThreadCpuTime));
        bench_select(&mut c, "loadbalance-cpu");
        bench_distinct_keys(&mut c, "loadbalance-cpu");
        c.final_summary();
    } else {
        let mut c = configured(Criterion::default());
        bench_select(&mut c, "loadbalance");
        bench_distinct_keys(&mut c, "loadbalance");
        c.final_summary();
    }
}
