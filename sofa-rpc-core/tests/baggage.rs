//! Baggage goes to the provider, on to the calls it makes, and back again.

#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

mod common;

use common::*;
use sofa_rpc_core::{Client, ConsumerConfig, RequestContext};

#[tokio::test]
async fn request_and_response_baggage_round_trip() {
    let server = serve(Echo {
        name: "leaf",
        ..Echo::default()
    })
    .await;
    let echo = client_to(&server);
    let reply = echo
        .baggage()
        .baggage("tenant", "acme")
        .baggage("trace", "t-1")
        .detailed()
        .await
        .unwrap();
    assert_eq!(
        reply.value,
        vec![
            ("tenant".to_string(), "acme".to_string()),
            ("trace".to_string(), "t-1".to_string())
        ]
    );
    assert_eq!(reply.baggage.get("seen").map(String::as_str), Some("2"));
    assert_eq!(reply.baggage.get("by").map(String::as_str), Some("leaf"));
    assert_eq!(
        reply.provider.unwrap().address(),
        server.local_addr().to_string()
    );
    server.shutdown().await;
}

/// A middle service that forwards to a downstream one without mentioning baggage.
#[sofa_rpc_core::service(interface = "com.example.Relay")]
pub trait Relay {
    async fn relay(&self) -> Vec<(String, String)>;
    async fn relay_trace(&self) -> Vec<Option<(String, String)>>;
}

struct RelayImpl {
    downstream: EchoServiceClient,
}

impl Relay for RelayImpl {
    async fn relay(&self) -> Vec<(String, String)> {
        let seen = self.downstream.baggage().await.unwrap_or_default();
        RequestContext::with_current(|ctx| ctx.set_response_baggage("relayed", "yes"));
        seen
    }

    async fn relay_trace(&self) -> Vec<Option<(String, String)>> {
        // Two downstream calls: two child spans of the incoming one.
        let first = self.downstream.trace().await.unwrap_or_default();
        let second = self.downstream.trace().await.unwrap_or_default();
        vec![first, second]
    }
}

#[tokio::test]
async fn baggage_propagates_across_hops_in_both_directions() {
    let leaf = serve(Echo {
        name: "leaf",
        ..Echo::default()
    })
    .await;
    let middle = builder()
        .service(RelayServer::new(RelayImpl {
            downstream: client_to(&leaf),
        }))
        .start()
        .await
        .unwrap();
    let relay = RelayClient::new(
        Client::new(ConsumerConfig::new().direct_url(middle.local_addr().to_string())).unwrap(),
    );
    let reply = relay
        .relay()
        .baggage("tenant", "acme")
        .detailed()
        .await
        .unwrap();
    // The leaf saw the caller's baggage although the middle never passed it on by hand...
    assert_eq!(
        reply.value,
        vec![("tenant".to_string(), "acme".to_string())]
    );
    // ...and its response baggage came back through the middle, with the middle's own.
    assert_eq!(reply.baggage.get("by").map(String::as_str), Some("leaf"));
    assert_eq!(
        reply.baggage.get("relayed").map(String::as_str),
        Some("yes")
    );

    // The trace continues as child spans, one per downstream call.
    let spans = relay
        .relay_trace()
        .trace(sofa_rpc_core::TraceContext {
            trace_id: "0a0b0c0d1700000000000100012345".into(),
            span_id: "0.1".into(),
            sampled: true,
        })
        .await
        .unwrap();
    let id = "0a0b0c0d1700000000000100012345".to_string();
    assert_eq!(
        spans,
        vec![
            Some((id.clone(), "0.1.1".to_string())),
            Some((id, "0.1.2".to_string()))
        ]
    );
    middle.shutdown().await;
    leaf.shutdown().await;
}

#[tokio::test]
async fn provider_filters_wrap_every_call() {
    use sofa_rpc_core::filter::{ProviderCall, ProviderLayer};
    use sofa_rpc_core::ExtensionLoader;

    let mut loader = ExtensionLoader::default();
    loader.register_filter(
        "mark",
        ProviderLayer(tower::util::MapRequestLayer::new(
            |mut call: ProviderCall| {
                call.context
                    .set_response_baggage("filtered", call.context.method().to_string());
                call
            },
        )),
    );
    let server = builder()
        .extensions(loader)
        .filters(["mark"])
        .service(EchoServiceServer::new(Echo::default()))
        .start()
        .await
        .unwrap();
    let echo = client_to(&server);
    let reply = echo.echo("x".into()).detailed().await.unwrap();
    assert_eq!(reply.value, "x");
    assert_eq!(
        reply.baggage.get("filtered").map(String::as_str),
        Some("echo")
    );
    server.shutdown().await;
}
