//! Field-level edits of metadata, and interceptors: user code that edits
//! the metadata of an output just before it is written.
//!
//! An interceptor works on a copy ([`MetadataEdit`]); what it leaves is
//! validated before anything is written, and an interceptor that fails or
//! panics fails the call with [`Error::Interceptor`] and no output.

use super::exif::{self, FieldKind, Ifd};
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

    /// Whether the interceptor must run on the thread that called pixpress
    /// (a JavaScript function called synchronously, a C callback whose user
    /// data the host may free once the call returns). Such an interceptor
    /// runs inline and has no `interceptor_timeout` deadline; others run on a
    /// thread of their own under it. Default `false`.
    fn bound_to_calling_thread(&self) -> bool {
        false
    }
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
    /// `width` x `height`, and returns the validated result. The interceptor
    /// runs on a thread of its own; if it has not returned within `timeout`,
    /// the call fails with [`Error::Interceptor`] (the thread is left to
    /// finish, and whatever it returns is dropped). One
    /// [bound to the calling thread](MetadataInterceptor::bound_to_calling_thread)
    /// runs inline, without the deadline.
    pub(crate) fn run(
        &self,
        metadata: Metadata,
        format: Format,
        width: u32,
        height: u32,
        timeout: std::time::Duration,
    ) -> Result<Metadata> {
        let before = metadata.clone();
        let mut edit = MetadataEdit {
            metadata,
            format,
            width,
            height,
        };
        if self.0.bound_to_calling_thread() {
            let outcome = catch_unwind(AssertUnwindSafe(|| self.0.intercept(&mut edit)));
            return self.validated(outcome.map(|result| result.map(|()| edit)), &before, format);
        }
        let interceptor = Arc::clone(&self.0);
        let (sender, receiver) = std::sync::mpsc::sync_channel(1);
        // What the interceptor compresses is nested in this call's admission.
        let held = crate::budget::held_here();
        std::thread::Builder::new()
            .name("pixpress-interceptor".into())
            .spawn(move || {
                let outcome = crate::budget::holding(held, || {
                    catch_unwind(AssertUnwindSafe(|| interceptor.intercept(&mut edit)))
                })
                .map(|result| result.map(|()| edit));
                let _ = sender.send(outcome);
            })
            .map_err(|e| Error::Interceptor(format!("cannot start the interceptor: {e}")))?;
        match receiver.recv_timeout(timeout) {
            Ok(outcome) => self.validated(outcome, &before, format),
            Err(_) => Err(Error::Interceptor(format!(
                "interceptor did not return within {:.3} s (interceptor_timeout)",
                timeout.as_secs_f64()
            ))),
        }
    }

    /// The metadata an interceptor's `outcome` left, checked against what
    /// it was given (`before`) and placed for a `format` output.
    fn validated(
        &self,
        outcome: std::thread::Result<std::result::Result<MetadataEdit, String>>,
        before: &Metadata,
        format: Format,
    ) -> Result<Metadata> {
        let edit = match outcome {
            Ok(Ok(edit)) => edit,
            Ok(Err(reason)) => return Err(Error::Interceptor(reason)),
            Err(payload) => {
                return Err(Error::Interceptor(format!(
                    "interceptor panicked: {}",
                    panic_message(payload.as_ref())
                )))
            }
        };
        if let Some(problem) = edit.metadata.edit_problem(before) {
            return Err(Error::Interceptor(problem));
        }
        let mut out = edit.metadata;
        // IPTC set for a container without an IPTC slot goes into XMP, as
        // the policy step moves it.
        if let Some(block) = out.iptc.take_if(|_| !super::has_iptc_slot(format)) {
            out.edit_xmp(&|_, _| true, &[], &iptc::to_xmp(&block));
        }
        Ok(out)
    }
}

impl Interceptor {
    /// An interceptor that makes fixed edits (see [`MetadataEdit::apply`]),
    /// as the CLI's `meta write --field/--remove` asks.
    pub fn edits(set: Vec<(String, String)>, remove: Vec<String>) -> Interceptor {
        Interceptor::new(move |edit: &mut MetadataEdit| {
            edit.apply(&set, &remove).map_err(|e| e.to_string())
        })
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

    /// Sets each `(key, value)` of `set` in order, then removes each key of
    /// `remove`; stops at the first edit that fails.
    pub fn apply(&mut self, set: &[(String, String)], remove: &[String]) -> Result<()> {
        for (key, value) in set {
            self.set(key, value)?;
        }
        for key in remove {
            self.remove(key)?;
        }
        Ok(())
    }

    /// Replaces a whole block (`None` removes it); validated when the interceptor returns.
    pub fn set_block(&mut self, block: Block, data: Option<Vec<u8>>) {
        *self.metadata.block_mut(block) = data;
    }
}

/// A field key parsed: `EXIF:IFD0:Artist`, `XMP:dc:title`, `IPTC:City`, `ICC`.
enum Key {
    Exif(Option<Ifd>, u16),
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
            Ok(Key::Exif(None, tag))
        }
        ("EXIF", [group, name]) => {
            let ifd = IFDS
                .into_iter()
                .find(|i| i.name().eq_ignore_ascii_case(group));
            let ifd = ifd.ok_or_else(|| bad_key(key, "unknown IFD (IFD0, ExifIFD, GPS...)"))?;
            let tag = ifd
                .tag_of(name)
                .ok_or_else(|| bad_key(key, "unknown EXIF tag name"))?;
            Ok(Key::Exif(Some(ifd), tag))
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
            Key::Exif(ifd, tag) => {
                let ifd = ifd.unwrap_or(Ifd::Ifd0);
                let data = self.exif.get_or_insert_with(|| EMPTY_EXIF.to_vec());
                match exif::kind_of(data, ifd, tag) {
                    Some(FieldKind::Integer) => {
                        let number: u32 = value
                            .parse()
                            .map_err(|_| bad_key(key, "this EXIF field holds an integer"))?;
                        exif::set_uint(data, ifd, tag, number);
                        Ok(())
                    }
                    Some(FieldKind::Other) => {
                        Err(bad_key(key, "only text and integer EXIF fields can be set"))
                    }
                    Some(FieldKind::Text) | None if exif::set_ascii(data, ifd, tag, value) => {
                        Ok(())
                    }
                    Some(FieldKind::Text) | None => Err(bad_key(
                        key,
                        &format!(
                            "the EXIF block has no {} IFD for {}",
                            ifd.name(),
                            ifd.tag_name(tag)
                        ),
                    )),
                }
            }
            Key::Xmp(prefix, name) => {
                let value_text = value.to_string();
                let set = [(prefix.as_str(), name.as_str(), value_text.clone())];
                let add = [XmpValue {
                    prefix: prefix.clone(),
                    name: name.clone(),
                    shape: XmpShape::Text,
                    values: vec![value_text],
                }];
                if self.xmp.as_deref().is_some_and(|p| !xmp::is_well_formed(p)) {
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
        Ok(match parse_key(key)? {
            Key::Exif(ifd, tag) => self.exif.as_mut().is_some_and(|data| {
                !exif::retain(data, &|i, t| !(t == tag && ifd.map_or(true, |f| f == i))).is_empty()
            }),
            Key::Xmp(prefix, name) => {
                let (removed, _) = self.edit_xmp(&|p, n| !(p == prefix && n == name), &[], &[]);
                !removed.is_empty()
            }
            Key::Iptc(record, number) => match self.iptc.take() {
                Some(block) => {
                    let (kept, removed) =
                        iptc::retain(&block, &|r, n| (r, n) != (record, number), &|_| true);
                    self.iptc = kept;
                    removed.contains(&iptc::dataset_name(record, number))
                }
                None => false,
            },
            Key::Icc => self.icc.take().is_some(),
        })
    }

    /// What is wrong with what an edit left, if anything: each changed block
    /// must be well-formed (EXIF a TIFF structure, XMP well-formed XML, IPTC
    /// a resource block, ICC a profile header of the right size), and at
    /// most [`MAX_INTERCEPTED_BYTES`] changed.
    pub(crate) fn edit_problem(&self, before: &Metadata) -> Option<String> {
        let mut changed_bytes = 0;
        for block in Block::ALL {
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
                return Some(format!(
                    "the edited {} block is not well-formed",
                    block.name()
                ));
            }
        }
        (changed_bytes > MAX_INTERCEPTED_BYTES).then(|| {
            format!(
                "the edits come to {changed_bytes} bytes, over the limit of {MAX_INTERCEPTED_BYTES}"
            )
        })
    }

    /// Checks every block as [`edit_problem`](Metadata::edit_problem) checks changed ones.
    pub(crate) fn validate_blocks(&self) -> Result<()> {
        match self.edit_problem(&Metadata::default()) {
            Some(problem) => Err(Error::InvalidArgument(problem)),
            None => Ok(()),
        }
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
        assert_eq!(m.edit_problem(&Metadata::default()), None);
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
            let err = interceptor
                .run(
                    m.clone(),
                    Format::Jpeg,
                    1,
                    1,
                    crate::options::DEFAULT_INTERCEPTOR_TIMEOUT,
                )
                .unwrap_err();
            assert_eq!(err.kind(), crate::ErrorKind::Interceptor);
            assert!(err.to_string().contains(says), "{err}");
        }
    }
}
