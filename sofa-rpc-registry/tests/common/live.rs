//! One scenario for every configuration backend: initial value, changes with their
//! change-to-apply latency, a malformed value, a deleted key, and the disk copy.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use sofa_rpc_registry::config::{
    ConfigTarget, LiveOptions, LiveRules, LiveStatus, LiveValue, OnAbsent, Origin,
};

/// Writes to the backend under test the way an operator would.
pub trait Writer {
    /// Sets the key to `raw`.
    async fn put(&self, raw: &str);
    /// Deletes the key.
    async fn delete(&self);
}

/// The rules of the scenario: a number; anything else is rejected with the parser's message.
pub fn parse_limit(raw: &[u8]) -> Result<u32, String> {
    let text = std::str::from_utf8(raw).map_err(|e| e.to_string())?;
    text.trim()
        .parse::<u32>()
        .map_err(|e| format!("limit {text:?} is not a number: {e}"))
}

/// A fresh cache directory.
pub fn cache_dir(name: &str) -> PathBuf {
    static N: AtomicUsize = AtomicUsize::new(0);
    let dir = std::env::temp_dir().join(format!(
        "sofa-live-{name}-{}-{}",
        std::process::id(),
        N.fetch_add(1, Ordering::Relaxed)
    ));
    let _ = std::fs::remove_dir_all(&dir);
    dir
}

/// Upper bound asserted on one change-to-apply latency: far above the sub-second figures
/// printed, so that a loaded 2-core machine still passes.
pub const LATENCY_BOUND: Duration = Duration::from_secs(3);

async fn settled(
    rules: &LiveRules,
    what: &str,
    done: impl FnMut(&LiveStatus) -> bool,
) -> LiveStatus {
    match rules.wait(done, Duration::from_secs(15)).await {
        Some(status) => status,
        None => panic!("{what}: not reached; status {:?}", rules.status()),
    }
}

fn value(v: &LiveValue<u32>) -> Option<u32> {
    v.get().map(|v| *v)
}

/// Runs the scenario against `target`, written through `writer`; returns the cache directory
/// (holding the last good value, 3) for a disk-copy test to follow. Prints the latencies.
pub async fn scenario(backend: &str, target: ConfigTarget, writer: &impl Writer) -> PathBuf {
    let cache = cache_dir(backend);
    writer.put("1").await;
    let (rules, limit) = LiveRules::value(
        target.clone(),
        LiveOptions::new().cache_dir(&cache),
        parse_limit,
    )
    .await;
    let status = settled(&rules, "initial value", |s| s.applied == 1).await;
    assert_eq!(value(&limit), Some(1));
    assert_eq!(status.origin, Origin::Source);
    assert_eq!(status.source_up, Some(true));

    // Changes: each applies; the latency runs from just before the write to the apply.
    let mut latencies = Vec::new();
    for n in 10..15u32 {
        let before = rules.status().applied;
        let start = Instant::now();
        writer.put(&n.to_string()).await;
        let status = settled(&rules, "a change", |s| s.applied > before).await;
        let latency = status.applied_at.unwrap().duration_since(start);
        assert_eq!(value(&limit), Some(n));
        latencies.push(latency);
    }
    latencies.sort();
    println!(
        "{backend}: change-to-apply latency over {} changes: min {:?}, median {:?}, max {:?}",
        latencies.len(),
        latencies[0],
        latencies[latencies.len() / 2],
        latencies[latencies.len() - 1]
    );
    for latency in &latencies {
        assert!(
            *latency < LATENCY_BOUND,
            "{backend}: a change took {latency:?} to apply"
        );
    }

    // A malformed value is rejected whole; the last good one stays and the error names it.
    writer.put("twelve").await;
    let status = settled(&rules, "a rejection", |s| s.rejected == 1).await;
    assert_eq!(value(&limit), Some(14));
    let error = status.last_error.unwrap();
    assert!(error.contains("is not a number"), "{error}");
    assert!(
        error.contains(&target.key),
        "the error names the key: {error}"
    );

    writer.put("3").await;
    settled(&rules, "a good value after a bad one", |s| {
        s.last_error.is_none()
    })
    .await;
    assert_eq!(value(&limit), Some(3));

    // Deleted: with KeepLast (the default) the value stays ...
    writer.delete().await;
    settled(&rules, "the absent key", |s| s.absent_seen >= 1).await;
    assert_eq!(value(&limit), Some(3));
    assert_eq!(rules.status().origin, Origin::Source);
    // ... and with `OnAbsent::Use` the absent key means the given document.
    let (absent_rules, absent_limit) = LiveRules::value(
        target.clone(),
        LiveOptions::new()
            .cache_dir(cache_dir(backend))
            .on_absent(OnAbsent::Use(b"0".to_vec())),
        parse_limit,
    )
    .await;
    let status = settled(&absent_rules, "the absent default", |s| s.applied == 1).await;
    assert_eq!(status.origin, Origin::AbsentDefault);
    assert_eq!(value(&absent_limit), Some(0));
    drop(absent_rules);
    drop(rules);
    cache
}

/// With the source unreachable (or the key absent) at start, the disk copy in `cache` (3)
/// is applied within the startup wait.
pub async fn disk_copy_used(target: ConfigTarget, cache: &Path, expect_outage: bool) {
    let started = Instant::now();
    let (rules, limit) = LiveRules::value(
        target,
        LiveOptions::new()
            .cache_dir(cache)
            .startup_wait(Duration::from_secs(2)),
        parse_limit,
    )
    .await;
    let status = settled(&rules, "the disk copy", |s| s.applied == 1).await;
    println!("disk copy in force {:?} after start", started.elapsed());
    assert_eq!(status.origin, Origin::DiskCopy);
    assert_eq!(value(&limit), Some(3));
    if expect_outage {
        let status = settled(&rules, "the outage noticed", |s| s.source_up == Some(false)).await;
        assert!(status.last_error.is_some());
    }
}
