//! Test helper: slicing the class name and content out of a SOFABolt frame.

pub(crate) fn unhex(s: &str) -> Vec<u8> {
    let s: String = s.chars().filter(|c| !c.is_whitespace()).collect();
    assert!(s.len().is_multiple_of(2), "odd hex length");
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).expect("hex"))
        .collect()
}

pub(crate) fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

/// A parsed bolt frame (only what the Hessian tests need).
pub(crate) struct Frame {
    pub is_request: bool,
    pub class_name: String,
    pub content: Vec<u8>,
}

fn be16(b: &[u8], at: usize) -> usize {
    u16::from_be_bytes([b[at], b[at + 1]]) as usize
}

fn be32(b: &[u8], at: usize) -> usize {
    u32::from_be_bytes([b[at], b[at + 1], b[at + 2], b[at + 3]]) as usize
}

pub(crate) fn parse(bytes: &[u8]) -> Frame {
    let (is_request, fixed, class_at) = match bytes[0] {
        1 => {
            let is_request = bytes[1] != 0;
            if is_request {
                (true, 22, 14)
            } else {
                (false, 20, 12)
            }
        }
        2 => {
            let is_request = bytes[2] != 0;
            if is_request {
                (true, 24, 16)
            } else {
                (false, 22, 14)
            }
        }
        p => panic!("unknown protocol {p}"),
    };
    let class_len = be16(bytes, class_at);
    let header_len = be16(bytes, class_at + 2);
    let content_len = be32(bytes, class_at + 4);
    let class_start = fixed;
    let content_start = class_start + class_len + header_len;
    let content_end = content_start + content_len;
    let crc = if bytes[0] == 2 && bytes[1] == 2 && bytes[11] & 1 == 1 {
        4
    } else {
        0
    };
    assert_eq!(content_end + crc, bytes.len(), "frame length mismatch");
    Frame {
        is_request,
        class_name: String::from_utf8(bytes[class_start..class_start + class_len].to_vec())
            .unwrap(),
        content: bytes[content_start..content_end].to_vec(),
    }
}

/// Parses a fixture frame; usable from any sibling test module
/// (`super::frame::...` resolves relative to the caller).
macro_rules! fixture {
    ($path:literal) => {
        super::frame::parse(&super::frame::unhex(include_str!(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../tests/fixtures/vectors/",
            $path
        ))))
    };
}
pub(super) use fixture;
