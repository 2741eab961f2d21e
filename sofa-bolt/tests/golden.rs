#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

//! Every frame captured between real Node, Python and Java SOFABolt peers decodes to the fields
//! its annotation lists, and encodes back to the same bytes.

use std::collections::HashMap;
use std::fs;
use std::path::{Path, PathBuf};

use bytes::BytesMut;
use sofa_bolt::{Codec, CommandType, Frame, Protocol};

fn vectors_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/fixtures/vectors")
}

fn unhex(s: &str) -> Vec<u8> {
    let s = s.trim();
    assert!(s.len() % 2 == 0, "odd hex length");
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).expect("hex digit"))
        .collect()
}

/// The fields one annotated frame lists: name -> first word of the interpretation column,
/// plus the class name and the header entries.
#[derive(Debug, Default)]
struct Annotation {
    fields: HashMap<String, String>,
    class: Option<String>,
    header: Vec<(String, String)>,
    total: usize,
    crc_valid: bool,
}

/// Parses `<scenario>.txt`: sections headed `== pair/scenario.dir frame N (X bytes)`.
fn annotations(txt: &str) -> HashMap<(String, usize), Annotation> {
    let mut out = HashMap::new();
    let mut current: Option<((String, usize), Annotation)> = None;
    for line in txt.lines() {
        if let Some(rest) = line.strip_prefix("== ") {
            if let Some((key, ann)) = current.take() {
                out.insert(key, ann);
            }
            // "node-node/echo.c2s frame 0 (352 bytes)" or "...c2s.c2 ..." for other connections.
            let mut words = rest.split_whitespace();
            let label = words.next().expect("label");
            assert_eq!(words.next(), Some("frame"));
            let index: usize = words.next().expect("index").parse().expect("frame index");
            let total = words
                .next()
                .expect("size")
                .trim_start_matches('(')
                .parse()
                .expect("size");
            current = Some((
                (label.to_string(), index),
                Annotation {
                    total,
                    ..Annotation::default()
                },
            ));
            continue;
        }
        let Some((_, ann)) = current.as_mut() else {
            continue;
        };
        let trimmed = line.trim_start();
        if let Some(pos) = trimmed.find("className (") {
            let quoted = &trimmed[pos..];
            let start = quoted.find("= '").expect("class quote") + 3;
            ann.class = Some(quoted[start..quoted.len() - 1].to_string());
            continue;
        }
        if let Some(pos) = trimmed.find("keyLen=") {
            let entry = &trimmed[pos..];
            let q: Vec<&str> = entry.split('\'').collect();
            ann.header.push((q[1].to_string(), q[3].to_string()));
            continue;
        }
        let words: Vec<&str> = trimmed.split_whitespace().collect();
        if words.len() >= 4 && words[0].len() == 5 && words[0].chars().all(|c| c.is_ascii_digit()) {
            let name = words[2];
            if name == "crc32" {
                ann.crc_valid = trimmed.ends_with("(valid)");
            }
            ann.fields.insert(name.to_string(), words[3].to_string());
        }
    }
    if let Some((key, ann)) = current {
        out.insert(key, ann);
    }
    out
}

fn int(s: &str) -> i64 {
    match s.strip_prefix("0x") {
        Some(hex) => i64::from_str_radix(hex, 16).expect("hex field"),
        None => s.parse().expect("decimal field"),
    }
}

fn check(frame: &Frame, ann: &Annotation, name: &str) {
    let f = &ann.fields;
    let get = |k: &str| {
        int(f
            .get(k)
            .unwrap_or_else(|| panic!("{name}: no {k} annotated")))
    };
    match frame.protocol() {
        Protocol::V1 => assert_eq!(get("proto"), 1, "{name}"),
        Protocol::V2 { ver1 } => {
            assert_eq!(get("proto"), 2, "{name}");
            assert_eq!(get("ver1"), i64::from(ver1), "{name}");
            assert_eq!(get("switch"), i64::from(frame.switch()), "{name}");
        }
    }
    let ty = match frame.command_type() {
        CommandType::Response => 0,
        CommandType::Request => 1,
        CommandType::Oneway => 2,
    };
    assert_eq!(get("type"), ty, "{name}: type");
    assert_eq!(
        get("cmdcode"),
        i64::from(frame.command_code().code()),
        "{name}: cmdcode"
    );
    assert_eq!(get("ver2"), i64::from(frame.ver2()), "{name}: ver2");
    assert_eq!(
        get("requestId"),
        i64::from(frame.request_id()),
        "{name}: id"
    );
    assert_eq!(get("codec"), i64::from(frame.codec()), "{name}: codec");
    if frame.is_response() {
        assert_eq!(
            get("respStatus"),
            i64::from(frame.status().code()),
            "{name}: status"
        );
    } else {
        assert_eq!(
            get("timeout(ms)"),
            i64::from(frame.timeout()),
            "{name}: timeout"
        );
    }
    assert_eq!(get("classLen") as usize, frame.class().len(), "{name}");
    assert_eq!(get("headerLen") as usize, frame.header_len(), "{name}");
    assert_eq!(get("contentLen") as usize, frame.content().len(), "{name}");
    assert_eq!(
        ann.class.as_deref().unwrap_or(""),
        frame.class_str().expect("utf-8 class"),
        "{name}: class"
    );
    let header = frame.header().expect("header map");
    let pairs: Vec<(String, String)> = header
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    assert_eq!(pairs, ann.header, "{name}: header");
    assert_eq!(frame.has_crc(), ann.fields.contains_key("crc32"), "{name}");
    if frame.has_crc() {
        assert!(ann.crc_valid, "{name}: capture's crc was valid");
    }
    assert_eq!(frame.encoded_len(), ann.total, "{name}: total length");
}

/// `INDEX.tsv`: one row per frame (file, bytes, proto, type, cmdcode, id, codec, status or
/// timeout, class).
fn index() -> HashMap<String, Vec<String>> {
    fs::read_to_string(vectors_dir().join("INDEX.tsv"))
        .expect("index")
        .lines()
        .skip(1)
        .map(|l| {
            let cols: Vec<String> = l.split('\t').map(str::to_string).collect();
            (cols[0].clone(), cols)
        })
        .collect()
}

fn check_index_row(frame: &Frame, row: &[String], name: &str) {
    assert_eq!(
        row[1].parse::<usize>().expect("bytes"),
        frame.encoded_len(),
        "{name}"
    );
    assert_eq!(
        row[5].parse::<i32>().expect("id"),
        frame.request_id(),
        "{name}"
    );
    let class = if row[8] == "-" { "" } else { row[8].as_str() };
    assert_eq!(frame.class_str(), Some(class), "{name}");
}

#[test]
fn every_captured_frame_decodes_as_annotated_and_reencodes_exactly() {
    let mut seen = 0;
    let mut annotated = 0;
    let index_rows = index();
    let mut protocols = HashMap::new();
    let mut pairs: Vec<_> = fs::read_dir(vectors_dir())
        .expect("fixtures")
        .map(|e| e.expect("entry").path())
        .filter(|p| p.is_dir())
        .collect();
    pairs.sort();
    for pair in pairs {
        let pair_name = pair
            .file_name()
            .expect("name")
            .to_string_lossy()
            .to_string();
        let mut files: Vec<_> = fs::read_dir(&pair)
            .expect("pair dir")
            .map(|e| e.expect("entry").path())
            .filter(|p| p.extension().is_some_and(|x| x == "hex"))
            .collect();
        files.sort();
        let mut notes: HashMap<String, HashMap<(String, usize), Annotation>> = HashMap::new();
        for file in files {
            let fname = file
                .file_name()
                .expect("name")
                .to_string_lossy()
                .to_string();
            // <scenario>.<dir>-fNN.hex
            let stem = fname.trim_end_matches(".hex");
            let (label, idx) = stem.rsplit_once("-f").expect("frame index");
            let index: usize = idx.parse().expect("index");
            let scenario = label.split('.').next().expect("scenario").to_string();
            let txt = notes.entry(scenario.clone()).or_insert_with(|| {
                fs::read_to_string(pair.join(format!("{scenario}.txt")))
                    .map(|t| annotations(&t))
                    .unwrap_or_default()
            });
            let key = (format!("{pair_name}/{label}"), index);
            let ann = txt.get(&key);
            let indexed = index_rows.get(&format!("{pair_name}/{fname}"));

            let wire = unhex(&fs::read_to_string(&file).expect("hex"));
            let mut buf = BytesMut::from(&wire[..]);
            let mut codec = Codec::default();
            let frame = codec
                .decode(&mut buf)
                .unwrap_or_else(|e| panic!("{fname}: {e}"))
                .unwrap_or_else(|| panic!("{fname}: incomplete"));
            assert!(buf.is_empty(), "{pair_name}/{fname}: trailing bytes");
            let name = format!("{pair_name}/{fname}");
            match (ann, indexed) {
                (Some(ann), _) => {
                    check(&frame, ann, &name);
                    annotated += 1;
                }
                (None, Some(row)) => check_index_row(&frame, row, &name),
                // A request whose response was not captured: the request side must still be a
                // well-formed SOFARPC request.
                (None, None) => {
                    assert!(label.ends_with("c2s"), "{name}: unannotated");
                    assert!(frame.is_request() && !frame.is_heartbeat(), "{name}");
                    assert_eq!(
                        frame.class_str(),
                        Some("com.alipay.sofa.rpc.core.request.SofaRequest"),
                        "{name}"
                    );
                    assert!(frame.header().expect("header").get("service").is_some());
                }
            }

            let mut again = BytesMut::new();
            codec.encode(&frame, &mut again).expect("encode");
            assert_eq!(&again[..], &wire[..], "{pair_name}/{fname}: re-encoding");
            *protocols.entry(frame.protocol()).or_insert(0) += 1;
            seen += 1;
        }
    }
    // All pairs, both protocols, CRC frames included.
    assert!(seen >= 90, "only {seen} frames checked");
    assert!(
        annotated >= 80,
        "only {annotated} frames checked against annotations"
    );
    assert!(protocols.get(&Protocol::V1).copied().unwrap_or(0) > 0);
    assert!(protocols.get(&Protocol::V2_CRC).copied().unwrap_or(0) > 0);
}

#[test]
fn captured_streams_split_into_their_frames() {
    // Concatenate every frame of a scenario's direction and feed the stream in odd-sized
    // chunks: frame boundaries must come out exactly.
    let pair = vectors_dir().join("java-java");
    let mut frames = Vec::new();
    for i in 0..4 {
        let path = pair.join(format!("heartbeat.c2s-f{i:02}.hex"));
        frames.push(unhex(&fs::read_to_string(path).expect("hex")));
    }
    let stream: Vec<u8> = frames.concat();
    let mut codec = Codec::default();
    let mut buf = BytesMut::new();
    let mut out = Vec::new();
    for chunk in stream.chunks(7) {
        buf.extend_from_slice(chunk);
        while let Some(frame) = codec.decode(&mut buf).expect("decode") {
            let mut b = BytesMut::new();
            codec.encode(&frame, &mut b).expect("encode");
            out.push(b.to_vec());
        }
    }
    assert_eq!(out, frames);
}
