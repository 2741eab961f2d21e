//! A key or a value of a header map: a place in the section it was read from, or a string.

use super::HeaderStr;

/// A key or a value.
#[derive(Clone, Debug)]
pub(super) enum Text {
    /// Bytes `start..end` of the section read, checked to be UTF-8 when it was decoded.
    Wire {
        start: u32,
        end: u32,
    },
    /// One of the keys SOFARPC peers send with nearly every frame: copied, never counted.
    Known(&'static str),
    Str(HeaderStr),
}
