//! The reference: a minimal multiplexed echo over raw TCP, the least an RPC client and server
//! must do (a task per call, a queue to one writer task, a map of pending calls; the server
//! answers inline, one write per read).
//!
//! Wire: `u32 length (of what follows) | u64 call id | payload`.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use bytes::{Buf, BufMut, Bytes, BytesMut};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{mpsc, oneshot};

const BUF: usize = 64 * 1024;

/// Takes one complete frame off `buf`.
fn take_frame(buf: &mut BytesMut) -> Option<(u64, Bytes)> {
    let len = u32::from_be_bytes(buf.get(..4)?.try_into().ok()?) as usize;
    if len < 8 || buf.len() < 4 + len {
        return None;
    }
    buf.advance(4);
    let id = buf.get_u64();
    Some((id, buf.split_to(len - 8).freeze()))
}

/// Appends one frame to `buf`.
pub(crate) fn put_frame(buf: &mut BytesMut, id: u64, payload: &[u8]) {
    buf.reserve(12 + payload.len());
    buf.put_u32((8 + payload.len()) as u32);
    buf.put_u64(id);
    buf.put_slice(payload);
}

/// Listens on `addr`, says where on standard error (`<name> listening on <addr>`, which
/// `benches/run.sh` reads), and serves every connection it accepts with [`serve`].
pub async fn listen(addr: &str, name: &str) -> std::io::Result<()> {
    let listener = TcpListener::bind(addr).await?;
    eprintln!("{name} listening on {}", listener.local_addr()?);
    loop {
        let (stream, _) = listener.accept().await?;
        tokio::spawn(serve(stream));
    }
}

/// Serves one connection: decode every complete frame of each read, echo them all in one write.
pub async fn serve(stream: TcpStream) -> std::io::Result<()> {
    stream.set_nodelay(true)?;
    let (mut rd, mut wr) = stream.into_split();
    let mut rbuf = BytesMut::with_capacity(BUF);
    let mut wbuf = BytesMut::with_capacity(BUF);
    loop {
        if rd.read_buf(&mut rbuf).await? == 0 {
            return Ok(());
        }
        while let Some((id, payload)) = take_frame(&mut rbuf) {
            put_frame(&mut wbuf, id, &payload);
        }
        if !wbuf.is_empty() {
            wr.write_all(&wbuf).await?;
            wbuf.clear();
        }
        if rbuf.capacity() - rbuf.len() < 4096 {
            rbuf.reserve(BUF);
        }
    }
}

type Pending = Arc<Mutex<HashMap<u64, oneshot::Sender<Bytes>>>>;

/// One multiplexed connection.
#[derive(Clone)]
pub struct RawClient {
    tx: mpsc::Sender<(Bytes, oneshot::Sender<Bytes>)>,
}

impl RawClient {
    /// Connects and starts the writer and reader tasks.
    pub async fn connect(addr: &str) -> std::io::Result<RawClient> {
        let stream = TcpStream::connect(addr).await?;
        stream.set_nodelay(true)?;
        let (mut rd, mut wr) = stream.into_split();
        let pending: Pending = Arc::new(Mutex::new(HashMap::new()));
        let (tx, mut rx) = mpsc::channel::<(Bytes, oneshot::Sender<Bytes>)>(4096);
        let writer_pending = pending.clone();
        tokio::spawn(async move {
            let mut next = 0u64;
            let mut wbuf = BytesMut::with_capacity(BUF);
            while let Some(first) = rx.recv().await {
                let mut item = Some(first);
                while let Some((payload, done)) = item.take() {
                    next += 1;
                    if let Ok(mut map) = writer_pending.lock() {
                        map.insert(next, done);
                    }
                    put_frame(&mut wbuf, next, &payload);
                    if wbuf.len() < BUF {
                        item = rx.try_recv().ok();
                    }
                }
                if wr.write_all(&wbuf).await.is_err() {
                    return;
                }
                wbuf.clear();
            }
        });
        tokio::spawn(async move {
            let mut rbuf = BytesMut::with_capacity(BUF);
            while matches!(rd.read_buf(&mut rbuf).await, Ok(n) if n > 0) {
                while let Some((id, payload)) = take_frame(&mut rbuf) {
                    let done = pending.lock().ok().and_then(|mut m| m.remove(&id));
                    if let Some(done) = done {
                        let _ = done.send(payload);
                    }
                }
                if rbuf.capacity() - rbuf.len() < 4096 {
                    rbuf.reserve(BUF);
                }
            }
        });
        Ok(RawClient { tx })
    }

    /// One echo call.
    pub async fn call(&self, payload: Bytes) -> Result<Bytes, String> {
        let (done, wait) = oneshot::channel();
        self.tx
            .send((payload, done))
            .await
            .map_err(|_| "connection closed".to_string())?;
        wait.await.map_err(|_| "no response".to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frames_round_trip_and_wait_for_whole_frames() {
        let mut buf = BytesMut::new();
        put_frame(&mut buf, 7, b"abc");
        put_frame(&mut buf, 8, b"");
        let mut partial = buf.split_to(5);
        assert!(take_frame(&mut partial).is_none());
        partial.unsplit(buf);
        assert_eq!(
            take_frame(&mut partial),
            Some((7, Bytes::from_static(b"abc")))
        );
        assert_eq!(take_frame(&mut partial), Some((8, Bytes::new())));
        assert!(partial.is_empty());
    }
}
