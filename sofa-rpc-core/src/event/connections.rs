//! Connection events of sofa-bolt, onto an event bus.

use sofa_bolt::{ConnectionEvent, ConnectionObserver};

use super::{ConnectionClosed, ConnectionOpened, EventBus};

/// An observer publishing `ConnectionOpened` and `ConnectionClosed` on `events`.
pub(crate) fn connection_observer(events: &EventBus) -> ConnectionObserver {
    let events = events.clone();
    ConnectionObserver::new(move |event: &ConnectionEvent<'_>| match *event {
        ConnectionEvent::Opened { side, local, peer } => {
            events.publish_with(|| ConnectionOpened { side, local, peer });
        }
        ConnectionEvent::Closed {
            side,
            local,
            peer,
            reason,
        } => events.publish_with(|| ConnectionClosed {
            side,
            local,
            peer,
            reason: reason.to_string(),
        }),
    })
}
