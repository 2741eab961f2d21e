//! The future of one request's response.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use super::pending::Place;
use super::Shared;
use crate::error::{Error, ErrorKind, Result};
use crate::frame::Frame;
use pin_project_lite::pin_project;

pin_project! {
    /// Resolves to the response frame of one request, or to an error when the call timed out
    /// or the connection closed first.
    ///
    /// Responses can come back in any order; each future only sees its own. A future that is
    /// dropped, or that times out, frees its slot at once, and a late response for it is
    /// discarded. Non-success statuses are returned as frames, not errors: what they mean is
    /// up to the caller.
    #[must_use = "a response future does nothing unless awaited"]
    pub struct ResponseFuture {
        state: State,
        id: i32,
    }

    impl PinnedDrop for ResponseFuture {
        fn drop(this: Pin<&mut Self>) {
            let this = this.project();
            if let State::Waiting { shared, place } = this.state {
                shared.pending.cancel(*place, *this.id);
            }
        }
    }
}

enum State {
    Waiting { shared: Arc<Shared>, place: Place },
    Failed(Error),
    Done,
}

impl ResponseFuture {
    /// Waits for the response to `id`. The connection task fails the call when its timeout
    /// has passed.
    pub(super) fn waiting(shared: Arc<Shared>, place: Place, id: i32) -> Self {
        ResponseFuture {
            state: State::Waiting { shared, place },
            id,
        }
    }

    pub(super) fn failed(error: Error) -> Self {
        ResponseFuture {
            state: State::Failed(error),
            id: 0,
        }
    }

    /// The request id the response is awaited under (0 if the request was never sent).
    pub fn request_id(&self) -> i32 {
        self.id
    }
}

impl Future for ResponseFuture {
    type Output = Result<Frame>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.project();
        let outcome = match this.state {
            State::Waiting { shared, place } => match shared.pending.poll(*place, *this.id, cx) {
                Poll::Ready(outcome) => outcome,
                Poll::Pending => return Poll::Pending,
            },
            State::Failed(error) => Err(error.clone()),
            State::Done => Err(Error::new(
                ErrorKind::ConnectionClosed,
                "response future polled after completion",
            )),
        };
        *this.state = State::Done;
        Poll::Ready(outcome)
    }
}
