//! Field-level edits of metadata, and interceptors: user code that edits
//! the metadata of an output just before it is written.
//!
//! An interceptor works on a copy ([`MetadataEdit`]); what it leaves is
//! validated before anything is written, and an interceptor that fails or
//! panics fails the call with [`Error::Interceptor`] and no output.

use super::exif::{self, Ifd};
use super::iptc::{self, Dataset, XmpShape, XmpValue};
use super::{xmp, Block, Metadata, MetadataField};
use crate::error::{panic_message, Error, Result};
use crate::format::Format;
use std::fmt;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::Arc;

/// The most bytes of metadata an interceptor may leave changed, in all.
pub const MAX_INTERCEPTED_BYTES: usize = 1 << 20;

/// User code that inspects and edits an output's metadata before it is written.
///
/// Return `Err(reason)` to fail the call; no output is written.
pub trait MetadataInterceptor: Send + Sync {
    /// Inspects and edits `edit`, a copy of what is about to be written.
    fn intercept(&self, edit: &mut MetadataEdit) -> std::result::Result<(), String>;
}

impl<F> MetadataInterceptor for F
where
    F: Fn(&mut MetadataEdit) -> std::result::Result<(), String> + Send + Sync,
{
    fn intercept(&self, edit: &mut MetadataEdit) -> std::result::Result<(), String> {
        self(edit)
    }
}

/// A shared interceptor, as [`Options`](crate::Options) holds it (compared by identity).
#[derive(Clone)]
pub struct Interceptor(pub Arc<dyn MetadataInterceptor>);

impl Interceptor {
    /// Wraps an interceptor.
    pub fn new(interceptor: impl MetadataInterceptor + 'static) -> Interceptor {
        Interceptor(Arc::new(interceptor))
    }

    /// Runs the interceptor on a copy of `metadata` for a `format` output of
    /// `width` x `height`, and returns the validated result.
    pub(crate) fn run(
        &self,
        metadata: Metadata,
        format: Format,
        width: u32,
        height: u32,
    ) -> Result<Metadata> {
        let before = metadata.clone();
        let mut edit = MetadataEdit {
            metadata,
            format,
            width,
            height,
        };
        match catch_unwind(AssertUnwindSafe(|| self.0.intercept(&mut edit))) {
            Ok(Ok(())) => {}
            Ok(Err(reason)) => return Err(Error::Interceptor(reason)),
            Err(payload) => {
                return Err(Error::Interceptor(format!(
                    "interceptor panicked: {}",
                    panic_message(payload.as_ref())
                )))
            }
        }
        edit.metadata.validate_edit(&before)?;
        let mut out = edit.metadata;
        // IPTC set for a container without an IPTC slot goes into XMP, as
        // the policy step moves it.
        if let Some(block) = out.iptc.take_if(|_| !super::has_iptc_slot(format)) {
            out.edit_xmp(&|_, _| true, &[], &iptc::to_xmp(&block));
        }
        Ok(out)
    }
}

impl fmt::Debug for Interceptor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Interceptor")
    }
}

impl PartialEq for Interceptor {
    fn eq(&self, other: &Interceptor) -> bool {
        Arc::ptr_eq(&self.0, &other.0)
    }
}

/// The metadata an interceptor sees and edits: a copy of what is about to be
/// written into a `format()` output of `width()` x `height()`.
#[derive(Debug, Clone)]
pub struct MetadataEdit {
    metadata: Metadata,
    format: Format,
    width: u32,
    height: u32,
}

impl MetadataEdit {
    /// The blocks as they stand.
    pub fn metadata(&self) -> &Metadata {
        &self.metadata
    }

    /// Every field, as [`Metadata::fields`] lists them.
    pub fn fields(&self) -> Vec<MetadataField> {
        self.metadata.fields()
    }

    /// The output format.
    pub fn format(&self) -> Format {
        self.format
    }

    /// The output width in pixels.
    pub fn width(&self) -> u32 {
        self.width
    }

    /// The output height in pixels.
    pub fn height(&self) -> u32 {
        self.height
    }

    /// Sets a field by its key (see [`Metadata::set_field`]).
    pub fn set(&mut self, key: &str, value: &str) -> Result<()> {
        self.metadata.set_field(key, value)
    }

    /// Removes a field by its key (see [`Metadata::remove_field`]).
    pub fn remove(&mut self, key: &str) -> Result<bool> {
        self.metadata.remove_field(key)
    }

    /// Replaces a whole block (`None` removes it); validated when the interceptor returns.
    pub fn set_block(&mut self, block: Block, data: Option<Vec<u8>>) {
        *self.metadata.block_mut(block) = data;
    }
}

/// A field key parsed: `EXIF:IFD0:Artist`, `XMP:dc:title`, `IPTC:City`, `ICC`.
enum Key {
    Exif(Option<Ifd>, u16, String),
    Xmp(String, String),
    Iptc(u8, u8),
    Icc,
}

fn bad_key(key: &str, why: &str) -> Error {
    Error::InvalidArgument(format!("metadata key `{key}`: {why}"))
}

const IFDS: [Ifd; 5] = [Ifd::Ifd0, Ifd::Exif, Ifd::Gps, Ifd::Interop, Ifd::Thumbnail];

fn parse_key(key: &str) -> Result<Key> {
    let parts: Vec<&str> = key.split(':').collect();
    match (parts[0].to_ascii_uppercase().as_str(), &parts[1..]) {
        ("EXIF", [name]) => {
            let ifd = IFDS.into_iter().find(|i| i.tag_of(name).is_some());
            let ifd = ifd.ok_or_else(|| bad_key(key, "unknown EXIF tag name"))?;
            let tag = ifd.tag_of(name).expect("found above");
            Ok(Key::Exif(None, tag, name.to_string()))
        }
        ("EXIF", [group, name]) => {
            let ifd = IFDS
                .into_iter()
                .find(|i| i.name().eq_ignore_ascii_case(group));
            let ifd = ifd.ok_or_else(|| bad_key(key, "unknown IFD (IFD0, ExifIFD, GPS...)"))?;
            let tag = ifd
                .tag_of(name)
                .ok_or_else(|| bad_key(key, "unknown EXIF tag name"))?;
            Ok(Key::Exif(Some(ifd), tag, name.to_string()))
        }
        ("XMP", [prefix, name]) if !prefix.is_empty() && !name.is_empty() => {
            if !xmp::knows_prefix(prefix) {
                return Err(bad_key(key, "unknown XMP namespace prefix"));
            }
            Ok(Key::Xmp(prefix.to_string(), name.to_string()))
        }
        ("IPTC", [name]) | ("IPTC", ["IPTC", name]) => {
            let (record, number) =
                iptc::dataset_of(name).ok_or_else(|| bad_key(key, "unknown IPTC dataset"))?;
            Ok(Key::Iptc(record, number))
        }
        ("ICC", _) => Ok(Key::Icc),
        _ => Err(bad_key(
            key,
            "expected EXIF:IFD:Name, XMP:prefix:Name, IPTC:Name or ICC",
        )),
    }
}

/// An EXIF block with an empty IFD0, to add fields to.
const EMPTY_EXIF: &[u8] = b"II*\0\x08\0\0\0\0\0\0\0\0\0";

impl Metadata {
    /// The block's bytes, for replacing.
    pub(crate) fn block_mut(&mut self, block: Block) -> &mut Option<Vec<u8>> {
        match block {
            Block::Exif => &mut self.exif,
            Block::Xmp => &mut self.xmp,
            Block::Iptc => &mut self.iptc,
            Block::Icc => &mut self.icc,
        }
    }

    /// Sets one field, named as [`MetadataField::key`] names it
    /// (`EXIF:IFD0:Artist`, `XMP:dc:title`, `IPTC:City`; an EXIF or IPTC
    /// name alone also works). EXIF takes text fields and integer fields;
    /// XMP takes simple properties of the namespaces pixpress knows; IPTC
    /// replaces every dataset of that name with one UTF-8 value.
    pub fn set_field(&mut self, key: &str, value: &str) -> Result<()> {
        match parse_key(key)? {
            Key::Exif(ifd, tag, name) => {
                let ifd = ifd.unwrap_or(Ifd::Ifd0);
                let data = self.exif.get_or_insert_with(|| EMPTY_EXIF.to_vec());
                if exif::is_integer(data, ifd, tag) {
                    let number: u32 = value
                        .parse()
                        .map_err(|_| bad_key(key, "this EXIF field holds an integer"))?;
                    exif::set_uint(data, ifd, tag, number);
                    return Ok(());
                }
                if exif::has(data, ifd, tag) && !exif::is_ascii(data, ifd, tag) {
                    return Err(bad_key(key, "only text and integer EXIF fields can be set"));
                }
                if !exif::set_ascii(data, ifd, tag, value) {
                    return Err(bad_key(
                        key,
                        &format!("the EXIF block has no {} IFD for {name}", ifd.name()),
                    ));
                }
                Ok(())
            }
            Key::Xmp(prefix, name) => {
                let value_text = value.to_string();
                let set = [(prefix.as_str(), name.as_str(), value_text.clone())];
                let add = [XmpValue {
                    prefix: prefix.clone(),
                    name: name.clone(),
                    shape: XmpShape::Text,
                    values: vec![value_text],
                    source: String::new(),
                }];
                if self.xmp.is_some() && !xmp::is_well_formed(self.xmp.as_deref().unwrap_or(&[])) {
                    return Err(bad_key(key, "the XMP packet is not well-formed"));
                }
                self.edit_xmp(&|_, _| true, &set, &add);
                Ok(())
            }
            Key::Iptc(record, number) => {
                let mut sets = self.iptc.as_deref().map(iptc::datasets).unwrap_or_default();
                if !iptc::is_utf8(&sets) && !value.is_ascii() {
                    sets.insert(
                        0,
                        Dataset {
                            record: 1,
                            number: 90,
                            data: b"\x1b%G".to_vec(),
                        },
                    );
                }
                sets.retain(|d| (d.record, d.number) != (record, number));
                sets.push(Dataset {
                    record,
                    number,
                    data: value.as_bytes().to_vec(),
                });
                sets.sort_by_key(|d| (d.record, d.number));
                let iim = iptc::write_iim(&sets);
                self.iptc = Some(match self.iptc.as_deref() {
                    Some(block) => iptc::replace_iim(block, &iim),
                    None => iptc::block_of(&iim),
                });
                Ok(())
            }
            Key::Icc => Err(bad_key(key, "the ICC profile is set as a whole block")),
        }
    }

    /// Removes one field (named as for [`set_field`](Metadata::set_field);
    /// `ICC` removes the profile). Returns whether it was there.
    pub fn remove_field(&mut self, key: &str) -> Result<bool> {
        let before = self.clone();
        match parse_key(key)? {
            Key::Exif(ifd, tag, _) => {
                if let Some(data) = self.exif.as_mut() {
                    exif::retain(data, &|i, t| !(t == tag && ifd.map_or(true, |f| f == i)));
                }
            }
            Key::Xmp(prefix, name) => {
                self.edit_xmp(&|p, n| !(p == prefix && n == name), &[], &[]);
            }
            Key::Iptc(record, number) => {
                if let Some(block) = self.iptc.take() {
                    self.iptc =
                        iptc::retain(&block, &|r, n| (r, n) != (record, number), &|_| true).0;
                }
            }
            Key::Icc => self.icc = None,
        }
        Ok(*self != before)
    }

    /// Checks what an edit left: each changed block well-formed (EXIF a TIFF
    /// structure, XMP well-formed XML, IPTC a resource block, ICC a profile
    /// header of the right size), and at most [`MAX_INTERCEPTED_BYTES`] changed.
    pub(crate) fn validate_edit(&self, before: &Metadata) -> Result<()> {
        let mut changed_bytes = 0;
        for block in [Block::Exif, Block::Xmp, Block::Iptc, Block::Icc] {
            let (old, new) = (before.block(block), self.block(block));
            let Some(new) = new.filter(|_| old != new) else {
                continue;
            };
            changed_bytes += new.len();
            let well_formed = match block {
                Block::Exif => exif::is_well_formed(new),
                Block::Xmp => xmp::is_well_formed(new),
                Block::Iptc => iptc::is_well_formed(new),
                Block::Icc => {
                    let declared = new
                        .get(..4)
                        .map(|b| u32::from_be_bytes(b.try_into().unwrap()));
                    declared == Some(new.len() as u32) && new.get(36..40) == Some(b"acsp")
                }
            };
            if !well_formed {
                return Err(Error::Interceptor(format!(
                    "the edited {} block is not well-formed",
                    block.name()
                )));
            }
        }
        if changed_bytes > MAX_INTERCEPTED_BYTES {
            return Err(Error::Interceptor(format!(
                "the edits come to {changed_bytes} bytes, over the limit of {MAX_INTERCEPTED_BYTES}"
            )));
        }
        Ok(())
    }

    /// Checks every block as [`validate_edit`](Metadata::validate_edit) checks changed ones.
    pub(crate) fn validate_blocks(&self) -> Result<()> {
        self.validate_edit(&Metadata::default())
            .map_err(|e| Error::InvalidArgument(e.to_string()))
    }

    /// The block's bytes.
    pub(crate) fn block(&self, block: Block) -> Option<&[u8]> {
        match block {
            Block::Exif => self.exif.as_deref(),
            Block::Xmp => self.xmp.as_deref(),
            Block::Iptc => self.iptc.as_deref(),
            Block::Icc => self.icc.as_deref(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sets_and_removes_fields_in_every_block() {
        let mut m = Metadata::default();
        m.set_field("EXIF:IFD0:Artist", "Ada Lovelace").unwrap();
        m.set_field("EXIF:Copyright", "(c) 2026").unwrap();
        m.set_field("XMP:dc:rights", "All rights reserved").unwrap();
        m.set_field("IPTC:City", "Zürich").unwrap();
        let fields: Vec<String> = m.fields().iter().map(|f| f.to_string()).collect();
        for expected in [
            "EXIF:IFD0:Artist = Ada Lovelace",
            "EXIF:IFD0:Copyright = (c) 2026",
            "XMP:dc:rights = All rights reserved",
            "IPTC:IPTC:City = Zürich",
        ] {
            assert!(
                fields.iter().any(|f| f == expected),
                "{expected} in {fields:?}"
            );
        }
        // A longer value is appended; the shorter one goes back in place.
        m.set_field("EXIF:IFD0:Artist", "Augusta Ada King, Countess of Lovelace")
            .unwrap();
        m.set_field("EXIF:IFD0:Artist", "Ada").unwrap();
        assert!(m
            .fields()
            .iter()
            .any(|f| f.to_string() == "EXIF:IFD0:Artist = Ada"));
        assert!(m.remove_field("XMP:dc:rights").unwrap());
        assert!(!m.remove_field("XMP:dc:rights").unwrap());
        assert!(m.remove_field("IPTC:City").unwrap());
        assert!(m.set_field("EXIF:IFD0:NoSuchTag", "x").is_err());
        assert!(m.set_field("XMP:nosuchprefix:x", "x").is_err());
        m.validate_edit(&Metadata::default()).unwrap();
    }

    #[test]
    fn interceptor_failures_and_bad_edits_are_errors() {
        let m = Metadata::default();
        let fails = Interceptor::new(|_: &mut MetadataEdit| Err("no".to_string()));
        let panics = Interceptor::new(|_: &mut MetadataEdit| -> std::result::Result<(), String> {
            panic!("boom")
        });
        let bad_xmp = Interceptor::new(|e: &mut MetadataEdit| {
            e.set_block(Block::Xmp, Some(b"<x:xmpmeta><unclosed>".to_vec()));
            Ok(())
        });
        let too_big = Interceptor::new(|e: &mut MetadataEdit| {
            e.set("XMP:dc:description", &"x".repeat(MAX_INTERCEPTED_BYTES))
                .map_err(|e| e.to_string())
        });
        for (interceptor, says) in [
            (fails, "no"),
            (panics, "boom"),
            (bad_xmp, "not well-formed"),
            (too_big, "over the limit"),
        ] {
            let err = interceptor.run(m.clone(), Format::Jpeg, 1, 1).unwrap_err();
            assert_eq!(err.kind(), crate::ErrorKind::Interceptor);
            assert!(err.to_string().contains(says), "{err}");
        }
    }
}
