//! Generic calls: any service, any method, dynamic values, no generated stub.

use std::sync::Arc;

use serde::de::DeserializeOwned;

use super::{Call, Client};
use crate::error::Result;
use crate::invocation::{DynArgs, Invocation};
use crate::response::{bad_response, unexpected_exception, Response};
use crate::serialize::ResponseBody;
use crate::service_id::ServiceId;
use crate::value::ValueSource;

/// Calls methods of one service by name with dynamic arguments — the Rust counterpart of
/// SOFARPC's `GenericService.$invoke`. Arguments are any serde values with their Java types
/// ([`DynArgs`]); the result decodes into any `Deserialize` type (a dynamic value type such as
/// `serde_json::Value`, or a concrete one).
///
/// ```no_run
/// use sofa_rpc_core::{Client, ConsumerConfig, DynArgs};
///
/// # async fn demo() -> sofa_rpc_core::Result<()> {
/// let client = Client::new(ConsumerConfig::new().direct_url("127.0.0.1:12200"))?;
/// let echo = client.generic("com.example.EchoService:1.0");
/// let reply: String = echo
///     .invoke("echo", DynArgs::new().arg("java.lang.String", "hi"))
///     .await?;
/// # Ok(()) }
/// ```
#[derive(Clone, Debug)]
pub struct GenericService {
    client: Client,
    service: ServiceId,
}

impl GenericService {
    pub(crate) fn new(client: Client, service: ServiceId) -> Self {
        GenericService { client, service }
    }

    /// The target service.
    pub fn service(&self) -> &ServiceId {
        &self.service
    }

    /// A call of `method` with `args`, decoded into `R`. An application exception from the
    /// provider is an error of kind [`ServerBiz`](crate::ErrorKind::ServerBiz).
    pub fn invoke<R>(&self, method: impl Into<String>, args: DynArgs) -> Call<R>
    where
        R: DeserializeOwned + Send + 'static,
    {
        let mut invocation = Invocation::new(self.service.clone(), method.into(), Arc::new(args));
        invocation
            .context_mut()
            .insert_attachment(crate::headers::GENERIC_TYPE, "0");
        Call::new(self.client.clone(), invocation, decode_serde::<R>)
    }
}

fn decode_serde<R: DeserializeOwned>(response: Response) -> Result<R> {
    match response.body()? {
        ResponseBody::Value(source @ ValueSource::Serde(_)) => source
            .deserialize_serde(|de| erased_serde::deserialize::<R>(de))
            .map_err(bad_response),
        ResponseBody::Value(ValueSource::Proto(_)) => Err(bad_response(
            "a generic call cannot decode a protobuf result; use a typed stub".into(),
        )),
        ResponseBody::AppException(e) => Err(unexpected_exception(e)),
        ResponseBody::Error(e) => Err(e),
    }
}
