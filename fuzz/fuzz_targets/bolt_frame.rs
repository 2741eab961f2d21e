//! Bolt frame decoding of a whole buffer: never panics; what decodes re-encodes to bytes that
//! decode to the same frame.
#![no_main]

use bytes::BytesMut;
use libfuzzer_sys::fuzz_target;
use sofa_bolt::{Codec, CodecConfig};

fuzz_target!(|data: &[u8]| {
    let mut codec = Codec::new(CodecConfig::default());
    let mut buf = BytesMut::from(data);
    while let Ok(Some(frame)) = codec.decode(&mut buf) {
        let _ = frame.header();
        let mut wire = BytesMut::new();
        if codec.encode(&frame, &mut wire).is_ok() {
            let again = codec.decode(&mut wire);
            match again {
                Ok(Some(copy)) => {
                    assert_eq!(copy.request_id(), frame.request_id());
                    assert_eq!(copy.class(), frame.class());
                    assert_eq!(copy.content(), frame.content());
                    assert!(wire.is_empty(), "re-encoded frame decodes whole");
                }
                other => panic!("a re-encoded frame does not decode: {other:?}"),
            }
        }
    }
});
