//! User mistakes: one line on stderr naming what and where, exit code 2, no panic.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs)]

mod common;

use common::{assert_usage_error, provider, sofa};

const SERVICE: &str = "com.example.cli.DemoService";

fn target() -> String {
    format!("bolt://{}", provider().addr)
}

#[test]
fn malformed_json_is_located() {
    let run = sofa(&["call", &target(), SERVICE, "echo", r#"["hi""#]);
    assert_usage_error(&run, "ARGS_JSON is not valid JSON");
    assert!(run.stderr.contains("line 1 column"), "{}", run.stderr);

    let run = sofa(&["call", &target(), SERVICE, "echo", r#"{"a": 1}"#]);
    assert_usage_error(&run, "ARGS_JSON must be a JSON array");
}

#[test]
fn types_must_fit_the_arguments() {
    let run = sofa(&[
        "call",
        &target(),
        SERVICE,
        "add",
        "[1, 2]",
        "--types",
        "long",
    ]);
    assert_usage_error(
        &run,
        "--types names 1 type(s) but ARGS_JSON has 2 argument(s)",
    );

    let run = sofa(&[
        "call",
        &target(),
        SERVICE,
        "add",
        r#"[1, "two"]"#,
        "--types",
        "long,long",
    ]);
    assert_usage_error(&run, "argument 2 (long): expected an integer");
}

#[test]
fn unknown_schemes_and_unreachable_targets() {
    let run = sofa(&["call", "redis://127.0.0.1:6379", SERVICE, "echo", "[]"]);
    assert_usage_error(&run, "unknown scheme \"redis\"");

    let run = sofa(&["list", "bolt://127.0.0.1:1"]);
    assert_usage_error(&run, "is not a registry URL");

    // Bind then drop: a port nothing listens on.
    let dead = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap();
    let run = sofa(&[
        "call",
        &format!("bolt://{dead}"),
        SERVICE,
        "echo",
        r#"["x"]"#,
        "--timeout",
        "2000",
    ]);
    assert_usage_error(&run, "cannot reach");
    let run = sofa(&["ping", &dead.to_string(), "--timeout", "2000"]);
    assert_usage_error(&run, "cannot reach");
}

#[test]
fn protobuf_cannot_carry_generic_calls() {
    let run = sofa(&[
        "call",
        &target(),
        SERVICE,
        "echo",
        r#"["x"]"#,
        "--serialization",
        "protobuf",
    ]);
    assert_usage_error(
        &run,
        "--serialization protobuf: protobuf messages need their generated types",
    );
}

#[test]
fn bad_flags_are_clap_usage_errors() {
    let run = sofa(&["call", &target(), SERVICE, "echo", "--serialization", "xml"]);
    assert_eq!(run.code, 2);
    assert!(run.stderr.contains("invalid value 'xml'"), "{}", run.stderr);
}
