//! Hessian decoding into typed structs through serde, both dialects (the first byte picks
//! one, the second the type): never panics.
#![no_main]

use std::collections::HashMap;

use libfuzzer_sys::fuzz_target;
use serde::Deserialize;
use sofa_hessian::{Decoder, Dialect, SofaResponse};

#[derive(Debug, Deserialize)]
#[serde(rename = "com.example.User")]
#[allow(dead_code)]
struct User {
    name: String,
    age: i32,
    tags: Option<Vec<String>>,
    scores: HashMap<String, f64>,
    friends: Vec<User>,
}

#[derive(Debug, Deserialize)]
#[allow(dead_code)]
enum Shape {
    Circle(f64),
    Rect { w: i64, h: i64 },
    Empty,
}

fn try_all<'a>(data: &'a [u8], dialect: Dialect, which: u8) {
    let mut dec = Decoder::new(data, dialect);
    let _ = match which % 9 {
        0 => dec.decode::<String>().map(drop),
        1 => dec.decode::<i64>().map(drop),
        2 => dec.decode::<Vec<i32>>().map(drop),
        3 => dec.decode::<User>().map(drop),
        4 => dec.decode::<HashMap<String, Vec<Option<bool>>>>().map(drop),
        5 => dec.decode::<Shape>().map(drop),
        6 => dec.decode::<(u8, f32, Vec<u8>)>().map(drop),
        7 => dec.decode_borrowed::<&'a str>().map(drop),
        _ => SofaResponse::<User>::read(&mut dec).map(drop),
    };
}

fuzz_target!(|data: &[u8]| {
    let [pick, which, data @ ..] = data else {
        return;
    };
    let dialect = if pick & 1 == 0 { Dialect::V3 } else { Dialect::V4 };
    try_all(data, dialect, *which);
});
