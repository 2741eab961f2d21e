//! The header map ("SimpleMapSerializer" in Java SOFARPC).

use std::fmt;

use bytes::{BufMut, Bytes, BytesMut};

use super::header_text::Text;
use super::HeaderStr;
use super::{seen, spare};
use crate::error::{Error, ErrorKind, Result};

/// A frame's header: an ordered map of string keys to string values.
///
/// On the wire it is a flat sequence of `i32 len, UTF-8 bytes` pairs with no count and no
/// terminator; the frame's `headerLen` delimits it. Order is kept, duplicates included, so a
/// decoded header re-encodes to the same bytes; as in Java, the last value of a repeated key
/// wins. Inserting an existing key replaces its value in place.
///
/// Neither building nor reading a header copies its text: keys and values put in are
/// [`HeaderStr`]s (static strings or moved-in `String`s), and a decoded map keeps the section it
/// was read from, its entries being places in it.
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
#[derive(Clone, Default)]
pub struct HeaderMap {
    /// The section a decoded map was read from (empty for a map built in code).
    wire: Bytes,
    entries: Vec<(Text, Text)>,
}

impl HeaderMap {
    /// An empty map.
    pub fn new() -> Self {
        HeaderMap::default()
    }

    /// An empty map with room for `n` entries.
    pub fn with_capacity(n: usize) -> Self {
        HeaderMap {
            wire: Bytes::new(),
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
        self.find(key).map(|(_, v)| self.text(v))
    }

    /// The value of `key` as a [`HeaderStr`] (a cheap clone).
    pub fn get_str(&self, key: &str) -> Option<HeaderStr> {
        self.find(key).map(|(_, v)| self.header_str(v))
    }

    /// Sets `key` to `value`, replacing (in place) any earlier value; returns the old value.
    pub fn insert(
        &mut self,
        key: impl Into<HeaderStr>,
        value: impl Into<HeaderStr>,
    ) -> Option<HeaderStr> {
        let key = key.into();
        let value = Text::Str(value.into());
        let wire = &self.wire;
        match self
            .entries
            .iter_mut()
            .rfind(|(k, _)| bytes_of(wire, k) == key.as_bytes())
        {
            Some((_, v)) => {
                let old = std::mem::replace(v, value);
                Some(header_str_of(wire, &old))
            }
            None => {
                self.entries.push((Text::Str(key), value));
                None
            }
        }
    }

    /// Appends an entry without looking for an earlier one with the same key (the caller knows
    /// there is none); the fast way to build a header.
    pub fn append(&mut self, key: impl Into<HeaderStr>, value: impl Into<HeaderStr>) {
        self.entries
            .push((Text::Str(key.into()), Text::Str(value.into())));
    }

    /// Removes every entry of `key`, returning the value that was in effect.
    pub fn remove(&mut self, key: &str) -> Option<HeaderStr> {
        let removed = self.get_str(key)?;
        let wire = &self.wire;
        self.entries
            .retain(|(k, _)| bytes_of(wire, k) != key.as_bytes());
        Some(removed)
    }

    /// Iterates over `(key, value)` pairs in order.
    pub fn iter(&self) -> HeaderIter<'_> {
        HeaderIter {
            map: self,
            entries: self.entries.iter(),
        }
    }

    /// The number of bytes [`encode`](Self::encode) writes.
    pub fn encoded_len(&self) -> usize {
        self.entries
            .iter()
            .map(|(k, v)| 8 + self.bytes(k).len() + self.bytes(v).len())
            .sum()
    }

    /// Appends the wire form to `dst`.
    pub fn encode(&self, dst: &mut BytesMut) {
        dst.reserve(self.encoded_len());
        for (k, v) in &self.entries {
            put_bytes(dst, self.bytes(k));
            put_bytes(dst, self.bytes(v));
        }
    }

    /// Parses the wire form. The map keeps `src` (a reference, no copy); its entries are
    /// places in it.
    ///
    /// Entries whose key or value is written as null (length `-1`, which Node peers emit) are
    /// dropped, as Java SOFARPC does. Any other negative length, a length past the end of the
    /// section, or bytes that are not UTF-8 are an [`ErrorKind::InvalidHeader`] error.
    pub fn decode(src: &Bytes) -> Result<HeaderMap> {
        // An empty section (a plain successful response) costs no allocation.
        if src.is_empty() {
            return Ok(HeaderMap::new());
        }
        if let Some(entries) = seen::recall(src) {
            return Ok(HeaderMap {
                wire: src.clone(),
                entries,
            });
        }
        let mut entries = spare::take();
        let mut at = 0;
        while at < src.len() {
            let key = take_text(src, &mut at, WELL_KNOWN_KEYS)?;
            let value = take_text(src, &mut at, &[])?;
            if let (Some(key), Some(value)) = (key, value) {
                entries.push((key, value));
            }
        }
        seen::remember(src, &entries);
        Ok(HeaderMap {
            wire: src.clone(),
            entries,
        })
    }

    /// The entry in effect for `key`: the last one.
    fn find(&self, key: &str) -> Option<&(Text, Text)> {
        self.entries
            .iter()
            .rfind(|(k, _)| self.bytes(k) == key.as_bytes())
    }

    fn bytes<'a>(&'a self, t: &'a Text) -> &'a [u8] {
        bytes_of(&self.wire, t)
    }

    fn text<'a>(&'a self, t: &'a Text) -> &'a str {
        match t {
            Text::Str(s) => s.as_str(),
            Text::Known(s) => s,
            // Checked when decoded: cannot fail.
            Text::Wire { .. } => std::str::from_utf8(self.bytes(t)).unwrap_or_default(),
        }
    }

    fn header_str(&self, t: &Text) -> HeaderStr {
        header_str_of(&self.wire, t)
    }
}

fn bytes_of<'a>(wire: &'a Bytes, t: &'a Text) -> &'a [u8] {
    match t {
        Text::Str(s) => s.as_str().as_bytes(),
        Text::Known(s) => s.as_bytes(),
        Text::Wire { start, end } => wire.get(*start as usize..*end as usize).unwrap_or_default(),
    }
}

fn header_str_of(wire: &Bytes, t: &Text) -> HeaderStr {
    match t {
        Text::Str(s) => s.clone(),
        Text::Known(s) => HeaderStr::from_static(s),
        Text::Wire { start, end } => {
            let bytes = wire.slice(*start as usize..*end as usize);
            // Checked when decoded: cannot fail.
            HeaderStr::from_utf8(bytes).unwrap_or_default()
        }
    }
}

impl PartialEq for HeaderMap {
    fn eq(&self, other: &Self) -> bool {
        self.iter().eq(other.iter())
    }
}

impl Eq for HeaderMap {}

impl fmt::Debug for HeaderMap {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_map().entries(self.iter()).finish()
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

/// The `(key, value)` pairs of a [`HeaderMap`], in order.
pub struct HeaderIter<'a> {
    map: &'a HeaderMap,
    entries: std::slice::Iter<'a, (Text, Text)>,
}

impl<'a> Iterator for HeaderIter<'a> {
    type Item = (&'a str, &'a str);

    fn next(&mut self) -> Option<Self::Item> {
        let (k, v) = self.entries.next()?;
        Some((self.map.text(k), self.map.text(v)))
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        self.entries.size_hint()
    }
}

impl<'a> IntoIterator for &'a HeaderMap {
    type Item = (&'a str, &'a str);
    type IntoIter = HeaderIter<'a>;

    fn into_iter(self) -> Self::IntoIter {
        self.iter()
    }
}

fn put_bytes(dst: &mut BytesMut, s: &[u8]) {
    // Lengths are bounded when the frame is encoded (a header is at most 32767 bytes).
    dst.put_i32(i32::try_from(s.len()).unwrap_or(i32::MAX));
    dst.put_slice(s);
}

/// Keys SOFARPC peers put in nearly every request and response: read as static strings, with
/// no UTF-8 check.
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

/// Takes one length-prefixed string at `*at`: one of `known` if it is one, else its place in
/// `src`, once checked to be UTF-8.
fn take_text(src: &[u8], at: &mut usize, known: &[&'static str]) -> Result<Option<Text>> {
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
    let (start, end) = (*at, *at + len);
    let bytes = &src[start..end];
    *at = end;
    if let Some(k) = known.iter().find(|k| k.as_bytes() == bytes) {
        return Ok(Some(Text::Known(k)));
    }
    std::str::from_utf8(bytes)
        .map_err(|e| Error::with_source(ErrorKind::InvalidHeader, "header string", e))?;
    // A header section is far shorter than 4 GiB: the frame's header length is 16 bits.
    let place = |n: usize| u32::try_from(n).unwrap_or(u32::MAX);
    Ok(Some(Text::Wire {
        start: place(start),
        end: place(end),
    }))
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
            put_bytes(&mut b, k.as_bytes());
            put_bytes(&mut b, v.as_bytes());
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
        put_bytes(&mut b, b"service");
        put_bytes(&mut b, b"com.example.Echo:1.0");
        let section = b.freeze();
        let first = HeaderMap::decode(&section).unwrap();
        let storage = first.entries.as_ptr();
        drop(first);
        let second = HeaderMap::decode(&section).unwrap();
        assert_eq!(second.entries.as_ptr(), storage);
        assert_eq!(second.get("service"), Some("com.example.Echo:1.0"));
        assert_eq!(second.len(), 1, "nothing left over from the first map");
    }

    /// A section of `pairs`.
    fn section(pairs: &[(&str, &str)]) -> Bytes {
        let mut b = BytesMut::new();
        for (k, v) in pairs {
            put_bytes(&mut b, k.as_bytes());
            put_bytes(&mut b, v.as_bytes());
        }
        b.freeze()
    }

    #[test]
    fn a_section_decoded_again_reuses_its_entries_and_reads_the_new_bytes() {
        let recalled = || seen::RECALLED.with(std::cell::Cell::get);
        let pairs = [("service", "com.example.Recall:1.0"), ("x", "1")];
        let first = HeaderMap::decode(&section(&pairs)).unwrap();
        let before = recalled();
        // The same bytes in another buffer: recalled, and read from that buffer.
        let other = section(&pairs);
        let again = HeaderMap::decode(&other).unwrap();
        assert_eq!(recalled(), before + 1);
        assert_eq!(again, first);
        let value = again.get_str("x").unwrap();
        assert!(other.as_ptr_range().contains(&value.as_bytes().as_ptr()));
        // As long, but not the same: decoded afresh.
        let changed = HeaderMap::decode(&section(&[
            ("service", "com.example.Recall:1.0"),
            ("x", "2"),
        ]))
        .unwrap();
        assert_eq!(recalled(), before + 1);
        assert_eq!(changed.get("x"), Some("2"));
        // Malformed bytes are never remembered, however often they come.
        let mut broken = BytesMut::from(&section(&[("k", "v")])[..]);
        broken.truncate(broken.len() - 1);
        let broken = broken.freeze();
        for _ in 0..2 {
            assert!(HeaderMap::decode(&broken).is_err());
        }
        assert_eq!(recalled(), before + 1);
        // Only the last few sections are remembered: after enough others, decoded afresh.
        for n in 0..8 {
            HeaderMap::decode(&section(&[("n", &n.to_string())])).unwrap();
        }
        let before = recalled();
        assert_eq!(HeaderMap::decode(&section(&pairs)).unwrap(), first);
        assert_eq!(recalled(), before);
    }

    #[test]
    fn a_decoded_map_reads_its_values_in_the_section_and_takes_new_ones() {
        let mut b = BytesMut::new();
        for (k, v) in [("service", "com.example.Echo:1.0"), ("rpc_trace", "abc")] {
            put_bytes(&mut b, k.as_bytes());
            put_bytes(&mut b, v.as_bytes());
        }
        let section = b.freeze();
        let mut map = HeaderMap::decode(&section).unwrap();
        let value = map.get_str("rpc_trace").unwrap();
        let inside = section.as_ptr_range();
        assert!(inside.contains(&value.as_bytes().as_ptr()), "not copied");
        assert_eq!(map.insert("rpc_trace", "def").as_deref(), Some("abc"));
        assert_eq!(map.insert("extra", "1"), None);
        assert_eq!(
            map.iter().collect::<Vec<_>>(),
            [
                ("service", "com.example.Echo:1.0"),
                ("rpc_trace", "def"),
                ("extra", "1")
            ]
        );
        let again = HeaderMap::decode(&Bytes::from(wire(&map))).unwrap();
        assert_eq!(again, map);
        assert_eq!(format!("{map:?}"), format!("{again:?}"));
        assert_eq!(
            map.remove("service").as_deref(),
            Some("com.example.Echo:1.0")
        );
        assert_eq!(map.get("service"), None);
        assert_eq!(map.encoded_len(), wire(&map).len());
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
