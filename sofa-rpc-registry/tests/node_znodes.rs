//! Znode names written by a real sofa-rpc-node server (fixture copied from a capture), read
//! without a server: the child name decodes to a provider URL a subscription accepts.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs)]

use sofa_rpc_registry::{decode_component, ProviderInfo, Subscription};

const FIXTURE: &str = include_str!("fixtures/sofa-rpc-node-znodes.txt");

/// `(interface, kind, child name)` for every znode in the fixture.
fn znodes() -> Vec<(&'static str, &'static str, &'static str)> {
    FIXTURE
        .lines()
        .filter(|l| l.starts_with('/'))
        .map(|l| {
            let parts: Vec<&str> = l.splitn(5, '/').collect();
            assert_eq!(parts.len(), 5, "{l}");
            assert_eq!(parts[1], "sofa-rpc", "Node's default root");
            (parts[2], parts[3], parts[4])
        })
        .collect()
}

#[test]
fn node_provider_names_are_accepted_by_an_empty_unique_id() {
    let providers: Vec<_> = znodes()
        .into_iter()
        .filter(|(_, kind, _)| *kind == "providers")
        .collect();
    assert_eq!(providers.len(), 2);
    for (iface, _, name) in providers {
        assert!(!name.contains('/'), "one path segment");
        let p: ProviderInfo = decode_component(name).parse().unwrap();
        assert_eq!(p.protocol(), "bolt");
        assert_eq!(p.address(), "127.0.0.1:34195");
        assert_eq!(p.interface(), Some(iface));
        assert_eq!(p.unique_id(), Some(""), "Node writes uniqueId= empty");
        assert_eq!(p.param("protocol"), Some(""), "and protocol= empty");
        assert_eq!(p.param("language"), Some("nodejs"));
        assert_eq!(p.param("group"), Some("SOFA"));
        assert_eq!(p.weight(), 100);
        assert_eq!(p.serialization(), Some("hessian2"));
        assert_eq!(p.timeout_ms(), Some(3000));
        assert_eq!(p.rpc_version(), Some(50400));
        assert_eq!(p.app_name(), Some("node-peer"));
        assert!(p.start_time_ms().unwrap() > 1_600_000_000_000);
        assert!(Subscription::new(iface).matches(&p));
        assert!(!Subscription::new(iface).with_unique_id("blue").matches(&p));
        assert!(!Subscription::new(iface).with_protocol("tr").matches(&p));
    }
}

#[test]
fn node_consumer_names_are_not_providers() {
    // Consumer URLs have no port: they never turn into providers.
    for (_, kind, name) in znodes() {
        if kind == "consumers" {
            let url = decode_component(name);
            assert!(url.starts_with("bolt://192.0.2.2?uniqueId=&version=1.0&pid="));
            assert!(url.parse::<ProviderInfo>().is_err(), "{url}");
        }
    }
}
