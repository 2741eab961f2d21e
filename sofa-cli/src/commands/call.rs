//! `sofa call`: one generic call, the result as JSON.

use std::time::Instant;

use serde_json::json;

use crate::cli::CallArgs;
use crate::error::Result;
use crate::output::print_json;
use crate::prepare::Prepared;
use crate::to_json::to_json;

/// Calls the method and prints the result (pretty JSON; with `--json`, an envelope with the
/// Java types sent and the time taken).
pub(crate) async fn run(args: CallArgs, json: bool) -> Result<()> {
    let prepared = Prepared::new(
        &args.target,
        &args.service,
        &args.method,
        args.args_json.as_deref(),
        &args.options,
    )
    .await?;
    let generic = prepared.generic()?;
    let start = Instant::now();
    let result = to_json(&prepared.call(&generic).await?);
    let elapsed = start.elapsed();
    if json {
        print_json(&json!({
            "service": prepared.service.unique_name(),
            "method": prepared.method,
            "types": prepared.java_types(),
            "result": result,
            "elapsedMs": crate::output::ms(u64::try_from(elapsed.as_micros()).unwrap_or(u64::MAX)),
        }));
    } else {
        print_json(&result);
    }
    Ok(())
}
