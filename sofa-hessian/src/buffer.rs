//! Output buffers the [`Encoder`](super::Encoder) can write into.

use std::ops::DerefMut;

/// A growable byte buffer the encoder appends to.
///
/// Implemented for `Vec<u8>` and `bytes::BytesMut`. Besides appending, the encoder
/// needs random access to already-written bytes (`DerefMut<Target = [u8]>`) to
/// insert a class definition in front of the first instance of a class and to patch
/// list headers whose length was not known up front.
pub trait OutputBuffer: DerefMut<Target = [u8]> {
    /// Appends one byte.
    fn put_u8(&mut self, byte: u8);
    /// Appends a slice.
    fn put_slice(&mut self, bytes: &[u8]);
    /// Shortens the buffer to `len` bytes (no-op if already shorter).
    fn truncate_to(&mut self, len: usize);
    /// Reserves capacity for at least `additional` more bytes.
    fn reserve_more(&mut self, additional: usize);
}

impl OutputBuffer for Vec<u8> {
    #[inline]
    fn put_u8(&mut self, byte: u8) {
        self.push(byte);
    }
    #[inline]
    fn put_slice(&mut self, bytes: &[u8]) {
        self.extend_from_slice(bytes);
    }
    #[inline]
    fn truncate_to(&mut self, len: usize) {
        self.truncate(len);
    }
    #[inline]
    fn reserve_more(&mut self, additional: usize) {
        self.reserve(additional);
    }
}

impl OutputBuffer for bytes::BytesMut {
    #[inline]
    fn put_u8(&mut self, byte: u8) {
        self.extend_from_slice(&[byte]);
    }
    #[inline]
    fn put_slice(&mut self, bytes: &[u8]) {
        self.extend_from_slice(bytes);
    }
    #[inline]
    fn truncate_to(&mut self, len: usize) {
        self.truncate(len);
    }
    #[inline]
    fn reserve_more(&mut self, additional: usize) {
        self.reserve(additional);
    }
}
