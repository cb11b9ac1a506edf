//! Editing an EXIF block in place: removing fields (and with them the
//! thumbnail or a stray GPS IFD), and setting integer, rational and ASCII
//! values, without moving a byte that stays.

use super::structure::{
    find, find_all, pointed, put_u16, put_u32, Entry, Tiff, ASCII, EXIF_POINTER, GPS_POINTER,
    INTEROP_POINTER, LONG, RATIONAL, SHORT, SRATIONAL, STRIP_BYTE_COUNTS, STRIP_OFFSETS,
    THUMBNAIL_LENGTH, THUMBNAIL_OFFSET,
};
use super::Ifd;
use std::collections::BTreeSet;

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

/// Sets, in place, the values of the `index`-th entry of `tag` in `ifd`
/// (counted as [`rational_entries`](super::rational_entries) lists them) to
/// `values`, numerator and denominator. The entry keeps its type, RATIONAL
/// or SRATIONAL, and must hold `values.len()` values; `false` when it does
/// not, or when a value does not fit its type (a negative numerator in a
/// RATIONAL).
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
