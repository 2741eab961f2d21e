//! The event bus: what happened in a client or server, told to whoever subscribes.
//!
//! Events are published where SOFARPC publishes its own: a call starting and ending, each attempt
//! at a provider, a request received and answered, providers added, updated and removed,
//! connections opened and closed, a server started and stopped, a registry subscription made or
//! lost, a provider degraded or recovering. Fault isolation, metrics and logs subscribe; none of them is woven into the call path.
//!
//! Subscribers register by event type and are called synchronously, on the task that publishes:
//! keep them quick, and hand slow work to a channel. With no subscriber for a type, publishing
//! it costs one atomic load; the event is not even built.
//!
//! ```
//! use std::sync::atomic::{AtomicUsize, Ordering};
//! use std::sync::Arc;
//! use sofa_rpc_core::event::{AttemptEnd, EventBus};
//!
//! let bus = EventBus::new();
//! let failures = Arc::new(AtomicUsize::new(0));
//! let counter = failures.clone();
//! let subscription = bus.subscribe(move |attempt: &AttemptEnd| {
//!     if !attempt.outcome.is_success() {
//!         counter.fetch_add(1, Ordering::Relaxed);
//!     }
//! });
//! // Hand the bus to a client (`ConsumerConfig::events`) or a server
//! // (`ServerBuilder::events`); every attempt that fails now counts.
//! assert!(bus.is_enabled::<AttemptEnd>());
//! bus.unsubscribe(subscription);
//! assert!(!bus.is_enabled::<AttemptEnd>());
//! ```

mod config;
mod connections;
mod kinds;

use std::any::Any;
use std::fmt;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::atomic::{AtomicU32, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use arc_swap::ArcSwap;

pub use config::publish_config_status;
pub(crate) use connections::connection_observer;
pub use kinds::{
    AttemptEnd, AttemptStart, BreakerState, BreakerStateChanged, CallEnd, CallStart,
    ConfigStatusChanged, ConnectionClosed, ConnectionOpened, GuardTriggered, Outcome,
    ProviderAdded, ProviderDegraded, ProviderRecovered, ProviderRemoved, ProviderUpdated,
    RegistryOutage, RegistrySubscribed, ServerReceive, ServerSend, ServerStarted, ServerStopped,
};

/// Something that happened, publishable on an [`EventBus`]. Implemented by the event types of
/// this module only.
pub trait Event: Any + Send + Sync + fmt::Debug + sealed::Sealed {
    /// Which slot of the bus this type uses.
    #[doc(hidden)]
    const SLOT: usize;
}

mod sealed {
    pub trait Sealed {}
}

/// How many event types there are (slots of the bus; each type's `SLOT` is below this, and
/// below 32 for the `enabled` bits).
const SLOTS: usize = 20;

type Handler = Arc<dyn Fn(&dyn Any) + Send + Sync>;

/// The subscribers of one event type, with their subscription ids.
type Slot = Arc<[(u64, Handler)]>;

/// Where events are published and subscribed to. Cheap to clone: clones are the same bus, so
/// one bus can be shared by several clients and servers.
#[derive(Clone, Default)]
pub struct EventBus {
    inner: Arc<Inner>,
}

#[derive(Default)]
struct Inner {
    /// Bit `SLOT` set while the slot has subscribers: what `publish` reads first.
    enabled: AtomicU32,
    /// Per slot, the subscribers: read by publishers without a lock, replaced whole (under
    /// `changing`) when a subscription starts or stops.
    slots: ArcSwap<[Slot; SLOTS]>,
    changing: Mutex<()>,
    next_id: AtomicU64,
}

/// A subscription, to [`unsubscribe`](EventBus::unsubscribe) with.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Subscription {
    slot: usize,
    id: u64,
}

impl EventBus {
    /// A bus with no subscribers.
    pub fn new() -> Self {
        Self::default()
    }

    /// Calls `handler` with every event of type `E` published from now on.
    pub fn subscribe<E: Event>(
        &self,
        handler: impl Fn(&E) + Send + Sync + 'static,
    ) -> Subscription {
        let id = self.inner.next_id.fetch_add(1, Ordering::Relaxed);
        let handler: Handler = Arc::new(move |event: &dyn Any| {
            if let Some(event) = event.downcast_ref::<E>() {
                handler(event);
            }
        });
        self.change_slots(|slots| {
            if let Some(slot) = slots.get_mut(E::SLOT) {
                let mut list = slot.to_vec();
                list.push((id, handler));
                *slot = list.into();
            }
        });
        Subscription { slot: E::SLOT, id }
    }

    /// Stops a subscription; `false` if it was already stopped.
    pub fn unsubscribe(&self, subscription: Subscription) -> bool {
        self.change_slots(|slots| {
            let Some(slot) = slots.get_mut(subscription.slot) else {
                return false;
            };
            let before = slot.len();
            let kept: Vec<_> = slot
                .iter()
                .filter(|(id, _)| *id != subscription.id)
                .cloned()
                .collect();
            let removed = kept.len() < before;
            *slot = kept.into();
            removed
        })
    }

    /// Changes the subscribers: a copy, changed, replaces them, one change at a time (so that
    /// the `enabled` bits follow the lists in the order of the changes).
    fn change_slots<R>(&self, change: impl FnOnce(&mut [Slot; SLOTS]) -> R) -> R {
        let _one_at_a_time = self
            .inner
            .changing
            .lock()
            .unwrap_or_else(|e| e.into_inner());
        let mut slots = <[Slot; SLOTS]>::clone(&self.inner.slots.load());
        let out = change(&mut slots);
        // A slot's bit is set once its subscribers can be read, and cleared once it has none.
        let enabled = slots
            .iter()
            .enumerate()
            .filter(|(_, list)| !list.is_empty())
            .fold(0u32, |bits, (i, _)| bits | 1 << i);
        self.inner.slots.store(Arc::new(slots));
        self.inner.enabled.store(enabled, Ordering::Release);
        out
    }

    /// Whether anyone subscribes to `E`: publishers check this before building an event.
    #[inline]
    pub fn is_enabled<E: Event>(&self) -> bool {
        self.inner.enabled.load(Ordering::Relaxed) & (1 << E::SLOT) != 0
    }

    /// Publishes `event` to the subscribers of its type.
    pub fn publish<E: Event>(&self, event: E) {
        if self.is_enabled::<E>() {
            self.deliver(&event, E::SLOT);
        }
    }

    /// Builds the event with `make` and publishes it, only if anyone subscribes to its type.
    #[inline]
    pub fn publish_with<E: Event>(&self, make: impl FnOnce() -> E) {
        if self.is_enabled::<E>() {
            self.deliver(&make(), E::SLOT);
        }
    }

    fn deliver(&self, event: &dyn Any, slot: usize) {
        let slots = self.inner.slots.load();
        let Some(handlers) = slots.get(slot) else {
            return;
        };
        for (_, handler) in handlers.iter() {
            // A subscriber that panics must not take the call or the connection with it.
            if catch_unwind(AssertUnwindSafe(|| handler(event))).is_err() {
                tracing::error!("an event subscriber panicked; the event goes on to the others");
            }
        }
    }
}

impl fmt::Debug for EventBus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let slots = self.inner.slots.load();
        let subscribers: usize = slots.iter().map(|s| s.len()).sum();
        f.debug_struct("EventBus")
            .field("subscribers", &subscribers)
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::AtomicUsize;
    use std::sync::Mutex;

    use super::*;
    use crate::ServiceId;

    fn stopped() -> ServerStopped {
        ServerStopped {
            addr: "127.0.0.1:1".parse().unwrap(),
        }
    }

    #[test]
    fn only_subscribers_of_the_type_hear_it() {
        let bus = EventBus::new();
        let stops = Arc::new(AtomicUsize::new(0));
        let s = stops.clone();
        bus.subscribe(move |_: &ServerStopped| {
            s.fetch_add(1, Ordering::Relaxed);
        });
        let built = Arc::new(AtomicUsize::new(0));
        let b = built.clone();
        bus.publish_with(|| {
            b.fetch_add(1, Ordering::Relaxed);
            ServerStarted {
                addr: "127.0.0.1:1".parse().unwrap(),
                services: vec![ServiceId::parse("a:1.0")],
            }
        });
        assert_eq!(
            built.load(Ordering::Relaxed),
            0,
            "no subscriber: not even built"
        );
        bus.publish(stopped());
        bus.clone().publish(stopped());
        assert_eq!(stops.load(Ordering::Relaxed), 2);
    }

    #[test]
    fn unsubscribe_stops_delivery_and_a_panicking_subscriber_harms_no_one() {
        let bus = EventBus::new();
        let seen = Arc::new(Mutex::new(Vec::new()));
        bus.subscribe(|_: &ServerStopped| panic!("subscriber bug"));
        let s = seen.clone();
        let second = bus.subscribe(move |e: &ServerStopped| s.lock().unwrap().push(e.addr));
        bus.publish(stopped());
        assert_eq!(seen.lock().unwrap().len(), 1);
        assert!(bus.unsubscribe(second));
        assert!(!bus.unsubscribe(second));
        bus.publish(stopped());
        assert_eq!(seen.lock().unwrap().len(), 1);
        assert!(
            bus.is_enabled::<ServerStopped>(),
            "the panicking one is still there"
        );
    }
}
