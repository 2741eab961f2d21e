//! Memory under many connections that announce large frames: the server-wide budget of bytes
//! in partial frames holds, and a well-behaved client is served throughout. Alone in its test
//! binary because it measures the process's resident memory.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use common::{echo_server, encode, ECHO};
use sofa_bolt::{Connection, ConnectionConfig, Frame, HeaderMap, ServerConfig};
use tokio::io::AsyncWriteExt;
use tokio::net::TcpStream;

const MIB: usize = 1024 * 1024;

/// A memory figure of this process (`VmRSS`, `VmSize`), from /proc/self/status.
fn status_bytes(field: &str) -> usize {
    let status = std::fs::read_to_string("/proc/self/status").unwrap();
    let line = status.lines().find(|l| l.starts_with(field)).unwrap();
    let kb: usize = line.split_whitespace().nth(1).unwrap().parse().unwrap();
    kb * 1024
}

/// Resident memory of this process.
fn vm_rss() -> usize {
    status_bytes("VmRSS:")
}

/// The first bytes of a request for `test.Echo` whose header announces `content` bytes.
fn announcing(content: u32) -> Vec<u8> {
    let mut wire = encode(&Frame::request(ECHO, HeaderMap::new(), ""));
    wire[18..22].copy_from_slice(&content.to_be_bytes());
    wire
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_thousand_connections_announcing_8_mib_frames_stay_within_the_budget() {
    const CONNS: usize = 1000;
    const BUDGET: usize = 32 * MIB;
    const ATTACK: Duration = Duration::from_secs(4);
    const GIVE_UP: Duration = Duration::from_secs(30);
    let server = echo_server(ServerConfig {
        max_partial_bytes: BUDGET,
        ..ServerConfig::default()
    })
    .await;
    let addr = server.local_addr();
    let good = Connection::connect(addr, ConnectionConfig::default())
        .await
        .unwrap();
    good.request(
        Frame::request(ECHO, HeaderMap::new(), "warm"),
        Duration::from_secs(2),
    )
    .await
    .unwrap();

    let before = vm_rss();

    // Every attacker stops one byte short of completing its frame.
    const CONTENT: usize = 8 * MIB - 64;
    let header = Arc::new(announcing(CONTENT as u32));
    let sent = Arc::new(AtomicUsize::new(0));
    // The attack goes on until the good client has seen enough of it (below), however slow
    // the machine is at the moment.
    let stop = Arc::new(AtomicBool::new(false));
    let mut attackers = Vec::new();
    for _ in 0..CONNS {
        let header = header.clone();
        let sent = sent.clone();
        let stop = stop.clone();
        attackers.push(tokio::spawn(async move {
            static ZEROS: [u8; 64 * 1024] = [0; 64 * 1024];
            let Ok(mut s) = TcpStream::connect(addr).await else {
                return;
            };
            if s.write_all(&header).await.is_err() {
                return;
            }
            let mut left = CONTENT - 1;
            while !stop.load(Ordering::Relaxed) && left > 0 {
                let chunk = &ZEROS[..left.min(ZEROS.len())];
                match tokio::time::timeout(Duration::from_millis(200), s.write(chunk)).await {
                    Ok(Ok(n)) if n > 0 => {
                        left -= n;
                        sent.fetch_add(n, Ordering::Relaxed);
                    }
                    Ok(_) => return,
                    Err(_) => {}
                }
            }
        }));
    }

    let mut peak_rss = 0;
    let mut peak_partial = 0;
    let (mut ok, mut failed) = (0u32, 0u32);
    let mut i = 0u32;
    // At least ATTACK long, at least ten calls, and until the attack has sent twice the
    // budget; a client starved for GIVE_UP fails the test.
    let started = Instant::now();
    while started.elapsed() < ATTACK || ok < 10 || sent.load(Ordering::Relaxed) <= 2 * BUDGET {
        if started.elapsed() > GIVE_UP {
            break;
        }
        peak_rss = peak_rss.max(vm_rss());
        peak_partial = peak_partial.max(server.partial_bytes());
        i += 1;
        let body = format!("call {i}");
        match good
            .request(
                Frame::request(ECHO, HeaderMap::new(), body.clone()),
                Duration::from_secs(2),
            )
            .await
        {
            Ok(resp) if resp.content() == body.as_bytes() => ok += 1,
            outcome => {
                println!("good client, call {i}: {outcome:?}");
                failed += 1;
            }
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    stop.store(true, Ordering::Relaxed);
    let attack = started.elapsed();
    for a in attackers {
        a.await.unwrap();
    }
    let grown = peak_rss.saturating_sub(before);
    println!(
        "{CONNS} connections sent {} MiB in {attack:?}; partial bytes peaked at {} MiB of a {} MiB \
         budget; RSS {} MiB before, peak {} MiB (+{} MiB); good client: {ok} ok, {failed} failed",
        sent.load(Ordering::Relaxed) / MIB,
        peak_partial / MIB,
        BUDGET / MIB,
        before / MIB,
        peak_rss / MIB,
        grown / MIB,
    );
    assert!(
        sent.load(Ordering::Relaxed) > 2 * BUDGET,
        "the attack sent more than the budget"
    );
    // The budget is checked after each read of at most 64 KiB; a 16 KiB allowance per
    // connection is never closed for it.
    assert!(
        peak_partial <= BUDGET + CONNS * 16 * 1024 + 2 * 64 * 1024,
        "partial bytes {peak_partial}"
    );
    // Measured: 17 to 47 MiB above the budget, with budgets of 8, 32 and 96 MiB alike: the
    // buffers, tasks and sockets of both ends of 1,000 connections, and freed frame buffers
    // the allocator keeps (how many depends on how the runs interleave).
    assert!(
        grown <= BUDGET + 64 * MIB,
        "RSS grew by {} MiB",
        grown / MIB
    );
    // Served throughout: a starved client would see its 2 s calls fail one after the other,
    // and not reach ten answers within GIVE_UP. (On a loaded 2-vCPU machine a debug build has
    // been seen to miss 1 call in 45.)
    assert!(
        ok >= 10 && failed * 20 <= ok,
        "the good client was not served throughout: {ok} ok, {failed} failed in {attack:?}"
    );

    // Headers alone: nothing is reserved for the frames they announce (a thousand 8 MiB
    // reservations would be 8 GB of address space).
    let size_before = status_bytes("VmSize:");
    let header = announcing(CONTENT as u32);
    let mut idle = Vec::new();
    for _ in 0..CONNS {
        let mut s = TcpStream::connect(addr).await.unwrap();
        s.write_all(&header).await.unwrap();
        idle.push(s);
    }
    tokio::time::sleep(Duration::from_millis(300)).await;
    let size_grown = status_bytes("VmSize:").saturating_sub(size_before);
    println!(
        "{CONNS} connections that sent an 8 MiB header: address space +{} MiB",
        size_grown / MIB
    );
    assert!(
        size_grown < 512 * MIB,
        "address space grew by {} MiB",
        size_grown / MIB
    );
    drop(idle);
    tokio::time::sleep(Duration::from_millis(300)).await;
    server.shutdown().await;
}
