//! SOFARPC's class names and header keys, as every SOFA stack spells them.

/// Class name of every SOFARPC request frame.
pub const SOFA_REQUEST_CLASS: &str = "com.alipay.sofa.rpc.core.request.SofaRequest";
/// Class name of every SOFARPC response frame.
pub const SOFA_RESPONSE_CLASS: &str = "com.alipay.sofa.rpc.core.response.SofaResponse";
/// Class name SOFABolt uses for errors raised outside the service.
pub const RPC_SERVER_EXCEPTION_CLASS: &str = "com.alipay.remoting.rpc.exception.RpcServerException";

/// Target service unique name; every provider requires it.
pub const SERVICE: &str = "service";
/// Target service unique name, read by providers for non-Hessian codecs.
pub const TARGET_SERVICE: &str = "sofa_head_target_service";
/// Method name, read by providers for non-Hessian codecs.
pub const METHOD_NAME: &str = "sofa_head_method_name";
/// The provider's application name, when the consumer knows it.
pub const TARGET_APP: &str = "sofa_head_target_app";
/// `"true"` on responses that carry an error.
pub const RESPONSE_ERROR: &str = "sofa_head_response_error";
/// The invoke type: `sync`, `oneway`, `future`, `callback`.
pub const INVOKE_TYPE: &str = "type";
/// The transport protocol, `bolt`.
pub const PROTOCOL: &str = "protocol";
/// The calling application.
pub const CALLER_APP: &str = "app";
/// Generic call marker (`0`, `1` or `2`).
pub const GENERIC_TYPE: &str = "sofa_head_generic_type";
/// Prefix of request baggage entries.
pub const REQUEST_BAGGAGE_PREFIX: &str = "rpc_req_baggage.";
/// Prefix of response baggage entries.
pub const RESPONSE_BAGGAGE_PREFIX: &str = "rpc_resp_baggage.";
/// Prefix of the legacy trace context entries.
pub const TRACE_CONTEXT_PREFIX: &str = "rpc_trace_context.";
/// The current trace context header (SOFATracer 3.x).
pub const NEW_TRACE_CONTEXT: &str = "new_rpc_trace_context";
/// Remaining time of the caller's deadline, in milliseconds.
pub const DEADLINE_REMAIN: &str = "sofa_head_deadline_remain_time";
/// The zone a call is meant for, told to the zone gateway that forwards it there.
pub const TARGET_ZONE: &str = "sofa_head_target_zone";
/// Provider URL parameters whose names start with this travel as request header entries (the
/// rest of the name as key) on every call sent to that provider: how a router sending calls to
/// a gateway or sidecar tells it where they are meant to go.
pub const ROUTE_HEADER_PARAM_PREFIX: &str = "routeHeader.";

/// Provider URL parameter saying the provider serves over TLS (`tls=true`): published by
/// TLS servers, read by consumers (as is the `bolt+tls://` scheme of a direct URL).
pub const TLS_PARAM: &str = "tls";

/// The URL scheme of a provider to reach over TLS.
pub const TLS_SCHEME: &str = "bolt+tls";
