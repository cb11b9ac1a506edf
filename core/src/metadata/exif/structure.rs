//! The TIFF structure of an EXIF block: the pointer, tag and type numbers,
//! the read view of its IFDs and entries ([`Tiff`]), finding a tag's
//! entries, and writing 16- and 32-bit values in the block's byte order.

use super::Ifd;
use std::collections::BTreeSet;

/// IFD0's pointer to the Exif IFD.
pub(super) const EXIF_POINTER: u16 = 0x8769;
/// IFD0's pointer to the GPS IFD.
pub(crate) const GPS_POINTER: u16 = 0x8825;
/// The Exif IFD's pointer to the interoperability IFD.
pub(super) const INTEROP_POINTER: u16 = 0xA005;
/// IFD1's JPEG thumbnail offset and length.
pub(super) const THUMBNAIL_OFFSET: u16 = 0x0201;
pub(super) const THUMBNAIL_LENGTH: u16 = 0x0202;
/// IFD1's strip offsets and byte counts (an uncompressed thumbnail).
pub(super) const STRIP_OFFSETS: u16 = 0x0111;
pub(super) const STRIP_BYTE_COUNTS: u16 = 0x0117;
/// The Exif IFD's PixelXDimension and PixelYDimension.
pub(crate) const PIXEL_X_DIMENSION: u16 = 0xA002;
pub(crate) const PIXEL_Y_DIMENSION: u16 = 0xA003;
/// The TIFF types ASCII, SHORT, LONG and RATIONAL.
pub(super) const ASCII: u16 = 2;
pub(super) const SHORT: u16 = 3;
pub(super) const LONG: u16 = 4;
pub(super) const RATIONAL: u16 = 5;
/// The TIFF type SRATIONAL.
pub(super) const SRATIONAL: u16 = 10;
/// More entries than this in one IFD means the block is damaged.
const MAX_ENTRIES: usize = 4096;

/// One IFD entry as stored.
#[derive(Debug, Clone, Copy)]
pub(super) struct Entry {
    pub(super) tag: u16,
    pub(super) kind: u16,
    pub(super) count: u32,
    /// Where the 12-byte entry starts.
    pub(super) at: usize,
}

/// A read view of an EXIF block.
pub(super) struct Tiff<'a> {
    pub(super) data: &'a [u8],
    pub(super) big_endian: bool,
}

impl<'a> Tiff<'a> {
    pub(super) fn new(data: &'a [u8]) -> Option<Tiff<'a>> {
        let big_endian = data.starts_with(b"MM\0*");
        (big_endian || data.starts_with(b"II*\0")).then_some(Tiff { data, big_endian })
    }

    pub(super) fn u16(&self, at: usize) -> Option<u16> {
        let b: [u8; 2] = self.data.get(at..at.checked_add(2)?)?.try_into().ok()?;
        Some(if self.big_endian {
            u16::from_be_bytes(b)
        } else {
            u16::from_le_bytes(b)
        })
    }

    pub(super) fn u32(&self, at: usize) -> Option<u32> {
        let b: [u8; 4] = self.data.get(at..at.checked_add(4)?)?.try_into().ok()?;
        Some(if self.big_endian {
            u32::from_be_bytes(b)
        } else {
            u32::from_le_bytes(b)
        })
    }

    /// The entries of the IFD at `offset` (none when it lies outside the block).
    pub(super) fn entries(&self, offset: usize) -> Vec<Entry> {
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
    pub(super) fn next_ifd(&self, offset: usize) -> Option<usize> {
        let count = usize::from(self.u16(offset)?);
        Some(self.u32(offset + 2 + count * 12)? as usize)
    }

    /// The bytes an entry's value takes, and where they are (inline values
    /// live in the entry itself).
    pub(super) fn value_range(&self, entry: &Entry) -> Option<std::ops::Range<usize>> {
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
    pub(super) fn uint(&self, entry: &Entry) -> Option<u32> {
        match entry.kind {
            1 => self.data.get(entry.at + 8).map(|&b| u32::from(b)),
            3 => self.u16(entry.at + 8).map(u32::from),
            4 | 13 => self.u32(entry.at + 8),
            _ => None,
        }
    }

    /// The IFDs present: kind and offset, each visited once.
    pub(super) fn ifds(&self) -> Vec<(Ifd, usize)> {
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
pub(super) fn type_size(kind: u16) -> Option<usize> {
    match kind {
        1 | 2 | 6 | 7 => Some(1),
        3 | 8 => Some(2),
        4 | 9 | 11 | 13 => Some(4),
        5 | 10 | 12 => Some(8),
        _ => None,
    }
}

/// The sub-IFD a pointer tag in `ifd` leads to.
pub(super) fn pointed(ifd: Ifd, tag: u16) -> Option<Ifd> {
    match (ifd, tag) {
        (Ifd::Ifd0, EXIF_POINTER) => Some(Ifd::Exif),
        (Ifd::Ifd0, GPS_POINTER) => Some(Ifd::Gps),
        (Ifd::Exif, INTEROP_POINTER) => Some(Ifd::Interop),
        _ => None,
    }
}

/// Finds `tag` in `ifd`.
pub(super) fn find<'a>(data: &'a [u8], ifd: Ifd, tag: u16) -> Option<(Tiff<'a>, Entry)> {
    let tiff = Tiff::new(data)?;
    let &(_, offset) = tiff.ifds().iter().find(|(i, _)| *i == ifd)?;
    let entry = tiff.entries(offset).into_iter().find(|e| e.tag == tag)?;
    Some((tiff, entry))
}

/// Every entry of `tag` in `ifd`, in the order stored (a crafted block may
/// repeat a tag).
pub(super) fn find_all(data: &[u8], ifd: Ifd, tag: u16) -> Option<(Tiff<'_>, Vec<Entry>)> {
    let tiff = Tiff::new(data)?;
    let &(_, offset) = tiff.ifds().iter().find(|(i, _)| *i == ifd)?;
    let entries = tiff
        .entries(offset)
        .into_iter()
        .filter(|e| e.tag == tag)
        .collect();
    Some((tiff, entries))
}

pub(super) fn put_u16(data: &mut [u8], at: usize, value: u16, big_endian: bool) {
    let b = if big_endian {
        value.to_be_bytes()
    } else {
        value.to_le_bytes()
    };
    data[at..at + 2].copy_from_slice(&b);
}

pub(super) fn put_u32(data: &mut [u8], at: usize, value: u32, big_endian: bool) {
    let b = if big_endian {
        value.to_be_bytes()
    } else {
        value.to_le_bytes()
    };
    data[at..at + 4].copy_from_slice(&b);
}
