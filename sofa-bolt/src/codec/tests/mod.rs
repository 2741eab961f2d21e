//! Codec tests against the worked examples of the protocol specification and malformed input.

use bytes::BytesMut;

use super::*;
use crate::error::ErrorKind;
use crate::frame::{
    CommandCode, CommandType, HeaderMap, Protocol, ResponseStatus, Switch, CODEC_HESSIAN2,
};

fn hex(s: &str) -> Vec<u8> {
    let s: String = s.split_whitespace().collect();
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
        .collect()
}

fn encode(frame: &Frame) -> Vec<u8> {
    let mut out = BytesMut::new();
    Codec::default().encode(frame, &mut out).unwrap();
    out.to_vec()
}

fn decode_all(bytes: &[u8]) -> Result<Vec<Frame>> {
    let mut codec = Codec::default();
    let mut buf = BytesMut::from(bytes);
    let mut frames = Vec::new();
    while let Some(f) = codec.decode(&mut buf)? {
        frames.push(f);
    }
    assert!(buf.is_empty(), "{} bytes left over", buf.len());
    Ok(frames)
}

fn decode_one(bytes: &[u8]) -> Frame {
    let mut frames = decode_all(bytes).unwrap();
    assert_eq!(frames.len(), 1);
    frames.remove(0)
}

#[test]
fn ex1_v1_request() {
    let wire = hex("01 01 0001 01 00000001 01 00000bb8 0000 0000 00000003 616263");
    let f = decode_one(&wire);
    assert_eq!(f.protocol(), Protocol::V1);
    assert_eq!(f.command_type(), CommandType::Request);
    assert_eq!(f.command_code(), CommandCode::RpcRequest);
    assert_eq!(f.request_id(), 1);
    assert_eq!(f.codec(), CODEC_HESSIAN2);
    assert_eq!(f.timeout(), 3000);
    assert_eq!(&f.content()[..], b"abc");
    assert_eq!(encode(&f), wire);
    let built = Frame::request("", HeaderMap::new(), "abc")
        .with_request_id(1)
        .with_timeout(3000);
    assert_eq!(encode(&built), wire);
}

#[test]
fn ex2_v1_response() {
    let wire = hex("01 00 0002 01 00000001 01 0000 0000 0000 00000003 78797a");
    let f = decode_one(&wire);
    assert!(f.is_response());
    assert_eq!(f.status(), ResponseStatus::SUCCESS);
    assert_eq!(&f.content()[..], b"xyz");
    assert_eq!(encode(&f), wire);
}

#[test]
fn ex3_heartbeat_and_ack() {
    let hb = hex("01 01 00 00 01 00 00 00 2a 01 ff ff ff ff 00 00 00 00 00 00 00 00");
    let ack = hex("01 00 00 00 01 00 00 00 2a 01 00 00 00 00 00 00 00 00 00 00");
    assert_eq!(encode(&Frame::heartbeat(42)), hb);
    let f = decode_one(&hb);
    assert!(f.is_heartbeat() && f.is_request());
    assert_eq!(encode(&Frame::heartbeat_ack(&f)), ack);
}

#[test]
fn ex4_v2_with_and_without_crc() {
    let with_crc = hex("02 02 01 00 01 01 00 00 00 02 01 01 00 00 0b b8
         00 00 00 00 00 00 00 03 61 62 63 9a 19 a7 92");
    let f = decode_one(&with_crc);
    assert_eq!(f.protocol(), Protocol::V2 { ver1: 2 });
    assert_eq!(f.switch(), Switch::CRC);
    assert!(f.has_crc());
    assert_eq!(&f.content()[..], b"abc");
    assert_eq!(encode(&f), with_crc);

    let no_crc =
        hex("02 01 01 00 01 01 00 00 00 02 01 01 00 00 0b b8 00 00 00 00 00 00 00 03 61 62 63");
    let f = decode_one(&no_crc);
    assert_eq!(f.protocol(), Protocol::V2 { ver1: 1 });
    assert!(!f.has_crc());
    assert_eq!(encode(&f), no_crc);

    let response = hex(
        "02 02 00 00 02 01 00 00 00 02 01 01 00 00 00 00 00 00 00 00 00 03 78 79 7a 84 1f 0d 80",
    );
    let f = decode_one(&response);
    assert!(f.is_response() && f.has_crc());
    assert_eq!(encode(&f), response);
}

#[test]
fn every_prefix_needs_more_and_whole_decodes() {
    let mut header = HeaderMap::new();
    header.insert("service", "com.example.Echo:1.0");
    for protocol in [Protocol::V1, Protocol::V2 { ver1: 1 }, Protocol::V2_CRC] {
        let frame = Frame::request("C", header.clone(), vec![7u8; 100])
            .with_protocol(protocol)
            .with_switch(Switch::CRC)
            .with_request_id(9);
        let wire = encode(&frame);
        for cut in 0..wire.len() {
            let mut buf = BytesMut::from(&wire[..cut]);
            assert!(
                Codec::default().decode(&mut buf).unwrap().is_none(),
                "cut {cut}"
            );
        }
        let decoded = decode_one(&wire);
        assert_eq!(
            decoded.header().unwrap().get("service"),
            Some("com.example.Echo:1.0")
        );
        assert_eq!(encode(&decoded), wire);
    }
}

#[test]
fn back_to_back_frames_and_byte_at_a_time() {
    let mut wire = encode(&Frame::heartbeat(1));
    wire.extend(encode(
        &Frame::response_to(&Frame::heartbeat(2), ResponseStatus::SERVER_EXCEPTION)
            .with_content("boom"),
    ));
    wire.extend(encode(&Frame::oneway("x", HeaderMap::new(), "y")));
    assert_eq!(decode_all(&wire).unwrap().len(), 3);

    let mut codec = Codec::default();
    let mut buf = BytesMut::new();
    let mut ids = Vec::new();
    for b in &wire {
        buf.extend_from_slice(&[*b]);
        while let Some(f) = codec.decode(&mut buf).unwrap() {
            ids.push((f.request_id(), f.command_type()));
        }
    }
    assert_eq!(
        ids,
        [
            (1, CommandType::Request),
            (2, CommandType::Response),
            (0, CommandType::Oneway)
        ]
    );
}

#[test]
fn unknown_statuses_survive() {
    let f = Frame::response_to(&Frame::heartbeat(3), ResponseStatus::from(0x00aa));
    let back = decode_one(&encode(&f));
    assert_eq!(back.status().code(), 0x00aa);
}

fn decode_err(bytes: &[u8]) -> Error {
    let mut buf = BytesMut::from(bytes);
    Codec::default().decode(&mut buf).unwrap_err()
}

#[test]
fn malformed_frames_are_rejected_with_a_reason() {
    let good = encode(&Frame::request("C", HeaderMap::new(), "abc").with_request_id(1));

    let mut bad = good.clone();
    bad[0] = 0x03;
    assert_eq!(decode_err(&bad).kind(), ErrorKind::UnknownProtocol);
    assert_eq!(
        decode_err(b"GET / HTTP/1.1\r\n").kind(),
        ErrorKind::UnknownProtocol
    );

    let mut bad = good.clone();
    bad[1] = 0x07; // type byte
    assert_eq!(decode_err(&bad).kind(), ErrorKind::InvalidFrame);

    let mut bad = good.clone();
    bad[3] = 0x09; // command code 9
    let err = decode_err(&bad);
    assert_eq!(err.kind(), ErrorKind::InvalidFrame);
    assert!(
        err.message().contains("unknown command code 0x0009"),
        "{err}"
    );

    let mut bad = good.clone();
    bad[3] = 0x02; // response code in a request
    assert_eq!(decode_err(&bad).kind(), ErrorKind::InvalidFrame);

    let mut bad = good.clone();
    bad[18] = 0x80; // negative content length
    assert_eq!(decode_err(&bad).kind(), ErrorKind::InvalidFrame);

    // v2 with ver1 = 3, and with a negative switch byte
    let v2 = encode(&Frame::heartbeat(1).with_protocol(Protocol::V2_CRC));
    let mut bad = v2.clone();
    bad[1] = 3;
    assert_eq!(decode_err(&bad[..2]).kind(), ErrorKind::InvalidFrame);
    let mut bad = v2.clone();
    bad[11] = 0x81;
    assert_eq!(decode_err(&bad).kind(), ErrorKind::InvalidFrame);
}

#[test]
fn crc_mismatch_is_detected() {
    let mut wire = encode(
        &Frame::request("C", HeaderMap::new(), "abc")
            .with_protocol(Protocol::V2_CRC)
            .with_switch(Switch::CRC),
    );
    let n = wire.len();
    wire[n - 6] ^= 0x01; // one content bit
    assert_eq!(decode_err(&wire).kind(), ErrorKind::CrcMismatch);
}

#[test]
fn oversized_lengths_fail_before_any_allocation() {
    // A request header claiming a 2 GiB body: rejected from the 22 fixed bytes alone.
    let wire = hex("01 01 0001 01 00000001 01 00000bb8 0000 0000 7fffffff");
    let mut buf = BytesMut::from(&wire[..]);
    let cap = buf.capacity();
    let err = Codec::default().decode(&mut buf).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::FrameTooLarge);
    assert_eq!(buf.capacity(), cap);

    let small = Codec::new(CodecConfig {
        max_frame_size: 64,
        max_header_size: 8,
    });
    let frame = Frame::request("C", HeaderMap::new(), vec![0u8; 64]);
    let mut out = BytesMut::new();
    assert_eq!(
        Codec::default()
            .encode(&frame, &mut out)
            .map(|_| out.len())
            .unwrap(),
        22 + 1 + 64
    );
    let mut buf = out.clone();
    assert_eq!(
        small.clone().decode(&mut buf).unwrap_err().kind(),
        ErrorKind::FrameTooLarge
    );
    let mut header = HeaderMap::new();
    header.insert("key", "value");
    let mut buf = BytesMut::new();
    Codec::default()
        .encode(&Frame::request("C", header, ""), &mut buf)
        .unwrap();
    let err = small.clone().decode(&mut buf).unwrap_err();
    assert!(err.message().contains("header of 16 bytes"), "{err}");
    let mut out = BytesMut::new();
    let err = small.clone().encode(&frame, &mut out).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::FrameTooLarge);
    assert!(out.is_empty());
}

#[test]
fn encoder_refuses_sections_peers_cannot_read() {
    let frame = Frame::request(vec![b'a'; 40_000], HeaderMap::new(), "");
    let mut out = BytesMut::new();
    let err = Codec::default().encode(&frame, &mut out).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::FrameTooLarge);
    assert!(out.is_empty());
}

#[test]
fn pseudo_random_garbage_never_panics() {
    // A fixed xorshift sequence: deterministic and bounded.
    let mut x: u64 = 0x9e37_79b9_7f4a_7c15;
    let mut next = move || {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        x
    };
    let seed = encode(
        &Frame::request("C", [("k", "v")].into_iter().collect(), "abc")
            .with_protocol(Protocol::V2_CRC)
            .with_switch(Switch::CRC),
    );
    for _ in 0..20_000 {
        let mut bytes = seed.clone();
        let flips = (next() % 4 + 1) as usize;
        for _ in 0..flips {
            let i = (next() as usize) % bytes.len();
            bytes[i] = next() as u8;
        }
        bytes.truncate((next() as usize) % (bytes.len() + 1));
        let mut buf = BytesMut::from(&bytes[..]);
        let mut codec = Codec::default();
        while let Ok(Some(frame)) = codec.decode(&mut buf) {
            let _ = frame.header();
        }
    }
}
