//! Bolt frame decoding fed in slices (as a socket delivers them) gives the same frames, and
//! the same verdict, as decoding the whole buffer at once. The first byte picks the slice size.
#![no_main]

use bytes::BytesMut;
use libfuzzer_sys::fuzz_target;
use sofa_bolt::{Codec, CodecConfig, Frame};

/// Frames decoded and whether decoding stopped on an error.
fn decode_all(chunks: &mut dyn Iterator<Item = &[u8]>) -> (Vec<Frame>, bool) {
    let mut codec = Codec::new(CodecConfig {
        max_frame_size: 1 << 20,
        ..CodecConfig::default()
    });
    let mut buf = BytesMut::new();
    let mut frames = Vec::new();
    for chunk in chunks {
        buf.extend_from_slice(chunk);
        loop {
            match codec.decode(&mut buf) {
                Ok(Some(frame)) => frames.push(frame),
                Ok(None) => break,
                Err(_) => return (frames, true),
            }
        }
    }
    (frames, false)
}

fuzz_target!(|data: &[u8]| {
    let Some((&size, data)) = data.split_first() else {
        return;
    };
    let size = usize::from(size % 32) + 1;
    let whole = decode_all(&mut std::iter::once(data));
    let sliced = decode_all(&mut data.chunks(size));
    assert_eq!(whole.1, sliced.1, "same verdict");
    assert_eq!(whole.0.len(), sliced.0.len(), "same number of frames");
    for (a, b) in whole.0.iter().zip(&sliced.0) {
        assert_eq!(a.request_id(), b.request_id());
        assert_eq!(a.class(), b.class());
        assert_eq!(a.content(), b.content());
    }
});
