//! Encoding into a reused buffer, then one exact-size copy.
//!
//! A serializer cannot know the size of what it writes until it has written it: a fresh
//! buffer grows (a reallocation or more) for any body past its first guess, and a body that
//! does not fill it makes `Bytes` keep the spare room. Writing into a buffer this thread keeps,
//! then copying the result out, costs one allocation of exactly the body's size every time. A
//! body too large for the thread to keep its buffer is handed over in that buffer, uncopied.

use std::cell::RefCell;

use bytes::Bytes;

/// The largest buffer a thread keeps between encodings: a larger body's buffer is let go, so
/// that one huge message does not hold its memory for the thread's life.
const KEEP_AT_MOST: usize = 64 * 1024;

thread_local! {
    static SCRATCH: RefCell<Vec<u8>> = const { RefCell::new(Vec::new()) };
}

/// Runs `write` over an empty buffer and returns what it wrote as `Bytes` of its exact size.
/// A nested call (a value whose serialization encodes another body) gets a buffer of its own.
pub(crate) fn encode_with<E>(
    write: impl FnOnce(&mut Vec<u8>) -> Result<(), E>,
) -> Result<Bytes, E> {
    let mut write = Some(write);
    let reused = SCRATCH.try_with(|cell| {
        let Ok(mut buf) = cell.try_borrow_mut() else {
            return None;
        };
        buf.clear();
        let written = write.take().map(|w| w(&mut buf))?;
        let out = match written {
            // Too large to keep: the buffer itself becomes the body, saving the copy.
            Ok(()) if buf.capacity() > KEEP_AT_MOST => Ok(Bytes::from(std::mem::take(&mut *buf))),
            Ok(()) => Ok(Bytes::copy_from_slice(&buf)),
            Err(e) => Err(e),
        };
        if buf.capacity() > KEEP_AT_MOST {
            *buf = Vec::new();
        }
        buf.clear();
        Some(out)
    });
    match (reused, write) {
        (Ok(Some(out)), _) => out,
        // In use already, or the thread is being torn down: a buffer of its own.
        (_, Some(write)) => {
            let mut buf = Vec::new();
            write(&mut buf)?;
            Ok(Bytes::from(buf))
        }
        (_, None) => Ok(Bytes::new()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn copies_exactly_what_was_written_and_nests() {
        let out = encode_with(|buf| {
            buf.extend_from_slice(b"outer");
            let inner = encode_with(|b| {
                b.extend_from_slice(b"inner");
                Ok::<_, ()>(())
            })?;
            buf.extend_from_slice(&inner);
            Ok::<_, ()>(())
        })
        .unwrap();
        assert_eq!(&out[..], b"outerinner");
        let failed = encode_with(|buf| {
            buf.extend_from_slice(b"partial");
            Err::<(), _>("no")
        });
        assert_eq!(failed.unwrap_err(), "no");
        // The failed attempt left nothing behind for the next body.
        let next = encode_with(|buf| {
            buf.push(1);
            Ok::<_, ()>(())
        })
        .unwrap();
        assert_eq!(&next[..], [1]);
    }

    #[test]
    fn a_huge_body_is_not_kept() {
        let big = encode_with(|buf| {
            buf.resize(KEEP_AT_MOST + 1, 7);
            Ok::<_, ()>(())
        })
        .unwrap();
        assert_eq!(big.len(), KEEP_AT_MOST + 1);
        SCRATCH.with(|cell| assert!(cell.borrow().capacity() <= KEEP_AT_MOST));
    }
}
