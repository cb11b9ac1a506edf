//! TIFF files: the EXIF block built from a TIFF file's own IFDs, the raw
//! bytes of one of its IFD0 tags, and laying out a compact TIFF structure
//! from entries (also the EXIF blocks tests build).

use super::structure::{
    find, put_u16, put_u32, Tiff, EXIF_POINTER, GPS_POINTER, INTEROP_POINTER, LONG,
};
use super::Ifd;
use crate::metadata::exif_tags;

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
pub(super) struct NewEntry {
    pub(super) tag: u16,
    pub(super) kind: u16,
    pub(super) count: u32,
    pub(super) value: Vec<u8>,
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
pub(super) fn write_tiff(
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
