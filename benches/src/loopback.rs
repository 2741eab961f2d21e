//! A cluster that stands in for the transport, for benches of the consumer pipeline without a
//! socket: it encodes each request frame as a connection would and answers with a pre-encoded
//! response frame.

use std::sync::Arc;

use bytes::{Bytes, BytesMut};
use futures::future::BoxFuture;
use sofa_bolt::{Codec, Frame, HeaderMap, ResponseStatus};
use sofa_rpc_core::{
    Cluster, ClusterContext, ConsumerConfig, ExtensionLoader, Invocation, Reply, ReplyValue,
    Response, Result, RpcError, Serializer, ValueRef,
};

/// A byte payload as a reply value.
struct Payload(Bytes);

impl ReplyValue for Payload {
    fn value(&self) -> ValueRef<'_> {
        ValueRef::serde(&self.0, "byte[]")
    }
}

/// Answers every call with the same response frame, after doing the transport's encoding work.
pub struct Loopback {
    /// The serializer of requests and of the response.
    pub serializer: Arc<dyn Serializer>,
    /// The encoded response frame.
    pub response: Bytes,
}

impl Cluster for Loopback {
    fn invoke(
        &self,
        invocation: Invocation,
        ctx: ClusterContext,
    ) -> BoxFuture<'static, Result<Response>> {
        let serializer = self.serializer.clone();
        let response = self.response.clone();
        Box::pin(async move {
            let provider = ctx.select(&invocation, &[])?;
            let mut header = HeaderMap::with_capacity(8);
            let content = serializer.encode_request(&invocation, &mut header)?;
            let request = Frame::request(
                Bytes::from_static(b"com.alipay.sofa.rpc.core.request.SofaRequest"),
                header,
                content,
            )
            .with_codec(serializer.code());
            let mut codec = Codec::default();
            let mut wire = BytesMut::with_capacity(request.encoded_len());
            codec
                .encode(&request, &mut wire)
                .map_err(|e| RpcError::from_bolt(e, "loopback"))?;
            std::hint::black_box(&wire);

            let mut incoming = BytesMut::from(&response[..]);
            let reply = codec
                .decode(&mut incoming)
                .map_err(|e| RpcError::from_bolt(e, "loopback"))?
                .ok_or_else(|| RpcError::unavailable("incomplete response"))?;
            let header = reply
                .header()
                .map_err(|e| RpcError::from_bolt(e, "loopback"))?
                .into_owned();
            Ok(Response::new(
                header,
                reply.content().clone(),
                serializer,
                provider,
            ))
        })
    }
}

/// The encoded response frame echoing `payload`.
pub fn response_frame(serializer: &dyn Serializer, payload: &Bytes) -> Result<Bytes> {
    let reply = Reply::Value(Box::new(Payload(payload.clone())));
    let mut header = HeaderMap::new();
    let content = serializer.encode_response(&reply, &[], &mut header)?;
    let request = Frame::request(Bytes::new(), HeaderMap::new(), Bytes::new());
    let frame = Frame::response_to(&request, ResponseStatus::SUCCESS)
        .with_class(Bytes::from_static(
            b"com.alipay.sofa.rpc.core.response.SofaResponse",
        ))
        .with_header(header)
        .with_content(content)
        .with_codec(serializer.code());
    let mut wire = BytesMut::new();
    Codec::default()
        .encode(&frame, &mut wire)
        .map_err(|e| RpcError::from_bolt(e, "loopback"))?;
    Ok(wire.freeze())
}

/// Extensions with the `loopback` cluster registered, answering every call with `payload`
/// echoed in msgpack.
pub fn extensions(payload: &Bytes) -> Result<ExtensionLoader> {
    let mut loader = ExtensionLoader::default();
    let serializer = loader.serializer("msgpack")?;
    let response = response_frame(serializer.as_ref(), payload)?;
    loader.register_cluster(
        "loopback",
        Loopback {
            response,
            serializer,
        },
    );
    Ok(loader)
}

/// A consumer of three direct providers, called through the `loopback` cluster of
/// [`extensions`] with the default (random) balancer.
pub fn consumer_config() -> ConsumerConfig {
    ConsumerConfig::new()
        .direct_url("bolt://127.0.0.1:12200,bolt://127.0.0.1:12201,bolt://127.0.0.1:12202")
        .cluster("loopback")
}
