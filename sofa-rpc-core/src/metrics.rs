//! SOFARPC's metrics, recorded from the [event bus](crate::event) through the `metrics`
//! facade (cargo feature `metrics`): the application picks the exporter (Prometheus, StatsD,
//! ...) by installing a `metrics` recorder.
//!
//! | metric | kind | labels |
//! |---|---|---|
//! | `sofa_client_total` | counter: calls made | app, service, method, protocol, invoke_type |
//! | `sofa_client_fail` | counter: calls failed | same |
//! | `sofa_client_duration_seconds` | histogram: call time, retries included | same |
//! | `sofa_server_total` | counter: requests answered | app, service, method, protocol, invoke_type, caller_app |
//! | `sofa_server_fail` | counter: requests answered with a framework error | same |
//! | `sofa_server_duration_seconds` | histogram: from reading the request to the answer | same |
//! | `sofa_request_size` | histogram: serialized request body, bytes | the side's labels and `side` = `client` or `server` |
//! | `sofa_response_size` | histogram: serialized response body, bytes | same |
//! | `sofa_config_source_up` | gauge: 1 while the configuration source of live rules answers, 0 while it is down | key (source and key) |
//! | `sofa_config_applied` | counter: rule sets applied (disk copy included) | key |
//! | `sofa_config_rejected` | counter: rule sets rejected as malformed or contradictory | key |
//!
//! `service` is the service id (`interface:version[:uniqueId]`); `app` the process's own
//! application name (`ConsumerConfig::app_name`, `ServerBuilder::app_name`), `caller_app`
//! the one the caller sent; both are empty when not set. A failure is a framework failure
//! (timeout, no provider, a provider's error status): an application exception is an answer,
//! as in the events. On the client, sizes are those of the attempt that answered; a failed
//! call records none.
//!
//! ```
//! use sofa_rpc_core::event::EventBus;
//!
//! let bus = EventBus::new();
//! let metrics = sofa_rpc_core::metrics::install(&bus);
//! // Hand `bus` to clients (`ConsumerConfig::events`) and servers (`ServerBuilder::events`).
//! metrics.uninstall();
//! ```

use std::sync::Once;

use metrics::{
    counter, describe_counter, describe_gauge, describe_histogram, gauge, histogram, Label, Unit,
};

use crate::event::{CallEnd, ConfigStatusChanged, EventBus, ServerSend, Subscription};

/// Calls a consumer made.
pub const CLIENT_TOTAL: &str = "sofa_client_total";
/// Calls a consumer made that failed.
pub const CLIENT_FAIL: &str = "sofa_client_fail";
/// Requests a provider answered.
pub const SERVER_TOTAL: &str = "sofa_server_total";
/// Requests a provider answered with a framework error.
pub const SERVER_FAIL: &str = "sofa_server_fail";
/// Serialized request bodies, bytes.
pub const REQUEST_SIZE: &str = "sofa_request_size";
/// Serialized response bodies, bytes.
pub const RESPONSE_SIZE: &str = "sofa_response_size";
/// Consumer call time, seconds.
pub const CLIENT_DURATION: &str = "sofa_client_duration_seconds";
/// Provider request time, seconds.
pub const SERVER_DURATION: &str = "sofa_server_duration_seconds";
/// 1 while a configuration source of live rules answers, 0 while it is down.
pub const CONFIG_SOURCE_UP: &str = "sofa_config_source_up";
/// Rule sets applied from a configuration source (or its disk copy).
pub const CONFIG_APPLIED: &str = "sofa_config_applied";
/// Rule sets a configuration source held that were rejected.
pub const CONFIG_REJECTED: &str = "sofa_config_rejected";

/// The subscriptions recording metrics on one bus; [`uninstall`](Metrics::uninstall) stops
/// them (dropping this handle does not: metrics usually live as long as the process).
#[derive(Debug)]
#[must_use = "keep it to uninstall, or call `forget`"]
pub struct Metrics {
    bus: EventBus,
    subscriptions: [Subscription; 3],
}

impl Metrics {
    /// Stops recording from this bus.
    pub fn uninstall(self) {
        for subscription in self.subscriptions {
            self.bus.unsubscribe(subscription);
        }
    }

    /// Keeps recording for as long as the bus lives.
    pub fn forget(self) {}
}

/// Records SOFARPC's metrics for every call and request published on `bus`, into the
/// `metrics` recorder installed when each is recorded.
pub fn install(bus: &EventBus) -> Metrics {
    describe();
    let client = bus.subscribe(record_call);
    let server = bus.subscribe(record_request);
    let config = bus.subscribe(record_config);
    Metrics {
        bus: bus.clone(),
        subscriptions: [client, server, config],
    }
}

fn describe() {
    static DESCRIBED: Once = Once::new();
    DESCRIBED.call_once(|| {
        describe_counter!(CLIENT_TOTAL, "Calls made by consumers");
        describe_counter!(CLIENT_FAIL, "Calls made by consumers that failed");
        describe_counter!(SERVER_TOTAL, "Requests answered by providers");
        describe_counter!(SERVER_FAIL, "Requests answered with a framework error");
        describe_histogram!(REQUEST_SIZE, Unit::Bytes, "Serialized request bodies");
        describe_histogram!(RESPONSE_SIZE, Unit::Bytes, "Serialized response bodies");
        describe_histogram!(CLIENT_DURATION, Unit::Seconds, "Consumer call time");
        describe_histogram!(SERVER_DURATION, Unit::Seconds, "Provider request time");
        describe_gauge!(CONFIG_SOURCE_UP, "Whether the source of live rules answers");
        describe_counter!(
            CONFIG_APPLIED,
            "Rule sets applied from a configuration source"
        );
        describe_counter!(
            CONFIG_REJECTED,
            "Rule sets rejected as malformed or contradictory"
        );
    });
}

fn record_config(change: &ConfigStatusChanged) {
    let labels = [Label::new("key", change.key.clone())];
    if let Some(up) = change.status.source_up {
        gauge!(CONFIG_SOURCE_UP, labels.iter()).set(if up { 1.0 } else { 0.0 });
    }
    counter!(CONFIG_APPLIED, labels.iter()).absolute(change.status.applied);
    counter!(CONFIG_REJECTED, labels.iter()).absolute(change.status.rejected);
}

fn record_call(call: &CallEnd) {
    let labels = vec![
        Label::new("app", call.app.as_deref().unwrap_or("").to_string()),
        Label::new("service", call.service.to_string()),
        Label::new("method", call.method.to_string()),
        Label::new("protocol", call.protocol),
        Label::new("invoke_type", call.invoke_type.as_str()),
    ];
    counter!(CLIENT_TOTAL, labels.iter()).increment(1);
    if !call.outcome.is_success() {
        counter!(CLIENT_FAIL, labels.iter()).increment(1);
    }
    histogram!(CLIENT_DURATION, labels.iter()).record(call.elapsed.as_secs_f64());
    record_sizes(labels, "client", call.request_size, call.response_size);
}

fn record_request(request: &ServerSend) {
    let labels = vec![
        Label::new("app", request.app.as_deref().unwrap_or("").to_string()),
        Label::new("service", request.service.to_string()),
        Label::new("method", request.method.clone()),
        Label::new("protocol", request.protocol),
        Label::new("invoke_type", request.invoke_type.as_str()),
        Label::new("caller_app", request.caller_app.clone().unwrap_or_default()),
    ];
    counter!(SERVER_TOTAL, labels.iter()).increment(1);
    if !request.outcome.is_success() {
        counter!(SERVER_FAIL, labels.iter()).increment(1);
    }
    histogram!(SERVER_DURATION, labels.iter()).record(request.elapsed.as_secs_f64());
    record_sizes(
        labels,
        "server",
        Some(request.request_size),
        request.response_size,
    );
}

fn record_sizes(
    mut labels: Vec<Label>,
    side: &'static str,
    request: Option<usize>,
    response: Option<usize>,
) {
    labels.push(Label::new("side", side));
    if let Some(bytes) = request {
        histogram!(REQUEST_SIZE, labels.iter()).record(bytes as f64);
    }
    if let Some(bytes) = response {
        histogram!(RESPONSE_SIZE, labels.iter()).record(bytes as f64);
    }
}
