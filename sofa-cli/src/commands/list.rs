//! `sofa list`: the services a registry holds and their providers.

use serde_json::{json, Value as Json};
use sofa_rpc_core::registry::{Listing, ProviderInfo};

use crate::cli::ListArgs;
use crate::error::Result;
use crate::listing::read;
use crate::output::print_json;
use crate::target::Target;

/// Prints the services (all, or one interface) with a line per provider.
pub(crate) async fn run(args: ListArgs, json: bool) -> Result<()> {
    let url = Target::parse_registry(&args.registry)?;
    let listing = read(&url, args.interface.as_deref()).await?;
    if json {
        print_json(&to_json(&url, &listing));
    } else if listing.is_empty() {
        println!("no providers in {url}");
    } else {
        print!("{}", render(&listing));
    }
    Ok(())
}

/// The providers of one interface as a table.
fn render(listing: &Listing) -> String {
    let mut out = String::new();
    for (interface, providers) in listing {
        out.push_str(&format!("{interface}\n"));
        out.push_str(&format!(
            "  {:<22} {:<8} {:<10} {:>6} {:<13} {:<10} {}\n",
            "ADDRESS", "VERSION", "UNIQUEID", "WEIGHT", "SERIALIZATION", "ZONE", "WARMUP"
        ));
        for p in providers {
            out.push_str(&format!(
                "  {:<22} {:<8} {:<10} {:>6} {:<13} {:<10} {}\n",
                p.address(),
                p.version().unwrap_or("1.0"),
                or_dash(p.unique_id()),
                p.weight(),
                or_dash(p.serialization()),
                or_dash(p.param("zone")),
                warmup(p).unwrap_or_else(|| "-".into()),
            ));
        }
    }
    out
}

fn or_dash(value: Option<&str>) -> &str {
    value.filter(|v| !v.is_empty()).unwrap_or("-")
}

/// `weight W for T ms`, when the provider publishes a warm-up window.
fn warmup(p: &ProviderInfo) -> Option<String> {
    let time = p.param("warmupTime")?;
    let weight = p.param("warmupWeight").unwrap_or("?");
    Some(format!("weight {weight} for {time} ms"))
}

fn to_json(url: &str, listing: &Listing) -> Json {
    let services: Vec<Json> = listing
        .iter()
        .map(|(interface, providers)| {
            let providers: Vec<Json> = providers
                .iter()
                .map(|p| {
                    json!({
                        "address": p.address(),
                        "protocol": p.protocol(),
                        "version": p.version().unwrap_or("1.0"),
                        "uniqueId": p.unique_id().unwrap_or(""),
                        "weight": p.weight(),
                        "zone": p.param("zone"),
                        "serialization": p.serialization(),
                        "warmupTime": p.param("warmupTime"),
                        "warmupWeight": p.param("warmupWeight"),
                        "appName": p.app_name(),
                        "url": p.to_string(),
                    })
                })
                .collect();
            json!({ "interface": interface, "providers": providers })
        })
        .collect();
    json!({ "registry": url, "services": services })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn listing() -> Listing {
        let p = ProviderInfo::bolt("10.0.0.1", 12200)
            .with_param("version", "1.0")
            .with_param("uniqueId", "")
            .with_param("weight", "50")
            .with_param("serialization", "hessian2")
            .with_param("zone", "gz")
            .with_param("warmupTime", "60000")
            .with_param("warmupWeight", "5");
        Listing::from([("a.B".to_string(), vec![p])])
    }

    #[test]
    fn providers_print_as_a_table() {
        let text = render(&listing());
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines[0], "a.B");
        assert!(lines[1].contains("ADDRESS"));
        let row: Vec<&str> = lines[2].split_whitespace().collect();
        assert_eq!(
            row,
            [
                "10.0.0.1:12200",
                "1.0",
                "-",
                "50",
                "hessian2",
                "gz",
                "weight",
                "5",
                "for",
                "60000",
                "ms"
            ]
        );
    }

    #[test]
    fn json_names_every_field() {
        let doc = to_json("local:///x", &listing());
        let p = &doc["services"][0]["providers"][0];
        assert_eq!(p["zone"], "gz");
        assert_eq!(p["weight"], 50);
        assert_eq!(p["warmupWeight"], "5");
    }
}
