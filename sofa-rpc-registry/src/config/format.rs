//! Guessing a document's format, for parsers that accept more than one.

use std::fmt;

/// The format of a configuration value, as far as the key or the text tells.
///
/// Parsing stays the business of whoever knows the type; this only picks a side:
///
/// ```
/// use sofa_rpc_registry::config::ConfigFormat;
///
/// assert_eq!(ConfigFormat::detect("/sofa/guard.toml", b"{}"), ConfigFormat::Toml);
/// assert_eq!(ConfigFormat::detect("guard-rules", b"  [{\"a\": 1}]"), ConfigFormat::Json);
/// assert_eq!(ConfigFormat::detect("guard-rules", b"[[rule]]\nqps = 5"), ConfigFormat::Toml);
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ConfigFormat {
    /// JSON.
    Json,
    /// TOML.
    Toml,
}

impl ConfigFormat {
    /// The format of `raw` stored under `key`: by the key's suffix (`.json`, `.toml`, any
    /// case) when it has one of those, else by the content: a document whose first
    /// non-blank character is `{`, or `[` not followed by another `[` or a TOML table name
    /// with `]`, is JSON; anything else is TOML.
    pub fn detect(key: &str, raw: &[u8]) -> ConfigFormat {
        let lower = key.to_ascii_lowercase();
        if lower.ends_with(".json") {
            return ConfigFormat::Json;
        }
        if lower.ends_with(".toml") {
            return ConfigFormat::Toml;
        }
        Self::sniff(raw)
    }

    fn sniff(raw: &[u8]) -> ConfigFormat {
        let text = String::from_utf8_lossy(raw);
        let text = text.trim_start_matches('\u{feff}').trim_start();
        if text.starts_with('{') {
            return ConfigFormat::Json;
        }
        if let Some(rest) = text.strip_prefix('[') {
            // `[[rules]]` and `[table]` are TOML; `[`, `["a"]`, `[{...}]`, `[1]` are JSON.
            let rest = rest.trim_start();
            let first_line = rest.lines().next().unwrap_or("").trim_end();
            let name = first_line.strip_suffix(']').unwrap_or("");
            let toml_table = rest.starts_with('[')
                || (name.starts_with(|c: char| c.is_alphabetic() || c == '_')
                    && name
                        .chars()
                        .all(|c| c.is_alphanumeric() || "_-. ".contains(c)));
            if !toml_table {
                return ConfigFormat::Json;
            }
        }
        ConfigFormat::Toml
    }

    /// The usual file suffix, without the dot.
    pub fn extension(self) -> &'static str {
        match self {
            ConfigFormat::Json => "json",
            ConfigFormat::Toml => "toml",
        }
    }
}

impl fmt::Display for ConfigFormat {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            ConfigFormat::Json => "JSON",
            ConfigFormat::Toml => "TOML",
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn by_suffix_then_by_content() {
        use ConfigFormat::*;
        assert_eq!(ConfigFormat::detect("a/B.JSON", b"x = 1"), Json);
        assert_eq!(ConfigFormat::detect("rules", b"\n {\"x\":1}"), Json);
        assert_eq!(ConfigFormat::detect("rules", b"[]"), Json);
        assert_eq!(ConfigFormat::detect("rules", b"[1, 2]"), Json);
        assert_eq!(ConfigFormat::detect("rules", b"[\"a\"]"), Json);
        assert_eq!(ConfigFormat::detect("rules", b"[ {\"a\": 1} ]"), Json);
        assert_eq!(ConfigFormat::detect("rules", b"[guard]\nqps = 1"), Toml);
        assert_eq!(ConfigFormat::detect("rules", b"[[rule]]\n"), Toml);
        assert_eq!(ConfigFormat::detect("rules", b"qps = 1"), Toml);
        assert_eq!(ConfigFormat::detect("rules", b""), Toml);
        assert_eq!(Json.extension(), "json");
        assert_eq!(Toml.to_string(), "TOML");
    }
}
