//! The events a client or server publishes.

use std::borrow::Cow;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use sofa_bolt::Side;
use sofa_rpc_registry::config::LiveStatus;
use sofa_rpc_registry::ProviderInfo;

use super::{sealed, Event};
use crate::error::{ErrorKind, RpcError};
use crate::invocation::InvokeType;
use crate::service_id::ServiceId;

/// How a call, an attempt or a request ended.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Outcome {
    /// It got its answer (an application exception inside the answer counts as an answer).
    Success,
    /// It failed.
    Failed {
        /// What kind of failure.
        kind: ErrorKind,
        /// The error's message.
        message: String,
    },
}

impl Outcome {
    /// The outcome of `result`.
    pub fn of<T>(result: &Result<T, RpcError>) -> Self {
        match result {
            Ok(_) => Outcome::Success,
            Err(e) => Outcome::Failed {
                kind: e.kind(),
                message: e.message().to_string(),
            },
        }
    }

    /// Whether it succeeded.
    pub fn is_success(&self) -> bool {
        matches!(self, Outcome::Success)
    }

    /// The kind of failure, if it failed.
    pub fn error_kind(&self) -> Option<ErrorKind> {
        match self {
            Outcome::Success => None,
            Outcome::Failed { kind, .. } => Some(*kind),
        }
    }
}

/// The state of a circuit breaker (the traffic guard's).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum BreakerState {
    /// Calls go through and are counted.
    Closed,
    /// Calls are refused until the sleep window ends.
    Open,
    /// A few probe calls go through; their outcome closes or reopens the breaker.
    HalfOpen,
}

macro_rules! events {
    ($($(#[$meta:meta])* $name:ident = $slot:literal { $($(#[$fmeta:meta])* $field:ident : $ty:ty,)* })*) => {
        $(
            $(#[$meta])*
            #[derive(Clone, Debug)]
            #[non_exhaustive]
            pub struct $name {
                $($(#[$fmeta])* pub $field: $ty,)*
            }

            impl sealed::Sealed for $name {}

            impl Event for $name {
                const SLOT: usize = $slot;
            }
        )*
    };
}

events! {
    /// A consumer starts a call (before its filters).
    CallStart = 0 {
        /// The service called.
        service: ServiceId,
        /// The method called.
        method: Cow<'static, str>,
        /// How the caller waits.
        invoke_type: InvokeType,
    }
    /// A consumer's call ended, all attempts included.
    CallEnd = 1 {
        /// The service called.
        service: ServiceId,
        /// The method called.
        method: Cow<'static, str>,
        /// How the caller waits.
        invoke_type: InvokeType,
        /// From the call's start to its end.
        elapsed: Duration,
        /// How it ended.
        outcome: Outcome,
        /// The consumer's application name (`ConsumerConfig::app_name`).
        app: Option<Arc<str>>,
        /// The RPC protocol (`bolt`).
        protocol: &'static str,
        /// Bytes of the serialized request body of the attempt that answered, when known.
        request_size: Option<usize>,
        /// Bytes of the serialized response body, when an answer came.
        response_size: Option<usize>,
    }
    /// The cluster sends a call to one provider (the first attempt, or a retry).
    AttemptStart = 2 {
        /// The service called.
        service: ServiceId,
        /// The method called.
        method: Cow<'static, str>,
        /// The provider chosen.
        provider: Arc<ProviderInfo>,
        /// 1 for the first attempt, 2 for the first retry, ...
        attempt: u32,
    }
    /// One attempt ended.
    AttemptEnd = 3 {
        /// The service called.
        service: ServiceId,
        /// The method called.
        method: Cow<'static, str>,
        /// The provider it went to.
        provider: Arc<ProviderInfo>,
        /// 1 for the first attempt, 2 for the first retry, ...
        attempt: u32,
        /// From the attempt's start to its end.
        elapsed: Duration,
        /// How it ended.
        outcome: Outcome,
    }
    /// A provider read a request and found its service and method.
    ServerReceive = 4 {
        /// The service requested.
        service: ServiceId,
        /// The method requested.
        method: Cow<'static, str>,
        /// The caller's address.
        peer: SocketAddr,
    }
    /// A provider answered a request it had received (published once the answer is encoded
    /// and handed to the connection).
    ServerSend = 5 {
        /// The service requested.
        service: ServiceId,
        /// The method requested.
        method: Cow<'static, str>,
        /// The caller's address.
        peer: SocketAddr,
        /// From receiving the request to handing over the answer.
        elapsed: Duration,
        /// A framework error answered (an application exception is a success here).
        outcome: Outcome,
        /// Whether the method answered with an application exception.
        app_exception: bool,
        /// The provider's application name (`ServerBuilder::app_name`).
        app: Option<Arc<str>>,
        /// The caller's application name, from the request's `app` header.
        caller_app: Option<String>,
        /// The RPC protocol (`bolt`).
        protocol: &'static str,
        /// How the caller waits, as far as the frame tells (`oneway` or `sync`).
        invoke_type: InvokeType,
        /// Bytes of the serialized request body.
        request_size: usize,
        /// Bytes of the serialized response body (`None` for a oneway request, or when the
        /// answer could not be encoded).
        response_size: Option<usize>,
    }
    /// A registry listed a new provider of a service.
    ProviderAdded = 6 {
        /// The service.
        service: ServiceId,
        /// The provider.
        provider: Arc<ProviderInfo>,
    }
    /// A provider's registration changed (weight, parameters).
    ProviderUpdated = 7 {
        /// The service.
        service: ServiceId,
        /// The provider as now registered.
        provider: Arc<ProviderInfo>,
    }
    /// A registry no longer lists a provider of a service.
    ProviderRemoved = 8 {
        /// The service.
        service: ServiceId,
        /// The provider as it was.
        provider: Arc<ProviderInfo>,
    }
    /// A connection opened.
    ConnectionOpened = 9 {
        /// Which end this process is.
        side: Side,
        /// This process's address.
        local: SocketAddr,
        /// The other end's address.
        peer: SocketAddr,
    }
    /// A connection closed.
    ConnectionClosed = 10 {
        /// Which end this process is.
        side: Side,
        /// This process's address.
        local: SocketAddr,
        /// The other end's address.
        peer: SocketAddr,
        /// Why, for people.
        reason: String,
    }
    /// A server listens and has published its services.
    ServerStarted = 11 {
        /// Where it listens.
        addr: SocketAddr,
        /// The services it exports.
        services: Vec<ServiceId>,
    }
    /// A server has stopped: withdrawn, drained, closed.
    ServerStopped = 12 {
        /// Where it listened.
        addr: SocketAddr,
    }
    /// A consumer subscribed to a service in a registry and has its first provider list.
    RegistrySubscribed = 13 {
        /// The registry's URL.
        registry: String,
        /// The service.
        service: ServiceId,
        /// Providers in the first list.
        providers: usize,
    }
    /// A consumer could not reach its registry for a service; it keeps the last list it had.
    RegistryOutage = 14 {
        /// The registry's URL.
        registry: String,
        /// The service.
        service: ServiceId,
        /// What went wrong.
        error: String,
    }
    /// Fault isolation found a provider abnormal and lowered its weight.
    ProviderDegraded = 15 {
        /// The service.
        service: ServiceId,
        /// The provider (as registered, or as last degraded).
        provider: Arc<ProviderInfo>,
        /// Its weight from now on.
        weight: u32,
        /// Its registered weight.
        original: u32,
    }
    /// A degraded provider was healthy for a window: its weight goes back up (fully once
    /// `weight == original`).
    ProviderRecovered = 16 {
        /// The service.
        service: ServiceId,
        /// The provider as it was degraded.
        provider: Arc<ProviderInfo>,
        /// Its weight from now on.
        weight: u32,
        /// Its registered weight.
        original: u32,
    }
    /// A circuit breaker of the traffic guard changed state.
    BreakerStateChanged = 17 {
        /// The id of the rule the breaker belongs to.
        rule: String,
        /// The service.
        service: ServiceId,
        /// The method, for a breaker per method.
        method: Option<String>,
        /// The provider, for a breaker per provider.
        provider: Option<Arc<ProviderInfo>>,
        /// The state it left.
        from: BreakerState,
        /// The state it is in now.
        to: BreakerState,
    }
    /// A traffic guard rule refused a call, or would have in monitor mode, or injected a
    /// fault.
    GuardTriggered = 18 {
        /// The id of the rule.
        rule: String,
        /// What kind of rule: `rate_limit`, `circuit_breaker` or `fault`.
        what: &'static str,
        /// The service.
        service: ServiceId,
        /// The method.
        method: Cow<'static, str>,
        /// `true` in monitor mode: the call went on as if no rule were there.
        monitored: bool,
    }
    /// A key of a configuration source followed by live rules (a guard's, a zone map's)
    /// changed state: the source went down or came back, a value was applied or rejected.
    ConfigStatusChanged = 19 {
        /// The source and key, e.g. `etcd://127.0.0.1:2379/sofa/guard/orders.toml`.
        key: String,
        /// Its state now: `source_up`, where the rules in force came from, the last error.
        status: LiveStatus,
    }
}
