//! `sofa`: call, list, describe, ping and bench SOFARPC services over SOFABolt, and check rule documents.
//!
//! Exit codes: 0 success; 1 the method threw (class and message printed) or the call failed
//! at run time; 2 a mistake in the input (bad flags, malformed JSON, types that do not fit
//! the arguments, an unknown scheme) or a target that cannot be reached.

mod args;
mod cli;
mod commands;
mod connect;
mod error;
mod listing;
mod metadata;
mod output;
mod prepare;
mod service;
mod target;
mod tls;
mod to_java;
mod to_json;

use std::process::ExitCode;

use clap::Parser;

use crate::error::Failure;

fn main() -> ExitCode {
    let cli = cli::Cli::parse();
    let json = cli.json;
    let outcome = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime.block_on(commands::run(cli)),
        Err(e) => Err(Failure::Runtime(format!("cannot start the runtime: {e}"))),
    };
    match outcome {
        Ok(()) => ExitCode::SUCCESS,
        Err(failure) => {
            report(&failure, json);
            ExitCode::from(failure.exit_code())
        }
    }
}

/// One line on stderr; with `--json`, also a JSON document on stdout for scripts.
fn report(failure: &Failure, json: bool) {
    eprintln!("sofa: {failure}");
    if json {
        let doc = match failure {
            Failure::Exception { class, message } => serde_json::json!({
                "exception": { "class": class, "message": message }
            }),
            Failure::Usage(message) => {
                serde_json::json!({ "error": { "kind": "usage", "message": message } })
            }
            Failure::Runtime(message) => {
                serde_json::json!({ "error": { "kind": "runtime", "message": message } })
            }
        };
        output::print_json(&doc);
    }
}
