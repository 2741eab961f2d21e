//! `failfast`: one attempt, the error as it comes.

use futures::future::BoxFuture;

use super::{Cluster, ClusterContext};
use crate::error::Result;
use crate::filter::Attempt;
use crate::invocation::Invocation;
use crate::response::Response;

/// Sends the call to one provider and reports its outcome, whatever it is.
#[derive(Clone, Copy, Debug, Default)]
pub struct FailFast;

impl Cluster for FailFast {
    fn invoke(
        &self,
        invocation: Invocation,
        ctx: ClusterContext,
    ) -> BoxFuture<'static, Result<Response>> {
        Box::pin(async move {
            let provider = ctx.select(&invocation, &[])?;
            let attempt = Attempt {
                provider,
                number: 1,
                invocation,
            };
            ctx.invoke(attempt).await
        })
    }
}
