//! Hostile input: truncations, random bytes, huge lengths, deep nesting,
//! reference bombs. Nothing may panic, over-allocate or recurse without bound.

use super::frame::{fixture, unhex, Frame};
use crate::{
    AppResponse, Decoder, DecoderOptions, Dialect, ErrorKind, SofaRequestHead, SofaResponse, Value,
};

fn contents() -> Vec<Frame> {
    vec![
        fixture!("java-java/echo.c2s-f00.hex"),
        fixture!("java-java/add.c2s-f00.hex"),
        fixture!("java-java/fail.s2c-f00.hex"),
        fixture!("java-java/echo.s2c-f00.hex"),
        fixture!("node-node/echo.c2s-f00.hex"),
        fixture!("node-node/add.s2c-f00.hex"),
        fixture!("node-node-h4/echo.c2s-f00.hex"),
        fixture!("node-node-h4/add.c2s-f00.hex"),
        fixture!("node-node-h4/echo.s2c-f00.hex"),
    ]
}

/// Runs every decoding entry point over `bytes` in both dialects; results are
/// ignored, only panics (and hangs) would fail the test.
fn exercise(bytes: &[u8]) {
    for d in [Dialect::V3, Dialect::V4] {
        let mut dec = Decoder::new(bytes, d);
        for _ in 0..8 {
            if dec.read_value().is_err() || dec.is_empty() {
                break;
            }
        }
        let mut dec = Decoder::new(bytes, d);
        if SofaRequestHead::read(&mut dec).is_ok() {
            let _ = dec.decode::<String>();
            let _ = dec.decode::<(i32, Option<Vec<u8>>)>();
        }
        let _ = SofaResponse::<String>::read(&mut Decoder::new(bytes, d));
        let _ = SofaResponse::<Value>::read(&mut Decoder::new(bytes, d));
        let _ = Decoder::new(bytes, d).skip_value();
        let _ = Decoder::new(bytes, d)
            .peek_class()
            .map(|c| c.map(|c| c.name().len()));
        let _ = Decoder::new(bytes, d).decode::<std::collections::HashMap<String, i64>>();
        let _ = Dialect::detect(bytes);
    }
}

#[test]
fn every_prefix_of_every_fixture() {
    for f in contents() {
        for end in 0..=f.content.len() {
            exercise(&f.content[..end]);
        }
        // A prefix decodes completely exactly when it ends between two top-level
        // values; otherwise it fails cleanly.
        let d = Dialect::detect(&f.content).unwrap();
        let mut boundaries = vec![0];
        let mut full = Decoder::new(&f.content, d);
        while !full.is_empty() {
            full.read_value().unwrap();
            boundaries.push(full.position());
        }
        for end in 0..=f.content.len() {
            let mut dec = Decoder::new(&f.content[..end], d);
            let mut ok = true;
            while !dec.is_empty() {
                if dec.read_value().is_err() {
                    ok = false;
                    break;
                }
            }
            assert_eq!(ok, boundaries.contains(&end), "prefix {end}");
        }
    }
}

/// xorshift64*: deterministic pseudo-random bytes.
struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

#[test]
fn random_bytes_and_mutated_fixtures() {
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    // Tag-biased random strings: mostly structural bytes so parsers get deep.
    const INTERESTING: &[u8] = b"NTFIDLSsBbOoCVvMHRzZQJKtunl\x4a\x4b\x51\x55\x57\x58\x59\x5b\x5f\x60\x70\x78\x77\x6b\x90\x91\xc8\xd4\x00\x01\x1f\x20\x30\x34\x7a\x75\x74\x6e\x6c\xff";
    for _ in 0..6000 {
        let len = rng.below(48) as usize;
        let bytes: Vec<u8> = (0..len)
            .map(|_| {
                if rng.below(3) == 0 {
                    rng.next() as u8
                } else {
                    INTERESTING[rng.below(INTERESTING.len() as u64) as usize]
                }
            })
            .collect();
        exercise(&bytes);
    }
    for f in contents() {
        for _ in 0..300 {
            let mut b = f.content.clone();
            for _ in 0..=rng.below(4) {
                let i = rng.below(b.len() as u64) as usize;
                b[i] = match rng.below(3) {
                    0 => rng.next() as u8,
                    1 => b[i] ^ (1 << rng.below(8)),
                    _ => INTERESTING[rng.below(INTERESTING.len() as u64) as usize],
                };
            }
            exercise(&b);
        }
    }
}

#[test]
fn huge_lengths_are_rejected_before_allocating() {
    let cases: &[(Dialect, &str)] = &[
        (Dialect::V3, "56 6c 7fffffff 91"), // list claiming 2^31-1 items
        (Dialect::V3, "56 74 ffff 61"),     // type name of 65535 units
        (Dialect::V3, "4f 49 7fffffff 61"), // class name of 2^31-1 units
        (Dialect::V3, "4f 91 61 49 7fffffff"), // 2^31-1 fields
        (Dialect::V3, "76 90 49 7fffffff"), // fixed list with unknown type
        (Dialect::V4, "58 49 7fffffff 91"),
        (Dialect::V4, "56 01 61 49 7fffffff"),
        (Dialect::V4, "43 01 61 49 7fffffff"),
        (Dialect::V3, "53 ffff 61"), // string of 65535 units, 1 byte
        (Dialect::V3, "42 ffff 61"),
        (Dialect::V3, "73 ffff"),
        (Dialect::V3, "56 6c ffffffff 7a"), // negative length
    ];
    for (d, h) in cases {
        let bytes = unhex(h);
        let e = Decoder::new(&bytes, *d).read_value().unwrap_err();
        assert!(
            matches!(
                e.kind(),
                ErrorKind::InvalidLength | ErrorKind::UnexpectedEof | ErrorKind::InvalidReference
            ),
            "{h}: {e}"
        );
        let _ = Decoder::new(&bytes, *d).decode::<Vec<Vec<String>>>();
    }
}

#[test]
fn nesting_depth_is_bounded() {
    // 100_000 nested lists: must fail with a depth error, not overflow the stack.
    let mut bytes = Vec::new();
    for _ in 0..100_000 {
        bytes.extend_from_slice(b"V\x6e\x01");
    }
    let e = Decoder::new(&bytes, Dialect::V3).read_value().unwrap_err();
    assert_eq!(e.kind(), ErrorKind::DepthLimitExceeded);
    let e = Decoder::new(&bytes, Dialect::V3)
        .decode::<Value>()
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::DepthLimitExceeded);
    assert!(Decoder::new(&bytes, Dialect::V3).skip_value().is_err());
    let bytes = vec![0x79u8; 100_000];
    let e = Decoder::new(&bytes, Dialect::V4).read_value().unwrap_err();
    assert_eq!(e.kind(), ErrorKind::DepthLimitExceeded);
    // A configurable limit.
    let bytes = unhex("566e01 566e01 566e01 90 7a7a7a");
    let opts = DecoderOptions {
        max_depth: 2,
        ..Default::default()
    };
    let e = Decoder::with_options(&bytes, Dialect::V3, opts)
        .read_value()
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::DepthLimitExceeded);
    assert!(Decoder::new(&bytes, Dialect::V3).read_value().is_ok());
}

#[test]
fn reference_bombs_are_bounded() {
    // L0 = [1,1,1,1]; Ln = [ref(n-1) x 4]: fully expanded this is 4^40 values.
    let mut bytes = unhex("566e04 91919191 7a");
    for i in 0..40u8 {
        bytes.extend_from_slice(&[0x56, 0x6e, 0x04]);
        for _ in 0..4 {
            bytes.extend_from_slice(&[0x4a, i]);
        }
        bytes.push(0x7a);
    }
    let mut dec = Decoder::new(&bytes, Dialect::V3);
    let mut last = Ok(Value::Null);
    for _ in 0..41 {
        last = dec.read_value();
        if last.is_err() {
            break;
        }
    }
    assert_eq!(last.unwrap_err().kind(), ErrorKind::LimitExceeded);
    // skipping does not expand references
    let mut dec = Decoder::new(&bytes, Dialect::V3);
    for _ in 0..41 {
        dec.skip_value().unwrap();
    }
    assert!(dec.is_empty());
}

#[test]
fn bad_references_and_definitions() {
    for (d, h) in [
        (Dialect::V3, "4a05"),           // unknown reference
        (Dialect::V3, "6f90"),           // instance of unknown class definition
        (Dialect::V3, "76 90 91"),       // unknown type reference
        (Dialect::V3, "56 75 93 91 7a"), // unknown type reference in 'V'
        (Dialect::V4, "5190"),
        (Dialect::V4, "60"),
        (Dialect::V4, "4f95"),
        (Dialect::V4, "71 95 91"),
    ] {
        let bytes = unhex(h);
        let e = Decoder::new(&bytes, d).read_value().unwrap_err();
        assert_eq!(e.kind(), ErrorKind::InvalidReference, "{h}: {e}");
    }
    for (d, h) in [
        (Dialect::V3, "30"),
        (Dialect::V3, "5b"),
        (Dialect::V4, "64"),
        (Dialect::V4, "40"),
    ] {
        let bytes = unhex(h);
        let e = Decoder::new(&bytes, d).read_value().unwrap_err();
        assert!(
            matches!(
                e.kind(),
                ErrorKind::InvalidTag | ErrorKind::InvalidReference
            ),
            "{h}: {e}"
        );
        assert_eq!(e.offset(), Some(0), "{h}");
    }
}

#[test]
fn sofa_level_errors() {
    // Not a SofaRequest
    let bytes = unhex("4f 91 61 90 6f90");
    let e = SofaRequestHead::read(&mut Decoder::new(&bytes, Dialect::V3)).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Protocol);
    assert!(e.to_string().contains("SofaRequest"), "{e}");
    let e = SofaRequestHead::read(&mut Decoder::new(b"N", Dialect::V3)).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Protocol);
    let e = SofaResponse::<String>::read(&mut Decoder::new(b"\x05hello", Dialect::V3)).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Protocol);
    // A response whose value has the wrong type reports a type mismatch.
    let f = fixture!("java-java/echo.s2c-f00.hex");
    let e = SofaResponse::<i32>::read(&mut Decoder::new(&f.content, Dialect::V3)).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::TypeMismatch);
    // ...but Value always works.
    let r = SofaResponse::<Value>::read(&mut Decoder::new(&f.content, Dialect::V3)).unwrap();
    assert_eq!(r.app_response, AppResponse::Value(Value::from("hello")));
}

#[test]
fn request_props_of_empty_lists_are_skipped_within_a_container_budget() {
    let list = |items: Vec<Value>| Value::List {
        type_name: None,
        items,
    };
    let head = |n: usize| SofaRequestHead {
        method_name: "echo".into(),
        target_service_unique_name: "com.example.Echo:1.0".into(),
        request_props: vec![("x".into(), list(vec![list(vec![]); n]))],
        method_arg_sigs: vec!["java.lang.String".into()],
        ..Default::default()
    };
    for dialect in [Dialect::V3, Dialect::V4] {
        let mut enc = crate::Encoder::new(dialect);
        head(100).write(&mut enc).unwrap();
        enc.write_str("arg");
        let bytes = enc.into_inner();

        // Skipped, not decoded; what follows is read as usual.
        let mut dec = Decoder::new(&bytes, dialect);
        let read = SofaRequestHead::read_without_props(&mut dec).unwrap();
        assert!(read.request_props.is_empty());
        assert_eq!(read.method_name, "echo");
        assert_eq!(read.method_arg_sigs, ["java.lang.String"]);
        assert_eq!(dec.decode::<String>().unwrap(), "arg");
        assert!(dec.containers() > 100);

        // Even skipped, every list counts against the budget.
        let mut dec = Decoder::new(&bytes, dialect);
        dec.set_max_containers(50);
        let e = SofaRequestHead::read_without_props(&mut dec).unwrap_err();
        assert_eq!(e.kind(), ErrorKind::LimitExceeded, "{e}");
        let opts = DecoderOptions {
            max_containers: 50,
            ..Default::default()
        };
        let e = Decoder::with_options(&bytes, dialect, opts)
            .read_value()
            .unwrap_err();
        assert_eq!(e.kind(), ErrorKind::LimitExceeded, "{e}");
    }
}
