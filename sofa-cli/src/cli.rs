//! The command line's grammar (clap derive).

use clap::{Args, Parser, Subcommand, ValueEnum};

use crate::tls::TlsArgs;

/// grpcurl for SOFABolt: call, list, describe, ping and load SOFARPC services; check rule documents.
#[derive(Debug, Parser)]
#[command(name = "sofa", version, about, long_about = None)]
pub(crate) struct Cli {
    /// Print JSON (one document on stdout) instead of text.
    #[arg(long, global = true)]
    pub(crate) json: bool,

    /// What to do.
    #[command(subcommand)]
    pub(crate) command: Command,
}

/// The subcommands.
#[derive(Debug, Subcommand)]
pub(crate) enum Command {
    /// Call a method by name with JSON arguments (a generic call).
    Call(CallArgs),
    /// List the services and providers a registry holds.
    List(ListArgs),
    /// Show a service's methods and Java signatures (from its provider's metadata service).
    Describe(DescribeArgs),
    /// Send Bolt heartbeats and report the round trips.
    Ping(PingArgs),
    /// Load a method with concurrent calls and report latencies.
    Bench(BenchArgs),
    /// Check a traffic guard or zone rule document (a file, or a configuration center's key)
    /// and show what it holds.
    Rules(RulesArgs),
}

/// The serializations a generic call can use.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum Serialization {
    /// Hessian 2, SOFARPC's default (what Java and Node peers read).
    Hessian2,
    /// Hessian 2 in the final 4.x dialect.
    Hessian4,
    /// JSON.
    Json,
    /// MessagePack.
    Msgpack,
    /// Protobuf: refused with a reason, as its messages need generated types a generic call
    /// does not have.
    Protobuf,
}

impl Serialization {
    /// The serializer's registered name.
    pub(crate) fn name(self) -> &'static str {
        match self {
            Serialization::Hessian2 => "hessian2",
            Serialization::Hessian4 => "hessian4",
            Serialization::Json => "json",
            Serialization::Msgpack => "msgpack",
            Serialization::Protobuf => "protobuf",
        }
    }
}

/// Settings shared by the commands that call methods.
#[derive(Debug, Clone, Args)]
pub(crate) struct CallOptions {
    /// Java parameter types, comma-separated (default: from the provider's metadata service,
    /// else inferred from the JSON values).
    #[arg(long, value_name = "TYPES")]
    pub(crate) types: Option<String>,

    /// The serialization to call with.
    #[arg(long, value_enum, default_value_t = Serialization::Hessian2)]
    pub(crate) serialization: Serialization,

    /// Call timeout in milliseconds.
    #[arg(long, value_name = "MS", default_value_t = 3000)]
    pub(crate) timeout: u64,

    /// Baggage to send, `key=value`; may be repeated.
    #[arg(long = "baggage", value_name = "K=V")]
    pub(crate) baggage: Vec<String>,

    /// The application name the calls are made as.
    #[arg(long = "app", value_name = "NAME", default_value = "sofa-cli")]
    pub(crate) app: String,

    /// TLS settings.
    #[command(flatten)]
    pub(crate) tls: TlsArgs,
}

/// `sofa call`.
#[derive(Debug, Args)]
pub(crate) struct CallArgs {
    /// `bolt://host:port`, `host:port`, or a registry URL (`zookeeper://`, `etcd://`,
    /// `nacos://`, `local://`).
    pub(crate) target: String,
    /// `interface[:version[:uniqueId]]` (version `1.0` when not given).
    pub(crate) service: String,
    /// The method name.
    pub(crate) method: String,
    /// The arguments as a JSON array, e.g. '["hi", 42]'.
    pub(crate) args_json: Option<String>,
    /// Call settings.
    #[command(flatten)]
    pub(crate) options: CallOptions,
}

/// `sofa list`.
#[derive(Debug, Args)]
pub(crate) struct ListArgs {
    /// The registry URL (`zookeeper://`, `etcd://`, `nacos://`, `local://`).
    pub(crate) registry: String,
    /// Only this interface.
    pub(crate) interface: Option<String>,
}

/// `sofa describe`.
#[derive(Debug, Args)]
pub(crate) struct DescribeArgs {
    /// `bolt://host:port`, `host:port`, or a registry URL.
    pub(crate) target: String,
    /// `interface[:version[:uniqueId]]`; with only an interface, the provider's single
    /// export of it.
    pub(crate) service: String,
    /// The serialization to ask in.
    #[arg(long, value_enum, default_value_t = Serialization::Hessian2)]
    pub(crate) serialization: Serialization,
    /// Timeout in milliseconds.
    #[arg(long, value_name = "MS", default_value_t = 3000)]
    pub(crate) timeout: u64,
    /// TLS settings.
    #[command(flatten)]
    pub(crate) tls: TlsArgs,
}

/// `sofa ping`.
#[derive(Debug, Args)]
pub(crate) struct PingArgs {
    /// `bolt://host:port` or `host:port`.
    pub(crate) target: String,
    /// How many heartbeats.
    #[arg(long, short = 'c', default_value_t = 4, value_parser = clap::value_parser!(u32).range(1..=100_000))]
    pub(crate) count: u32,
    /// Timeout of each heartbeat (and the connect) in milliseconds.
    #[arg(long, value_name = "MS", default_value_t = 3000)]
    pub(crate) timeout: u64,
    /// TLS settings.
    #[command(flatten)]
    pub(crate) tls: TlsArgs,
}

/// `sofa rules`.
#[derive(Debug, Args)]
pub(crate) struct RulesArgs {
    /// A file, or a configuration URL (`file://`, `zookeeper://`, `etcd://`, `nacos://`)
    /// naming the key, as a consumer's `follow` takes it.
    pub(crate) source: String,
    /// What the document is; by default, zone rules when it has a top-level `zones`.
    #[arg(long, value_enum, default_value_t = RulesKind::Auto)]
    pub(crate) kind: RulesKind,
    /// How long to wait for a configuration center's answer, in milliseconds.
    #[arg(long, value_name = "MS", default_value_t = 5000)]
    pub(crate) timeout: u64,
}

/// The kinds of rule documents `sofa rules` checks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum RulesKind {
    /// Zone rules if the document has a top-level `zones`, else guard rules.
    Auto,
    /// Traffic guard rules (`rate_limit`, `circuit_breaker`, `degrade`, `fault`).
    Guard,
    /// Zone routing rules (`zones`, `services`, `rules`).
    Zone,
}

/// `sofa bench`.
#[derive(Debug, Args)]
pub(crate) struct BenchArgs {
    /// `bolt://host:port`, `host:port`, or a registry URL.
    pub(crate) target: String,
    /// `interface[:version[:uniqueId]]`.
    pub(crate) service: String,
    /// The method name.
    pub(crate) method: String,
    /// The arguments as a JSON array.
    pub(crate) args_json: Option<String>,
    /// Calls in flight at once.
    #[arg(long, default_value_t = 8, value_parser = clap::value_parser!(u32).range(1..=10_000))]
    pub(crate) concurrency: u32,
    /// How long to run, in seconds.
    #[arg(long, value_name = "SECS", default_value_t = 10, value_parser = clap::value_parser!(u64).range(1..=86_400))]
    pub(crate) duration: u64,
    /// Call settings.
    #[command(flatten)]
    pub(crate) options: CallOptions,
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn the_grammar_is_consistent() {
        Cli::command().debug_assert();
    }

    #[test]
    fn flags_parse() {
        let cli = Cli::try_parse_from([
            "sofa",
            "call",
            "h:1",
            "a.B",
            "m",
            "[1]",
            "--types",
            "long",
            "--baggage",
            "k=v",
            "--json",
        ])
        .unwrap();
        assert!(cli.json);
        let Command::Call(call) = cli.command else {
            panic!("not a call")
        };
        assert_eq!(call.options.types.as_deref(), Some("long"));
        assert_eq!(call.options.baggage, ["k=v"]);
        assert_eq!(call.options.serialization, Serialization::Hessian2);
    }
}
