//! Degradation: the answer a refused call gets instead of its error, made as a [`Response`]
//! so that the stub decodes it into the method's return type like any other.
//!
//! A fixed value is JSON: its response is read by the [`Json`] serializer. The empty value is
//! read by a serializer of its own that decodes every type to its emptiest value.

use std::sync::Arc;

use bytes::Bytes;
use sofa_bolt::HeaderMap;

use super::empty::Empty;
use super::rules::{DegradeAction, DegradeRule};
use crate::error::{ErrorKind, Result, RpcError};
use crate::invocation::Invocation;
use crate::response::Response;
use crate::serialize::{Json, Reply, RequestReader, ResponseBody, Serializer};
use crate::value::ValueSource;

/// A degrade rule, ready to answer.
#[derive(Debug)]
pub(crate) struct Fallback {
    answer: Answer,
}

#[derive(Debug)]
enum Answer {
    Empty,
    Fixed(Bytes),
    Error(ErrorKind, String),
}

impl Fallback {
    pub(crate) fn new(rule: &DegradeRule) -> Self {
        let answer = match &rule.action {
            DegradeAction::Empty => Answer::Empty,
            DegradeAction::Fixed { value } => {
                // A `serde_json::Value` always writes.
                Answer::Fixed(serde_json::to_vec(value).unwrap_or_default().into())
            }
            DegradeAction::Error { kind, message } => Answer::Error(
                ErrorKind::from_name(kind).unwrap_or(ErrorKind::ClientUndeclared),
                message.clone(),
            ),
        };
        Fallback { answer }
    }

    /// The answer to `invocation` in place of `refusal`.
    pub(crate) fn answer(&self, invocation: &Invocation, refusal: RpcError) -> Result<Response> {
        tracing::debug!(service = %invocation.service(), method = invocation.method(), %refusal, "call degraded");
        match &self.answer {
            Answer::Empty => Ok(Response::fallback(
                HeaderMap::new(),
                Bytes::new(),
                Arc::new(EmptyValue),
            )),
            Answer::Fixed(json) => Ok(Response::fallback(
                HeaderMap::new(),
                json.clone(),
                Arc::new(Json),
            )),
            Answer::Error(kind, message) => Err(RpcError::new(*kind, message.clone())),
        }
    }
}

/// Reads any response as the empty value of the type asked for. Never on the wire: it only
/// reads the responses degradation makes.
#[derive(Clone, Copy, Debug)]
struct EmptyValue;

fn local_only() -> RpcError {
    RpcError::config("the guard's empty value serializer only reads degraded responses")
}

impl Serializer for EmptyValue {
    fn name(&self) -> &str {
        "guard-empty"
    }

    fn code(&self) -> u8 {
        0
    }

    fn encode_request(&self, _: &Invocation, _: &mut HeaderMap) -> Result<Bytes> {
        Err(local_only())
    }

    fn read_request<'a>(
        &self,
        _: &'a HeaderMap,
        _: &'a [u8],
    ) -> Result<Box<dyn RequestReader<'a> + 'a>> {
        Err(local_only())
    }

    fn encode_response(&self, _: &Reply, _: &[u8], _: &mut HeaderMap) -> Result<Bytes> {
        Err(local_only())
    }

    fn read_response<'a>(&self, _: &'a HeaderMap, _: &'a [u8]) -> Result<ResponseBody<'a>> {
        Ok(ResponseBody::Value(ValueSource::from_deserializer(Empty)))
    }
}
