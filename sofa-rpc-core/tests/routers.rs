//! The `tag`, `mesh` and `zone` (gateway) routers over real sockets: providers published in
//! the `local` registry with their tag or zone, plain servers of ours playing the sidecar and
//! the zone gateway and reporting the headers they see.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs)]

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use sofa_rpc_core::router::zone::{ZoneRouter, ZoneRules, ZoneRulesHandle};
use sofa_rpc_core::router::{MeshRouter, TagRouter, TagRules};
use sofa_rpc_core::{
    Client, ConsumerConfig, ErrorKind, ExtensionLoader, ProviderConfig, RequestContext, Server,
};

/// Who answered.
#[sofa_rpc_core::service(interface = "com.example.routers.Who")]
pub trait Who {
    /// The name of the provider that handled the call.
    async fn who(&self, user: String) -> String;
}

/// A provider that calls on.
#[sofa_rpc_core::service(interface = "com.example.routers.Front")]
pub trait Front {
    /// Asks `Who` on the caller's behalf.
    async fn relay(&self, user: String) -> String;
}

/// Answers its name and keeps the request headers named in `watch`.
#[derive(Clone)]
struct Named {
    name: &'static str,
    seen: Arc<Mutex<Vec<HashMap<String, String>>>>,
}

const WATCH: [&str; 4] = [
    "service",
    "sofa_head_target_service",
    "sofa_head_target_zone",
    "sofa_head_target_app",
];

impl Named {
    fn new(name: &'static str) -> Self {
        Named {
            name,
            seen: Arc::default(),
        }
    }
}

impl Who for Named {
    async fn who(&self, _user: String) -> String {
        let headers = RequestContext::with_current(|ctx| {
            WATCH
                .iter()
                .filter_map(|k| ctx.header(k).map(|v| (k.to_string(), v.to_string())))
                .collect()
        })
        .unwrap();
        self.seen.lock().unwrap().push(headers);
        self.name.to_string()
    }
}

struct Relay(WhoClient);

impl Front for Relay {
    async fn relay(&self, user: String) -> String {
        // No tag set here: the request's baggage carries it on.
        self.0.who(user).await.unwrap()
    }
}

fn registry() -> String {
    let file: PathBuf = std::env::temp_dir().join(format!(
        "sofa-rpc-routers-{}-{:?}",
        std::process::id(),
        Instant::now()
    ));
    format!("local://{}?scanPeriod=50", file.display())
}

async fn who_server(url: &str, named: Named, param: Option<(&str, &str)>) -> Server {
    let mut provider = ProviderConfig::new(WhoServer::new(named));
    if let Some((k, v)) = param {
        provider = provider.param(k, v);
    }
    Server::builder()
        .bind("127.0.0.1:0")
        .registry(url)
        .provider(provider)
        .start()
        .await
        .unwrap()
}

fn tag_client(url: &str, router: &TagRouter) -> WhoClient {
    let router = router.clone();
    let mut loader = ExtensionLoader::default();
    loader.register_router("tag", move || router.clone());
    let config = ConsumerConfig::new()
        .registry(url)
        .routers(["registry", "tag"])
        .filters(["context"]);
    WhoClient::new(Client::with_extensions(config, &loader).unwrap())
}

/// Calls until all three providers answered (the registry lists them as they come), at most 10 s.
async fn wait_listed(who: &WhoClient, names: &[&str]) {
    let deadline = Instant::now() + Duration::from_secs(10);
    for name in names {
        let tag = if *name == "gray" { "gray" } else { "" };
        loop {
            let got = who.who("u".into()).baggage("tag", tag).await;
            if got.as_deref().ok() == Some(*name) || (tag.is_empty() && got.is_ok()) {
                break;
            }
            assert!(Instant::now() < deadline, "{name} never listed: {got:?}");
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tagged_calls_go_to_tagged_providers_and_the_tag_follows_the_chain() {
    let url = registry();
    let stable_a = who_server(&url, Named::new("stable"), None).await;
    let stable_b = who_server(&url, Named::new("stable"), None).await;
    let gray = who_server(&url, Named::new("gray"), Some(("tag", "gray"))).await;
    let router = TagRouter::default();
    let who = tag_client(&url, &router);
    wait_listed(&who, &["gray", "stable"]).await;
    // Untagged calls never reach the gray provider, tagged ones only it.
    for _ in 0..50 {
        assert_eq!(who.who("u".into()).await.unwrap(), "stable");
        let tagged = who.who("u".into()).baggage("tag", "gray").await.unwrap();
        assert_eq!(tagged, "gray");
    }
    // An unknown tag falls back to untagged providers, unless forced.
    let blue = who.who("u".into()).baggage("tag", "blue").await.unwrap();
    assert_eq!(blue, "stable");
    let err = who
        .who("u".into())
        .baggage("tag", "blue")
        .baggage("tag.force", "true")
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::ClientRouter, "{err}");
    assert!(err.message().contains("\"blue\""), "{err}");

    // A provider calling on: the tag of the request it handles picks the next hop.
    let front = Server::builder()
        .bind("127.0.0.1:0")
        .service(FrontServer::new(Relay(tag_client(&url, &router))))
        .start()
        .await
        .unwrap();
    let front_client = FrontClient::new(
        Client::new(ConsumerConfig::new().direct_url(front.local_addr().to_string())).unwrap(),
    );
    let inner = tag_client(&url, &router);
    wait_listed(&inner, &["gray", "stable"]).await;
    for _ in 0..20 {
        let relayed = front_client.relay("u".into()).baggage("tag", "gray").await;
        assert_eq!(relayed.unwrap(), "gray");
        assert_eq!(front_client.relay("u".into()).await.unwrap(), "stable");
    }

    // Weighted split: untagged calls get a tag by weight (half and half here).
    router
        .set_rules(
            TagRules::from_json(
                r#"{"splits": [{"service": "com.example.routers.Who", "weights": {"": 1, "gray": 1}}]}"#,
            )
            .unwrap(),
        )
        .unwrap();
    let mut gray_calls = 0;
    for _ in 0..400 {
        if who.who("u".into()).await.unwrap() == "gray" {
            gray_calls += 1;
        }
    }
    // Binomial(400, 0.5): 120..280 fails with a probability far below 1e-15.
    assert!((120..280).contains(&gray_calls), "{gray_calls} of 400");
    for s in [stable_a, stable_b, gray, front] {
        s.shutdown().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mesh_sends_every_call_to_the_sidecar_naming_the_service() {
    let sidecar_named = Named::new("sidecar");
    let sidecar = Server::builder()
        .bind("127.0.0.1:0")
        .service(WhoServer::new(sidecar_named.clone()))
        .start()
        .await
        .unwrap();
    let port = sidecar.local_addr().port();
    let mesh = MeshRouter::new("127.0.0.1", port).target_app("who-app");
    let mut loader = ExtensionLoader::default();
    loader.register_router("mesh", move || mesh.clone());
    // The direct URL names a provider that is not running: the sidecar takes every call anyway.
    let dead = {
        let l = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        l.local_addr().unwrap().to_string()
    };
    let config = ConsumerConfig::new()
        .direct_url(dead)
        .routers(["directUrl", "mesh"]);
    let who = WhoClient::new(Client::with_extensions(config, &loader).unwrap());
    for _ in 0..10 {
        assert_eq!(who.who("u".into()).await.unwrap(), "sidecar");
    }
    let seen = sidecar_named.seen.lock().unwrap().clone();
    assert_eq!(seen.len(), 10);
    for headers in seen {
        assert_eq!(headers["service"], "com.example.routers.Who:1.0");
        assert_eq!(
            headers["sofa_head_target_service"],
            "com.example.routers.Who:1.0"
        );
        assert_eq!(headers["sofa_head_target_app"], "who-app");
    }
    sidecar.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn calls_owned_by_another_zone_go_to_the_gateway_with_the_target_zone() {
    let url = registry();
    let local = who_server(&url, Named::new("RZ00"), Some(("zone", "RZ00"))).await;
    let gateway_named = Named::new("gateway");
    let gateway = Server::builder()
        .bind("127.0.0.1:0")
        .service(WhoServer::new(gateway_named.clone()))
        .start()
        .await
        .unwrap();
    let rules = ZoneRules::from_json(
        r#"{
      "zones": [{"name": "RZ00", "kind": "rzone"}, {"name": "RZ01", "kind": "rzone"}],
      "services": [{"service": "com.example.routers.Who", "kind": "rzone", "rule": "u"}],
      "rules": [{"name": "u", "key": {"arg": {"index": 0}}, "shard": {"modulo": 2},
        "levels": [{"shards": [{"shards": "0", "zone": "RZ00"}, {"shards": "1", "zone": "RZ01"}]}]}]
    }"#,
    )
    .unwrap();
    let router = ZoneRouter::new(ZoneRulesHandle::new(rules))
        .local_zone("RZ00")
        .gateway("127.0.0.1", gateway.local_addr().port())
        .strict(true);
    let mut loader = ExtensionLoader::default();
    loader.register_router("zone", move || router.clone());
    let config = ConsumerConfig::new()
        .registry(&url)
        .routers(["registry", "zone"]);
    let who = WhoClient::new(Client::with_extensions(config, &loader).unwrap());
    let deadline = Instant::now() + Duration::from_secs(10);
    while who.who("10".into()).await.is_err() {
        assert!(Instant::now() < deadline, "the local provider never listed");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    for user in 0..20u32 {
        let got = who.who(user.to_string()).await.unwrap();
        assert_eq!(
            got,
            if user % 2 == 0 { "RZ00" } else { "gateway" },
            "user {user}"
        );
    }
    let seen = gateway_named.seen.lock().unwrap().clone();
    assert_eq!(seen.len(), 10);
    for headers in seen {
        assert_eq!(headers["sofa_head_target_zone"], "RZ01");
        assert_eq!(
            headers["sofa_head_target_service"],
            "com.example.routers.Who:1.0"
        );
    }
    local.shutdown().await;
    gateway.shutdown().await;
}
