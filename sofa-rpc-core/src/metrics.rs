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

use std::cell::RefCell;
use std::rc::Rc;
use std::sync::Once;
use std::thread::LocalKey;
use std::time::{Duration, Instant};

use metrics::{
    counter, describe_counter, describe_gauge, describe_histogram, gauge, Counter, Histogram, Key,
    Label, Level, Metadata, Recorder, Unit,
};

use crate::event::{CallEnd, ConfigStatusChanged, EventBus, ServerSend, Subscription};
use crate::invocation::InvokeType;
use crate::service_id::ServiceId;

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

/// What the call and request metrics are recorded under.
static METADATA: Metadata<'static> =
    Metadata::new(module_path!(), Level::INFO, Some(module_path!()));

/// Label sets remembered per thread, per side.
const REMEMBERED: usize = 16;

/// The labels of one call or request, borrowed from its event.
#[derive(Clone, Copy)]
struct Labels<'a> {
    app: Option<&'a str>,
    service: &'a ServiceId,
    method: &'a str,
    protocol: &'static str,
    invoke_type: InvokeType,
    /// Only on the server (empty when the caller sent none).
    caller_app: Option<&'a str>,
}

/// A remembered label set.
struct Owned {
    app: Option<String>,
    service: ServiceId,
    method: String,
    protocol: &'static str,
    invoke_type: InvokeType,
    caller_app: Option<String>,
}

impl Owned {
    fn of(labels: Labels<'_>) -> Self {
        Owned {
            app: labels.app.map(str::to_string),
            service: labels.service.clone(),
            method: labels.method.to_string(),
            protocol: labels.protocol,
            invoke_type: labels.invoke_type,
            caller_app: labels.caller_app.map(str::to_string),
        }
    }

    fn is(&self, labels: Labels<'_>) -> bool {
        self.method == labels.method
            && self.service == *labels.service
            && self.invoke_type == labels.invoke_type
            && self.protocol == labels.protocol
            && self.app.as_deref() == labels.app
            && self.caller_app.as_deref() == labels.caller_app
    }
}

/// The keys of one label set. A key holds its labels and its hash, so recording under a
/// remembered key formats nothing; the handles registered under them skip the recorder's lookup
/// too, for as long as the same recorder is installed.
struct Keys {
    total: Key,
    fail: Key,
    duration: Key,
    request_size: Key,
    response_size: Key,
    handles: RefCell<Handles>,
}

/// Handles registered with one recorder, each on first use (so that, as with the `metrics`
/// macros, a series appears only once something is recorded in it).
struct Handles {
    /// The address of the recorder they came from.
    recorder: usize,
    /// When they last recorded.
    used: Instant,
    total: Option<Counter>,
    fail: Option<Counter>,
    duration: Option<Histogram>,
    request_size: Option<Histogram>,
    response_size: Option<Histogram>,
}

impl Handles {
    /// None registered yet, with `recorder` as of `now`.
    fn none(recorder: usize, now: Instant) -> Self {
        Handles {
            recorder,
            used: now,
            total: None,
            fail: None,
            duration: None,
            request_size: None,
            response_size: None,
        }
    }
}

/// A label set unused for longer than this registers its handles again.
const REREGISTER_AFTER: Duration = Duration::from_secs(1);

impl Keys {
    fn new(labels: Labels<'_>, side: &Side) -> Self {
        let [total, fail, duration] = side.names;
        let mut list = vec![
            Label::new("app", labels.app.unwrap_or("").to_string()),
            Label::new("service", labels.service.to_string()),
            Label::new("method", labels.method.to_string()),
            Label::new("protocol", labels.protocol),
            Label::new("invoke_type", labels.invoke_type.as_str()),
        ];
        if let Some(caller_app) = labels.caller_app {
            list.push(Label::new("caller_app", caller_app.to_string()));
        }
        let key = |name: &'static str, labels: &[Label]| Key::from_parts(name, labels.to_vec());
        let (total, fail, duration) = (key(total, &list), key(fail, &list), key(duration, &list));
        list.push(Label::new("side", side.label));
        Keys {
            total,
            fail,
            duration,
            request_size: key(REQUEST_SIZE, &list),
            response_size: key(RESPONSE_SIZE, &list),
            handles: RefCell::new(Handles::none(0, Instant::now())),
        }
    }

    /// Records one call or request into the recorder installed now.
    fn record(&self, ok: bool, seconds: f64, request: Option<usize>, response: Option<usize>) {
        metrics::with_recorder(|recorder| {
            let id = recorder as *const dyn Recorder as *const () as usize;
            let now = Instant::now();
            let mut fresh;
            let mut kept = self.handles.try_borrow_mut();
            let handles = match kept.as_deref_mut() {
                Ok(handles) => handles,
                Err(_) => {
                    fresh = Handles::none(id, now);
                    &mut fresh
                }
            };
            // Registered again with another recorder (installed later, or a scoped one), and
            // after a pause: a recorder may drop series left idle (the Prometheus exporter's
            // idle timeout), and a handle to a dropped series would record into nothing.
            if handles.recorder != id || now.duration_since(handles.used) > REREGISTER_AFTER {
                *handles = Handles::none(id, now);
            }
            handles.used = now;
            let counter = |slot: &mut Option<Counter>, key: &Key| {
                slot.get_or_insert_with(|| recorder.register_counter(key, &METADATA))
                    .increment(1);
            };
            let histogram = |slot: &mut Option<Histogram>, key: &Key, value: f64| {
                slot.get_or_insert_with(|| recorder.register_histogram(key, &METADATA))
                    .record(value);
            };
            counter(&mut handles.total, &self.total);
            if !ok {
                counter(&mut handles.fail, &self.fail);
            }
            histogram(&mut handles.duration, &self.duration, seconds);
            if let Some(bytes) = request {
                histogram(&mut handles.request_size, &self.request_size, bytes as f64);
            }
            if let Some(bytes) = response {
                histogram(
                    &mut handles.response_size,
                    &self.response_size,
                    bytes as f64,
                );
            }
        });
    }
}

/// The keys of recently seen label sets, oldest replaced first.
#[derive(Default)]
struct Remembered {
    sets: Vec<(Owned, Rc<Keys>)>,
    next: usize,
}

impl Remembered {
    fn keys(&mut self, labels: Labels<'_>, side: &Side) -> Rc<Keys> {
        if let Some((_, keys)) = self.sets.iter().find(|(owned, _)| owned.is(labels)) {
            return keys.clone();
        }
        let keys = Rc::new(Keys::new(labels, side));
        let set = (Owned::of(labels), keys.clone());
        if self.sets.len() < REMEMBERED {
            self.sets.push(set);
        } else {
            self.sets[self.next] = set;
            self.next = (self.next + 1) % REMEMBERED;
        }
        keys
    }
}

thread_local! {
    static CLIENT_KEYS: RefCell<Remembered> = RefCell::default();
    static SERVER_KEYS: RefCell<Remembered> = RefCell::default();
}

/// One side's metric names and remembered label sets.
struct Side {
    /// Calls, failures, duration.
    names: [&'static str; 3],
    /// The `side` label of the size histograms.
    label: &'static str,
    remembered: &'static LocalKey<RefCell<Remembered>>,
}

static CLIENT: Side = Side {
    names: [CLIENT_TOTAL, CLIENT_FAIL, CLIENT_DURATION],
    label: "client",
    remembered: &CLIENT_KEYS,
};

static SERVER: Side = Side {
    names: [SERVER_TOTAL, SERVER_FAIL, SERVER_DURATION],
    label: "server",
    remembered: &SERVER_KEYS,
};

/// Records one call or request of `side` under `labels`; `sizes` are the request's and the
/// response's.
fn record(side: &Side, labels: Labels<'_>, ok: bool, elapsed: Duration, sizes: [Option<usize>; 2]) {
    let keys = side
        .remembered
        .try_with(|cell| {
            cell.try_borrow_mut()
                .ok()
                .map(|mut cell| cell.keys(labels, side))
        })
        .ok()
        .flatten()
        // Borrowed already, or the thread is ending: keys of its own for this one.
        .unwrap_or_else(|| Rc::new(Keys::new(labels, side)));
    keys.record(ok, elapsed.as_secs_f64(), sizes[0], sizes[1]);
}

fn record_call(call: &CallEnd) {
    let labels = Labels {
        app: call.app.as_deref(),
        service: &call.service,
        method: &call.method,
        protocol: call.protocol,
        invoke_type: call.invoke_type,
        caller_app: None,
    };
    let sizes = [call.request_size, call.response_size];
    record(
        &CLIENT,
        labels,
        call.outcome.is_success(),
        call.elapsed,
        sizes,
    );
}

fn record_request(request: &ServerSend) {
    let labels = Labels {
        app: request.app.as_deref(),
        service: &request.service,
        method: &request.method,
        protocol: request.protocol,
        invoke_type: request.invoke_type,
        // Always a label on the server, empty when the caller sent none.
        caller_app: Some(request.caller_app.as_deref().unwrap_or("")),
    };
    let sizes = [Some(request.request_size), request.response_size];
    let ok = request.outcome.is_success();
    record(&SERVER, labels, ok, request.elapsed, sizes);
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;
    use std::sync::atomic::{AtomicU64, Ordering};
    use std::sync::{Arc, Mutex};
    use std::time::Duration;

    use metrics::{CounterFn, Gauge, HistogramFn, KeyName, SharedString};

    use super::*;
    use crate::event::Outcome;

    /// A recorder that counts: counter totals and histogram samples by name and labels.
    #[derive(Default)]
    struct Tally(Mutex<BTreeMap<String, Arc<Cell>>>);

    #[derive(Default)]
    struct Cell(AtomicU64);

    impl CounterFn for Cell {
        fn increment(&self, value: u64) {
            self.0.fetch_add(value, Ordering::SeqCst);
        }
        fn absolute(&self, value: u64) {
            self.0.fetch_max(value, Ordering::SeqCst);
        }
    }

    impl HistogramFn for Cell {
        fn record(&self, _: f64) {
            self.0.fetch_add(1, Ordering::SeqCst);
        }
    }

    impl Tally {
        fn cell(&self, key: &Key) -> Arc<Cell> {
            let labels: Vec<String> = key
                .labels()
                .map(|l| format!("{}={}", l.key(), l.value()))
                .collect();
            let name = format!("{}{{{}}}", key.name(), labels.join(","));
            self.0.lock().unwrap().entry(name).or_default().clone()
        }

        fn get(&self, name: &str) -> u64 {
            self.0
                .lock()
                .unwrap()
                .iter()
                .filter(|(k, _)| k.starts_with(&format!("{name}{{")))
                .map(|(_, c)| c.0.load(Ordering::SeqCst))
                .sum()
        }
    }

    impl Recorder for Tally {
        fn describe_counter(&self, _: KeyName, _: Option<Unit>, _: SharedString) {}
        fn describe_gauge(&self, _: KeyName, _: Option<Unit>, _: SharedString) {}
        fn describe_histogram(&self, _: KeyName, _: Option<Unit>, _: SharedString) {}
        fn register_counter(&self, key: &Key, _: &Metadata<'_>) -> Counter {
            Counter::from_arc(self.cell(key))
        }
        fn register_gauge(&self, _: &Key, _: &Metadata<'_>) -> Gauge {
            Gauge::noop()
        }
        fn register_histogram(&self, key: &Key, _: &Metadata<'_>) -> Histogram {
            Histogram::from_arc(self.cell(key))
        }
    }

    fn call(method: &'static str, outcome: Outcome) -> CallEnd {
        CallEnd {
            service: ServiceId::new("com.example.Echo", "1.0", ""),
            method: method.into(),
            invoke_type: InvokeType::Sync,
            elapsed: Duration::from_millis(3),
            outcome,
            app: Some(Arc::from("shop")),
            protocol: "bolt",
            request_size: Some(10),
            response_size: None,
        }
    }

    #[test]
    fn a_series_the_recorder_dropped_while_idle_is_registered_again() {
        let tally = Tally::default();
        let ok = call("idle", Outcome::Success);
        metrics::with_local_recorder(&tally, || record_call(&ok));
        assert_eq!(tally.get(CLIENT_TOTAL), 1);
        // The recorder forgets idle series, as the Prometheus exporter's idle timeout does.
        tally.0.lock().unwrap().clear();
        std::thread::sleep(REREGISTER_AFTER + Duration::from_millis(100));
        metrics::with_local_recorder(&tally, || record_call(&ok));
        assert_eq!(
            tally.get(CLIENT_TOTAL),
            1,
            "recorded into the dropped series"
        );
    }

    #[test]
    fn each_call_is_recorded_into_the_recorder_installed_at_that_moment() {
        let (first, second) = (Tally::default(), Tally::default());
        let ok = call("echo", Outcome::Success);
        metrics::with_local_recorder(&first, || {
            record_call(&ok);
            record_call(&ok);
        });
        // Handles kept from the first recorder must not swallow what the second should get.
        metrics::with_local_recorder(&second, || record_call(&ok));
        metrics::with_local_recorder(&first, || record_call(&ok));
        assert_eq!(first.get(CLIENT_TOTAL), 3);
        assert_eq!(second.get(CLIENT_TOTAL), 1);
        assert_eq!(first.get(CLIENT_DURATION), 3);
        assert_eq!(first.get(REQUEST_SIZE), 3);
        // Nothing recorded, no series: as with the macros.
        assert!(!format!("{:?}", first.0.lock().unwrap().keys()).contains(CLIENT_FAIL));
        assert_eq!(first.get(RESPONSE_SIZE), 0);

        let failed = call(
            "echo",
            Outcome::Failed {
                kind: crate::ErrorKind::ClientTimeout,
                message: "late".into(),
            },
        );
        metrics::with_local_recorder(&first, || record_call(&failed));
        assert_eq!(first.get(CLIENT_FAIL), 1);
        assert_eq!(first.get(CLIENT_TOTAL), 4);

        // More methods than a thread remembers, each under its own labels.
        let names: Vec<&'static str> = (0..REMEMBERED + 4)
            .map(|i| &*Box::leak(format!("m{i}").into_boxed_str()))
            .collect();
        metrics::with_local_recorder(&second, || {
            for _ in 0..2 {
                for name in &names {
                    record_call(&call(name, Outcome::Success));
                }
            }
        });
        let series = second.0.lock().unwrap();
        for name in &names {
            let key = format!(
                "{CLIENT_TOTAL}{{app=shop,service=com.example.Echo:1.0,method={name},protocol=bolt,invoke_type=sync}}"
            );
            assert_eq!(series[&key].0.load(Ordering::SeqCst), 2, "{key}");
        }
    }
}
