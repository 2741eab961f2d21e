//! Unit (LDC zone) routing with three zones in one process: two RZones owning halves of the
//! users and a GZone, each provider answering with its zone, published in a `local` registry
//! file. Calls land in the zone owning their user; a disaster switch moves half the shards to
//! their backup zone while the client keeps calling.
//!
//! `cargo run -p sofa-rpc-examples --bin zones`

use std::time::Duration;

use sofa_rpc_core::router::zone::{ZoneRouter, ZoneRules, ZoneRulesHandle};
use sofa_rpc_core::{Client, ConsumerConfig, ExtensionLoader, ProviderConfig, Server};

/// Accounts: every zone has a provider of its own.
#[sofa_rpc_core::service(interface = "com.example.zones.Account")]
pub trait Account {
    /// The zone of the provider that answered.
    async fn balance(&self, user_id: String) -> String;
}

struct InZone(&'static str);

impl Account for InZone {
    async fn balance(&self, user_id: String) -> String {
        format!("{user_id} served in {}", self.0)
    }
}

/// Users are sharded by the 2nd and 3rd last digits of their id (LDC's usual slice).
const RULES: &str = r#"
[[zones]]
name = "RZ00"
kind = "rzone"
city = "sh"

[[zones]]
name = "RZ01"
kind = "rzone"
city = "hz"

[[zones]]
name = "GZ00"
kind = "gzone"
city = "sh"

[[services]]
service = "com.example.zones.Account"
kind = "rzone"
rule = "user"

[[rules]]
name = "user"
key = { arg = { index = 0 } }
shard = { digits = { from_end = 3, len = 2 } }
on_missing = "error"
on_unmatched = "error"

[[rules.levels]]
shards = [
  { shards = "00-49", zone = "RZ00", backup = "RZ01" },
  { shards = "50-99", zone = "RZ01", backup = "RZ00" },
]
"#;

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let file = std::env::temp_dir().join(format!("sofa-zones-example-{}", std::process::id()));
    let registry = format!("local://{}?scanPeriod=100", file.display());

    let mut servers = Vec::new();
    for zone in ["RZ00", "RZ01", "GZ00"] {
        let server = Server::builder()
            .bind("127.0.0.1:0")
            .registry(&registry)
            .provider(ProviderConfig::new(AccountServer::new(InZone(zone))).zone(zone))
            .start()
            .await?;
        println!("{zone}: provider on {}", server.local_addr());
        servers.push(server);
    }

    // The caller runs in RZ00; the same handle is where a rule centre would push new rules.
    let rules = ZoneRulesHandle::new(ZoneRules::from_toml(RULES)?);
    let router = ZoneRouter::new(rules.clone())
        .local_zone("RZ00")
        .strict(true);
    let mut loader = ExtensionLoader::default();
    loader.register_router("zone", move || router.clone());
    let config = ConsumerConfig::new()
        .registry(&registry)
        .routers(["registry", "zone"]);
    let account = AccountClient::new(Client::with_extensions(config, &loader)?);

    // Wait until the registry lists both RZones.
    for user in ["2088000000101", "2088000000901"] {
        for _ in 0..100 {
            if account.balance(user.into()).await.is_ok() {
                break;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    let users = [
        "2088000000101",
        "2088000000421",
        "2088000000551",
        "2088000000981",
    ];
    for user in users {
        println!("{}", account.balance(user.into()).await?);
    }

    println!("-- disaster switch: shards 00-49 move to their backup zone --");
    let mut spec = rules.current().spec().clone();
    spec.rules[0].levels[0].shards[0].switched = true;
    rules.replace(spec)?;
    for user in users {
        println!("{}", account.balance(user.into()).await?);
    }

    // A key with no shard: this rule makes that an error.
    match account.balance("7".into()).await {
        Ok(reply) => println!("unexpected: {reply}"),
        Err(e) => println!("user 7: {e}"),
    }

    for server in servers {
        server.shutdown().await;
    }
    let _ = std::fs::remove_file(&file);
    Ok(())
}
