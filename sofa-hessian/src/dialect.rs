//! The two Hessian dialects spoken by SOFARPC peers, and the tag bytes of each.

/// Which Hessian 2 grammar to write and to accept.
///
/// The two dialects share the compact codes for null, booleans, ints, longs, short
/// strings and short binaries, but disagree on almost everything else (class
/// definitions, objects, lists, maps, references, dates, doubles); a reader of one
/// cannot read non-trivial values written in the other.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum Dialect {
    /// The early Hessian 2.0 draft implemented by sofa-hessian 3.x: SOFARPC 5.x
    /// (Java), sofa-bolt-node / sofa-rpc-node default (`'3.0'`). The default.
    #[default]
    V3,
    /// The final Hessian 2.0 grammar implemented by sofa-hessian 4.x (and
    /// sofa-rpc-node with `HESSIAN_VERSION=4.0`).
    V4,
}

impl Dialect {
    /// Guesses the dialect of a SOFARPC content stream from its first bytes.
    ///
    /// SOFARPC request and response bodies start with the class definition of
    /// `SofaRequest`/`SofaResponse`: `'O'` in the 3.x dialect, `'C'` in the 4.x
    /// dialect. A few other unambiguous leading codes are recognised too; returns
    /// `None` when the first byte is shared by both dialects (e.g. a plain string).
    pub fn detect(content: &[u8]) -> Option<Dialect> {
        let first = *content.first()?;
        match first {
            // 3.x: class definition, instance, date, compact doubles, typed or
            // length-prefixed list/map headers.
            b'O' | b'o' | b'd' | 0x67..=0x6b => Some(Dialect::V3),
            b'M' | b'V' => match content.get(1) {
                Some(b't') | Some(0x75) | Some(b'n') | Some(b'l') | Some(b'z') => Some(Dialect::V3),
                _ => None,
            },
            // 4.x: class definition, untyped map, long32, compact doubles, dates,
            // list forms that the 3.x grammar does not have.
            b'C' | b'H' | 0x59 | 0x5b..=0x5f | 0x4a | 0x4b | 0x55 | 0x57 | 0x58 => {
                Some(Dialect::V4)
            }
            0x70..=0x72 | 0x74..=0x76 | 0x78 | 0x79 | 0x7b..=0x7f => Some(Dialect::V4),
            _ => None,
        }
    }
}

/// Tag bytes. Names follow the Java constants; the comment says which dialect uses it.
#[allow(dead_code)]
pub(super) mod tag {
    // ---- shared ----
    pub(crate) const NULL: u8 = b'N';
    pub(crate) const TRUE: u8 = b'T';
    pub(crate) const FALSE: u8 = b'F';
    pub(crate) const INT: u8 = b'I';
    pub(crate) const LONG: u8 = b'L';
    pub(crate) const DOUBLE: u8 = b'D';
    pub(crate) const STRING_FINAL: u8 = b'S';
    pub(crate) const BINARY_FINAL: u8 = b'B';
    pub(crate) const LIST_V: u8 = b'V';
    pub(crate) const MAP_M: u8 = b'M';

    pub(crate) const INT_ZERO: i32 = 0x90;
    pub(crate) const INT_BYTE_ZERO: i32 = 0xc8;
    pub(crate) const INT_SHORT_ZERO: i32 = 0xd4;
    pub(crate) const LONG_ZERO: i64 = 0xe0;
    pub(crate) const LONG_BYTE_ZERO: i64 = 0xf8;
    pub(crate) const LONG_SHORT_ZERO: i64 = 0x3c;
    pub(crate) const STRING_DIRECT_MAX: usize = 0x1f;
    pub(crate) const BINARY_DIRECT: u8 = 0x20;
    pub(crate) const BINARY_DIRECT_MAX: usize = 0x0f;

    // ---- 3.x (draft) ----
    pub(crate) const V3_LONG_INT: u8 = 0x77;
    pub(crate) const V3_DOUBLE_ZERO: u8 = 0x67;
    pub(crate) const V3_DOUBLE_ONE: u8 = 0x68;
    pub(crate) const V3_DOUBLE_BYTE: u8 = 0x69;
    pub(crate) const V3_DOUBLE_SHORT: u8 = 0x6a;
    pub(crate) const V3_DOUBLE_FLOAT: u8 = 0x6b;
    pub(crate) const V3_DATE: u8 = b'd';
    pub(crate) const V3_STRING_CHUNK: u8 = b's';
    pub(crate) const V3_BINARY_CHUNK: u8 = b'b';
    pub(crate) const V3_CLASS_DEF: u8 = b'O';
    pub(crate) const V3_OBJECT: u8 = b'o';
    pub(crate) const V3_LIST_FIXED: u8 = b'v';
    pub(crate) const V3_TYPE: u8 = b't';
    pub(crate) const V3_TYPE_REF: u8 = 0x75;
    pub(crate) const V3_LENGTH_BYTE: u8 = b'n';
    pub(crate) const V3_LENGTH_INT: u8 = b'l';
    pub(crate) const V3_END: u8 = b'z';
    pub(crate) const V3_REF_BYTE: u8 = 0x4a;
    pub(crate) const V3_REF_SHORT: u8 = 0x4b;
    pub(crate) const V3_REF_INT: u8 = b'R';

    // ---- 4.x (final) ----
    pub(crate) const V4_LONG_INT: u8 = 0x59;
    pub(crate) const V4_DOUBLE_ZERO: u8 = 0x5b;
    pub(crate) const V4_DOUBLE_ONE: u8 = 0x5c;
    pub(crate) const V4_DOUBLE_BYTE: u8 = 0x5d;
    pub(crate) const V4_DOUBLE_SHORT: u8 = 0x5e;
    pub(crate) const V4_DOUBLE_MILL: u8 = 0x5f;
    pub(crate) const V4_DATE: u8 = 0x4a;
    pub(crate) const V4_DATE_MINUTE: u8 = 0x4b;
    pub(crate) const V4_STRING_CHUNK: u8 = b'R';
    pub(crate) const V4_STRING_SHORT: u8 = 0x30;
    pub(crate) const V4_STRING_SHORT_MAX: usize = 0x3ff;
    pub(crate) const V4_BINARY_CHUNK: u8 = b'A';
    pub(crate) const V4_BINARY_SHORT: u8 = 0x34;
    pub(crate) const V4_BINARY_SHORT_MAX: usize = 0x3ff;
    pub(crate) const V4_CLASS_DEF: u8 = b'C';
    pub(crate) const V4_OBJECT: u8 = b'O';
    pub(crate) const V4_OBJECT_DIRECT: u8 = 0x60;
    pub(crate) const V4_OBJECT_DIRECT_MAX: usize = 0x0f;
    pub(crate) const V4_LIST_VARIABLE: u8 = 0x55;
    pub(crate) const V4_LIST_VARIABLE_UNTYPED: u8 = 0x57;
    pub(crate) const V4_LIST_FIXED_UNTYPED: u8 = 0x58;
    pub(crate) const V4_LIST_DIRECT: u8 = 0x70;
    pub(crate) const V4_LIST_DIRECT_UNTYPED: u8 = 0x78;
    pub(crate) const V4_LIST_DIRECT_MAX: usize = 7;
    pub(crate) const V4_MAP_UNTYPED: u8 = b'H';
    pub(crate) const V4_END: u8 = b'Z';
    pub(crate) const V4_REF: u8 = 0x51;
    /// Binary chunk size used when writing 4.x binaries (as hessian.js does; Java's
    /// chunk boundaries depend on its internal buffer state).
    pub(crate) const V4_BINARY_CHUNK_SIZE: usize = 4093;
    /// String/3.x binary chunk size (UTF-16 units / bytes).
    pub(crate) const CHUNK_SIZE: usize = 0x8000;
}
