//! [`HeaderStr`]: a header key or value that costs no copy.

use std::borrow::Cow;
use std::fmt;

use bytes::Bytes;
use bytestring::ByteString;

/// An immutable UTF-8 string backed by [`Bytes`]: a `&'static str`, a `String` moved in, or a
/// slice of a received frame, all without copying. Cheap to clone; checked once, when built.
#[derive(Clone, Default, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct HeaderStr(ByteString);

impl HeaderStr {
    /// The empty string.
    pub const fn new() -> Self {
        HeaderStr::from_static("")
    }

    /// A static string.
    pub const fn from_static(s: &'static str) -> Self {
        HeaderStr(ByteString::from_static(s))
    }

    /// `bytes`, if they are UTF-8.
    pub fn from_utf8(bytes: Bytes) -> Result<Self, std::str::Utf8Error> {
        ByteString::try_from(bytes).map(HeaderStr)
    }

    /// The text.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The bytes.
    pub fn as_bytes(&self) -> &Bytes {
        self.0.as_bytes()
    }

    /// Length in bytes.
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// `true` for the empty string.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl From<&'static str> for HeaderStr {
    fn from(s: &'static str) -> Self {
        HeaderStr::from_static(s)
    }
}

impl From<String> for HeaderStr {
    fn from(s: String) -> Self {
        HeaderStr(ByteString::from(s))
    }
}

impl From<Cow<'static, str>> for HeaderStr {
    fn from(s: Cow<'static, str>) -> Self {
        match s {
            Cow::Borrowed(s) => HeaderStr::from_static(s),
            Cow::Owned(s) => HeaderStr::from(s),
        }
    }
}

impl From<&String> for HeaderStr {
    fn from(s: &String) -> Self {
        HeaderStr::from(s.clone())
    }
}

impl std::ops::Deref for HeaderStr {
    type Target = str;

    fn deref(&self) -> &str {
        self.as_str()
    }
}

impl AsRef<str> for HeaderStr {
    fn as_ref(&self) -> &str {
        self.as_str()
    }
}

impl PartialEq<str> for HeaderStr {
    fn eq(&self, other: &str) -> bool {
        self.as_str() == other
    }
}

impl PartialEq<&str> for HeaderStr {
    fn eq(&self, other: &&str) -> bool {
        self.as_str() == *other
    }
}

impl fmt::Display for HeaderStr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl fmt::Debug for HeaderStr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(self.as_str(), f)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn conversions_keep_the_text() {
        let owned = String::from("service");
        assert_eq!(HeaderStr::from(owned).as_str(), "service");
        assert_eq!(HeaderStr::from("x"), "x");
        assert_eq!(HeaderStr::from(Cow::Borrowed("y")).len(), 1);
        assert!(HeaderStr::from_utf8(Bytes::from_static(&[0xff])).is_err());
        let s = HeaderStr::from_utf8(Bytes::from_static("日本".as_bytes())).unwrap();
        assert_eq!(&*s, "日本");
        assert_eq!(format!("{s:?}"), "\"日本\"");
    }
}
