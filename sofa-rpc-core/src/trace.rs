//! SOFATracer's trace context, in both header forms SOFA peers send.

use std::sync::atomic::{AtomicU32, Ordering};

use sofa_bolt::HeaderMap;

use crate::headers;

/// Where a call sits in a distributed trace: SOFATracer's trace id and span id (`0`, `0.1`,
/// `0.1.2` ...: each call made while handling a span gets the next child number).
///
/// Providers read it from either header form: `new_rpc_trace_context`
/// (`tcid=..&spid=..&sample=..&`, SOFARPC ≥ 5.1) or the legacy `rpc_trace_context.sofaTraceId` /
/// `.sofaRpcId` / `.samp` entries (older SOFARPC, anthunder). Consumers send both forms.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TraceContext {
    /// The trace id.
    pub trace_id: String,
    /// This span's id.
    pub span_id: String,
    /// Whether the trace is sampled.
    pub sampled: bool,
}

impl TraceContext {
    /// The trace context a request's header carries, preferring the current form.
    pub fn from_header(header: &HeaderMap) -> Option<TraceContext> {
        if let Some(new) = header
            .get(headers::NEW_TRACE_CONTEXT)
            .filter(|v| !v.trim().is_empty())
        {
            let mut trace_id = None;
            let mut span_id = None;
            let mut sampled = false;
            for pair in new.split('&') {
                match pair.split_once('=') {
                    Some(("tcid", v)) => trace_id = Some(v.to_string()),
                    Some(("spid", v)) => span_id = Some(v.to_string()),
                    Some(("sample", v)) => sampled = v == "true",
                    _ => {}
                }
            }
            if let Some(trace_id) = trace_id.filter(|t| !t.is_empty()) {
                return Some(TraceContext {
                    trace_id,
                    span_id: span_id.unwrap_or_else(|| "0".into()),
                    sampled,
                });
            }
        }
        let trace_id = header.get(LEGACY_TRACE_ID).filter(|t| !t.is_empty())?;
        Some(TraceContext {
            trace_id: trace_id.to_string(),
            span_id: header.get(LEGACY_SPAN_ID).unwrap_or("0").to_string(),
            sampled: header.get(LEGACY_SAMPLED) == Some("true"),
        })
    }

    /// Writes this context in both header forms.
    pub fn write(&self, header: &mut HeaderMap) {
        header.insert(
            headers::NEW_TRACE_CONTEXT,
            format!(
                "tcid={}&spid={}&pspid=&sample={}&",
                self.trace_id, self.span_id, self.sampled
            ),
        );
        header.insert(LEGACY_TRACE_ID, self.trace_id.clone());
        header.insert(LEGACY_SPAN_ID, self.span_id.clone());
        header.insert(LEGACY_SAMPLED, if self.sampled { "true" } else { "false" });
    }
}

/// The legacy form's keys (`rpc_trace_context.` + name).
const LEGACY_TRACE_ID: &str = "rpc_trace_context.sofaTraceId";
const LEGACY_SPAN_ID: &str = "rpc_trace_context.sofaRpcId";
const LEGACY_SAMPLED: &str = "rpc_trace_context.samp";

/// The spans of calls made while handling one request: each gets the next child id.
#[derive(Debug, Default)]
pub(crate) struct ChildSpans {
    next: AtomicU32,
}

impl Clone for ChildSpans {
    fn clone(&self) -> Self {
        ChildSpans {
            next: AtomicU32::new(self.next.load(Ordering::Relaxed)),
        }
    }
}

impl ChildSpans {
    pub(crate) fn child_of(&self, parent: &TraceContext) -> TraceContext {
        let n = self.next.fetch_add(1, Ordering::Relaxed) + 1;
        TraceContext {
            trace_id: parent.trace_id.clone(),
            span_id: format!("{}.{n}", parent.span_id),
            sampled: parent.sampled,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_both_forms_and_prefers_the_new_one() {
        let mut h = HeaderMap::new();
        h.insert("rpc_trace_context.sofaTraceId", "7f00000116000000000010001");
        h.insert("rpc_trace_context.sofaRpcId", "0");
        let legacy = TraceContext::from_header(&h).unwrap();
        assert_eq!(legacy.trace_id, "7f00000116000000000010001");
        assert_eq!(legacy.span_id, "0");
        assert!(!legacy.sampled);
        h.insert(
            "new_rpc_trace_context",
            "tcid=abc&spid=0.2&pspid=0&sample=true&_sys_x=1&",
        );
        let new = TraceContext::from_header(&h).unwrap();
        assert_eq!(
            (new.trace_id.as_str(), new.span_id.as_str()),
            ("abc", "0.2")
        );
        assert!(new.sampled);
        assert!(TraceContext::from_header(&HeaderMap::new()).is_none());
    }

    #[test]
    fn children_number_their_spans_and_write_both_forms() {
        let parent = TraceContext {
            trace_id: "t".into(),
            span_id: "0.1".into(),
            sampled: true,
        };
        let spans = ChildSpans::default();
        let first = spans.child_of(&parent);
        assert_eq!(first.span_id, "0.1.1");
        assert_eq!(spans.child_of(&parent).span_id, "0.1.2");
        let mut h = HeaderMap::new();
        first.write(&mut h);
        assert_eq!(TraceContext::from_header(&h), Some(first.clone()));
        h.remove("new_rpc_trace_context");
        assert_eq!(TraceContext::from_header(&h), Some(first));
    }
}
