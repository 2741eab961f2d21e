//! The crate's modules import only downward: each top-level module names only modules of its
//! own layer or below, and modules of one layer import each other without a circle. The layers
//! are the ones `lib.rs` describes under "Layout".

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs)]

use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::path::Path;

/// Bottom first.
const LAYERS: &[&[&str]] = &[
    &[
        "error",
        "headers",
        "service_id",
        "value",
        "trace",
        "java_type",
        "context",
        "invocation",
        "request_head",
    ],
    &[
        "serialize",
        "response",
        "dispatch",
        "metadata",
        "directory",
        "transport",
        "inproc",
        "event",
    ],
    &[
        "filter",
        "router",
        "loadbalance",
        "fault",
        "guard",
        "cluster",
        "metrics",
    ],
    &["extension"],
    &["client", "server"],
    &["__private"],
];

fn layer_of(module: &str) -> usize {
    LAYERS
        .iter()
        .position(|layer| layer.contains(&module))
        .unwrap_or_else(|| panic!("module {module} is in no layer: add it to LAYERS and lib.rs"))
}

/// The code of a file: without its `#[cfg(test)]` part (tests come last in a file) and
/// without comments (a doc link to a type above is no import).
fn library_part(path: &Path) -> String {
    let text = fs::read_to_string(path).unwrap();
    let code = match text.find("#[cfg(test)]") {
        Some(at) => &text[..at],
        None => &text,
    };
    code.lines()
        .filter(|line| !line.trim_start().starts_with("//"))
        .collect::<Vec<_>>()
        .join("\n")
}

fn rust_files(dir: &Path, out: &mut Vec<std::path::PathBuf>) {
    for entry in fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            // Test folders are not library code.
            if path.file_name().unwrap() != "tests" {
                rust_files(&path, out);
            }
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// The names after each `crate::` in `text`: a module, or inside `crate::{...}` several.
fn crate_paths(text: &str) -> Vec<String> {
    let mut names = Vec::new();
    for (at, _) in text.match_indices("crate::") {
        // `$crate::` in a macro is the crate seen from outside, not an import.
        if text[..at].ends_with('$') {
            continue;
        }
        let rest = &text[at + "crate::".len()..];
        if let Some(group) = rest.strip_prefix('{') {
            let end = group.find('}').unwrap();
            for item in group[..end].split(',') {
                let name: String = item
                    .trim()
                    .chars()
                    .take_while(|c| c.is_alphanumeric() || *c == '_')
                    .collect();
                if !name.is_empty() {
                    names.push(name);
                }
            }
        } else {
            let name: String = rest
                .chars()
                .take_while(|c| c.is_alphanumeric() || *c == '_')
                .collect();
            names.push(name);
        }
    }
    names
}

/// Items the crate root re-exports, and the module each comes from.
fn root_exports(lib: &str) -> BTreeMap<String, String> {
    let mut exports = BTreeMap::new();
    for statement in lib.split(';') {
        let Some(at) = statement.find("pub use ") else {
            continue;
        };
        let path = statement[at + "pub use ".len()..].trim();
        let Some((module, items)) = path.split_once("::") else {
            continue;
        };
        let items = items.trim_start_matches('{').trim_end_matches('}');
        for item in items.split(',') {
            let item = item.trim();
            if !item.is_empty() {
                exports.insert(item.to_string(), module.to_string());
            }
        }
    }
    exports
}

#[test]
fn modules_import_only_their_own_layer_or_below() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let exports = root_exports(&fs::read_to_string(src.join("lib.rs")).unwrap());
    let mut edges: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    let mut files = Vec::new();
    rust_files(&src, &mut files);
    for file in files {
        let relative = file.strip_prefix(&src).unwrap();
        let first = relative.components().next().unwrap().as_os_str();
        let module = match first.to_str().unwrap().trim_end_matches(".rs") {
            "lib" => continue,
            "private" => "__private".to_string(),
            other => other.to_string(),
        };
        for name in crate_paths(&library_part(&file)) {
            let target = if name.starts_with(|c: char| c.is_uppercase()) {
                exports.get(&name).cloned().unwrap_or_default()
            } else {
                name
            };
            if target.is_empty() || target == module || layer_of_known(&target).is_none() {
                continue;
            }
            edges.entry(module.clone()).or_default().insert(target);
        }
    }
    let mut upward = Vec::new();
    for (from, targets) in &edges {
        for to in targets {
            if layer_of(to) > layer_of(from) {
                upward.push(format!("{from} -> {to}"));
            }
        }
    }
    assert!(upward.is_empty(), "imports that go up a layer: {upward:?}");
    for from in edges.keys() {
        assert!(
            !reaches(&edges, from, from, &mut BTreeSet::new()),
            "{from} imports itself back through a circle; edges: {edges:?}"
        );
    }
    println!("{} modules, imports: {edges:?}", edges.len());
}

fn layer_of_known(module: &str) -> Option<usize> {
    LAYERS.iter().position(|layer| layer.contains(&module))
}

fn reaches(
    edges: &BTreeMap<String, BTreeSet<String>>,
    from: &str,
    goal: &str,
    seen: &mut BTreeSet<String>,
) -> bool {
    for next in edges.get(from).into_iter().flatten() {
        if next == goal {
            return true;
        }
        if seen.insert(next.clone()) && reaches(edges, next, goal, seen) {
            return true;
        }
    }
    false
}

#[test]
fn every_module_has_a_layer() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let lib = fs::read_to_string(src.join("lib.rs")).unwrap();
    for line in lib.lines() {
        let line = line.trim();
        let declared = line
            .strip_prefix("pub mod ")
            .or_else(|| line.strip_prefix("mod "))
            .and_then(|rest| rest.strip_suffix(';'));
        if let Some(module) = declared {
            layer_of(module);
        }
    }
}
