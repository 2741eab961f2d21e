//! `failover`: retry on another provider when the failure allows it.

use futures::future::BoxFuture;

use super::{Cluster, ClusterContext};
use crate::error::Result;
use crate::filter::Attempt;
use crate::invocation::Invocation;
use crate::response::Response;

/// Tries up to `retries + 1` providers, never one twice (with none left untried, the last
/// error is the call's), and retries only errors that are
/// [retryable](crate::RpcError::is_retryable): the provider was busy, the call timed out, or
/// the request never left this process. SOFARPC's default cluster.
#[derive(Clone, Copy, Debug, Default)]
pub struct FailOver;

impl Cluster for FailOver {
    fn invoke(
        &self,
        mut invocation: Invocation,
        ctx: ClusterContext,
    ) -> BoxFuture<'static, Result<Response>> {
        Box::pin(async move {
            let attempts = ctx.retries().saturating_add(1);
            if attempts > 1 {
                // Retries share the call's time: they never extend it.
                invocation.context_mut().fix_deadline();
            }
            let mut tried = Vec::new();
            let mut attempt = 1;
            let mut provider = ctx.select(&invocation, &tried)?;
            loop {
                if attempt >= attempts {
                    // The last attempt allowed takes the call itself: nothing is kept for
                    // another (with no retries, SOFARPC's default, that is the first).
                    return ctx
                        .invoke(Attempt {
                            provider,
                            number: attempt,
                            invocation,
                        })
                        .await;
                }
                let outcome = ctx
                    .invoke(Attempt {
                        provider: provider.clone(),
                        number: attempt,
                        invocation: invocation.clone(),
                    })
                    .await;
                let error = match outcome {
                    Err(e) if e.is_retryable() => e,
                    outcome => return outcome,
                };
                tried.push(provider);
                // Never the same provider twice: with none left, the last error stands.
                provider = match ctx.select(&invocation, &tried) {
                    Ok(next) => next,
                    Err(_) => return Err(error),
                };
                tracing::debug!(
                    provider = %provider.address(),
                    service = %invocation.service(),
                    method = invocation.method(),
                    attempt,
                    error = %error,
                    "retrying on another provider"
                );
                attempt += 1;
            }
        })
    }
}
