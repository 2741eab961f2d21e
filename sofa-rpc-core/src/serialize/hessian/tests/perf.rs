//! Rough timing of the SOFARPC hot path (run with
//! `cargo test --release -- --ignored --nocapture perf`). No assertions on time.

use std::hint::black_box;
use std::time::Instant;

use super::super::{Decoder, Dialect, Encoder, SofaRequestHead, SofaResponse, Value};

fn head() -> SofaRequestHead {
    SofaRequestHead {
        target_app_name: Some("java-peer".into()),
        method_name: "echo".into(),
        target_service_unique_name: "com.example.EchoService:1.0".into(),
        request_props: vec![("protocol".into(), Value::String("bolt".into()))],
        method_arg_sigs: vec!["java.lang.String".into()],
    }
}

/// Best of 10 batches (the machine is shared and noisy), in ns per call.
fn time(name: &str, iters: u32, mut f: impl FnMut()) {
    let batch = (iters / 10).max(1);
    for _ in 0..batch {
        f();
    }
    let mut best = f64::MAX;
    for _ in 0..10 {
        let start = Instant::now();
        for _ in 0..batch {
            f();
        }
        best = best.min(start.elapsed().as_nanos() as f64 / f64::from(batch));
    }
    println!("{name:<48} {best:>8.1} ns/op");
}

#[test]
#[ignore]
fn perf() {
    let head = head();
    let arg = "x".repeat(128);
    for dialect in [Dialect::V3, Dialect::V4] {
        let mut buf = Vec::with_capacity(512);
        time(
            &format!("{dialect:?} encode request (head + 128B string)"),
            2_000_000,
            || {
                buf.clear();
                let mut enc = Encoder::with_buffer(std::mem::take(&mut buf), dialect);
                head.write(&mut enc).unwrap();
                enc.encode(black_box(arg.as_str())).unwrap();
                buf = enc.into_inner();
                black_box(&buf);
            },
        );
        let mut reused = Encoder::new(dialect);
        time(
            &format!("{dialect:?} encode request, reused encoder (clear)"),
            2_000_000,
            || {
                reused.clear();
                head.write(&mut reused).unwrap();
                reused.encode(black_box(arg.as_str())).unwrap();
                black_box(reused.as_bytes());
            },
        );
        let bytes = buf.clone();
        time(
            &format!("{dialect:?} decode request (head + String arg)"),
            2_000_000,
            || {
                let mut dec = Decoder::new(black_box(&bytes), dialect);
                let h = SofaRequestHead::read(&mut dec).unwrap();
                let a: String = dec.decode().unwrap();
                black_box((h, a));
            },
        );
        time(
            &format!("{dialect:?} decode request (head + &str arg)"),
            2_000_000,
            || {
                let mut dec = Decoder::new(black_box(&bytes), dialect);
                let h = SofaRequestHead::read(&mut dec).unwrap();
                let a: &str = dec.decode_borrowed().unwrap();
                black_box((h, a));
            },
        );
        let mut rbuf = Vec::with_capacity(256);
        let resp = SofaResponse::ok(arg.clone());
        time(
            &format!("{dialect:?} encode response (128B string)"),
            2_000_000,
            || {
                rbuf.clear();
                let mut enc = Encoder::with_buffer(std::mem::take(&mut rbuf), dialect);
                resp.write(&mut enc).unwrap();
                rbuf = enc.into_inner();
                black_box(&rbuf);
            },
        );
        let rbytes = rbuf.clone();
        time(
            &format!("{dialect:?} decode response SofaResponse<String>"),
            2_000_000,
            || {
                let mut dec = Decoder::new(black_box(&rbytes), dialect);
                black_box(SofaResponse::<String>::read(&mut dec).unwrap());
            },
        );
    }
}

#[test]
#[ignore]
fn perf_decode_only() {
    let mut enc = Encoder::new(Dialect::V3);
    head().write(&mut enc).unwrap();
    enc.encode("x".repeat(128).as_str()).unwrap();
    let bytes = enc.into_inner();
    time("V3 decode head only", 3_000_000, || {
        let mut dec = Decoder::new(black_box(&bytes), Dialect::V3);
        black_box(SofaRequestHead::read(&mut dec).unwrap());
    });
    time("V3 new decoder only", 3_000_000, || {
        let dec = Decoder::new(black_box(&bytes), Dialect::V3);
        black_box(dec.remaining());
    });
    let s = {
        let mut e = Encoder::new(Dialect::V3);
        e.encode("x".repeat(128).as_str()).unwrap();
        e.into_inner()
    };
    time("V3 decode 128B String", 3_000_000, || {
        let mut dec = Decoder::new(black_box(&s), Dialect::V3);
        black_box(dec.decode::<String>().unwrap());
    });
}

#[test]
#[ignore]
fn perf_breakdown() {
    let mut enc = Encoder::new(Dialect::V3);
    head().write(&mut enc).unwrap();
    let bytes = enc.into_inner();
    time("next_head (class def + instance)", 3_000_000, || {
        let mut dec = Decoder::new(black_box(&bytes), Dialect::V3);
        black_box(dec.next_head().is_ok());
    });
    time("next_head + 3 strings", 3_000_000, || {
        let mut dec = Decoder::new(black_box(&bytes), Dialect::V3);
        black_box(dec.next_head().is_ok());
        for _ in 0..3 {
            black_box(dec.read_opt_string().unwrap());
        }
    });
    time("next_head + 3 strings + props", 3_000_000, || {
        let mut dec = Decoder::new(black_box(&bytes), Dialect::V3);
        black_box(dec.next_head().is_ok());
        for _ in 0..3 {
            black_box(dec.read_opt_string().unwrap());
        }
        black_box(dec.read_string_keyed_map(|d| d.read_value()).unwrap());
    });
    time("... + sigs", 3_000_000, || {
        let mut dec = Decoder::new(black_box(&bytes), Dialect::V3);
        black_box(dec.next_head().is_ok());
        for _ in 0..3 {
            black_box(dec.read_opt_string().unwrap());
        }
        black_box(dec.read_string_keyed_map(|d| d.read_value()).unwrap());
        black_box(dec.read_string_list().unwrap());
    });
}
