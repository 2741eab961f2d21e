//! Serializer states for compound values (sequences, tuples, maps, structs,
//! variants) and the `Value` wrappers.

use serde::ser::{self, Serialize};

use crate::buffer::OutputBuffer;
use crate::containers::{ListToken, MapToken};
use crate::dialect::{tag, Dialect};
use crate::encoder::{Encoder, Pending};
use crate::error::{Error, ErrorKind, Result};
use crate::object::{Name, ObjectToken};
use crate::probe::Probe;
use crate::ser::misplaced;

// ------------------------------------------------------------------ sequences

/// Serializer state for sequences.
pub struct SeqSer<'a, B: OutputBuffer> {
    pub(crate) enc: &'a mut Encoder<B>,
    pub(crate) state: SeqState,
}

pub(crate) enum SeqState {
    /// Nothing written yet: the first element decides list or binary.
    Undecided {
        len: Option<usize>,
    },
    /// Elements are `u8`: collected and written as a binary at the end.
    Binary(Vec<u8>),
    List(ListState),
}

pub(crate) enum ListState {
    Known {
        token: ListToken,
        written: usize,
    },
    /// Length unknown: a 6-byte placeholder header at `start` is patched at the end.
    Placeholder {
        start: usize,
        count: usize,
    },
}

pub(crate) const PLACEHOLDER_LEN: usize = 6;

impl<B: OutputBuffer> SeqSer<'_, B> {
    fn start_list(&mut self, len: Option<usize>) -> Result<ListState> {
        match len {
            Some(len) => Ok(ListState::Known {
                token: self.enc.begin_list(len, None)?,
                written: 0,
            }),
            None => {
                self.enc.push_container()?;
                let start = self.enc.buf.len();
                self.enc.buf.put_slice(&[0u8; PLACEHOLDER_LEN]);
                Ok(ListState::Placeholder { start, count: 0 })
            }
        }
    }
}

impl<B: OutputBuffer> ser::SerializeSeq for SeqSer<'_, B> {
    type Ok = ();
    type Error = Error;

    fn serialize_element<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<()> {
        if let SeqState::Undecided { len } = self.state {
            if let Some(byte) = Probe::u8(value) {
                let mut bytes = std::mem::take(&mut self.enc.scratch);
                bytes.clear();
                bytes.push(byte);
                self.state = SeqState::Binary(bytes);
                return Ok(());
            }
            self.state = SeqState::List(self.start_list(len)?);
        }
        match &mut self.state {
            SeqState::Binary(bytes) => match Probe::u8(value) {
                Some(b) => {
                    bytes.push(b);
                    Ok(())
                }
                None => Err(Error::new(
                    ErrorKind::Unsupported,
                    "sequence mixes u8 with other element types",
                )),
            },
            SeqState::List(ListState::Known { written, .. }) => {
                *written += 1;
                value.serialize(&mut *self.enc)
            }
            SeqState::List(ListState::Placeholder { count, .. }) => {
                *count += 1;
                value.serialize(&mut *self.enc)
            }
            SeqState::Undecided { .. } => Ok(()),
        }
    }

    fn end(self) -> Result<()> {
        let SeqSer { enc, state } = self;
        match state {
            SeqState::Undecided { .. } => {
                let token = enc.begin_list(0, None)?;
                enc.end_list(token)
            }
            SeqState::Binary(bytes) => {
                enc.write_bytes(&bytes);
                enc.scratch = bytes;
                Ok(())
            }
            SeqState::List(ListState::Known { token, written }) => {
                if written != token.len {
                    return Err(Error::new(
                        ErrorKind::InvalidLength,
                        format!(
                            "sequence announced {} elements but produced {written}",
                            token.len
                        ),
                    ));
                }
                enc.end_list(token)
            }
            SeqState::List(ListState::Placeholder { start, count }) => {
                patch_placeholder(enc, start, count)?;
                if enc.dialect == Dialect::V3 {
                    enc.buf.put_u8(tag::V3_END);
                }
                enc.pop_container();
                Ok(())
            }
        }
    }
}

/// Replaces the placeholder at `start` by the real untyped list header.
fn patch_placeholder<B: OutputBuffer>(
    enc: &mut Encoder<B>,
    start: usize,
    count: usize,
) -> Result<()> {
    let n = i32::try_from(count)
        .map_err(|_| Error::new(ErrorKind::InvalidLength, "list longer than i32::MAX"))?;
    // Build the header with a scratch encoder (rare path: unknown-length sequences).
    let mut h = Encoder::new(enc.dialect);
    match enc.dialect {
        Dialect::V3 => {
            h.buf.push(tag::LIST_V);
            h.write_v3_length(n);
        }
        Dialect::V4 if count <= tag::V4_LIST_DIRECT_MAX => {
            h.buf.push(tag::V4_LIST_DIRECT_UNTYPED + count as u8);
        }
        Dialect::V4 => {
            h.buf.push(tag::V4_LIST_FIXED_UNTYPED);
            h.write_int(n);
        }
    }
    let header = h.into_inner();
    let header_len = header.len();
    if header_len > PLACEHOLDER_LEN {
        return Err(Error::new(ErrorKind::InvalidLength, "list header too long"));
    }
    let total = enc.buf.len();
    enc.buf
        .get_mut(start..start + header_len)
        .ok_or_else(|| Error::new(ErrorKind::InvalidLength, "bad placeholder position"))?
        .copy_from_slice(&header);
    let gap = PLACEHOLDER_LEN - header_len;
    if gap > 0 {
        enc.buf
            .copy_within(start + PLACEHOLDER_LEN..total, start + header_len);
        enc.buf.truncate_to(total - gap);
    }
    Ok(())
}

/// Serializer state for tuples (lists of known length).
pub struct ListSer<'a, B: OutputBuffer> {
    pub(crate) enc: &'a mut Encoder<B>,
    pub(crate) token: ListToken,
}

impl<B: OutputBuffer> ser::SerializeTuple for ListSer<'_, B> {
    type Ok = ();
    type Error = Error;
    fn serialize_element<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<()> {
        value.serialize(&mut *self.enc)
    }
    fn end(self) -> Result<()> {
        self.enc.end_list(self.token)
    }
}

#[derive(Clone, Copy)]
pub(crate) enum MagicKind {
    TypedList,
    TypedMap,
    Object,
}

/// Serializer state for tuple structs (and the `Value` wrappers).
pub struct TupleStructSer<'a, B: OutputBuffer>(pub(crate) TupleStructInner<'a, B>);

pub(crate) enum TupleStructInner<'a, B: OutputBuffer> {
    /// An ordinary tuple struct, written as a list.
    Plain(ListSer<'a, B>),
    /// A `Value` typed list / typed map / object wrapper.
    Magic {
        enc: &'a mut Encoder<B>,
        kind: MagicKind,
        name: Option<String>,
    },
}

impl<B: OutputBuffer> ser::SerializeTupleStruct for TupleStructSer<'_, B> {
    type Ok = ();
    type Error = Error;
    fn serialize_field<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<()> {
        match &mut self.0 {
            TupleStructInner::Plain(list) => value.serialize(&mut *list.enc),
            TupleStructInner::Magic { enc, kind, name } => match name.take() {
                None => {
                    *name = Some(Probe::str(value)?);
                    Ok(())
                }
                Some(n) => {
                    enc.pending = match kind {
                        MagicKind::TypedList => Pending::ListType(n),
                        MagicKind::TypedMap => Pending::MapType(n),
                        MagicKind::Object => Pending::ObjectFields(n),
                    };
                    let r = value.serialize(&mut **enc);
                    if enc.pending != Pending::None {
                        enc.pending = Pending::None;
                        return Err(misplaced(Pending::None));
                    }
                    r
                }
            },
        }
    }
    fn end(self) -> Result<()> {
        match self.0 {
            TupleStructInner::Plain(list) => list.enc.end_list(list.token),
            TupleStructInner::Magic { .. } => Ok(()),
        }
    }
}

/// Serializer state for tuple variants: `{variant: [..]}`.
pub struct TupleVariantSer<'a, B: OutputBuffer> {
    pub(crate) enc: &'a mut Encoder<B>,
    pub(crate) map: MapToken,
    pub(crate) list: ListToken,
}

impl<B: OutputBuffer> ser::SerializeTupleVariant for TupleVariantSer<'_, B> {
    type Ok = ();
    type Error = Error;
    fn serialize_field<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<()> {
        value.serialize(&mut *self.enc)
    }
    fn end(self) -> Result<()> {
        self.enc.end_list(self.list)?;
        self.enc.end_map(self.map)
    }
}

// ----------------------------------------------------------------------- maps

pub(crate) enum MapMode {
    Map(MapToken),
    Object(ObjectToken),
}

/// Serializer state for maps (and `Value` object fields).
pub struct MapSer<'a, B: OutputBuffer> {
    pub(crate) enc: &'a mut Encoder<B>,
    pub(crate) mode: MapMode,
}

impl<B: OutputBuffer> ser::SerializeMap for MapSer<'_, B> {
    type Ok = ();
    type Error = Error;
    fn serialize_key<T: Serialize + ?Sized>(&mut self, key: &T) -> Result<()> {
        match &mut self.mode {
            MapMode::Map(_) => key.serialize(&mut *self.enc),
            MapMode::Object(obj) => {
                let name = Probe::str(key)?;
                self.enc.object_field_named(obj, Name::Borrowed(&name))
            }
        }
    }
    fn serialize_value<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<()> {
        value.serialize(&mut *self.enc)
    }
    fn end(self) -> Result<()> {
        match self.mode {
            MapMode::Map(token) => self.enc.end_map(token),
            MapMode::Object(obj) => self.enc.end_object(obj),
        }
    }
}

/// Serializer state for structs (Java objects).
pub struct StructSer<'a, B: OutputBuffer> {
    pub(crate) enc: &'a mut Encoder<B>,
    pub(crate) obj: ObjectToken,
}

impl<B: OutputBuffer> ser::SerializeStruct for StructSer<'_, B> {
    type Ok = ();
    type Error = Error;
    fn serialize_field<T: Serialize + ?Sized>(
        &mut self,
        key: &'static str,
        value: &T,
    ) -> Result<()> {
        self.enc
            .object_field_named(&mut self.obj, Name::Static(key))?;
        value.serialize(&mut *self.enc)
    }
    fn skip_field(&mut self, key: &'static str) -> Result<()> {
        // Keep every instance's field list identical (Java writes null fields).
        self.enc
            .object_field_named(&mut self.obj, Name::Static(key))?;
        self.enc.write_null();
        Ok(())
    }
    fn end(self) -> Result<()> {
        self.enc.end_object(self.obj)
    }
}

/// Serializer state for struct variants: `{variant: {field: value, ..}}`.
pub struct StructVariantSer<'a, B: OutputBuffer> {
    pub(crate) enc: &'a mut Encoder<B>,
    pub(crate) outer: MapToken,
    pub(crate) inner: MapToken,
}

impl<B: OutputBuffer> ser::SerializeStructVariant for StructVariantSer<'_, B> {
    type Ok = ();
    type Error = Error;
    fn serialize_field<T: Serialize + ?Sized>(
        &mut self,
        key: &'static str,
        value: &T,
    ) -> Result<()> {
        self.enc.write_str(key);
        value.serialize(&mut *self.enc)
    }
    fn end(self) -> Result<()> {
        self.enc.end_map(self.inner)?;
        self.enc.end_map(self.outer)
    }
}
