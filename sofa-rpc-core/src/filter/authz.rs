//! `authz`: a provider filter that allows or denies each request by the caller's verified
//! identity and the service and method it calls.

use std::convert::Infallible;
use std::sync::Arc;
use std::task::{Context, Poll};

use futures::future::{Either, Ready};
use sofa_bolt::PeerIdentity;
use tower::{Layer, Service};

use super::{Filter, ProviderCall, ProviderInvoker};
use crate::context::RequestContext;
use crate::error::{ErrorKind, RpcError};
use crate::serialize::Reply;
use crate::service_id::ServiceId;

/// One permission: callers whose identity matches `identity` may call the methods matching
/// `method` of the services matching `service`.
///
/// Patterns are exact text with `*` standing for any run of characters (`*` alone matches
/// everything). The identity pattern is matched against every name the caller goes by (see
/// [`PeerIdentity::names`]): its subject (`CN=billing, O=Example`), its common name
/// (`billing`), and each alternative name with or without its kind (`DNS:billing.internal`,
/// `spiffe://example/billing`). The service pattern is matched against the interface name
/// (`com.example.Orders`) and the unique name (`com.example.Orders:1.0`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AuthzRule {
    identity: String,
    service: String,
    method: String,
}

impl AuthzRule {
    /// Allows callers matching `identity` to call `method` of `service`.
    pub fn allow(
        identity: impl Into<String>,
        service: impl Into<String>,
        method: impl Into<String>,
    ) -> Self {
        AuthzRule {
            identity: identity.into(),
            service: service.into(),
            method: method.into(),
        }
    }

    fn permits(&self, identity: &PeerIdentity, service: &ServiceId, method: &str) -> bool {
        glob(&self.method, method)
            && (glob(&self.service, service.interface())
                || glob(&self.service, service.unique_name()))
            && identity.names().any(|name| glob(&self.identity, name))
    }
}

/// The `authz` provider filter: a request runs only if some [`AuthzRule`] allows its caller
/// to call its service and method; otherwise the caller gets a `ServerFilter` error that
/// names its identity and what it called, and the method does not run. Callers without a
/// verified identity (a plain connection, or TLS without a client certificate) are always
/// denied: serve with mutual TLS (`ClientAuth::Required`) for this filter to mean anything.
///
/// ```
/// use sofa_rpc_core::filter::{AuthzFilter, AuthzRule};
/// use sofa_rpc_core::{ExtensionLoader, Server};
///
/// let mut loader = ExtensionLoader::default();
/// loader.register_filter(
///     "authz",
///     AuthzFilter::new([
///         // billing may read orders, nothing else.
///         AuthzRule::allow("billing", "com.example.Orders", "get*"),
///         // Anything under spiffe://example/ops may call everything.
///         AuthzRule::allow("spiffe://example/ops/*", "*", "*"),
///     ]),
/// );
/// let builder = Server::builder().extensions(loader).filters(["authz"]);
/// # let _ = builder;
/// ```
#[derive(Clone, Debug, Default)]
pub struct AuthzFilter {
    rules: Arc<[AuthzRule]>,
}

impl AuthzFilter {
    /// A filter allowing what `rules` allow, and nothing else.
    pub fn new(rules: impl IntoIterator<Item = AuthzRule>) -> Self {
        AuthzFilter {
            rules: rules.into_iter().collect(),
        }
    }

    /// Whether a caller of `identity` may call `method` of `service`; the reason if not.
    pub fn check(
        &self,
        identity: Option<&PeerIdentity>,
        service: &ServiceId,
        method: &str,
    ) -> Result<(), String> {
        let Some(identity) = identity else {
            return Err(format!(
                "access denied to {service}#{method}: the caller presented no verified \
                 certificate (mutual TLS is required)"
            ));
        };
        if self
            .rules
            .iter()
            .any(|rule| rule.permits(identity, service, method))
        {
            return Ok(());
        }
        Err(format!(
            "access denied: {identity} may not call {service}#{method}"
        ))
    }
}

impl Filter for AuthzFilter {
    fn provider(&self, next: ProviderInvoker) -> ProviderInvoker {
        ProviderInvoker::new(AuthzLayer(self.clone()).layer(next))
    }
}

#[derive(Clone, Debug)]
struct AuthzLayer(AuthzFilter);

impl<S> Layer<S> for AuthzLayer {
    type Service = AuthzService<S>;

    fn layer(&self, inner: S) -> Self::Service {
        AuthzService {
            filter: self.0.clone(),
            inner,
        }
    }
}

#[derive(Clone, Debug)]
struct AuthzService<S> {
    filter: AuthzFilter,
    inner: S,
}

type Done = (Reply, RequestContext);

impl<S> Service<ProviderCall> for AuthzService<S>
where
    S: Service<ProviderCall, Response = Done, Error = Infallible>,
{
    type Response = Done;
    type Error = Infallible;
    type Future = Either<Ready<Result<Done, Infallible>>, S::Future>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, call: ProviderCall) -> Self::Future {
        let context = &call.context;
        match self
            .filter
            .check(context.peer_identity(), context.service(), context.method())
        {
            Ok(()) => Either::Right(self.inner.call(call)),
            Err(reason) => {
                tracing::info!(peer = %context.peer_addr(), %reason, "request denied");
                let error = RpcError::new(ErrorKind::ServerFilter, reason);
                Either::Left(futures::future::ready(Ok((
                    Reply::Error(error),
                    call.context,
                ))))
            }
        }
    }
}

/// Whether `text` matches `pattern`, where `*` stands for any run of characters.
fn glob(pattern: &str, text: &str) -> bool {
    let mut parts = pattern.split('*');
    let Some(first) = parts.next() else {
        return text.is_empty();
    };
    let Some(mut rest) = text.strip_prefix(first) else {
        return false;
    };
    let mut parts: Vec<&str> = parts.collect();
    let Some(last) = parts.pop() else {
        // No `*`: the whole text must be the pattern.
        return rest.is_empty();
    };
    for part in parts {
        match rest.find(part) {
            Some(at) => rest = &rest[at + part.len()..],
            None => return false,
        }
    }
    rest.len() >= last.len() && rest.ends_with(last)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn glob_matches_stars_anywhere() {
        assert!(glob("*", ""));
        assert!(glob("*", "anything"));
        assert!(glob("billing", "billing"));
        assert!(!glob("billing", "billing2"));
        assert!(glob("get*", "getOrder"));
        assert!(!glob("get*", "putOrder"));
        assert!(glob("*Order", "getOrder"));
        assert!(glob(
            "spiffe://example/*/billing",
            "spiffe://example/prod/billing"
        ));
        assert!(!glob(
            "spiffe://example/*/billing",
            "spiffe://example/prod/orders"
        ));
        assert!(glob("a*b*c", "abc"));
        assert!(!glob("a*bc*c", "abc"));
        assert!(!glob("ab*ba", "aba"));
    }

    #[test]
    fn rules_match_any_name_of_the_caller_and_both_service_names() {
        let filter = AuthzFilter::new([AuthzRule::allow(
            "spiffe://example/billing",
            "com.example.Orders:1.0",
            "get*",
        )]);
        let billing = PeerIdentity::new(
            "CN=billing",
            Some("billing".into()),
            vec!["URI:spiffe://example/billing".into()],
        );
        let orders = ServiceId::new("com.example.Orders", "1.0", "");
        assert!(filter.check(Some(&billing), &orders, "getOrder").is_ok());
        let denied = filter.check(Some(&billing), &orders, "cancel").unwrap_err();
        assert!(
            denied.contains("CN=billing") && denied.contains("#cancel"),
            "{denied}"
        );
        let other = ServiceId::new("com.example.Orders", "2.0", "");
        assert!(filter.check(Some(&billing), &other, "getOrder").is_err());
        assert!(filter.check(None, &orders, "getOrder").is_err());
    }
}
