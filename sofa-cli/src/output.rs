//! Writing a command's outcome: text for people, or one JSON document with `--json`.

use serde_json::Value as Json;

/// Prints `doc` as pretty JSON on stdout.
pub(crate) fn print_json(doc: &Json) {
    // Serializing a `serde_json::Value` cannot fail.
    println!(
        "{}",
        serde_json::to_string_pretty(doc).unwrap_or_else(|_| doc.to_string())
    );
}

/// Milliseconds with three decimals from microseconds, for latencies.
pub(crate) fn ms(micros: u64) -> f64 {
    (micros as f64 / 1000.0 * 1000.0).round() / 1000.0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn micros_to_millis() {
        assert_eq!(ms(1234), 1.234);
        assert_eq!(ms(0), 0.0);
    }
}
