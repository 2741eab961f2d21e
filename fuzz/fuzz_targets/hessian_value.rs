//! Hessian decoding into dynamic values, both dialects (the first byte picks one): never
//! panics, and what reads as a value re-encodes to bytes that read as the same value.
#![no_main]

use libfuzzer_sys::fuzz_target;
use sofa_hessian::{Decoder, Dialect, Encoder, SofaRequestHead, SofaResponse, Value};

fuzz_target!(|data: &[u8]| {
    let Some((&pick, data)) = data.split_first() else {
        return;
    };
    let dialect = if pick & 1 == 0 { Dialect::V3 } else { Dialect::V4 };

    let mut dec = Decoder::new(data, dialect);
    while !dec.is_empty() {
        match dec.read_value() {
            Ok(value) => {
                let mut enc = Encoder::new(dialect);
                if enc.write_value(&value).is_ok() {
                    let bytes = enc.into_inner();
                    let again = Decoder::new(&bytes, dialect).read_value();
                    assert!(again.is_ok(), "re-encoded value does not decode: {again:?}");
                }
            }
            Err(_) => break,
        }
    }
    let mut dec = Decoder::new(data, dialect);
    while !dec.is_empty() && dec.skip_value().is_ok() {}

    let _ = SofaRequestHead::read(&mut Decoder::new(data, dialect));
    let mut dec = Decoder::new(data, dialect);
    dec.set_max_containers(1024);
    let _ = SofaRequestHead::read_without_props(&mut dec);
    let _ = SofaResponse::<Value>::read(&mut Decoder::new(data, dialect));
});
