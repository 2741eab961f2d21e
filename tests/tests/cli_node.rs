//! The `sofa` command line against a real sofa-rpc-node provider: generic calls with
//! strings, longs, maps and lists, exceptions, heartbeats, and what `describe` says of a
//! provider without the metadata service.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use serde_json::json;
use sofa_rpc_tests::{run_sofa, PeerServer, SofaRun};

const ECHO: &str = "com.example.EchoService:1.0";

fn sofa(args: &[&str]) -> SofaRun {
    let run = run_sofa(args).unwrap();
    // Printed only when the test fails: which command did what.
    eprintln!("sofa {args:?} exited {}", run.code);
    run
}

fn ok_json(run: &SofaRun) -> serde_json::Value {
    assert_eq!(
        run.code, 0,
        "stdout: {}\nstderr: {}",
        run.stdout, run.stderr
    );
    serde_json::from_str(&run.stdout).unwrap()
}

#[test]
fn generic_calls_to_a_node_provider() {
    let node = PeerServer::start("node-server.sh", &[]).unwrap();
    let target = format!("bolt://{}", node.addr());
    let t = target.as_str();

    assert_eq!(
        ok_json(&sofa(&["call", t, ECHO, "echo", r#"["héllo 🌍"]"#])),
        json!("héllo 🌍")
    );

    // No metadata service on a Node provider: types are inferred (int, int).
    let run = sofa(&["call", t, ECHO, "add", "[40, 2]", "--json"]);
    let doc = ok_json(&run);
    assert_eq!(doc["result"], 42);
    assert_eq!(doc["types"], json!(["int", "int"]));

    for n in ["9007199254740991", "-5", "42"] {
        let run = sofa(&[
            "call",
            t,
            ECHO,
            "echoLong",
            &format!("[{n}]"),
            "--types",
            "long",
        ]);
        assert_eq!(ok_json(&run).to_string(), n);
    }

    let map = json!({"k": "v", "n": 2, "nested": {"list": [1, "two"]}});
    let run = sofa(&["call", t, ECHO, "echoMap", &json!([map]).to_string()]);
    assert_eq!(ok_json(&run), map);

    let list = json!(["a", 1, true, 2.5]);
    let run = sofa(&["call", t, ECHO, "echoList", &json!([list]).to_string()]);
    assert_eq!(ok_json(&run), list);

    let user = json!({"@class": "com.example.User", "name": "ann", "age": 42});
    let run = sofa(&["call", t, ECHO, "echoUser", &json!([user]).to_string()]);
    assert_eq!(ok_json(&run), user);

    // A returned exception object is an application exception: class and message, exit 1.
    let run = sofa(&["call", t, ECHO, "failReturn", r#"["y"]"#]);
    assert_eq!(run.code, 1, "{}", run.stdout);
    assert_eq!(run.stderr.lines().count(), 1, "{}", run.stderr);
    assert!(
        run.stderr
            .starts_with("sofa: exception java.lang.Exception: ")
            && run.stderr.contains("app error: y"),
        "{}",
        run.stderr
    );
    let run = sofa(&["call", t, ECHO, "failReturn", r#"["z"]"#, "--json"]);
    assert_eq!(run.code, 1);
    let doc: serde_json::Value = serde_json::from_str(&run.stdout).unwrap();
    assert_eq!(doc["exception"]["class"], "java.lang.Exception");

    // A thrown error is a provider failure (SERVER_EXCEPTION): one line, exit 1.
    let run = sofa(&["call", t, ECHO, "fail", r#"["x"]"#]);
    assert_eq!(run.code, 1, "{}", run.stdout);
    assert_eq!(run.stderr.lines().count(), 1, "{}", run.stderr);
    assert!(run.stderr.contains("boom: x"), "{}", run.stderr);

    // A provider speaking the Hessian 4 dialect.
    let node4 = PeerServer::start("node-server.sh", &[("HESSIAN_VERSION", "4.0")]).unwrap();
    let t4 = format!("bolt://{}", node4.addr());
    let map4 = json!({"k": [1, 2]});
    let args4 = json!([map4]).to_string();
    let run = sofa(&[
        "call",
        &t4,
        ECHO,
        "echoMap",
        &args4,
        "--serialization",
        "hessian4",
    ]);
    assert_eq!(ok_json(&run), map4);

    let run = sofa(&["ping", t, "--count", "2"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(run.stdout.contains("2 sent, 2 answered"), "{}", run.stdout);

    let run = sofa(&["describe", t, ECHO]);
    assert_eq!(run.code, 1, "{}", run.stdout);
    assert!(
        run.stderr.contains("has no metadata service"),
        "{}",
        run.stderr
    );
}
