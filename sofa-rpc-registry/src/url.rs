//! Percent-encoding of URL components, as Java's `URLEncoder` / `URLDecoder` do it.

/// Encodes `s` for use as a query value or a ZooKeeper node name: unreserved characters
/// (`A-Z a-z 0-9 - _ . *`) are kept, a space becomes `+`, everything else `%XX` per UTF-8 byte.
pub fn encode_component(s: &str) -> String {
    let mut out = String::with_capacity(s.len() * 3 / 2);
    for b in s.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'*' => {
                out.push(char::from(b))
            }
            b' ' => out.push('+'),
            _ => {
                out.push('%');
                out.push(hex_digit(b >> 4));
                out.push(hex_digit(b & 0x0f));
            }
        }
    }
    out
}

fn hex_digit(n: u8) -> char {
    char::from(if n < 10 { b'0' + n } else { b'A' + n - 10 })
}

/// Decodes `%XX` escapes and `+` (as a space). Malformed escapes are kept as they are, and
/// byte sequences that are not UTF-8 become U+FFFD, so decoding never fails.
pub fn decode_component(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while let Some(&b) = bytes.get(i) {
        match b {
            b'+' => {
                out.push(b' ');
                i += 1;
            }
            b'%' => match (
                bytes.get(i + 1).and_then(|c| hex_value(*c)),
                bytes.get(i + 2).and_then(|c| hex_value(*c)),
            ) {
                (Some(hi), Some(lo)) => {
                    out.push(hi << 4 | lo);
                    i += 3;
                }
                _ => {
                    out.push(b'%');
                    i += 1;
                }
            },
            _ => {
                out.push(b);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn hex_value(c: u8) -> Option<u8> {
    match c {
        b'0'..=b'9' => Some(c - b'0'),
        b'a'..=b'f' => Some(c - b'a' + 10),
        b'A'..=b'F' => Some(c - b'A' + 10),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn java_form_encoding() {
        assert_eq!(
            encode_component("bolt://1.2.3.4:12200?a=b&c=d e"),
            "bolt%3A%2F%2F1.2.3.4%3A12200%3Fa%3Db%26c%3Dd+e"
        );
        assert_eq!(encode_component("中"), "%E4%B8%AD");
    }

    #[test]
    fn decodes_both_java_and_javascript_forms() {
        assert_eq!(decode_component("a%3Ab+c%20d"), "a:b c d");
        assert_eq!(decode_component("%E4%b8%ad"), "中");
        assert_eq!(decode_component("100%"), "100%");
        assert_eq!(decode_component("%zz"), "%zz");
        let s = "bolt://h:1?x=1&y=a b/c";
        assert_eq!(decode_component(&encode_component(s)), s);
    }
}
