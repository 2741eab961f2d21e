//! Writing Java objects: class definitions and instances.
//!
//! A class definition must precede the first instance of a class, but the field
//! list is only known after all fields of that instance were written (serde hands
//! them over one by one). The writer therefore:
//!
//! * for a class already defined in the stream, writes the instance header at once
//!   and checks that the fields arrive in definition order (fields skipped by the
//!   caller are written as `null`, as Java does for null fields);
//! * for a new class, reserves the definition index, streams the field values and
//!   inserts the definition and the instance header in front of them when the
//!   object ends. Definitions of classes first seen *inside* the object get higher
//!   indices and end up after it in the stream, exactly as Java numbers them.

use std::borrow::Cow;

use crate::buffer::OutputBuffer;
use crate::dialect::{tag, Dialect};
use crate::encoder::{EncClassDef, Encoder, Fields};
use crate::error::{Error, ErrorKind, Result};
use crate::strings::utf16_len;

/// Token returned by [`Encoder::begin_object`]; announce each field with
/// [`Encoder::object_field`] and finish with [`Encoder::end_object`].
#[derive(Debug)]
#[must_use = "an object must be finished with Encoder::end_object"]
pub struct ObjectToken {
    start: usize,
    defs_at_start: usize,
    mode: Mode,
}

#[derive(Debug)]
enum Mode {
    /// Instance header written for an existing definition; `next` is the index of
    /// the next expected field.
    Known { def: usize, next: usize },
    /// New class: definition `def` reserved, fields collected.
    Fresh {
        def: usize,
        fields: Vec<Cow<'static, str>>,
    },
    /// The fields diverged from the existing definition: a new one is needed and
    /// the provisional header (`header_len` bytes at `start`) will be replaced.
    Redefine {
        class: Cow<'static, str>,
        fields: Vec<Cow<'static, str>>,
        header_len: usize,
    },
}

/// A name that is either `'static` (serde struct and field names) or borrowed.
#[derive(Clone, Copy)]
pub(super) enum Name<'n> {
    Static(&'static str),
    Borrowed(&'n str),
}

impl Name<'_> {
    pub(super) fn as_str(&self) -> &str {
        match *self {
            Name::Static(s) => s,
            Name::Borrowed(s) => s,
        }
    }
    pub(super) fn to_cow(self) -> Cow<'static, str> {
        match self {
            Name::Static(s) => Cow::Borrowed(s),
            Name::Borrowed(s) => Cow::Owned(s.to_owned()),
        }
    }
}

impl<B: OutputBuffer> Encoder<B> {
    /// Starts a Java object of class `class`. The class definition is written the
    /// first time the class (with this field list) appears in the stream.
    pub fn begin_object(&mut self, class: &str) -> Result<ObjectToken> {
        self.begin_object_named(Name::Borrowed(class))
    }

    /// Announces the next field of an object; write its value right after.
    pub fn object_field(&mut self, obj: &mut ObjectToken, name: &str) -> Result<()> {
        self.object_field_named(obj, Name::Borrowed(name))
    }

    pub(super) fn begin_object_named(&mut self, class: Name<'_>) -> Result<ObjectToken> {
        let start = self.buf.len();
        let defs_at_start = self.defs.len();
        self.push_container()?;
        let known = (0..self.defs.len()).rev().find(|&i| {
            self.defs
                .get(i)
                .is_some_and(|d| !d.pending && d.name == class.as_str())
        });
        let mode = match known {
            Some(def) => {
                self.write_instance_header(def);
                Mode::Known { def, next: 0 }
            }
            None => {
                self.defs.push(EncClassDef {
                    name: class.to_cow(),
                    fields: Fields::Owned(Vec::new()),
                    pending: true,
                });
                Mode::Fresh {
                    def: defs_at_start,
                    fields: Vec::new(),
                }
            }
        };
        Ok(ObjectToken {
            start,
            defs_at_start,
            mode,
        })
    }

    pub(super) fn object_field_named(
        &mut self,
        obj: &mut ObjectToken,
        name: Name<'_>,
    ) -> Result<()> {
        match &mut obj.mode {
            Mode::Fresh { fields, .. } | Mode::Redefine { fields, .. } => {
                fields.push(name.to_cow());
                Ok(())
            }
            Mode::Known { def, next } => {
                let def_idx = *def;
                let expected = *next;
                let found = self
                    .defs
                    .get(def_idx)
                    .and_then(|d| d.fields.position_from(expected, name.as_str()));
                match found {
                    Some(pos) => {
                        for _ in expected..pos {
                            self.write_null();
                        }
                        *next = pos + 1;
                        Ok(())
                    }
                    None => {
                        // Divergent field list: switch to a new definition.
                        let (class, mut fields) = match self.defs.get(def_idx) {
                            Some(d) => (
                                d.name.clone(),
                                (0..expected)
                                    .filter_map(|i| d.fields.get(i))
                                    .map(|f| Cow::Owned(f.to_owned()))
                                    .collect::<Vec<_>>(),
                            ),
                            None => {
                                return Err(Error::new(
                                    ErrorKind::InvalidReference,
                                    "class definition vanished",
                                ))
                            }
                        };
                        fields.push(name.to_cow());
                        let header_len = self.instance_header_len(def_idx);
                        obj.mode = Mode::Redefine {
                            class,
                            fields,
                            header_len,
                        };
                        Ok(())
                    }
                }
            }
        }
    }

    /// Finishes an object started with [`Encoder::begin_object`].
    pub fn end_object(&mut self, obj: ObjectToken) -> Result<()> {
        let ObjectToken {
            start,
            defs_at_start,
            mode,
        } = obj;
        match mode {
            Mode::Known { def, next } => {
                let n = self.defs.get(def).map_or(0, |d| d.fields.len());
                for _ in next..n {
                    self.write_null();
                }
            }
            Mode::Fresh { def, fields } => {
                if let Some(d) = self.defs.get_mut(def) {
                    d.fields = Fields::Owned(fields);
                    d.pending = false;
                }
                self.insert_header(start, def, true, 0)?;
            }
            Mode::Redefine {
                class,
                fields,
                header_len,
            } => {
                if self.defs.len() != defs_at_start {
                    self.pop_container();
                    return Err(Error::new(
                        ErrorKind::Unsupported,
                        format!(
                            "an instance of {class} has a field list different from the \
                             first instance and contains the first instance of another \
                             class; serialize all fields consistently"
                        ),
                    ));
                }
                let existing = (0..self.defs.len()).find(|&i| {
                    self.defs
                        .get(i)
                        .is_some_and(|d| !d.pending && d.name == class && d.fields.same_as(&fields))
                });
                let (def, with_def) = match existing {
                    Some(i) => (i, false),
                    None => {
                        self.defs.push(EncClassDef {
                            name: class,
                            fields: Fields::Owned(fields),
                            pending: false,
                        });
                        (self.defs.len() - 1, true)
                    }
                };
                self.insert_header(start, def, with_def, header_len)?;
            }
        }
        self.pop_container();
        Ok(())
    }

    fn instance_header_len(&self, def: usize) -> usize {
        match self.dialect {
            Dialect::V3 => 1 + int_len(def as i32),
            Dialect::V4 if def <= tag::V4_OBJECT_DIRECT_MAX => 1,
            Dialect::V4 => 1 + int_len(def as i32),
        }
    }

    fn write_instance_header(&mut self, def: usize) {
        match self.dialect {
            Dialect::V3 => {
                self.buf.put_u8(tag::V3_OBJECT);
                self.write_int(def as i32);
            }
            Dialect::V4 => {
                if def <= tag::V4_OBJECT_DIRECT_MAX {
                    self.buf.put_u8(tag::V4_OBJECT_DIRECT + def as u8);
                } else {
                    self.buf.put_u8(tag::V4_OBJECT);
                    self.write_int(def as i32);
                }
            }
        }
    }

    fn write_class_def(&mut self, def: usize) -> Result<()> {
        let d = self
            .defs
            .get_mut(def)
            .ok_or_else(|| Error::new(ErrorKind::InvalidReference, "unknown class definition"))?;
        // Take the definition out while writing (the writer needs `&mut self`).
        let name = std::mem::take(&mut d.name);
        let fields = std::mem::replace(&mut d.fields, Fields::Static(&[]));
        let result = self.write_class_def_bytes(&name, &fields);
        if let Some(d) = self.defs.get_mut(def) {
            d.name = name;
            d.fields = fields;
        }
        result
    }

    pub(super) fn write_class_def_bytes(&mut self, name: &str, fields: &Fields) -> Result<()> {
        let count = i32::try_from(fields.len())
            .map_err(|_| Error::new(ErrorKind::InvalidLength, "too many fields"))?;
        match self.dialect {
            Dialect::V3 => {
                self.buf.put_u8(tag::V3_CLASS_DEF);
                let units = i32::try_from(utf16_len(name))
                    .map_err(|_| Error::new(ErrorKind::InvalidLength, "class name too long"))?;
                self.write_int(units);
                let buf = &mut self.buf;
                crate::strings::push_cesu8(name, |b| buf.put_slice(b));
            }
            Dialect::V4 => {
                self.buf.put_u8(tag::V4_CLASS_DEF);
                self.write_str(name);
            }
        }
        self.write_int(count);
        for i in 0..fields.len() {
            if let Some(f) = fields.get(i) {
                self.write_str(f);
            }
        }
        Ok(())
    }

    /// Writes the definition of a class with a fixed field list unless the stream
    /// already has it (used by hand-written writers such as `SofaRequestHead`).
    /// The next `begin_object` of that class then writes only the instance header.
    pub(super) fn define_static_class(
        &mut self,
        class: &'static str,
        fields: &'static [&'static str],
    ) -> Result<()> {
        let known = self
            .defs
            .iter()
            .rev()
            .find(|d| !d.pending && d.name == class);
        if known.is_some_and(|d| d.fields.same_as_static(fields)) {
            return Ok(());
        }
        let precomputed = crate::known::known_defs(self.dialect)
            .iter()
            .find(|k| k.name == class && k.fields == fields);
        match precomputed {
            Some(k) => {
                self.buf.put_u8(match self.dialect {
                    Dialect::V3 => tag::V3_CLASS_DEF,
                    Dialect::V4 => tag::V4_CLASS_DEF,
                });
                self.buf.put_slice(&k.bytes);
            }
            None => self.write_class_def_bytes(class, &Fields::Static(fields))?,
        }
        self.defs.push(EncClassDef {
            name: Cow::Borrowed(class),
            fields: Fields::Static(fields),
            pending: false,
        });
        Ok(())
    }

    /// Writes [definition +] instance header at the end of the buffer and rotates
    /// it to `start`, replacing `old_header_len` bytes there.
    fn insert_header(
        &mut self,
        start: usize,
        def: usize,
        with_def: bool,
        old_header_len: usize,
    ) -> Result<()> {
        let end = self.buf.len();
        if with_def {
            self.write_class_def(def)?;
        }
        self.write_instance_header(def);
        let new_len = self.buf.len() - end;
        let region = self
            .buf
            .get_mut(start..)
            .ok_or_else(|| Error::new(ErrorKind::InvalidLength, "object start out of range"))?;
        region.rotate_right(new_len);
        if old_header_len > 0 {
            let from = start + new_len + old_header_len;
            let total = self.buf.len();
            self.buf.copy_within(from..total, start + new_len);
            self.buf.truncate_to(total - old_header_len);
        }
        Ok(())
    }
}

/// Encoded length of an int.
pub(super) fn int_len(v: i32) -> usize {
    if (-0x10..=0x2f).contains(&v) {
        1
    } else if (-0x800..=0x7ff).contains(&v) {
        2
    } else if (-0x40000..=0x3ffff).contains(&v) {
        3
    } else {
        5
    }
}
