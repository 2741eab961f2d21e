//! The header map ("SimpleMapSerializer" in Java SOFARPC).

use bytes::{BufMut, Bytes, BytesMut};

use super::spare;
use super::HeaderStr;
use crate::error::{Error, ErrorKind, Result};

/// A frame's header: an ordered map of string keys to string values.
///
/// On the wire it is a flat sequence of `i32 len, UTF-8 bytes` pairs with no count and no
/// terminator; the frame's `headerLen` delimits it. Order is kept, duplicates included, so a
/// decoded header re-encodes to the same bytes; as in Java, the last value of a repeated key
/// wins. Inserting an existing key replaces its value in place.
///
/// Keys and values are [`HeaderStr`]s: static strings, moved-in `String`s, or slices of the
/// received frame, so neither building nor reading a header copies its text.
///
/// ```
/// use sofa_bolt::HeaderMap;
///
/// # fn main() -> Result<(), Box<dyn std::error::Error>> {
/// let mut h = HeaderMap::new();
/// h.insert("service", "com.example.Echo:1.0");
/// let mut wire = bytes::BytesMut::new();
/// h.encode(&mut wire);
/// assert_eq!(wire.len(), h.encoded_len());
/// assert_eq!(HeaderMap::decode(&wire.freeze())?, h);
/// # Ok(())
/// # }
/// ```
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct HeaderMap {
    entries: Vec<(HeaderStr, HeaderStr)>,
}

impl HeaderMap {
    /// An empty map.
    pub fn new() -> Self {
        HeaderMap {
            entries: Vec::new(),
        }
    }

    /// An empty map with room for `n` entries.
    pub fn with_capacity(n: usize) -> Self {
        HeaderMap {
            entries: Vec::with_capacity(n),
        }
    }

    /// Number of entries.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// `true` when there are no entries.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// The value of `key`, if present.
    pub fn get(&self, key: &str) -> Option<&str> {
        self.entries
            .iter()
            .rfind(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }

    /// The value of `key` as a [`HeaderStr`] (a cheap clone).
    pub fn get_str(&self, key: &str) -> Option<&HeaderStr> {
        self.entries.iter().rfind(|(k, _)| k == key).map(|(_, v)| v)
    }

    /// Sets `key` to `value`, replacing (in place) any earlier value; returns the old value.
    pub fn insert(
        &mut self,
        key: impl Into<HeaderStr>,
        value: impl Into<HeaderStr>,
    ) -> Option<HeaderStr> {
        let key = key.into();
        let value = value.into();
        match self.entries.iter_mut().rfind(|(k, _)| *k == key) {
            Some((_, v)) => Some(std::mem::replace(v, value)),
            None => {
                self.entries.push((key, value));
                None
            }
        }
    }

    /// Appends an entry without looking for an earlier one with the same key (the caller knows
    /// there is none); the fast way to build a header.
    pub fn append(&mut self, key: impl Into<HeaderStr>, value: impl Into<HeaderStr>) {
        self.entries.push((key.into(), value.into()));
    }

    /// Removes every entry of `key`, returning the value that was in effect.
    pub fn remove(&mut self, key: &str) -> Option<HeaderStr> {
        let mut removed = None;
        self.entries.retain_mut(|(k, v)| {
            if k == key {
                removed = Some(std::mem::take(v));
                false
            } else {
                true
            }
        });
        removed
    }

    /// Iterates over `(key, value)` pairs in order.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &str)> {
        self.entries.iter().map(|(k, v)| (k.as_str(), v.as_str()))
    }

    /// The number of bytes [`encode`](Self::encode) writes.
    pub fn encoded_len(&self) -> usize {
        self.entries
            .iter()
            .map(|(k, v)| 8 + k.len() + v.len())
            .sum()
    }

    /// Appends the wire form to `dst`.
    pub fn encode(&self, dst: &mut BytesMut) {
        dst.reserve(self.encoded_len());
        for (k, v) in &self.entries {
            put_str(dst, k);
            put_str(dst, v);
        }
    }

    /// Parses the wire form; keys and values are slices of `src` (no copy).
    ///
    /// Entries whose key or value is written as null (length `-1`, which Node peers emit) are
    /// dropped, as Java SOFARPC does. Any other negative length, a length past the end of the
    /// section, or bytes that are not UTF-8 are an [`ErrorKind::InvalidHeader`] error.
    pub fn decode(src: &Bytes) -> Result<HeaderMap> {
        // An empty section (a plain successful response) costs no allocation.
        if src.is_empty() {
            return Ok(HeaderMap::new());
        }
        let mut map = HeaderMap {
            entries: spare::take(),
        };
        let mut at = 0;
        while at < src.len() {
            let key = take_str(src, &mut at, WELL_KNOWN_KEYS)?;
            let value = take_str(src, &mut at, &[])?;
            if let (Some(key), Some(value)) = (key, value) {
                map.entries.push((key, value));
            }
        }
        Ok(map)
    }
}

impl Drop for HeaderMap {
    fn drop(&mut self) {
        spare::keep(std::mem::take(&mut self.entries));
    }
}

impl<K: Into<HeaderStr>, V: Into<HeaderStr>> FromIterator<(K, V)> for HeaderMap {
    fn from_iter<I: IntoIterator<Item = (K, V)>>(iter: I) -> Self {
        let mut map = HeaderMap::new();
        for (k, v) in iter {
            map.insert(k, v);
        }
        map
    }
}

impl<'a> IntoIterator for &'a HeaderMap {
    type Item = (&'a str, &'a str);
    type IntoIter = std::iter::Map<
        std::slice::Iter<'a, (HeaderStr, HeaderStr)>,
        fn(&'a (HeaderStr, HeaderStr)) -> (&'a str, &'a str),
    >;

    fn into_iter(self) -> Self::IntoIter {
        fn pair(e: &(HeaderStr, HeaderStr)) -> (&str, &str) {
            (e.0.as_str(), e.1.as_str())
        }
        self.entries.iter().map(pair)
    }
}

fn put_str(dst: &mut BytesMut, s: &str) {
    // Lengths are bounded when the frame is encoded (a header is at most 32767 bytes).
    dst.put_i32(i32::try_from(s.len()).unwrap_or(i32::MAX));
    dst.put_slice(s.as_bytes());
}

/// Keys SOFARPC peers put in nearly every request and response: read as static strings, with
/// no UTF-8 check and no reference count to keep.
const WELL_KNOWN_KEYS: &[&str] = &[
    "service",
    "sofa_head_target_service",
    "sofa_head_method_name",
    "sofa_head_target_app",
    "sofa_head_response_error",
    "sofa_head_generic_type",
    "sofa_head_deadline_remain_time",
    "new_rpc_trace_context",
    "protocol",
    "type",
    "app",
];

/// Takes one length-prefixed string at `*at`: one of `known` if it is one, else a slice of
/// `src`.
fn take_str(src: &Bytes, at: &mut usize, known: &[&'static str]) -> Result<Option<HeaderStr>> {
    let rest = src.get(*at..).unwrap_or_default();
    let Some((len, _)) = rest.split_first_chunk::<4>() else {
        return Err(Error::new(
            ErrorKind::InvalidHeader,
            format!("{} stray bytes at the end of the header map", rest.len()),
        ));
    };
    let len = i32::from_be_bytes(*len);
    *at += 4;
    if len == -1 {
        return Ok(None);
    }
    let len = usize::try_from(len).map_err(|_| {
        Error::new(
            ErrorKind::InvalidHeader,
            format!("negative string length {len} in header map"),
        )
    })?;
    let left = src.len() - *at;
    if len > left {
        return Err(Error::new(
            ErrorKind::InvalidHeader,
            format!(
                "header string of {len} bytes runs past the end of the header map ({left} left)"
            ),
        ));
    }
    let bytes = &src[*at..*at + len];
    let s = match known.iter().find(|k| k.as_bytes() == bytes) {
        Some(k) => HeaderStr::from_static(k),
        None if len == 0 => HeaderStr::new(),
        None => HeaderStr::from_utf8(src.slice(*at..*at + len))
            .map_err(|e| Error::with_source(ErrorKind::InvalidHeader, "header string", e))?,
    };
    *at += len;
    Ok(Some(s))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn wire(map: &HeaderMap) -> Vec<u8> {
        let mut b = BytesMut::new();
        map.encode(&mut b);
        b.to_vec()
    }

    #[test]
    fn spec_example_bytes() {
        let map: HeaderMap = [("service", "com.example.Echo:1.0")].into_iter().collect();
        let mut expected = vec![0, 0, 0, 7];
        expected.extend_from_slice(b"service");
        expected.extend_from_slice(&[0, 0, 0, 0x14]);
        expected.extend_from_slice(b"com.example.Echo:1.0");
        assert_eq!(wire(&map), expected);
        assert_eq!(map.encoded_len(), 35);
    }

    #[test]
    fn empty_value_and_order_round_trip() {
        let map: HeaderMap = [("b", ""), ("a", "x"), ("c", "日本")].into_iter().collect();
        let back = HeaderMap::decode(&Bytes::from(wire(&map))).unwrap();
        assert_eq!(back, map);
        assert_eq!(
            back.iter().map(|(k, _)| k).collect::<Vec<_>>(),
            ["b", "a", "c"]
        );
        assert_eq!(back.get("b"), Some(""));
    }

    #[test]
    fn insert_replaces_in_place() {
        let mut map = HeaderMap::new();
        map.insert("a", "1");
        map.insert("b", "2");
        assert_eq!(map.insert("a", "3").as_deref(), Some("1"));
        assert_eq!(map.iter().collect::<Vec<_>>(), [("a", "3"), ("b", "2")]);
        assert_eq!(map.remove("a").as_deref(), Some("3"));
        assert_eq!(map.len(), 1);
    }

    #[test]
    fn repeated_keys_keep_their_bytes_and_the_last_wins() {
        let mut b = BytesMut::new();
        for (k, v) in [("a", "1"), ("b", "2"), ("a", "3")] {
            put_str(&mut b, k);
            put_str(&mut b, v);
        }
        let mut map = HeaderMap::decode(&b.clone().freeze()).unwrap();
        assert_eq!(map.get("a"), Some("3"));
        assert_eq!(wire(&map), b.to_vec());
        assert_eq!(map.remove("a").as_deref(), Some("3"));
        assert_eq!(map.len(), 1);
    }

    #[test]
    fn a_dropped_map_lends_its_storage_to_the_next_decoded_one() {
        let mut b = BytesMut::new();
        put_str(&mut b, "service");
        put_str(&mut b, "com.example.Echo:1.0");
        let section = b.freeze();
        let first = HeaderMap::decode(&section).unwrap();
        let storage = first.entries.as_ptr();
        drop(first);
        let second = HeaderMap::decode(&section).unwrap();
        assert_eq!(second.entries.as_ptr(), storage);
        assert_eq!(second.get("service"), Some("com.example.Echo:1.0"));
        assert_eq!(second.len(), 1, "nothing left over from the first map");
    }

    #[test]
    fn an_empty_section_is_an_empty_map() {
        let map = HeaderMap::decode(&Bytes::new()).unwrap();
        assert!(map.is_empty());
        assert_eq!(wire(&map), Vec::<u8>::new());
    }

    #[test]
    fn null_entries_are_dropped() {
        let mut b = BytesMut::new();
        b.put_i32(1);
        b.put_slice(b"k");
        b.put_i32(-1);
        b.put_i32(1);
        b.put_slice(b"j");
        b.put_i32(1);
        b.put_slice(b"v");
        let map = HeaderMap::decode(&b.freeze()).unwrap();
        assert_eq!(map.iter().collect::<Vec<_>>(), [("j", "v")]);
    }

    #[test]
    fn malformed_sections_are_errors() {
        let cases: Vec<Vec<u8>> = vec![
            vec![0, 0, 0],                      // truncated length
            vec![0, 0, 0, 5, b'a'],             // length past the end
            vec![0xff, 0xff, 0xff, 0xfe],       // negative length
            vec![0, 0, 0, 1, 0xff, 0, 0, 0, 0], // invalid UTF-8 key
            vec![0, 0, 0, 1, b'k'],             // key without value
        ];
        for case in cases {
            let err = HeaderMap::decode(&Bytes::from(case.clone())).unwrap_err();
            assert_eq!(err.kind(), ErrorKind::InvalidHeader, "{case:?}");
        }
    }

    #[test]
    fn huge_declared_length_does_not_allocate() {
        let err =
            HeaderMap::decode(&Bytes::from_static(&[0x7f, 0xff, 0xff, 0xff, b'x'])).unwrap_err();
        assert!(err.message().contains("runs past the end"));
    }
}
