//! The `sofa` binary against a sofa-rpc-rs provider: describe, call, exceptions, ping, bench.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs)]

mod common;

use common::{provider, sofa};
use serde_json::json;

fn target() -> String {
    format!("bolt://{}", provider().addr)
}

const SERVICE: &str = "com.example.cli.DemoService";

#[test]
fn describe_shows_java_signatures() {
    let run = sofa(&["describe", &target(), SERVICE]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(run
        .stdout
        .starts_with("service com.example.cli.DemoService (version 1.0"));
    for line in [
        "  java.lang.String echo(java.lang.String)",
        "  long add(long, long)",
        "  java.util.List keys(java.util.Map)",
        "  long sum(java.util.List)",
        "  java.lang.String fail(java.lang.String)",
    ] {
        assert!(
            run.stdout.contains(line),
            "{line} missing in:\n{}",
            run.stdout
        );
    }

    let run = sofa(&[
        "describe",
        &target(),
        "com.example.cli.DemoService:1.0",
        "--json",
        "--serialization",
        "json",
    ]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let doc = run.json();
    assert_eq!(doc["uniqueName"], "com.example.cli.DemoService:1.0");
    let add = doc["methods"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["name"] == "add")
        .unwrap();
    assert_eq!(add["parameterTypes"], json!(["long", "long"]));
}

#[test]
fn calls_with_strings_longs_maps_and_lists() {
    let t = target();
    let run = sofa(&["call", &t, SERVICE, "echo", r#"["hi there"]"#]);
    assert_eq!(
        (run.code, run.stdout.trim()),
        (0, "\"hi there\""),
        "{}",
        run.stderr
    );

    // Types from the metadata service: the small integers go as longs.
    let run = sofa(&["call", &t, SERVICE, "add", "[40, 2]", "--json"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let doc = run.json();
    assert_eq!(doc["result"], 42);
    assert_eq!(doc["types"], json!(["long", "long"]));

    let run = sofa(&[
        "call",
        &t,
        SERVICE,
        "add",
        "[4000000000, 1]",
        "--types",
        "long,long",
    ]);
    assert_eq!(
        (run.code, run.stdout.trim()),
        (0, "4000000001"),
        "{}",
        run.stderr
    );

    let run = sofa(&["call", &t, SERVICE, "keys", r#"[{"b": 2, "a": 1}]"#]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(
        serde_json::from_str::<serde_json::Value>(&run.stdout).unwrap(),
        json!(["a", "b"])
    );

    let run = sofa(&[
        "call",
        &t,
        SERVICE,
        "sum",
        "[[1, 2, 3]]",
        "--serialization",
        "json",
    ]);
    assert_eq!((run.code, run.stdout.trim()), (0, "6"), "{}", run.stderr);

    for serialization in ["msgpack", "hessian4"] {
        let run = sofa(&[
            "call",
            &t,
            SERVICE,
            "keys",
            r#"[{"k": 1}]"#,
            "--serialization",
            serialization,
        ]);
        assert_eq!(run.code, 0, "{serialization}: {}", run.stderr);
        assert_eq!(
            serde_json::from_str::<serde_json::Value>(&run.stdout).unwrap(),
            json!(["k"])
        );
    }

    // A struct comes back as an object that keeps its class.
    let run = sofa(&[
        "call",
        &t,
        SERVICE,
        "user",
        r#"["bob", 7]"#,
        "--types",
        "java.lang.String,int",
    ]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(
        serde_json::from_str::<serde_json::Value>(&run.stdout).unwrap(),
        json!({"@class": "com.example.cli.User", "name": "bob", "age": 7})
    );

    let run = sofa(&[
        "call",
        &t,
        SERVICE,
        "baggage",
        r#"["tenant"]"#,
        "--baggage",
        "tenant=blue",
    ]);
    assert_eq!(
        (run.code, run.stdout.trim()),
        (0, "\"blue\""),
        "{}",
        run.stderr
    );
}

#[test]
fn application_exceptions_print_class_and_message() {
    let run = sofa(&["call", &target(), SERVICE, "fail", r#"["out of stock"]"#]);
    assert_eq!(run.code, 1, "{}", run.stdout);
    assert_eq!(
        run.stderr.trim(),
        "sofa: exception java.lang.IllegalStateException: out of stock"
    );

    let run = sofa(&["call", &target(), SERVICE, "fail", r#"["x"]"#, "--json"]);
    assert_eq!(run.code, 1);
    assert_eq!(
        run.json()["exception"]["class"],
        "java.lang.IllegalStateException"
    );
}

#[test]
fn ping_reports_round_trips() {
    let run = sofa(&["ping", &target(), "--count", "2"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(
        run.stdout
            .contains("2 sent, 2 answered, round trip min/avg/max = "),
        "{}",
        run.stdout
    );

    let run = sofa(&["ping", &provider().addr.to_string(), "-c", "1", "--json"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let doc = run.json();
    assert_eq!(doc["answered"], 1);
    assert!(doc["maxMs"].as_f64().unwrap() >= doc["minMs"].as_f64().unwrap());
}

#[test]
fn bench_reports_a_histogram() {
    let run = sofa(&[
        "bench",
        &target(),
        SERVICE,
        "echo",
        r#"["x"]"#,
        "--concurrency",
        "2",
        "--duration",
        "1",
        "--json",
    ]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let doc = run.json();
    assert!(doc["calls"].as_u64().unwrap() > 0, "{doc}");
    assert_eq!(doc["errors"], 0);
    assert!(
        doc["latencyMs"]["p999"].as_f64().unwrap() <= doc["latencyMs"]["max"].as_f64().unwrap()
    );

    let run = sofa(&[
        "bench",
        &target(),
        SERVICE,
        "echo",
        r#"["x"]"#,
        "--concurrency",
        "1",
        "--duration",
        "1",
    ]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(run.stdout.contains("latency (ms)  p50 "), "{}", run.stdout);
}
