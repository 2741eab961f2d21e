//! One module per subcommand; each `run` prints its outcome and returns a [`Failure`] for
//! main to report.
//!
//! [`Failure`]: crate::error::Failure

pub(crate) mod bench;
pub(crate) mod call;
pub(crate) mod describe;
pub(crate) mod list;
pub(crate) mod ping;
pub(crate) mod rules;

use crate::cli::{Cli, Command};
use crate::error::Result;

/// Runs the command `cli` names.
pub(crate) async fn run(cli: Cli) -> Result<()> {
    match cli.command {
        Command::Call(args) => call::run(args, cli.json).await,
        Command::List(args) => list::run(args, cli.json).await,
        Command::Describe(args) => describe::run(args, cli.json).await,
        Command::Ping(args) => ping::run(args, cli.json).await,
        Command::Bench(args) => bench::run(args, cli.json).await,
        Command::Rules(args) => rules::run(args, cli.json).await,
    }
}
