//! The plain TCP stream of a client connection, shared by its task and its callers.
//!
//! The connection task reads and writes through [`SharedTcp`], as through any
//! [`BoltStream`]; a caller alone on the connection writes its request through the outbox's
//! handle on the write half ([`SharedWrite`]) while the task is idle (see `outbox`, whose lock
//! keeps the two from writing at once). Writes go through the socket's readiness and its
//! non-blocking `try_` calls, which take `&TcpStream`: one descriptor, shared.
//!
//! How the task reads depends on who wrote the last request. After a lone request written by
//! its caller, a read that leaves room in the buffer is taken as proof that the socket is
//! drained (tokio's own read half does this), so that the answer costs one read, not a second
//! one that finds nothing. While the task writes requests in rounds, answers keep coming, and
//! the task reads again at once, which finds the next ones without a turn through the poller.

use std::io::{self, IoSlice};
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::task::{ready, Context, Poll};

use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::tcp::{OwnedReadHalf, OwnedWriteHalf};
use tokio::net::TcpStream;

use crate::stream::BoltStream;

/// A TCP stream whose write half the connection task shares with the callers' outbox.
pub(super) struct SharedTcp {
    read: OwnedReadHalf,
    write: Arc<SharedWrite>,
}

impl SharedTcp {
    /// The stream, and the handle on its write half for the outbox.
    pub(super) fn new(stream: TcpStream) -> (Self, Arc<SharedWrite>) {
        let (read, half) = stream.into_split();
        let write = Arc::new(SharedWrite {
            half,
            lone: AtomicBool::new(false),
        });
        (
            SharedTcp {
                read,
                write: write.clone(),
            },
            write,
        )
    }
}

/// The write half of a client connection's socket, as the outbox holds it.
pub(super) struct SharedWrite {
    half: OwnedWriteHalf,
    /// Whether the last request went out from its caller, alone on the connection.
    lone: AtomicBool,
}

impl SharedWrite {
    /// Writes what the socket takes of `buf` without waiting.
    pub(super) fn try_write(&self, buf: &[u8]) -> io::Result<usize> {
        self.half.try_write(buf)
    }

    /// Says whether the last request went out from its caller, alone (`true`), or from the
    /// connection task. Only a hint for how to read: any order of the two is correct.
    pub(super) fn set_lone(&self, lone: bool) {
        self.lone.store(lone, Ordering::Relaxed);
    }

    /// Whether the last request went out from its caller, alone.
    pub(super) fn is_lone(&self) -> bool {
        self.lone.load(Ordering::Relaxed)
    }

    /// The socket.
    pub(super) fn tcp(&self) -> &TcpStream {
        self.half.as_ref()
    }
}

/// The read half, borrowed, with the write half it learns how to read from.
pub(super) struct ReadSide<'a> {
    half: &'a mut OwnedReadHalf,
    write: &'a SharedWrite,
}

/// The write half, borrowed.
pub(super) struct Half<'a>(&'a TcpStream);

impl BoltStream for SharedTcp {
    type Reader<'a> = ReadSide<'a>;
    type Writer<'a> = Half<'a>;
    const BUFFERS_WRITES: bool = false;

    fn halves(&mut self) -> (ReadSide<'_>, Half<'_>) {
        let write = &*self.write;
        (
            ReadSide {
                half: &mut self.read,
                write,
            },
            Half(write.tcp()),
        )
    }
}

/// Reads tokio's way after a lone request, and to the bottom otherwise (see the module's
/// documentation).
fn poll_read(
    half: &mut OwnedReadHalf,
    write: &SharedWrite,
    cx: &mut Context<'_>,
    buf: &mut ReadBuf<'_>,
) -> Poll<io::Result<()>> {
    if write.is_lone() {
        return Pin::new(half).poll_read(cx, buf);
    }
    let tcp = half.as_ref();
    loop {
        ready!(tcp.poll_read_ready(cx))?;
        // A readiness that turns out stale is cleared by the failed try: wait again.
        match tcp.try_read_buf(buf) {
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => continue,
            done => return Poll::Ready(done.map(drop)),
        }
    }
}

impl AsyncRead for ReadSide<'_> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let this = &mut *self;
        poll_read(this.half, this.write, cx, buf)
    }
}

fn poll_write_with(
    tcp: &TcpStream,
    cx: &mut Context<'_>,
    write: impl Fn(&TcpStream) -> io::Result<usize>,
) -> Poll<io::Result<usize>> {
    loop {
        ready!(tcp.poll_write_ready(cx))?;
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
        let this = &mut *self;
        poll_read(&mut this.read, &this.write, cx, buf)
    }
}

impl AsyncWrite for SharedTcp {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        poll_write_with(self.write.tcp(), cx, |tcp| tcp.try_write(buf))
    }

    fn poll_flush(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(Ok(()))
    }

    /// Shuts the write side once the outbox let go of its handle, as it does when the
    /// connection closes; otherwise the write side shuts when the last handle goes.
    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match Arc::get_mut(&mut self.write) {
            Some(write) => Pin::new(&mut write.half).poll_shutdown(cx),
            None => Poll::Ready(Ok(())),
        }
    }
}
