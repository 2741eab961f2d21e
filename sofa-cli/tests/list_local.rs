//! `sofa list` against the local file registry a provider publishes in.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs)]

mod common;

use common::{sofa, start};

#[test]
fn lists_services_and_providers_from_a_local_file() {
    let file = std::env::temp_dir().join(format!("sofa-cli-list-{}.reg", std::process::id()));
    let _ = std::fs::remove_file(&file);
    let url = format!("local://{}", file.display());
    let provider = start(Some(&url));
    let addr = provider.addr.to_string();

    let run = sofa(&["list", &url]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let lines: Vec<&str> = run.stdout.lines().collect();
    assert_eq!(lines[0], "com.example.cli.DemoService", "{}", run.stdout);
    assert!(lines[1].contains("ADDRESS") && lines[1].contains("WARMUP"));
    assert!(lines[2].trim_start().starts_with(&addr), "{}", run.stdout);
    assert!(lines[2].contains("hessian2"), "{}", run.stdout);

    let run = sofa(&["list", &url, "com.example.cli.DemoService", "--json"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let doc = run.json();
    let p = &doc["services"][0]["providers"][0];
    assert_eq!(p["address"], addr.as_str());
    assert_eq!(p["weight"], 100);
    assert_eq!(p["version"], "1.0");

    // Describe and call through the registry too.
    let run = sofa(&["describe", &url, "com.example.cli.DemoService"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(run.stdout.contains("long add(long, long)"));
    let run = sofa(&["call", &url, "com.example.cli.DemoService", "add", "[1, 2]"]);
    assert_eq!((run.code, run.stdout.trim()), (0, "3"), "{}", run.stderr);

    let run = sofa(&["list", &url, "com.example.Nothing"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(run.stdout.starts_with("no providers in"));
    drop(provider);
    let _ = std::fs::remove_file(&file);
}
