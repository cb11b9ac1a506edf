//! EXIF: the TIFF structure of IFDs, walked and edited in place.
//!
//! Edits never move a byte that stays: a removed entry is taken out of its
//! IFD's entry list and its value bytes are zeroed, so every offset that
//! remains (the MakerNote's own, above all, which many cameras write relative
//! to the TIFF header) still points where it did. Zeroing matters: a removed
//! GPS position or thumbnail must not linger as unreferenced bytes.

use super::exif_tags;
use std::collections::BTreeSet;

/// The IFDs of an EXIF block.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Ifd {
    /// The primary image's IFD.
    Ifd0,
    /// The Exif IFD (capture settings), linked from IFD0.
    Exif,
    /// The GPS IFD, linked from IFD0.
    Gps,
    /// The interoperability IFD, linked from the Exif IFD.
    Interop,
    /// IFD1: the thumbnail's IFD.
    Thumbnail,
}

impl Ifd {
    /// The group name exiftool gives the IFD (`IFD0`, `ExifIFD`, `GPS`, `InteropIFD`, `IFD1`).
    pub fn name(self) -> &'static str {
        match self {
            Ifd::Ifd0 => "IFD0",
            Ifd::Exif => "ExifIFD",
            Ifd::Gps => "GPS",
            Ifd::Interop => "InteropIFD",
            Ifd::Thumbnail => "IFD1",
        }
    }

    /// The tag-name table of the IFD.
    fn names(self) -> &'static [(u16, &'static str)] {
        match self {
            Ifd::Ifd0 | Ifd::Thumbnail => exif_tags::IFD0,
            Ifd::Exif => exif_tags::EXIF_IFD,
            Ifd::Gps => exif_tags::GPS,
            Ifd::Interop => exif_tags::INTEROP,
        }
    }

    /// The name of `tag` in this IFD, or `Tag0x1234` for one outside the tables.
    pub fn tag_name(self, tag: u16) -> String {
        self.names()
            .iter()
            .find(|(t, _)| *t == tag)
            .map_or_else(|| format!("Tag{tag:#06x}"), |(_, n)| (*n).to_string())
    }

    /// The tag a name stands for in this IFD (case-insensitive).
    pub fn tag_of(self, name: &str) -> Option<u16> {
        self.names()
            .iter()
            .find(|(_, n)| n.eq_ignore_ascii_case(name))
            .map(|(t, _)| *t)
    }
}

/// IFD0's pointer to the Exif IFD.
const EXIF_POINTER: u16 = 0x8769;
/// IFD0's pointer to the GPS IFD.
pub(crate) const GPS_POINTER: u16 = 0x8825;
/// The Exif IFD's pointer to the interoperability IFD.
const INTEROP_POINTER: u16 = 0xA005;
/// IFD1's JPEG thumbnail offset and length.
const THUMBNAIL_OFFSET: u16 = 0x0201;
const THUMBNAIL_LENGTH: u16 = 0x0202;
/// IFD1's strip offsets and byte counts (an uncompressed thumbnail).
const STRIP_OFFSETS: u16 = 0x0111;
const STRIP_BYTE_COUNTS: u16 = 0x0117;
/// The Exif IFD's PixelXDimension and PixelYDimension.
pub(crate) const PIXEL_X_DIMENSION: u16 = 0xA002;
pub(crate) const PIXEL_Y_DIMENSION: u16 = 0xA003;
/// The TIFF types ASCII, SHORT, LONG and RATIONAL.
const ASCII: u16 = 2;
const SHORT: u16 = 3;
const LONG: u16 = 4;
const RATIONAL: u16 = 5;
/// The TIFF type SRATIONAL.
const SRATIONAL: u16 = 10;
/// More entries than this in one IFD means the block is damaged.
const MAX_ENTRIES: usize = 4096;

/// One IFD entry as stored.
#[derive(Debug, Clone, Copy)]
struct Entry {
    tag: u16,
    kind: u16,
    count: u32,
    /// Where the 12-byte entry starts.
    at: usize,
}

/// A read view of an EXIF block.
struct Tiff<'a> {
    data: &'a [u8],
    big_endian: bool,
}

impl<'a> Tiff<'a> {
    fn new(data: &'a [u8]) -> Option<Tiff<'a>> {
        let big_endian = data.starts_with(b"MM\0*");
        (big_endian || data.starts_with(b"II*\0")).then_some(Tiff { data, big_endian })
    }

    fn u16(&self, at: usize) -> Option<u16> {
        let b: [u8; 2] = self.data.get(at..at.checked_add(2)?)?.try_into().ok()?;
        Some(if self.big_endian {
            u16::from_be_bytes(b)
        } else {
            u16::from_le_bytes(b)
        })
    }

    fn u32(&self, at: usize) -> Option<u32> {
        let b: [u8; 4] = self.data.get(at..at.checked_add(4)?)?.try_into().ok()?;
        Some(if self.big_endian {
            u32::from_be_bytes(b)
        } else {
            u32::from_le_bytes(b)
        })
    }

    /// The entries of the IFD at `offset` (none when it lies outside the block).
    fn entries(&self, offset: usize) -> Vec<Entry> {
        let Some(count) = self.u16(offset).map(usize::from) else {
            return Vec::new();
        };
        if count > MAX_ENTRIES || offset + 2 + count * 12 + 4 > self.data.len() {
            return Vec::new();
        }
        (0..count)
            .filter_map(|i| {
                let at = offset + 2 + i * 12;
                Some(Entry {
                    tag: self.u16(at)?,
                    kind: self.u16(at + 2)?,
                    count: self.u32(at + 4)?,
                    at,
                })
            })
            .collect()
    }

    /// The offset of the IFD after the one at `offset` (0 for none).
    fn next_ifd(&self, offset: usize) -> Option<usize> {
        let count = usize::from(self.u16(offset)?);
        Some(self.u32(offset + 2 + count * 12)? as usize)
    }

    /// The bytes an entry's value takes, and where they are (inline values
    /// live in the entry itself).
    fn value_range(&self, entry: &Entry) -> Option<std::ops::Range<usize>> {
        let size = type_size(entry.kind)?.checked_mul(entry.count as usize)?;
        let start = if size <= 4 {
            entry.at + 8
        } else {
            self.u32(entry.at + 8)? as usize
        };
        let end = start.checked_add(size)?;
        (end <= self.data.len()).then_some(start..end)
    }

    /// The first value of an entry as an unsigned integer (BYTE, SHORT, LONG).
    fn uint(&self, entry: &Entry) -> Option<u32> {
        match entry.kind {
            1 => self.data.get(entry.at + 8).map(|&b| u32::from(b)),
            3 => self.u16(entry.at + 8).map(u32::from),
            4 | 13 => self.u32(entry.at + 8),
            _ => None,
        }
    }

    /// The IFDs present: kind and offset, each visited once.
    fn ifds(&self) -> Vec<(Ifd, usize)> {
        let mut found = Vec::new();
        let mut seen = BTreeSet::new();
        let mut visit = |ifd: Ifd, offset: Option<u32>, found: &mut Vec<(Ifd, usize)>| {
            let offset = offset? as usize;
            (offset >= 8 && offset < self.data.len() && seen.insert(offset)).then(|| {
                found.push((ifd, offset));
                offset
            })
        };
        let Some(ifd0) = visit(Ifd::Ifd0, self.u32(4), &mut found) else {
            return found;
        };
        let ifd0_entries = self.entries(ifd0);
        let pointer = |entries: &[Entry], tag| {
            entries
                .iter()
                .find(|e| e.tag == tag)
                .and_then(|e| self.uint(e))
        };
        if let Some(exif) = visit(Ifd::Exif, pointer(&ifd0_entries, EXIF_POINTER), &mut found) {
            let exif_entries = self.entries(exif);
            visit(
                Ifd::Interop,
                pointer(&exif_entries, INTEROP_POINTER),
                &mut found,
            );
        }
        visit(Ifd::Gps, pointer(&ifd0_entries, GPS_POINTER), &mut found);
        let next = self.next_ifd(ifd0).map(|n| n as u32).filter(|&n| n != 0);
        visit(Ifd::Thumbnail, next, &mut found);
        found
    }
}

/// Bytes per value of a TIFF type (1-13), `None` for unknown types.
fn type_size(kind: u16) -> Option<usize> {
    match kind {
        1 | 2 | 6 | 7 => Some(1),
        3 | 8 => Some(2),
        4 | 9 | 11 | 13 => Some(4),
        5 | 10 | 12 => Some(8),
        _ => None,
    }
}

/// The sub-IFD a pointer tag in `ifd` leads to.
fn pointed(ifd: Ifd, tag: u16) -> Option<Ifd> {
    match (ifd, tag) {
        (Ifd::Ifd0, EXIF_POINTER) => Some(Ifd::Exif),
        (Ifd::Ifd0, GPS_POINTER) => Some(Ifd::Gps),
        (Ifd::Exif, INTEROP_POINTER) => Some(Ifd::Interop),
        _ => None,
    }
}

/// Every `(ifd, tag)` of the block, pointer tags left out.
pub(crate) fn fields(data: &[u8]) -> Vec<(Ifd, u16)> {
    let Some(tiff) = Tiff::new(data) else {
        return Vec::new();
    };
    tiff.ifds()
        .into_iter()
        .flat_map(|(ifd, offset)| {
            tiff.entries(offset)
                .into_iter()
                .filter(move |e| pointed(ifd, e.tag).is_none())
                .map(move |e| (ifd, e.tag))
        })
        .collect()
}

/// Removes every field `keep` refuses, in place, and returns `IFD:Name` for
/// each. A sub-IFD left empty is unlinked; dropping any IFD1 field drops the
/// whole thumbnail (IFD1 and its image bytes). A second pointer to a sub-IFD
/// in one IFD is always removed, and a GPS IFD no longer linked is zeroed.
pub(crate) fn retain(data: &mut [u8], keep: &dyn Fn(Ifd, u16) -> bool) -> Vec<String> {
    let Some(tiff) = Tiff::new(data) else {
        return Vec::new();
    };
    let big_endian = tiff.big_endian;
    let ifds = tiff.ifds();
    let mut removed = Vec::new();
    let mut zero: Vec<std::ops::Range<usize>> = Vec::new();
    // (IFD offset, entries kept) for each IFD whose list changes.
    let mut rewrites: Vec<(usize, Vec<Entry>)> = Vec::new();
    let mut emptied: BTreeSet<Ifd> = BTreeSet::new();
    let mut drop_thumbnail = false;
    // Children before parents, so an emptied sub-IFD unlinks its pointer.
    let order = [Ifd::Interop, Ifd::Gps, Ifd::Exif, Ifd::Ifd0, Ifd::Thumbnail];
    for ifd in order {
        let Some(&(_, offset)) = ifds.iter().find(|(i, _)| *i == ifd) else {
            continue;
        };
        let entries = tiff.entries(offset);
        if ifd == Ifd::Thumbnail {
            drop_thumbnail = entries.iter().any(|e| !keep(ifd, e.tag));
            if drop_thumbnail {
                removed.push("IFD1:ThumbnailImage".to_string());
                zero.extend(thumbnail_ranges(&tiff, offset, &entries));
                for entry in &entries {
                    zero.extend(stray_gps_ranges(&tiff, entry, &ifds));
                }
            }
            continue;
        }
        let mut kept = Vec::with_capacity(entries.len());
        for (index, entry) in entries.iter().enumerate() {
            // A second entry of a pointer tag (a crafted block's) links an
            // IFD that nothing here reads or edits, and readers follow it:
            // it goes, whatever the policy.
            let second = pointed(ifd, entry.tag).is_some()
                && entries.iter().position(|e| e.tag == entry.tag) != Some(index);
            let stays = match pointed(ifd, entry.tag) {
                _ if second => false,
                Some(child) => !emptied.contains(&child),
                None => keep(ifd, entry.tag),
            };
            if stays {
                kept.push(*entry);
                continue;
            }
            if second || pointed(ifd, entry.tag).is_none() {
                removed.push(format!("{}:{}", ifd.name(), ifd.tag_name(entry.tag)));
                if let Some(range) = tiff.value_range(entry) {
                    if range.start != entry.at + 8 {
                        zero.push(range);
                    }
                }
                zero.extend(stray_gps_ranges(&tiff, entry, &ifds));
            }
        }
        if kept.len() < entries.len() {
            if kept.is_empty() && ifd != Ifd::Ifd0 {
                emptied.insert(ifd);
            }
            rewrites.push((offset, kept));
        }
    }
    // Everything read; now the writes: new entry lists, then zero what was freed.
    let rewrites: Vec<(usize, usize, u32, Vec<[u8; 12]>)> = rewrites
        .into_iter()
        .map(|(offset, kept)| {
            let count = entries_len(&tiff, offset);
            let next = tiff.u32(offset + 2 + count * 12).unwrap_or(0);
            let copies = kept
                .iter()
                .map(|e| {
                    tiff.data[e.at..e.at + 12]
                        .try_into()
                        .expect("12-byte entry")
                })
                .collect();
            (offset, count, next, copies)
        })
        .collect();
    let ifd0 = ifds.first().map(|&(_, offset)| offset);
    for (offset, count, next, copies) in rewrites {
        put_u16(data, offset, copies.len() as u16, big_endian);
        for (i, bytes) in copies.iter().enumerate() {
            let at = offset + 2 + i * 12;
            data[at..at + 12].copy_from_slice(bytes);
        }
        let next_at = offset + 2 + copies.len() * 12;
        put_u32(data, next_at, next, big_endian);
        data[next_at + 4..offset + 2 + count * 12 + 4].fill(0);
    }
    for range in zero {
        data[range].fill(0);
    }
    if let (true, Some(ifd0)) = (drop_thumbnail, ifd0) {
        // Read the count again: IFD0 may have shrunk, moving its next-IFD
        // link. In a crafted block another IFD overlapping IFD0 may have
        // written any count there: the link is cleared only inside the block.
        let count = Tiff::new(data).map_or(0, |t| entries_len(&t, ifd0));
        let link = ifd0 + 2 + count * 12;
        if link + 4 <= data.len() {
            put_u32(data, link, 0, big_endian);
        }
    }
    removed
}

/// The number of entries of the IFD at `offset`.
fn entries_len(tiff: &Tiff, offset: usize) -> usize {
    tiff.u16(offset).map_or(0, usize::from)
}

/// The bytes of the GPS IFD a removed GPSInfo pointer leads to, when `entry`
/// is one (a crafted block's, outside IFD0 or a second one in IFD0; readers
/// follow it): its entry list and its values. Nothing for an IFD
/// [`Tiff::ifds`] lists, which is edited in its own right.
fn stray_gps_ranges(
    tiff: &Tiff,
    entry: &Entry,
    ifds: &[(Ifd, usize)],
) -> Vec<std::ops::Range<usize>> {
    if entry.tag != GPS_POINTER {
        return Vec::new();
    }
    let Some(offset) = tiff.uint(entry).map(|o| o as usize) else {
        return Vec::new();
    };
    if offset < 8 || ifds.iter().any(|&(_, o)| o == offset) {
        return Vec::new();
    }
    let entries = tiff.entries(offset);
    if entries.is_empty() {
        return Vec::new();
    }
    let mut ranges = Vec::with_capacity(entries.len() + 1);
    ranges.push(offset..offset + 2 + entries.len() * 12 + 4);
    ranges.extend(entries.iter().filter_map(|e| tiff.value_range(e)));
    ranges
}

/// The bytes of IFD1: its entry list, its values and the thumbnail image.
fn thumbnail_ranges(tiff: &Tiff, offset: usize, entries: &[Entry]) -> Vec<std::ops::Range<usize>> {
    let mut ranges = Vec::with_capacity(entries.len() + 3);
    ranges.push(offset..offset + 2 + entries.len() * 12 + 4);
    for e in entries {
        if let Some(range) = tiff.value_range(e) {
            ranges.push(range);
        }
    }
    let find = |tag| entries.iter().find(|e| e.tag == tag);
    for (start_tag, length_tag) in [
        (THUMBNAIL_OFFSET, THUMBNAIL_LENGTH),
        (STRIP_OFFSETS, STRIP_BYTE_COUNTS),
    ] {
        let start = find(start_tag).and_then(|e| tiff.uint(e));
        let length = find(length_tag).and_then(|e| tiff.uint(e));
        if let (Some(start), Some(length)) = (start, length) {
            let (start, end) = (start as usize, start as usize + length as usize);
            if end <= tiff.data.len() {
                ranges.push(start..end);
            }
        }
    }
    ranges
}

/// Finds `tag` in `ifd`.
fn find<'a>(data: &'a [u8], ifd: Ifd, tag: u16) -> Option<(Tiff<'a>, Entry)> {
    let tiff = Tiff::new(data)?;
    let &(_, offset) = tiff.ifds().iter().find(|(i, _)| *i == ifd)?;
    let entry = tiff.entries(offset).into_iter().find(|e| e.tag == tag)?;
    Some((tiff, entry))
}

/// The first value of an integer field (BYTE, SHORT or LONG).
pub(crate) fn uint(data: &[u8], ifd: Ifd, tag: u16) -> Option<u32> {
    let (tiff, entry) = find(data, ifd, tag)?;
    tiff.uint(&entry)
}

/// The first value of a RATIONAL field.
pub(crate) fn rational(data: &[u8], ifd: Ifd, tag: u16) -> Option<f64> {
    let (tiff, entry) = find(data, ifd, tag)?;
    if entry.kind != 5 {
        return None;
    }
    let at = tiff.value_range(&entry)?.start;
    let (numerator, denominator) = (tiff.u32(at)?, tiff.u32(at + 4)?);
    (denominator != 0).then(|| f64::from(numerator) / f64::from(denominator))
}

/// Sets an integer field (SHORT or LONG) that is present to the one value
/// `value`, stored in the entry itself: a SHORT when it was one and the value
/// fits, else a LONG.
pub(crate) fn set_uint(data: &mut [u8], ifd: Ifd, tag: u16, value: u32) {
    let Some((tiff, entry)) = find(data, ifd, tag) else {
        return;
    };
    let big_endian = tiff.big_endian;
    if !matches!(entry.kind, SHORT | LONG) {
        return;
    }
    put_u32(data, entry.at + 4, 1, big_endian);
    match u16::try_from(value) {
        Ok(short) if entry.kind == SHORT => {
            put_u16(data, entry.at + 8, short, big_endian);
            data[entry.at + 10..entry.at + 12].fill(0);
        }
        _ => {
            put_u16(data, entry.at + 2, LONG, big_endian);
            put_u32(data, entry.at + 8, value, big_endian);
        }
    }
}

/// What a present field holds, as far as editing it goes.
pub(crate) enum FieldKind {
    /// ASCII.
    Text,
    /// SHORT or LONG.
    Integer,
    /// Any other type.
    Other,
}

/// The kind of the field, `None` when it is absent.
pub(crate) fn kind_of(data: &[u8], ifd: Ifd, tag: u16) -> Option<FieldKind> {
    find(data, ifd, tag).map(|(_, e)| match e.kind {
        ASCII => FieldKind::Text,
        SHORT | LONG => FieldKind::Integer,
        _ => FieldKind::Other,
    })
}

/// Whether the block is a TIFF structure whose IFD0 lies inside it and
/// whose every entry has a known type and a value inside the block.
pub(crate) fn is_well_formed(data: &[u8]) -> bool {
    let Some(tiff) = Tiff::new(data) else {
        return false;
    };
    let ifds = tiff.ifds();
    !ifds.is_empty()
        && ifds.iter().all(|&(_, offset)| {
            tiff.u16(offset)
                .is_some_and(|n| usize::from(n) == tiff.entries(offset).len())
                && tiff
                    .entries(offset)
                    .iter()
                    .all(|e| tiff.value_range(e).is_some())
        })
}

/// The values of a RATIONAL field.
pub(crate) fn rationals(data: &[u8], ifd: Ifd, tag: u16) -> Option<Vec<f64>> {
    let (tiff, entry) = find(data, ifd, tag)?;
    if entry.kind != RATIONAL {
        return None;
    }
    let range = tiff.value_range(&entry)?;
    range
        .step_by(8)
        .map(|at| {
            let (n, d) = (tiff.u32(at)?, tiff.u32(at + 4)?);
            (d != 0).then(|| f64::from(n) / f64::from(d))
        })
        .collect()
}

/// Every entry of `tag` in `ifd`, in the order stored (a crafted block may
/// repeat a tag).
fn find_all(data: &[u8], ifd: Ifd, tag: u16) -> Option<(Tiff<'_>, Vec<Entry>)> {
    let tiff = Tiff::new(data)?;
    let &(_, offset) = tiff.ifds().iter().find(|(i, _)| *i == ifd)?;
    let entries = tiff
        .entries(offset)
        .into_iter()
        .filter(|e| e.tag == tag)
        .collect();
    Some((tiff, entries))
}

/// The values of every entry of `tag` in `ifd`, in the order stored (a
/// crafted block may repeat a tag): for a RATIONAL or SRATIONAL entry,
/// whether it is signed and its values as numbers; `None` for an entry of
/// another type, with values outside the block or with a zero denominator.
pub(crate) fn rational_entries(data: &[u8], ifd: Ifd, tag: u16) -> Vec<Option<(bool, Vec<f64>)>> {
    let Some((tiff, entries)) = find_all(data, ifd, tag) else {
        return Vec::new();
    };
    let read = |entry: &Entry| {
        let signed = match entry.kind {
            RATIONAL => false,
            SRATIONAL => true,
            _ => return None,
        };
        let values = tiff
            .value_range(entry)?
            .step_by(8)
            .map(|at| {
                let (n, d) = (tiff.u32(at)?, tiff.u32(at + 4)?);
                if d == 0 {
                    return None;
                }
                Some(if signed {
                    f64::from(n as i32) / f64::from(d as i32)
                } else {
                    f64::from(n) / f64::from(d)
                })
            })
            .collect::<Option<Vec<f64>>>()?;
        Some((signed, values))
    };
    entries.iter().map(read).collect()
}

/// Sets, in place, the values of the `index`-th entry of `tag` in `ifd`
/// (counted as [`rational_entries`] lists them) to `values`, numerator and
/// denominator. The entry keeps its type, RATIONAL or SRATIONAL, and must
/// hold `values.len()` values; `false` when it does not, or when a value
/// does not fit its type (a negative numerator in a RATIONAL).
pub(crate) fn set_rational_entry(
    data: &mut [u8],
    ifd: Ifd,
    tag: u16,
    index: usize,
    values: &[(i64, u32)],
) -> bool {
    let Some((tiff, entries)) = find_all(data, ifd, tag) else {
        return false;
    };
    let big_endian = tiff.big_endian;
    let Some(entry) = entries.get(index) else {
        return false;
    };
    if entry.count as usize != values.len() {
        return false;
    }
    // Each value as the two 32-bit words stored.
    let words: Option<Vec<(u32, u32)>> = values
        .iter()
        .map(|&(n, d)| match entry.kind {
            RATIONAL => Some((u32::try_from(n).ok()?, d)),
            SRATIONAL => Some((i32::try_from(n).ok()? as u32, i32::try_from(d).ok()? as u32)),
            _ => None,
        })
        .collect();
    let (Some(words), Some(range)) = (words, tiff.value_range(entry)) else {
        return false;
    };
    for (i, (n, d)) in words.into_iter().enumerate() {
        put_u32(data, range.start + i * 8, n, big_endian);
        put_u32(data, range.start + i * 8 + 4, d, big_endian);
    }
    true
}

/// Sets an ASCII field to `text`, adding the field when the IFD has none.
///
/// Offsets that stay keep pointing where they did: a longer value is
/// appended to the block, and an IFD that gains an entry is copied to the
/// end of the block with its parent's pointer moved to the copy (the old
/// list is zeroed). `false` when the block or the IFD is missing, or the
/// value is too long for a TIFF count.
pub(crate) fn set_ascii(data: &mut Vec<u8>, ifd: Ifd, tag: u16, text: &str) -> bool {
    let Some(tiff) = Tiff::new(data) else {
        return false;
    };
    let big_endian = tiff.big_endian;
    let Some(&(_, offset)) = tiff.ifds().iter().find(|(i, _)| *i == ifd) else {
        return false;
    };
    let value = [text.as_bytes(), &[0]].concat();
    let Ok(count) = u32::try_from(value.len()) else {
        return false;
    };
    let entries = tiff.entries(offset);
    // Where the value goes: inline, over the old value, or appended.
    let place = |data: &mut Vec<u8>, entry_at: usize, old: Option<std::ops::Range<usize>>| {
        let mut inline = [0u8; 4];
        if value.len() <= 4 {
            inline[..value.len()].copy_from_slice(&value);
            data[entry_at + 8..entry_at + 12].copy_from_slice(&inline);
            return;
        }
        let at = match old.filter(|r| r.start != entry_at + 8 && r.len() >= value.len()) {
            Some(r) => {
                data[r.clone()].fill(0);
                r.start
            }
            None => {
                data.resize(data.len().next_multiple_of(2), 0);
                data.len()
            }
        };
        if at == data.len() {
            data.extend_from_slice(&value);
        } else {
            data[at..at + value.len()].copy_from_slice(&value);
        }
        put_u32(data, entry_at + 8, at as u32, big_endian);
    };
    if let Some(entry) = entries.iter().find(|e| e.tag == tag) {
        let old = tiff.value_range(entry);
        let at = entry.at;
        place(data, at, old);
        put_u16(data, at + 2, ASCII, big_endian);
        put_u32(data, at + 4, count, big_endian);
        return true;
    }
    // Copy the IFD with the new entry, sorted by tag, to the end of the block.
    let parent = match ifd {
        Ifd::Ifd0 => None,
        Ifd::Exif => Some((Ifd::Ifd0, EXIF_POINTER)),
        Ifd::Gps => Some((Ifd::Ifd0, GPS_POINTER)),
        Ifd::Interop => Some((Ifd::Exif, INTEROP_POINTER)),
        Ifd::Thumbnail => return false,
    };
    let next = tiff.next_ifd(offset).unwrap_or(0) as u32;
    let mut copies: Vec<(u16, [u8; 12])> = entries
        .iter()
        .map(|e| {
            (
                e.tag,
                data[e.at..e.at + 12].try_into().expect("12-byte entry"),
            )
        })
        .collect();
    let mut new_entry = [0u8; 12];
    put_u16(&mut new_entry, 0, tag, big_endian);
    put_u16(&mut new_entry, 2, ASCII, big_endian);
    copies.push((tag, new_entry));
    copies.sort_by_key(|(t, _)| *t);
    let old_len = 2 + entries.len() * 12 + 4;
    data.resize(data.len().next_multiple_of(2), 0);
    let new_offset = data.len();
    let mut list = vec![0u8; 2 + copies.len() * 12 + 4];
    put_u16(&mut list, 0, copies.len() as u16, big_endian);
    for (i, (_, bytes)) in copies.iter().enumerate() {
        list[2 + i * 12..2 + (i + 1) * 12].copy_from_slice(bytes);
    }
    put_u32(&mut list, 2 + copies.len() * 12, next, big_endian);
    data.extend_from_slice(&list);
    // The old list, up to where the copy starts: an IFD whose entries could
    // not be read is taken as 6 bytes, which may run past the old end.
    data[offset..(offset + old_len).min(new_offset)].fill(0);
    let index = copies
        .iter()
        .position(|(t, _)| *t == tag)
        .expect("just added");
    let entry_at = new_offset + 2 + index * 12;
    put_u32(data, entry_at + 4, count, big_endian);
    place(data, entry_at, None);
    match parent {
        None => put_u32(data, 4, new_offset as u32, big_endian),
        Some((parent, pointer)) => {
            let Some((_, entry)) = find(data, parent, pointer) else {
                return false;
            };
            put_u32(data, entry.at + 8, new_offset as u32, big_endian);
        }
    }
    true
}

fn put_u16(data: &mut [u8], at: usize, value: u16, big_endian: bool) {
    let b = if big_endian {
        value.to_be_bytes()
    } else {
        value.to_le_bytes()
    };
    data[at..at + 2].copy_from_slice(&b);
}

fn put_u32(data: &mut [u8], at: usize, value: u32, big_endian: bool) {
    let b = if big_endian {
        value.to_be_bytes()
    } else {
        value.to_le_bytes()
    };
    data[at..at + 4].copy_from_slice(&b);
}

/// IFD0 tags of a TIFF file that describe its own storage (strips, tiles,
/// samples, compression, pages), not the photograph, or that hold the other
/// blocks (XMP 700, IPTC 33723, Photoshop 34377, ICC 34675): left out of the
/// EXIF block built from a TIFF file.
const TIFF_STORAGE_TAGS: &[u16] = &[
    0x02BC, 0x83BB, 0x8649, 0x8773, 0x00FE, 0x00FF, 0x0100, 0x0101, 0x0102, 0x0103, 0x0106, 0x0107,
    0x0108, 0x0109, 0x010A, 0x0111, 0x0115, 0x0116, 0x0117, 0x0118, 0x0119, 0x011C, 0x0122, 0x0123,
    0x0124, 0x0125, 0x0129, 0x012D, 0x013D, 0x0140, 0x0141, 0x0142, 0x0143, 0x0144, 0x0145, 0x014A,
    0x014C, 0x014D, 0x014E, 0x0150, 0x0152, 0x0153, 0x0154, 0x0155, 0x0156, 0x015B, 0x0200, 0x0201,
    0x0202, 0x0203, 0x0205, 0x0206, 0x0207, 0x0208, 0x0209, 0x0211, 0x0212, 0x0213, 0x0214,
];

/// An entry to write: tag, type, count and its value bytes (in the block's byte order).
struct NewEntry {
    tag: u16,
    kind: u16,
    count: u32,
    value: Vec<u8>,
}

/// The EXIF block of a TIFF file: IFD0's descriptive tags (Make, Artist,
/// Copyright, resolution...) and the Exif and GPS IFDs, rebuilt as a compact
/// TIFF structure in the file's byte order. `None` when there is nothing to
/// carry. (Values move, so a MakerNote with file-relative offsets may not
/// survive; TIFF-native MakerNotes are rare.)
pub(crate) fn from_tiff_file(file: &[u8]) -> Option<Vec<u8>> {
    let tiff = Tiff::new(file)?;
    let ifd0 = tiff.u32(4)? as usize;
    let pick = |offset: usize, keep: &dyn Fn(u16) -> bool| -> Vec<NewEntry> {
        tiff.entries(offset)
            .iter()
            .filter(|e| keep(e.tag))
            .filter_map(|e| {
                let range = tiff.value_range(e)?;
                Some(NewEntry {
                    tag: e.tag,
                    kind: e.kind,
                    count: e.count,
                    value: file[range].to_vec(),
                })
            })
            .collect()
    };
    let described = |tag: u16| {
        !TIFF_STORAGE_TAGS.contains(&tag)
            && exif_tags::IFD0.iter().any(|(t, _)| *t == tag)
            && tag != EXIF_POINTER
            && tag != GPS_POINTER
    };
    let ifd0_entries = tiff.entries(ifd0);
    let pointer = |tag| {
        ifd0_entries
            .iter()
            .find(|e| e.tag == tag)
            .and_then(|e| tiff.uint(e))
            .map(|o| o as usize)
            .filter(|&o| o >= 8 && o < file.len())
    };
    let main = pick(ifd0, &described);
    let exif = pointer(EXIF_POINTER).map_or_else(Vec::new, |o| pick(o, &|t| t != INTEROP_POINTER));
    let gps = pointer(GPS_POINTER).map_or_else(Vec::new, |o| pick(o, &|_| true));
    if main.is_empty() && exif.is_empty() && gps.is_empty() {
        return None;
    }
    Some(write_tiff(tiff.big_endian, main, exif, gps))
}

/// Lays out a TIFF structure: IFD0 (with pointers to the Exif and GPS IFDs
/// when they have entries), then each sub-IFD, each followed by its values.
fn write_tiff(
    big_endian: bool,
    mut main: Vec<NewEntry>,
    exif: Vec<NewEntry>,
    gps: Vec<NewEntry>,
) -> Vec<u8> {
    let pointer = |tag| NewEntry {
        tag,
        kind: LONG,
        count: 1,
        value: vec![0; 4],
    };
    if !exif.is_empty() {
        main.push(pointer(EXIF_POINTER));
    }
    if !gps.is_empty() {
        main.push(pointer(GPS_POINTER));
    }
    main.sort_by_key(|e| e.tag);
    let mut out = if big_endian {
        b"MM\0*".to_vec()
    } else {
        b"II*\0".to_vec()
    };
    out.extend_from_slice(&[0; 4]);
    put_u32(&mut out, 4, 8, big_endian);
    let main_at = write_ifd(&mut out, &main, big_endian);
    for (tag, entries) in [(EXIF_POINTER, exif), (GPS_POINTER, gps)] {
        if entries.is_empty() {
            continue;
        }
        let at = write_ifd(&mut out, &entries, big_endian);
        let slot = main
            .iter()
            .position(|e| e.tag == tag)
            .expect("pointer added above");
        put_u32(&mut out, main_at + 2 + slot * 12 + 8, at as u32, big_endian);
    }
    out
}

/// Appends an IFD and its out-of-line values; returns where the IFD starts.
fn write_ifd(out: &mut Vec<u8>, entries: &[NewEntry], big_endian: bool) -> usize {
    if out.len() % 2 == 1 {
        out.push(0);
    }
    let at = out.len();
    let mut values_at = at + 2 + entries.len() * 12 + 4;
    out.resize(values_at, 0);
    put_u16(out, at, entries.len() as u16, big_endian);
    let mut values = Vec::new();
    for (i, e) in entries.iter().enumerate() {
        let slot = at + 2 + i * 12;
        put_u16(out, slot, e.tag, big_endian);
        put_u16(out, slot + 2, e.kind, big_endian);
        put_u32(out, slot + 4, e.count, big_endian);
        if e.value.len() <= 4 {
            out[slot + 8..slot + 8 + e.value.len()].copy_from_slice(&e.value);
        } else {
            put_u32(out, slot + 8, values_at as u32, big_endian);
            values.extend_from_slice(&e.value);
            if e.value.len() % 2 == 1 {
                values.push(0);
            }
            values_at = at + 2 + entries.len() * 12 + 4 + values.len();
        }
    }
    out.extend_from_slice(&values);
    at
}

/// The raw value bytes of an IFD0 tag of a TIFF file (XMP, IPTC, ICC...).
pub(crate) fn tiff_tag_bytes(file: &[u8], tag: u16) -> Option<Vec<u8>> {
    let (tiff, entry) = find(file, Ifd::Ifd0, tag)?;
    let range = tiff.value_range(&entry)?;
    Some(file[range].to_vec())
}

/// Values listed one by one up to this count; longer arrays are summarized.
const LISTED_VALUES: usize = 16;

/// Every field with its value as text, pointer tags left out.
pub(crate) fn values(data: &[u8]) -> Vec<(Ifd, u16, String)> {
    let Some(tiff) = Tiff::new(data) else {
        return Vec::new();
    };
    let mut out = Vec::new();
    for (ifd, offset) in tiff.ifds() {
        for entry in tiff.entries(offset) {
            if pointed(ifd, entry.tag).is_none() {
                out.push((ifd, entry.tag, tiff.text(&entry)));
            }
        }
    }
    out
}

/// One field's value as text, as [`values`] lists it (without listing them all).
pub(crate) fn text(data: &[u8], ifd: Ifd, tag: u16) -> Option<String> {
    let (tiff, entry) = find(data, ifd, tag)?;
    Some(tiff.text(&entry))
}

impl Tiff<'_> {
    /// An entry's value as text.
    fn text(&self, entry: &Entry) -> String {
        let Some(range) = self.value_range(entry) else {
            return "(outside the block)".to_string();
        };
        let bytes = &self.data[range];
        let printable =
            |b: &[u8]| !b.is_empty() && b.iter().all(|&c| c == b' ' || c.is_ascii_graphic());
        match entry.kind {
            2 => {
                let text = bytes.split(|&b| b == 0).next().unwrap_or_default();
                String::from_utf8_lossy(text).trim_end().to_string()
            }
            7 if printable(bytes) => String::from_utf8_lossy(bytes).trim_end().to_string(),
            _ if entry.count as usize > LISTED_VALUES || matches!(entry.kind, 7) => {
                format!("({} bytes)", bytes.len())
            }
            kind => {
                let size = type_size(kind).unwrap_or(1);
                bytes
                    .chunks_exact(size)
                    .map(|v| self.number(kind, v))
                    .collect::<Vec<_>>()
                    .join(" ")
            }
        }
    }

    /// One value of a numeric type as text.
    fn number(&self, kind: u16, v: &[u8]) -> String {
        let u16_of = |b: &[u8]| {
            let a = [b[0], b[1]];
            if self.big_endian {
                u16::from_be_bytes(a)
            } else {
                u16::from_le_bytes(a)
            }
        };
        let u32_of = |b: &[u8]| {
            let a = [b[0], b[1], b[2], b[3]];
            if self.big_endian {
                u32::from_be_bytes(a)
            } else {
                u32::from_le_bytes(a)
            }
        };
        match kind {
            1 => v[0].to_string(),
            6 => (v[0] as i8).to_string(),
            3 => u16_of(v).to_string(),
            8 => (u16_of(v) as i16).to_string(),
            4 | 13 => u32_of(v).to_string(),
            9 => (u32_of(v) as i32).to_string(),
            5 => format!("{}/{}", u32_of(&v[..4]), u32_of(&v[4..])),
            10 => format!("{}/{}", u32_of(&v[..4]) as i32, u32_of(&v[4..]) as i32),
            11 => f32::from_bits(u32_of(v)).to_string(),
            12 => {
                let (hi, lo) = (u64::from(u32_of(&v[..4])), u64::from(u32_of(&v[4..])));
                let bits = if self.big_endian {
                    hi << 32 | lo
                } else {
                    lo << 32 | hi
                };
                f64::from_bits(bits).to_string()
            }
            _ => String::new(),
        }
    }
}

/// An entry of [`test_block`]: tag, type, count and value bytes.
#[cfg(test)]
pub(crate) type TestEntry<'a> = (u16, u16, u32, &'a [u8]);

/// A little-endian EXIF block with these IFD0, Exif IFD and GPS IFD
/// entries (values in little-endian byte order), for tests.
#[cfg(test)]
pub(crate) fn test_block(main: &[TestEntry], exif: &[TestEntry], gps: &[TestEntry]) -> Vec<u8> {
    let entries = |list: &[TestEntry]| -> Vec<NewEntry> {
        list.iter()
            .map(|&(tag, kind, count, value)| NewEntry {
                tag,
                kind,
                count,
                value: value.to_vec(),
            })
            .collect()
    };
    write_tiff(false, entries(main), entries(exif), entries(gps))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(tag: u16, kind: u16, count: u32, value: &[u8]) -> NewEntry {
        NewEntry {
            tag,
            kind,
            count,
            value: value.to_vec(),
        }
    }

    /// IFD0 (Make), an Exif IFD (MakerNote, PixelXDimension SHORT) and a GPS
    /// IFD (GPSLatitude, three RATIONALs), little-endian.
    fn sample() -> Vec<u8> {
        let latitude: Vec<u8> = [47u32, 1, 30, 1, 1234, 100]
            .iter()
            .flat_map(|v| v.to_le_bytes())
            .collect();
        write_tiff(
            false,
            vec![entry(0x010F, 2, 6, b"Nikon\0")],
            vec![
                entry(0x927C, 7, 10, b"MAKERNOTE!"),
                entry(PIXEL_X_DIMENSION, SHORT, 1, &[0xA0, 0x0F]),
            ],
            vec![entry(0x0002, 5, 3, &latitude)],
        )
    }

    #[test]
    fn lists_removes_and_zeroes() {
        let mut data = sample();
        let mut listed = fields(&data);
        listed.sort();
        assert_eq!(
            listed,
            vec![
                (Ifd::Ifd0, 0x010F),
                (Ifd::Exif, 0x927C),
                (Ifd::Exif, PIXEL_X_DIMENSION),
                (Ifd::Gps, 0x0002)
            ]
        );
        let keep = |ifd: Ifd, tag: u16| ifd != Ifd::Gps && tag != 0x927C;
        let removed = retain(&mut data, &keep);
        assert_eq!(removed, vec!["GPS:GPSLatitude", "ExifIFD:MakerNote"]);
        assert_eq!(
            fields(&data),
            vec![(Ifd::Ifd0, 0x010F), (Ifd::Exif, PIXEL_X_DIMENSION)]
        );
        // The removed values are gone from the bytes, not just unlinked.
        assert!(!data.windows(10).any(|w| w == b"MAKERNOTE!"));
        assert!(!data.windows(4).any(|w| w == 1234u32.to_le_bytes()));
        set_uint(&mut data, Ifd::Exif, PIXEL_X_DIMENSION, 100_000);
        assert_eq!(uint(&data, Ifd::Exif, PIXEL_X_DIMENSION), Some(100_000));
        assert_eq!(Ifd::Ifd0.tag_of("make"), Some(0x010F));
    }

    /// A crafted block whose Exif IFD (at 8, two entries) overlaps IFD0 (at
    /// 22): IFD0's count is the Exif IFD's second entry's tag, and the Exif
    /// IFD's next-IFD link is read from IFD0's Make value, `ab\xff\xff`.
    /// IFD1 (at 52) holds one SHORT.
    fn overlapping() -> Vec<u8> {
        let mut t = b"II*\0".to_vec();
        t.extend_from_slice(&22u32.to_le_bytes());
        let entry = |tag: u16, kind: u16, count: u32, value: [u8; 4]| {
            [
                &tag.to_le_bytes()[..],
                &kind.to_le_bytes(),
                &count.to_le_bytes(),
                &value,
            ]
            .concat()
        };
        t.extend_from_slice(&2u16.to_le_bytes()); // Exif IFD, at 8
        t.extend(entry(0x9000, 7, 4, *b"0230"));
        t.extend_from_slice(&2u16.to_le_bytes()); // IFD0, at 22
        t.extend(entry(0x010F, ASCII, 4, [b'a', b'b', 0xFF, 0xFF]));
        t.extend(entry(EXIF_POINTER, LONG, 1, 8u32.to_le_bytes()));
        t.extend_from_slice(&52u32.to_le_bytes());
        t.extend_from_slice(&1u16.to_le_bytes()); // IFD1, at 52
        t.extend(entry(0x0103, SHORT, 1, [6, 0, 0, 0]));
        t.extend_from_slice(&0u32.to_le_bytes());
        assert_eq!(t.len(), 70);
        t
    }

    #[test]
    fn overlapping_ifds_do_not_panic() {
        // Removing the Exif IFD's second entry writes its next-IFD link,
        // 0x8769FFFF, over IFD0's count; dropping IFD1 then clears IFD0's
        // link, which that count puts far past the block.
        let mut data = overlapping();
        let keep = |ifd: Ifd, tag: u16| ifd == Ifd::Ifd0 || (ifd == Ifd::Exif && tag != 2);
        let removed = retain(&mut data, &keep);
        assert_eq!(removed.len(), 2, "{removed:?}");
        assert_eq!(removed[1], "IFD1:ThumbnailImage");
        assert_eq!(data.len(), 70);
    }

    #[test]
    fn a_field_added_to_a_damaged_ifd_at_the_end_is_kept() {
        // IFD0 (one entry) points to a GPS IFD at 38 whose count, 0xFFFF,
        // is too many to read: the IFD's two bytes end the block.
        let mut data = b"II*\0".to_vec();
        data.extend_from_slice(&8u32.to_le_bytes());
        data.extend_from_slice(&1u16.to_le_bytes());
        data.extend_from_slice(&GPS_POINTER.to_le_bytes());
        data.extend_from_slice(&LONG.to_le_bytes());
        data.extend_from_slice(&1u32.to_le_bytes());
        data.extend_from_slice(&38u32.to_le_bytes());
        data.resize(38, 0);
        data.extend_from_slice(&[0xFF, 0xFF]);
        assert!(set_ascii(&mut data, Ifd::Gps, 0x0001, "N"));
        assert_eq!(text(&data, Ifd::Gps, 0x0001).as_deref(), Some("N"));
    }

    fn rationals_le(values: &[(u32, u32)]) -> Vec<u8> {
        values
            .iter()
            .flat_map(|(n, d)| [n.to_le_bytes(), d.to_le_bytes()].concat())
            .collect()
    }

    #[test]
    fn reads_and_writes_signed_and_repeated_rationals() {
        let signed = rationals_le(&[((-47i32) as u32, 1), (30, 1)]);
        let first = rationals_le(&[(19, 1), (2, 1), (1234, 100)]);
        let second = rationals_le(&[(20, 1), (0, 1), (0, 1)]);
        let mut data = test_block(
            &[],
            &[],
            &[
                (0x0002, SRATIONAL, 2, &signed[..]),
                (0x0004, RATIONAL, 3, &first[..]),
                (0x0004, RATIONAL, 3, &second[..]),
                (0x0006, ASCII, 4, &b"100\0"[..]),
            ],
        );
        assert_eq!(
            rational_entries(&data, Ifd::Gps, 0x0002),
            vec![Some((true, vec![-47.0, 30.0]))]
        );
        let longitudes = rational_entries(&data, Ifd::Gps, 0x0004);
        assert_eq!(longitudes.len(), 2);
        assert_eq!(longitudes[1], Some((false, vec![20.0, 0.0, 0.0])));
        assert_eq!(rational_entries(&data, Ifd::Gps, 0x0006), vec![None]);
        // A negative value only fits the signed entry; the count must match.
        assert!(set_rational_entry(
            &mut data,
            Ifd::Gps,
            0x0002,
            0,
            &[(-47, 1), (-15, 10)]
        ));
        assert!(!set_rational_entry(
            &mut data,
            Ifd::Gps,
            0x0004,
            1,
            &[(-1, 1), (0, 1), (0, 1)]
        ));
        assert!(!set_rational_entry(
            &mut data,
            Ifd::Gps,
            0x0004,
            1,
            &[(1, 1)]
        ));
        assert!(set_rational_entry(
            &mut data,
            Ifd::Gps,
            0x0004,
            1,
            &[(21, 1), (0, 1), (0, 1)]
        ));
        assert!(!set_rational_entry(
            &mut data,
            Ifd::Gps,
            0x0004,
            2,
            &[(1, 1), (0, 1), (0, 1)]
        ));
        assert_eq!(
            rational_entries(&data, Ifd::Gps, 0x0002),
            vec![Some((true, vec![-47.0, -1.5]))]
        );
        assert_eq!(
            rational_entries(&data, Ifd::Gps, 0x0004)[1],
            Some((false, vec![21.0, 0.0, 0.0]))
        );
    }

    /// Appends a GPS IFD holding an exact GPSLatitude; returns its offset.
    fn append_gps_ifd(data: &mut Vec<u8>) -> usize {
        let at = data.len();
        let values_at = at as u32 + 2 + 12 + 4;
        data.extend_from_slice(&1u16.to_le_bytes());
        data.extend_from_slice(&0x0002u16.to_le_bytes());
        data.extend_from_slice(&RATIONAL.to_le_bytes());
        data.extend_from_slice(&3u32.to_le_bytes());
        data.extend_from_slice(&values_at.to_le_bytes());
        data.extend_from_slice(&0u32.to_le_bytes());
        data.extend(rationals_le(&[(47, 1), (29, 1), (5284, 100)]));
        at
    }

    #[test]
    fn a_second_gps_ifd_is_removed_with_its_pointer() {
        // The Exif IFD links a GPS IFD of its own.
        let mut data = test_block(
            &[(0x010F, ASCII, 6, &b"Nikon\0"[..])],
            &[(GPS_POINTER, LONG, 1, &[0u8; 4][..])],
            &[],
        );
        let stray = append_gps_ifd(&mut data);
        let (_, pointer) = find(&data, Ifd::Exif, GPS_POINTER).unwrap();
        put_u32(&mut data, pointer.at + 8, stray as u32, false);
        let keep = |ifd: Ifd, tag: u16| ifd == Ifd::Ifd0 || tag != GPS_POINTER;
        let removed = retain(&mut data, &keep);
        assert_eq!(removed, vec!["ExifIFD:Tag0x8825"]);
        assert!(
            data[stray..].iter().all(|&b| b == 0),
            "the second GPS IFD is zeroed"
        );
        assert_eq!(fields(&data), vec![(Ifd::Ifd0, 0x010F)]);
    }

    #[test]
    fn a_second_gps_pointer_in_ifd0_goes_whatever_the_policy() {
        // IFD0 holds two GPSInfo pointers: write_tiff links the GPS IFD from
        // the first; the second is given a GPS IFD of its own.
        let mut data = test_block(
            &[(GPS_POINTER, LONG, 1, &[0u8; 4][..])],
            &[],
            &[(0x0001, ASCII, 2, &b"N\0"[..])],
        );
        let stray = append_gps_ifd(&mut data);
        let second = Tiff::new(&data)
            .unwrap()
            .entries(8)
            .into_iter()
            .filter(|e| e.tag == GPS_POINTER)
            .nth(1)
            .unwrap();
        put_u32(&mut data, second.at + 8, stray as u32, false);
        let removed = retain(&mut data, &|_, _| true);
        assert_eq!(removed, vec!["IFD0:Tag0x8825"]);
        assert!(data[stray..].iter().all(|&b| b == 0));
        assert_eq!(fields(&data), vec![(Ifd::Gps, 0x0001)]);
    }

    #[test]
    fn damaged_blocks_are_left_alone() {
        let mut short = sample()[..20].to_vec();
        assert!(retain(&mut short, &|_, _| false).is_empty());
        assert!(fields(b"II*\0\xff\xff\xff\xff").is_empty());
    }
}
