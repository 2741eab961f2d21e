//! `sofa rules`: rule documents checked as a consumer following them would check them.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs)]

mod common;

use common::{assert_usage_error, sofa};

const GUARD: &str = r#"
[[rate_limit]]
id = "echo-100"
service = "com.example.EchoService"
method = "echo"
token_bucket = { rate = 100.0, burst = 10 }

[[circuit_breaker]]
id = "echo-breaker"
service = "com.example.EchoService"
scope = "provider"

[[degrade]]
id = "echo-fallback"
service = "com.example.EchoService"
method = "echo"
action = "fixed"
value = "busy, try later"
"#;

const ZONES: &str = r#"{
  "zones": [{"name": "RZ01", "kind": "rzone"}, {"name": "RZ02", "kind": "rzone"},
            {"name": "GZ00", "kind": "gzone"}],
  "services": [{"service": "com.bank.Account", "kind": "rzone", "rule": "uid"},
               {"service": "com.bank.Rates", "kind": "gzone"}],
  "rules": [{"name": "uid", "key": {"arg": {"index": 0}}, "shard": {"modulo": 100},
             "levels": [{"name": "all", "shards": [{"shards": "00-49", "zone": "RZ01"},
                                                   {"shards": "50-99", "zone": "RZ02"}]}]}]
}"#;

/// A file in a directory of this test's own.
fn file(name: &str, text: &str) -> String {
    let dir = std::env::temp_dir().join(format!("sofa-cli-rules-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join(name);
    std::fs::write(&path, text).unwrap();
    path.display().to_string()
}

#[test]
fn a_valid_guard_document_is_summarized() {
    let path = file("guard.toml", GUARD);
    let run = sofa(&["rules", &path]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(run.stdout.contains("valid guard rules"), "{}", run.stdout);
    assert!(
        run.stdout.contains("rate_limit: 1 (echo-100)"),
        "{}",
        run.stdout
    );
    assert!(run.stdout.contains("fault: 0"), "{}", run.stdout);

    // The same through a file:// configuration URL, as `follow` takes it.
    let run = sofa(&["--json", "rules", &format!("file://{path}")]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let doc = run.json();
    assert_eq!(doc["valid"], true);
    assert_eq!(doc["rules"]["kind"], "guard");
    assert_eq!(doc["rules"]["circuit_breaker"][0], "echo-breaker");
    assert_eq!(doc["rules"]["degrade"][0], "echo-fallback");
}

#[test]
fn a_zone_document_is_told_by_its_zones() {
    let path = file("zones.json", ZONES);
    let run = sofa(&["--json", "rules", &path]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let doc = run.json();
    assert_eq!(doc["rules"]["kind"], "zone");
    assert_eq!(doc["rules"]["zones"][2], "GZ00 (gzone)");
    assert_eq!(doc["rules"]["services"][0], "com.bank.Account (rzone)");
    assert_eq!(doc["rules"]["rules"], 1);

    // Forced to the other kind, the same document is refused.
    let run = sofa(&["rules", &path, "--kind", "guard"]);
    assert_eq!(run.code, 1, "{}", run.stdout);
}

#[test]
fn a_wrong_rule_is_named_with_its_field() {
    let bad = GUARD.replace("burst = 10", "burst = 0");
    let run = sofa(&["rules", &file("bad-guard.toml", &bad)]);
    assert_eq!(run.code, 1, "{}", run.stdout);
    assert_eq!(run.stderr.lines().count(), 1, "{}", run.stderr);
    assert!(
        run.stderr
            .contains(r#"rate_limit[0] "echo-100", field token_bucket.burst"#),
        "{}",
        run.stderr
    );

    let bad = ZONES.replace(r#""zone": "RZ02""#, r#""zone": "RZ09""#);
    let run = sofa(&["rules", &file("bad-zones.json", &bad)]);
    assert_eq!(run.code, 1, "{}", run.stdout);
    assert!(run.stderr.contains("RZ09"), "{}", run.stderr);
    assert!(run.stdout.is_empty(), "{}", run.stdout);
}

#[test]
fn missing_documents_and_unreachable_centers_are_usage_errors() {
    let run = sofa(&["rules", "/nonexistent/guard.toml"]);
    assert_usage_error(&run, "cannot read /nonexistent/guard.toml");

    let dead = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap();
    let url = format!("etcd://{dead}/sofa/guard.toml");
    let run = sofa(&["rules", &url, "--timeout", "3000"]);
    assert_eq!(run.code, 2, "{}", run.stdout);
    assert!(run.stderr.contains(&url), "{}", run.stderr);
}
