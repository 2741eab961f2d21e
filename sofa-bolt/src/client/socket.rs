//! The plain TCP stream of a client connection, shared by its task and its callers.
//!
//! The connection task reads and writes through [`SharedTcp`], as through any
//! [`BoltStream`]; a caller alone on the connection writes its request through the outbox's
//! handle on the write half while the task is idle (see `outbox`, whose lock keeps the two
//! from writing at once). Writes go through the socket's readiness and its non-blocking
//! `try_` calls, which take `&TcpStream`: one descriptor, shared. Reads go through tokio's
//! own read half, which takes a read that leaves room in the buffer as proof the socket is
//! drained, so a quiet connection costs no second read per answer.

use std::io::{self, IoSlice};
use std::pin::Pin;
use std::sync::Arc;
use std::task::{ready, Context, Poll};

use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::tcp::{OwnedReadHalf, OwnedWriteHalf};
use tokio::net::TcpStream;

use crate::stream::BoltStream;

/// A TCP stream whose write half the connection task shares with the callers' outbox.
pub(super) struct SharedTcp {
    read: OwnedReadHalf,
    write: Arc<OwnedWriteHalf>,
}

impl SharedTcp {
    /// The stream, and the handle on its write half for the outbox.
    pub(super) fn new(stream: TcpStream) -> (Self, Arc<OwnedWriteHalf>) {
        let (read, write) = stream.into_split();
        let write = Arc::new(write);
        (
            SharedTcp {
                read,
                write: write.clone(),
            },
            write,
        )
    }
}

/// The write half, borrowed.
pub(super) struct Half<'a>(&'a TcpStream);

impl BoltStream for SharedTcp {
    type Reader<'a> = &'a mut OwnedReadHalf;
    type Writer<'a> = Half<'a>;
    const BUFFERS_WRITES: bool = false;

    fn halves(&mut self) -> (&mut OwnedReadHalf, Half<'_>) {
        (&mut self.read, Half((*self.write).as_ref()))
    }
}

fn poll_write_with(
    tcp: &TcpStream,
    cx: &mut Context<'_>,
    write: impl Fn(&TcpStream) -> io::Result<usize>,
) -> Poll<io::Result<usize>> {
    loop {
        ready!(tcp.poll_write_ready(cx))?;
        // A readiness that turns out stale is cleared by the failed try: wait again.
        match write(tcp) {
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => continue,
            done => return Poll::Ready(done),
        }
    }
}

impl AsyncWrite for Half<'_> {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        poll_write_with(self.0, cx, |tcp| tcp.try_write(buf))
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        poll_write_with(self.0, cx, |tcp| tcp.try_write_vectored(bufs))
    }

    fn is_write_vectored(&self) -> bool {
        true
    }

    fn poll_flush(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(Ok(()))
    }

    /// A half does not close the stream: [`SharedTcp`] does.
    fn poll_shutdown(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(Ok(()))
    }
}

impl AsyncRead for SharedTcp {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        Pin::new(&mut self.read).poll_read(cx, buf)
    }
}

impl AsyncWrite for SharedTcp {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        poll_write_with((*self.write).as_ref(), cx, |tcp| tcp.try_write(buf))
    }

    fn poll_flush(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(Ok(()))
    }

    /// Shuts the write side once the outbox let go of its handle, as it does when the
    /// connection closes; otherwise the write side shuts when the last handle goes.
    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match Arc::get_mut(&mut self.write) {
            Some(write) => Pin::new(write).poll_shutdown(cx),
            None => Poll::Ready(Ok(())),
        }
    }
}
