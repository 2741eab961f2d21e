//! The point the consistent-hash balancers look up: Java SOFARPC's `hash(md5(key), 0)`, where
//! the key is the first argument's string form (`String.valueOf(args[0])`).
//!
//! Arguments with a Java string form that does not depend on the JVM (see
//! [`java_string`]) hash byte for byte what a Java consumer hashes, so
//! both pick the same provider. Any other value has no such form in Java either, so its JSON
//! form is hashed instead: equal arguments still go to the same provider. A protobuf-only
//! argument hashes its encoding; no argument (and a `None`) hashes the empty string, as Java
//! does for no argument.
//!
//! MD5 of a key costs more than the rest of a selection, and consistent hashing is chosen
//! for keys that recur, so each thread remembers the points of the last short keys it hashed.

use std::cell::RefCell;

use md5::{Digest, Md5};

use super::java_string::{self, Text};
use crate::invocation::Invocation;

/// Java SOFARPC's `hash(digest, 0)` of the MD5 of the key of `invocation`.
pub(crate) fn key_hash(invocation: &Invocation) -> u32 {
    let Some(arg) = invocation.args().arg(0) else {
        return cached_point("");
    };
    let mut md5 = Md5::new();
    if let Some(value) = arg.as_serde() {
        let mut text = Text::default();
        if java_string::write(value, &mut text) {
            return cached_point(text.as_str());
        }
        let _ = serde_json::to_writer(Feed(&mut md5), value);
    } else if let Some(proto) = arg.as_proto() {
        let mut bytes = Vec::new();
        proto.encode_proto(&mut bytes);
        md5.update(&bytes);
    }
    point(&md5.finalize().into(), 0)
}

/// Java SOFARPC's `hash(digest, h)`: bytes `4h..4h+4` of an MD5 digest as a little-endian
/// unsigned 32-bit number (`h` in `0..4`).
pub(crate) fn point(digest: &[u8; 16], h: usize) -> u32 {
    let at = |i: usize| digest.get(4 * h + i).copied().unwrap_or(0);
    u32::from_le_bytes([at(0), at(1), at(2), at(3)])
}

/// MD5 of a string, as Java's `MessageDigest` gives it for the string's UTF-8 bytes.
pub(crate) fn md5(text: &str) -> [u8; 16] {
    Md5::digest(text.as_bytes()).into()
}

/// Keys longer than this are hashed every time (they are rarely hot, and a slot stays small).
const CACHED_KEY: usize = 32;

/// Remembered keys per thread (a direct-mapped table: a key can only be in one slot).
const SLOTS: usize = 64;

/// One remembered key and its point.
#[derive(Clone, Copy)]
struct Slot {
    /// Key length; `u8::MAX` for an empty slot.
    len: u8,
    key: [u8; CACHED_KEY],
    point: u32,
}

impl Slot {
    const EMPTY: Slot = Slot {
        len: u8::MAX,
        key: [0; CACHED_KEY],
        point: 0,
    };

    fn holds(&self, key: &[u8]) -> bool {
        usize::from(self.len) == key.len() && self.key.get(..key.len()) == Some(key)
    }
}

thread_local! {
    static KEYS: RefCell<[Slot; SLOTS]> = const { RefCell::new([Slot::EMPTY; SLOTS]) };
}

/// `point(md5(key), 0)`, remembered for short keys.
fn cached_point(key: &str) -> u32 {
    let bytes = key.as_bytes();
    if bytes.len() > CACHED_KEY {
        return point(&md5(key), 0);
    }
    // FNV-1a: a few cycles per byte, enough to spread keys over the slots.
    let fnv = bytes.iter().fold(0xcbf2_9ce4_8422_2325u64, |h, &b| {
        (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
    });
    let index = (fnv % SLOTS as u64) as usize;
    KEYS.with(|keys| {
        let mut keys = keys.borrow_mut();
        let Some(slot) = keys.get_mut(index) else {
            return point(&md5(key), 0);
        };
        if !slot.holds(bytes) {
            let mut fresh = Slot {
                len: bytes.len() as u8,
                key: [0; CACHED_KEY],
                point: point(&md5(key), 0),
            };
            if let Some(room) = fresh.key.get_mut(..bytes.len()) {
                room.copy_from_slice(bytes);
            }
            *slot = fresh;
        }
        slot.point
    })
}

/// Lets `serde_json` write into the digest.
struct Feed<'a>(&'a mut Md5);

impl std::io::Write for Feed<'_> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.update(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::invocation::DynArgs;
    use crate::service_id::ServiceId;
    use std::sync::Arc;

    fn key_of(args: DynArgs) -> u32 {
        key_hash(&Invocation::new(
            ServiceId::parse("s:1.0"),
            "m",
            Arc::new(args),
        ))
    }

    fn hash_of(text: &str) -> u32 {
        point(&md5(text), 0)
    }

    #[test]
    fn md5_and_points_match_java() {
        // MD5("abc") = 900150983cd24fb0d6963f7d28e17f72; Java's hash(digest, h) reads each
        // group of four bytes little-endian.
        let digest = md5("abc");
        assert_eq!(digest[..4], [0x90, 0x01, 0x50, 0x98]);
        assert_eq!(point(&digest, 0), 0x9850_0190);
        assert_eq!(point(&digest, 3), 0x727f_e128);
    }

    #[test]
    fn scalars_hash_their_java_string_form() {
        let string = |v: &'static str| DynArgs::new().arg("java.lang.String", v);
        assert_eq!(key_of(string("user-42")), hash_of("user-42"));
        assert_eq!(key_of(DynArgs::new().arg("int", 42)), hash_of("42"));
        assert_eq!(key_of(DynArgs::new().arg("long", -7i64)), hash_of("-7"));
        assert_eq!(key_of(DynArgs::new().arg("boolean", true)), hash_of("true"));
        assert_eq!(key_of(DynArgs::new().arg("char", 'x')), hash_of("x"));
        assert_eq!(key_of(DynArgs::new().arg("double", 1.0f64)), hash_of("1.0"));
        assert_eq!(
            key_of(DynArgs::new().arg("double", 0.25f64)),
            hash_of("0.25")
        );
        assert_eq!(
            key_of(DynArgs::new().arg("double", 1e7f64)),
            hash_of("1.0E7")
        );
        assert_eq!(
            key_of(DynArgs::new().arg("double", 1.5e-5f64)),
            hash_of("1.5E-5")
        );
        assert_eq!(key_of(DynArgs::new().arg("float", 0.1f32)), hash_of("0.1"));
        assert_eq!(
            key_of(DynArgs::new().arg("java.lang.String", Some("a"))),
            hash_of("a")
        );
        // Only the first argument counts; none at all is the empty string.
        let two = DynArgs::new().arg("int", 1).arg("int", 2);
        assert_eq!(key_of(two), hash_of("1"));
        assert_eq!(key_of(DynArgs::new()), hash_of(""));
    }

    #[test]
    fn remembered_points_are_the_points() {
        // Twice over more keys than slots: misses, hits and evictions all give MD5's point.
        for _ in 0..2 {
            for i in 0..500 {
                let key = format!("key-{i}");
                assert_eq!(cached_point(&key), hash_of(&key));
            }
        }
        let long = "k".repeat(CACHED_KEY + 1);
        assert_eq!(cached_point(&long), hash_of(&long));
        assert_eq!(cached_point(""), hash_of(""));
    }

    #[test]
    fn other_values_hash_their_json_form() {
        let list = DynArgs::new().arg("java.util.List", vec![1, 2]);
        assert_eq!(key_of(list), hash_of("[1,2]"));
    }
}
