//! Every kind of malformed frame closes only the connection that carried it, with a log line
//! giving the reason, while the server keeps serving everyone else. Each case goes over a real
//! socket. (Alone in its test binary: it captures the log of the current thread.)

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::time::Duration;

use common::*;
use sofa_bolt::{Connection, ConnectionConfig, Frame, HeaderMap, Protocol, ServerConfig, Switch};

fn good_request() -> Vec<u8> {
    encode(
        &Frame::request(ECHO, HeaderMap::new(), "abc")
            .with_request_id(1)
            .with_timeout(1000),
    )
}

/// (name, bytes, expected reason in the log)
fn cases() -> Vec<(&'static str, Vec<u8>, &'static str)> {
    let mut unknown_protocol = good_request();
    unknown_protocol[0] = 0x05;

    let mut unknown_type = good_request();
    unknown_type[1] = 0x09;

    let mut unknown_code = good_request();
    unknown_code[2] = 0x00;
    unknown_code[3] = 0x07;

    let mut negative_content = good_request();
    negative_content[18..22].copy_from_slice(&(-5i32).to_be_bytes());

    let mut oversized = good_request();
    oversized[18..22].copy_from_slice(&(64 * 1024 * 1024i32).to_be_bytes());

    let mut huge_header = good_request();
    huge_header[16..18].copy_from_slice(&0xfff0u16.to_be_bytes());

    let mut crc = encode(
        &Frame::request(ECHO, HeaderMap::new(), "abc")
            .with_protocol(Protocol::V2_CRC)
            .with_switch(Switch::CRC)
            .with_request_id(1),
    );
    let n = crc.len();
    crc[n - 1] ^= 0xff;

    let mut bad_ver1 = encode(&Frame::heartbeat(1).with_protocol(Protocol::V2_CRC));
    bad_ver1[1] = 9;

    vec![
        (
            "unknown protocol byte",
            unknown_protocol,
            "not a SOFABolt protocol code",
        ),
        (
            "http on the bolt port",
            b"GET / HTTP/1.1\r\nHost: x\r\n\r\n".to_vec(),
            "0x47",
        ),
        (
            "unknown type byte",
            unknown_type,
            "unknown command type 0x09",
        ),
        (
            "unknown command code",
            unknown_code,
            "unknown command code 0x0007",
        ),
        (
            "negative content length",
            negative_content,
            "negative content length",
        ),
        ("oversized frame", oversized, "exceeds the limit"),
        (
            "oversized header",
            huge_header,
            "header of 65520 bytes exceeds",
        ),
        ("crc mismatch", crc, "crc32 trailer"),
        ("bad v2 version", bad_ver1, "protocol version 9"),
    ]
}

#[tokio::test]
async fn each_malformed_frame_closes_only_its_connection() {
    let logs = Logs::default();
    let _guard = logs.install();
    let server = echo_server(ServerConfig::default()).await;
    let bystander = Connection::connect(server.local_addr(), ConnectionConfig::default())
        .await
        .unwrap();

    for (name, bytes, reason) in cases() {
        let mut bad = raw_connect(server.local_addr()).await;
        send_raw(&mut bad, &bytes).await;
        expect_closed(&mut bad).await;
        let text = logs.text();
        assert!(
            text.contains("closing connection: malformed input") && text.contains(reason),
            "{name}: expected a log line with {reason:?}, got:\n{text}"
        );
        // Everyone else is still served.
        let resp = bystander
            .request(
                Frame::request(ECHO, HeaderMap::new(), name),
                Duration::from_secs(2),
            )
            .await
            .unwrap_or_else(|e| panic!("after {name}: {e}"));
        assert_eq!(resp.content(), name.as_bytes());
    }
    server.shutdown().await;
}
