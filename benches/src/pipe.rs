//! The raw-pipe reference client: the least work that keeps calls in flight on a connection, so
//! the other clients can be measured against the wire and system-call limit of the echo.
//!
//! One task per connection and nothing per call (no task, channel, map, lock or allocation):
//! the task writes its whole share of requests at once, then loops: read what arrived, decode
//! every complete response in the buffer, record each latency, append the next request for each
//! to the write buffer, and send that batch in one write. Wire and server are [`crate::raw`]'s.
//!
//! The write does not block the loop: what the socket does not take at once waits for
//! writability while reading goes on. The server, too, writes all it read before it reads again,
//! so two blocking writers would deadlock as soon as the bytes in flight outgrew the socket
//! buffers (large payloads, many calls in flight).

use std::time::{Duration, Instant};

use bytes::{Buf, BytesMut};
use tokio::io::AsyncReadExt;
use tokio::net::TcpStream;

use crate::load::{connect_with_retry, payload, report, Args, Tally, WindowStart};
use crate::raw::put_frame;

const BUF: usize = 64 * 1024;

/// How long the calls still in flight at the end of the run may take before they count as lost.
pub const GRACE: Duration = Duration::from_secs(5);

/// What one connection does.
#[derive(Clone, Debug)]
pub struct Plan {
    /// Calls kept in flight on this connection.
    pub in_flight: usize,
    /// Payload bytes per call.
    pub payload: usize,
    /// Calls sent before this instant are not measured.
    pub warm_end: Instant,
    /// No call is sent from this instant on.
    pub end: Instant,
    /// How long after `end` the connection waits for the calls still in flight.
    pub grace: Duration,
}

/// The call in flight in one slot.
#[derive(Clone, Copy)]
struct Call {
    id: u64,
    sent: Instant,
}

/// The length field and request id at the start of `buf`, once all 12 bytes are there.
fn frame_head(buf: &[u8]) -> Option<(usize, u64)> {
    let len = u32::from_be_bytes(buf.get(..4)?.try_into().ok()?) as usize;
    let id = u64::from_be_bytes(buf.get(4..12)?.try_into().ok()?);
    Some((len, id))
}

/// The bytes of `in_flight` request frames of `payload` bytes each, if a frame's u32 length field
/// can say its length and the whole batch can be addressed.
fn batch_bytes(in_flight: usize, payload: usize) -> Result<usize, String> {
    u32::try_from(payload)
        .ok()
        .and_then(|p| p.checked_add(8))
        .and_then(|_| payload.checked_add(12))
        .ok_or_else(|| format!("a payload of {payload} bytes does not fit a frame"))?
        .checked_mul(in_flight)
        .ok_or_else(|| format!("{in_flight} calls of {payload} bytes overflow a buffer size"))
}

/// Runs the closed loop of one connection until `plan.end`, then waits for the calls in flight.
/// A failure of the connection or a response that does not fit ends the loop and counts every
/// call still in flight as failed, naming the cause; `Err` only for a plan that cannot run.
pub async fn pipe(mut stream: TcpStream, plan: &Plan) -> Result<Tally, String> {
    let mut tally = Tally::new()?;
    let mut wbuf = BytesMut::with_capacity(batch_bytes(plan.in_flight, plan.payload)?);
    let n = plan.in_flight;
    let start = Instant::now();
    if n == 0 || start >= plan.end {
        return Ok(tally);
    }
    let body = payload(plan.payload);
    // The length field of an echo: the id and the payload.
    let expect_len = 8 + plan.payload;
    // Slot i carries request ids i, i + n, i + 2n, ...: a response's slot is its id mod n, and
    // the id it must carry is the one the slot holds (a stray or repeated id is caught).
    let mut slots: Vec<Option<Call>> = Vec::with_capacity(n);
    for id in 0..n as u64 {
        slots.push(Some(Call { id, sent: start }));
        put_frame(&mut wbuf, id, &body);
    }
    let mut in_flight = n;
    let mut rbuf = BytesMut::with_capacity(BUF);
    let (mut rd, wr) = stream.split();
    let stop = tokio::time::sleep_until((plan.end + plan.grace).into());
    tokio::pin!(stop);

    let failure = 'run: loop {
        if !wbuf.is_empty() {
            match wr.try_write(&wbuf) {
                Ok(k) => wbuf.advance(k),
                Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {}
                Err(e) => break 'run format!("write to the server failed: {e}"),
            }
        }
        if in_flight == 0 {
            return Ok(tally);
        }
        let read = tokio::select! {
            biased;
            read = rd.read_buf(&mut rbuf) => read,
            ready = wr.writable(), if !wbuf.is_empty() => match ready {
                Ok(()) => continue,
                Err(e) => break 'run format!("waiting to write to the server failed: {e}"),
            },
            () = &mut stop => break 'run format!(
                "no response within {:?} after the end of the run", plan.grace
            ),
        };
        match read {
            Ok(0) if rbuf.is_empty() => break 'run "the server closed the connection".into(),
            Ok(0) => {
                break 'run format!(
                    "short read: the server closed the connection {} bytes into a frame",
                    rbuf.len()
                )
            }
            Ok(_) => {}
            Err(e) => break 'run format!("read from the server failed: {e}"),
        }

        // One clock read per read: the responses in it arrived together, and the requests
        // they release leave together.
        let now = Instant::now();
        let sending = now < plan.end;
        let mut pos = 0;
        while let Some((len, id)) = rbuf.get(pos..).and_then(frame_head) {
            if len != expect_len {
                break 'run format!("response frame of {len} bytes, expected {expect_len}");
            }
            if rbuf.len() < pos + 4 + len {
                break;
            }
            pos += 4 + len;
            let slot = (id % n as u64) as usize;
            let Some(call) = slots.get_mut(slot).and_then(|s| s.take_if(|c| c.id == id)) else {
                break 'run format!("response to request id {id}, which is not in flight");
            };
            if call.sent >= plan.warm_end {
                tally.record(now.duration_since(call.sent).as_nanos());
            }
            in_flight -= 1;
            if sending {
                let next = call.id + n as u64;
                put_frame(&mut wbuf, next, &body);
                if let Some(s) = slots.get_mut(slot) {
                    *s = Some(Call {
                        id: next,
                        sent: now,
                    });
                }
                in_flight += 1;
            }
        }
        rbuf.advance(pos);
        if rbuf.capacity() - rbuf.len() < 4096 {
            rbuf.reserve(BUF);
        }
    };
    tally.fail(in_flight as u64, || failure);
    Ok(tally)
}

/// Connects `args.conns` connections, shares `args.concurrency` calls in flight among them as
/// the shared driver does (connection `i` gets calls `i, i + conns, ...`), runs one [`pipe`]
/// task per connection and returns the JSON result line.
pub async fn run(args: &Args) -> Result<String, String> {
    // Before connecting: a plan that cannot run fails here, not once per connection.
    batch_bytes(args.concurrency, args.payload)?;
    let secs = |key: &str, secs: f64| {
        Duration::try_from_secs_f64(secs).map_err(|_| format!("{key} {secs} is not a duration"))
    };
    let (warmup, duration) = (
        secs("--warmup", args.warmup)?,
        secs("--duration", args.duration)?,
    );
    let mut streams = Vec::with_capacity(args.conns);
    for _ in 0..args.conns {
        let stream = connect_with_retry(|| TcpStream::connect(&args.addr))
            .await
            .map_err(|e| format!("connect to {}: {e}", args.addr))?;
        stream.set_nodelay(true).map_err(|e| e.to_string())?;
        streams.push(stream);
    }
    let warm_end = Instant::now() + warmup;
    let end = warm_end + duration;
    let window = tokio::spawn(WindowStart::at(warm_end, args.server_pid));
    let mut tasks = Vec::with_capacity(args.conns);
    for (i, stream) in streams.into_iter().enumerate() {
        let plan = Plan {
            in_flight: args.concurrency / args.conns
                + usize::from(i < args.concurrency % args.conns),
            payload: args.payload,
            warm_end,
            end,
            grace: GRACE,
        };
        tasks.push(tokio::spawn(async move { pipe(stream, &plan).await }));
    }
    let mut total = Tally::new()?;
    for task in tasks {
        total.merge(task.await.map_err(|e| e.to_string())??)?;
    }
    let window = window.await.map_err(|e| e.to_string())?;
    Ok(report("raw-pipe", args, window, &total))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::future::Future;
    use tokio::io::AsyncWriteExt;
    use tokio::net::TcpListener;

    /// Every test ends well within this, or fails.
    const BOUND: Duration = Duration::from_secs(20);

    /// A listener on 127.0.0.1:0 whose first accepted connection is handed to `peer`.
    async fn server<F, Fut>(peer: F) -> String
    where
        F: FnOnce(TcpStream) -> Fut + Send + 'static,
        Fut: Future<Output = ()> + Send + 'static,
    {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap().to_string();
        tokio::spawn(async move {
            let (stream, _) = listener.accept().await.unwrap();
            peer(stream).await;
        });
        addr
    }

    fn plan(in_flight: usize, payload: usize, run: Duration, grace: Duration) -> Plan {
        let now = Instant::now();
        Plan {
            in_flight,
            payload,
            warm_end: now,
            end: now + run,
            grace,
        }
    }

    async fn pipe_to(addr: &str, plan: Plan) -> Tally {
        let stream = TcpStream::connect(addr).await.unwrap();
        tokio::time::timeout(BOUND, pipe(stream, &plan))
            .await
            .expect("the client stops on its own")
            .unwrap()
    }

    #[tokio::test]
    async fn keeps_calls_in_flight_against_the_raw_server() {
        let addr = server(|s| async move { crate::raw::serve(s).await.unwrap() }).await;
        let t = pipe_to(&addr, plan(16, 100, Duration::from_millis(300), GRACE)).await;
        assert_eq!((t.errors, t.first_error), (0, None));
        // 16 in flight from the start, each completing at least once.
        assert!(t.ok >= 16, "only {} calls", t.ok);
        assert_eq!(t.hist.len(), t.ok);
    }

    /// A socket whose kernel buffers are pinned small (which also stops their autotuning).
    fn small_buffers() -> tokio::net::TcpSocket {
        let socket = tokio::net::TcpSocket::new_v4().unwrap();
        socket.set_send_buffer_size(16 * 1024).unwrap();
        socket.set_recv_buffer_size(16 * 1024).unwrap();
        socket
    }

    #[tokio::test]
    async fn batches_larger_than_the_socket_buffers_do_not_deadlock() {
        // 32 x 16 KiB = 512 KiB in flight each way through buffers of some 16 KiB per socket
        // (accepted sockets take the listener's): a client that blocked in a write without
        // reading would stall here, since the server also writes all it read before reading on.
        let listener = small_buffers();
        listener.bind("127.0.0.1:0".parse().unwrap()).unwrap();
        let listener = listener.listen(16).unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(async move {
            let (s, _) = listener.accept().await.unwrap();
            crate::raw::serve(s).await.unwrap();
        });
        let stream = small_buffers().connect(addr).await.unwrap();
        let plan = plan(32, 16 * 1024, Duration::from_millis(300), GRACE);
        let t = tokio::time::timeout(BOUND, pipe(stream, &plan))
            .await
            .expect("the client stops on its own")
            .unwrap();
        assert_eq!((t.errors, t.first_error), (0, None));
        assert!(t.ok >= 32, "only {} calls", t.ok);
    }

    #[tokio::test]
    async fn a_short_read_counts_the_calls_in_flight_as_failed() {
        let addr = server(|mut s| async move {
            // All 8 requests (empty payloads) read, so that closing sends a FIN, not a reset.
            let mut buf = [0u8; 8 * 12];
            tokio::io::AsyncReadExt::read_exact(&mut s, &mut buf)
                .await
                .unwrap();
            // Half a response, then gone.
            s.write_all(&buf[..6]).await.unwrap();
            s.shutdown().await.unwrap();
        })
        .await;
        let t = pipe_to(&addr, plan(8, 0, Duration::from_secs(10), GRACE)).await;
        assert_eq!((t.ok, t.errors), (0, 8));
        let why = t.first_error.unwrap();
        assert!(
            why.contains("short read") && why.contains("6 bytes"),
            "{why}"
        );
    }

    #[tokio::test]
    async fn a_server_that_closes_is_reported() {
        let addr = server(|s| async move { drop(s) }).await;
        let t = pipe_to(&addr, plan(4, 16, Duration::from_secs(10), GRACE)).await;
        assert_eq!(t.errors, 4);
        let why = t.first_error.unwrap();
        assert!(why.contains("closed") || why.contains("failed"), "{why}");
    }

    #[tokio::test]
    async fn a_silent_server_ends_the_run_after_the_grace() {
        let addr = server(|s| async move {
            tokio::time::sleep(BOUND).await;
            drop(s);
        })
        .await;
        let started = Instant::now();
        let t = pipe_to(
            &addr,
            plan(
                4,
                16,
                Duration::from_millis(100),
                Duration::from_millis(200),
            ),
        )
        .await;
        assert!(started.elapsed() >= Duration::from_millis(300));
        assert_eq!((t.ok, t.errors), (0, 4));
        assert!(t.first_error.unwrap().contains("no response within"));
    }

    #[tokio::test]
    async fn responses_that_do_not_fit_are_named() {
        // A response of the wrong length, then one to an id never sent.
        let cases: [(&[u8], &str); 2] = [
            (&[0, 0, 0, 9, 0, 0, 0, 0, 0, 0, 0, 0, 1], "frame of 9 bytes"),
            (&[0, 0, 0, 8, 0, 0, 0, 0, 0, 0, 0, 7], "request id 7"),
        ];
        for (answer, expect) in cases {
            let addr = server(move |mut s| async move {
                s.write_all(answer).await.unwrap();
                tokio::time::sleep(BOUND).await;
            })
            .await;
            let t = pipe_to(&addr, plan(2, 0, Duration::from_secs(10), GRACE)).await;
            assert_eq!(t.errors, 2);
            let why = t.first_error.unwrap();
            assert!(why.contains(expect), "{why}");
        }
    }

    #[test]
    fn plans_whose_frames_cannot_be_written_are_refused() {
        assert_eq!(batch_bytes(4, 100), Ok(4 * 112));
        assert!(batch_bytes(1, u32::MAX as usize - 8).is_ok());
        assert!(batch_bytes(1, u32::MAX as usize - 7).is_err());
        assert!(batch_bytes(usize::MAX / 2, 1 << 20).is_err());
    }

    #[tokio::test]
    async fn run_shares_the_calls_over_the_connections_and_reports_a_line() {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap().to_string();
        tokio::spawn(async move {
            while let Ok((s, _)) = listener.accept().await {
                tokio::spawn(crate::raw::serve(s));
            }
        });
        let argv = format!("--addr {addr} --conns 3 --concurrency 5 --payload 32 --duration 0.3 --warmup 0.1 --label t");
        let args = Args::parse(argv.split(' ').map(String::from)).unwrap();
        let line = tokio::time::timeout(BOUND, run(&args))
            .await
            .unwrap()
            .unwrap();
        assert!(
            line.starts_with(
                "{\"framework\":\"raw-pipe\",\"label\":\"t\",\"conns\":3,\"concurrency\":5,"
            ),
            "{line}"
        );
        assert!(
            line.contains("\"errors\":0,") && !line.contains("\"ok\":0,"),
            "{line}"
        );
        assert!(line.ends_with("\"first_error\":null}"), "{line}");
    }
}
