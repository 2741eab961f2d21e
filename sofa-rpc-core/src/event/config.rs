//! The state of live rules on the bus: a configuration source going down or coming back, and
//! values applied or rejected, for whoever watches the bus (metrics, alerts).

use sofa_rpc_registry::config::{LiveRules, LiveStatus};

use super::{ConfigStatusChanged, EventBus};

/// Publishes [`ConfigStatusChanged`] on `bus` each time the state of `live` changes in a way an
/// operator acts on: the source goes down or comes back, a value is applied, a value is
/// rejected. Changes that follow each other before the task runs arrive as one event; its
/// counts of applied and rejected values are totals, so none goes uncounted. Runs on a task of
/// its own, which ends when `live` is dropped or stopped. Call from inside a Tokio runtime. The
/// guard's `follow` does it for its rules on the guard's bus.
///
/// ```no_run
/// use sofa_rpc_core::config::{open, LiveOptions, LiveRules};
/// use sofa_rpc_core::event::{publish_config_status, ConfigStatusChanged, EventBus};
///
/// # async fn run() -> Result<(), Box<dyn std::error::Error>> {
/// let bus = EventBus::new();
/// bus.subscribe(|e: &ConfigStatusChanged| {
///     if e.status.source_up == Some(false) {
///         eprintln!("{} unreachable: {:?}", e.key, e.status.last_error);
///     }
/// });
/// let target = open("etcd://127.0.0.1:2379/sofa/limits.json").await?;
/// let live = LiveRules::start(target, LiveOptions::new(), |raw: &[u8]| {
///     std::str::from_utf8(raw).map(str::to_owned)
/// }, |_limits| {}).await;
/// publish_config_status(&live, &bus);
/// # Ok(())
/// # }
/// ```
pub fn publish_config_status(live: &LiveRules, bus: &EventBus) {
    let mut changes = live.subscribe();
    let key = live.key().to_string();
    let bus = bus.clone();
    let mut seen = changes.borrow().clone();
    tokio::spawn(async move {
        // Ends with the watch: the rules were dropped or stopped.
        while changes.changed().await.is_ok() {
            let now = changes.borrow_and_update().clone();
            if worth_telling(&seen, &now) {
                bus.publish_with(|| ConfigStatusChanged {
                    key: key.clone(),
                    status: now.clone(),
                });
            }
            seen = now;
        }
    });
}

/// Whether `now` differs from `before` in what an operator acts on.
fn worth_telling(before: &LiveStatus, now: &LiveStatus) -> bool {
    before.source_up != now.source_up
        || before.applied != now.applied
        || before.rejected != now.rejected
}
