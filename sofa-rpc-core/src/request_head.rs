//! The header section of a plain request, encoded once per method and shared.
//!
//! Most calls carry only the fixed entries: the service (twice), the method, the invoke type,
//! the protocol and the caller's application. They are the same for every call of a method, so
//! each thread remembers the encoded sections of the last few methods it called, and such a call
//! sends a reference to one: no header map is built, allocated or encoded for it. Calls with
//! anything more (attachments, baggage, a trace, a deadline, entries for a gateway) build their
//! header in full.

use std::borrow::Cow;
use std::cell::RefCell;

use bytes::{Bytes, BytesMut};
use sofa_bolt::{HeaderMap, HeaderStr};

use crate::headers;
use crate::invocation::{Invocation, InvokeType};

/// Methods remembered per thread.
const REMEMBERED: usize = 8;

/// The section of one method, with what it was made from.
struct Section {
    service: HeaderStr,
    method: Cow<'static, str>,
    invoke_type: InvokeType,
    app: Option<HeaderStr>,
    bytes: Bytes,
}

impl Section {
    fn is_for(&self, invocation: &Invocation, app: Option<&HeaderStr>) -> bool {
        self.invoke_type == invocation.invoke_type()
            && self.method == invocation.method()
            && self.service == *invocation.service().unique_name_header()
            && self.app.as_ref() == app
    }
}

#[derive(Default)]
struct Remembered {
    sections: Vec<Section>,
    /// Which section the next new one replaces, once all are taken.
    next: usize,
}

thread_local! {
    static REMEMBERED_SECTIONS: RefCell<Remembered> = RefCell::default();
}

/// Writes the fixed entries of a request header for `invocation`, sent by application `app`.
pub(crate) fn fixed_entries(
    invocation: &Invocation,
    app: Option<&HeaderStr>,
    header: &mut HeaderMap,
) {
    let service = invocation.service().unique_name_header();
    header.append(headers::SERVICE, service.clone());
    header.append(headers::TARGET_SERVICE, service.clone());
    header.append(headers::METHOD_NAME, invocation.method_name());
    header.append(headers::INVOKE_TYPE, invocation.invoke_type().as_str());
    header.append(headers::PROTOCOL, "bolt");
    if let Some(app) = app {
        header.append(headers::CALLER_APP, app.clone());
    }
}

/// Whether a request for `invocation` has nothing in its header but the fixed entries.
pub(crate) fn is_plain(invocation: &Invocation) -> bool {
    let ctx = invocation.context();
    ctx.attachments().is_empty()
        && ctx.baggage().is_empty()
        && ctx.trace().is_none()
        && ctx.deadline().is_none()
}

/// The encoded section of the fixed entries for `invocation` sent by `app`, from this thread's
/// memory when it has it.
pub(crate) fn fixed_section(invocation: &Invocation, app: Option<&HeaderStr>) -> Bytes {
    let found = REMEMBERED_SECTIONS.try_with(|cell| {
        let cell = cell.try_borrow().ok()?;
        cell.sections
            .iter()
            .find(|s| s.is_for(invocation, app))
            .map(|s| s.bytes.clone())
    });
    if let Ok(Some(bytes)) = found {
        return bytes;
    }
    let mut header = HeaderMap::with_capacity(6);
    fixed_entries(invocation, app, &mut header);
    let mut bytes = BytesMut::with_capacity(header.encoded_len());
    header.encode(&mut bytes);
    let bytes = bytes.freeze();
    let section = Section {
        service: invocation.service().unique_name_header().clone(),
        method: invocation.method_name(),
        invoke_type: invocation.invoke_type(),
        app: app.cloned(),
        bytes: bytes.clone(),
    };
    let _ = REMEMBERED_SECTIONS.try_with(|cell| {
        if let Ok(mut cell) = cell.try_borrow_mut() {
            if cell.sections.len() < REMEMBERED {
                cell.sections.push(section);
            } else {
                let at = cell.next;
                cell.sections[at] = section;
                cell.next = (at + 1) % REMEMBERED;
            }
        }
    });
    bytes
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ServiceId;

    fn invocation(service: &ServiceId, method: &str) -> Invocation {
        Invocation::new(
            service.clone(),
            method.to_string(),
            std::sync::Arc::new(crate::invocation::DynArgs::new()),
        )
    }

    fn section(header: &HeaderMap) -> Bytes {
        let mut bytes = BytesMut::new();
        header.encode(&mut bytes);
        bytes.freeze()
    }

    #[test]
    fn the_remembered_section_is_the_one_a_map_would_encode() {
        let app = HeaderStr::from("shop");
        let services = [
            ServiceId::new("com.example.A", "1.0", ""),
            ServiceId::new("com.example.B", "2.0", "blue"),
        ];
        // More methods than a thread remembers, each asked for twice in a row and again later.
        for round in 0..3 {
            for (i, service) in services.iter().enumerate() {
                for m in 0..REMEMBERED {
                    let mut call = invocation(service, &format!("m{m}"));
                    if (m + round) % 3 == 0 {
                        call.set_invoke_type(InvokeType::Future);
                    }
                    let app = (i == 0).then_some(&app);
                    let mut expected = HeaderMap::new();
                    fixed_entries(&call, app, &mut expected);
                    assert_eq!(fixed_section(&call, app), section(&expected));
                    assert_eq!(fixed_section(&call, app), section(&expected));
                }
            }
        }
    }
}
