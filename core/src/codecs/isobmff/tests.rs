//! Tests of the HEIF/AVIF metadata replacement and primary-image rotation reading.

use super::*;

#[test]
fn refuses_what_is_not_isobmff() {
    let refused = replace_metadata(Format::Avif, b"not a file", None, Some(b"<x/>"), None);
    assert!(matches!(refused, Err(Error::CodecUnavailable { .. })));
}

/// The coded image the test files' one image item holds.
const PIXELS: &[u8; 16] = b"coded image data";

/// A full box: version, flags (the low byte), then `payload`.
fn full(kind: &[u8; 4], version: u8, flags: u8, payload: &[u8]) -> Vec<u8> {
    wrap(kind, &[&[version, 0, 0, flags][..], payload].concat())
}

/// An `infe` (version 2) for item `id` of type `kind`, with an empty name.
fn infe(id: u16, kind: &[u8; 4]) -> Vec<u8> {
    let payload = [&id.to_be_bytes()[..], &[0, 0][..], &kind[..], &b"\0"[..]].concat();
    full(b"infe", 2, 0, &payload)
}

fn ftyp() -> Vec<u8> {
    wrap(b"ftyp", b"avif\0\0\0\0avifmif1")
}

fn meta(children: &[Vec<u8>]) -> Vec<u8> {
    full(b"meta", 0, 0, &children.concat())
}

/// `ispe`, an ICC `colr` (`with_profile`) and a quarter turn (`irot`).
fn properties(with_profile: bool) -> Vec<u8> {
    let mut p = full(b"ispe", 0, 0, &[0, 0, 0, 64, 0, 0, 0, 48]);
    if with_profile {
        p.extend(wrap(b"colr", b"prof\0\0\0\0"));
    }
    p.extend(wrap(b"irot", &[1]));
    p
}

/// An `ipma` (version 0, 8-bit indices) associating `entries` with item 1.
fn ipma(entries: &[u8]) -> Vec<u8> {
    let payload = [&[0, 0, 0, 1, 0, 1, entries.len() as u8][..], entries].concat();
    full(b"ipma", 0, 0, &payload)
}

/// The `meta` children of a file whose image item (1) has its 16 bytes at `offset`.
fn image_children(offset: u32, with_profile: bool) -> Vec<([u8; 4], Vec<u8>)> {
    let hdlr = [&[0u8; 4][..], &b"pict"[..], &[0u8; 13][..]].concat();
    let mut iloc = vec![0x44, 0x00, 0, 1, 0, 1, 0, 0, 0, 1];
    iloc.extend_from_slice(&offset.to_be_bytes());
    iloc.extend_from_slice(&(PIXELS.len() as u32).to_be_bytes());
    let iinf = [&1u16.to_be_bytes()[..], &infe(1, b"av01")[..]].concat();
    let entries: &[u8] = if with_profile {
        &[0x81, 0x82, 0x83]
    } else {
        &[0x81, 0x82]
    };
    let iprp = [wrap(b"ipco", &properties(with_profile)), ipma(entries)].concat();
    vec![
        (*b"hdlr", full(b"hdlr", 0, 0, &hdlr)),
        (*b"pitm", full(b"pitm", 0, 0, &1u16.to_be_bytes())),
        (*b"iloc", full(b"iloc", 0, 0, &iloc)),
        (*b"iinf", full(b"iinf", 0, 0, &iinf)),
        (*b"iprp", wrap(b"iprp", &iprp)),
    ]
}

/// A well-formed AVIF-like file: one image item, turned a quarter, its
/// data in the `mdat` box that ends the file.
fn image_file(with_profile: bool) -> Vec<u8> {
    let meta_at = |offset| {
        let children: Vec<Vec<u8>> = image_children(offset, with_profile)
            .into_iter()
            .map(|(_, b)| b)
            .collect();
        meta(&children)
    };
    let offset = (ftyp().len() + meta_at(0).len() + 8) as u32;
    [ftyp(), meta_at(offset), wrap(b"mdat", PIXELS)].concat()
}

/// [`image_file`]'s tree with its `kind` box replaced by one holding
/// `payload` and moved to the very end of the file (an `ipma` to the end
/// of its `iprp`, that to the end of `meta`): a read past the box runs
/// off the end of the file.
fn with_broken(kind: &[u8; 4], payload: &[u8], with_profile: bool) -> Vec<u8> {
    let broken = wrap(kind, payload);
    let (replaced, last) = if kind == b"ipma" {
        let iprp = [wrap(b"ipco", &properties(with_profile)), broken].concat();
        (*b"iprp", wrap(b"iprp", &iprp))
    } else {
        (*kind, broken)
    };
    let mut children: Vec<Vec<u8>> = image_children(0, with_profile)
        .into_iter()
        .filter(|(k, _)| *k != replaced)
        .map(|(_, b)| b)
        .collect();
    children.push(last);
    [ftyp(), meta(&children)].concat()
}

/// The first (and only) box of `file`.
fn only_box(file: &[u8]) -> BoxAt {
    boxes(file, 0, file.len()).unwrap()[0]
}

/// The `meta` children of `file`.
fn meta_children(file: &[u8]) -> Option<Vec<BoxAt>> {
    let top = boxes(file, 0, file.len())?;
    let meta = top.iter().find(|b| &b.kind == b"meta")?;
    boxes(file, meta.payload + 4, meta.end)
}

/// The bytes of item `id` (its first extent) as `file`'s `iloc` locates them.
fn item_data(file: &[u8], id: u32) -> Option<&[u8]> {
    let children = meta_children(file)?;
    let iloc = children.iter().find(|b| &b.kind == b"iloc")?;
    let locations = parse_iloc(iloc.body(file)?)?;
    let &(offset, length) = locations.iter().find(|l| l.id == id)?.extents.first()?;
    file.get(usize::try_from(offset).ok()?..usize::try_from(offset + length).ok()?)
}

const EXIF: &[u8] = b"MM\0*\0\0\0\x08\0\0\0\0\0\0";
const XMP: &[u8] = b"<x:xmpmeta xmlns:x='adobe:ns:meta/'/>";
const ICC: &[u8] = b"not much of a profile";

#[test]
fn a_well_formed_file_is_rewritten_with_its_image_in_place() {
    let file = image_file(true);
    assert_eq!(item_data(&file, 1), Some(&PIXELS[..]));
    assert_eq!(primary_rotation(&file), Some(1));
    let out = replace_metadata(Format::Avif, &file, Some(EXIF), Some(XMP), Some(ICC)).unwrap();
    assert_eq!(item_data(&out, 1), Some(&PIXELS[..]));
    assert_eq!(
        item_data(&out, 2),
        Some(&[&[0, 0, 0, 0][..], EXIF].concat()[..])
    );
    assert_eq!(item_data(&out, 3), Some(XMP));
    // The old profile went, the new one follows the rotation in `ipco`.
    assert_eq!(primary_rotation(&out), Some(1));
    let stripped = replace_metadata(Format::Avif, &out, None, None, None).unwrap();
    assert_eq!(item_data(&stripped, 1), Some(&PIXELS[..]));
    assert_eq!(item_data(&stripped, 2), None);
    assert_eq!(primary_rotation(&stripped), Some(1));
}

#[test]
fn empty_and_short_boxes_are_refused_not_read_past() {
    let cases: [(&[u8; 4], &[u8]); 16] = [
        (b"pitm", &[]),
        (b"pitm", &[0, 0, 0, 0, 0]),
        (b"iinf", &[]),
        (b"iinf", &[0, 0, 0]),
        (b"iinf", &[0, 0, 0, 0, 0]),
        // Version 1: a 32-bit count, cut.
        (b"iinf", &[1, 0, 0, 0, 0, 0, 0]),
        (b"iref", &[]),
        (b"iref", &[0, 0]),
        (b"iloc", &[]),
        (b"iloc", &[0, 0, 0, 0, 0x44]),
        (b"ipma", &[]),
        (b"ipma", &[0, 0, 0]),
        (b"ipma", &[0, 0, 0, 0, 0, 0]),
        // 1000 entries declared, one present.
        (b"ipma", &[0, 0, 0, 0, 0, 0, 0x03, 0xE8, 0, 1, 1, 0x81]),
        // Nine associations declared, one present.
        (b"ipma", &[0, 0, 0, 0, 0, 0, 0, 1, 0, 1, 9, 0x81]),
        // Wide (16-bit) indices, the last one cut.
        (
            b"ipma",
            &[0, 0, 0, 1, 0, 0, 0, 1, 0, 1, 2, 0x80, 0x01, 0x80],
        ),
    ];
    let blocks = [
        (None, None, None),
        (Some(EXIF), None, None),
        (None, Some(XMP), None),
        (None, None, Some(ICC)),
    ];
    for (kind, payload) in cases {
        for with_profile in [false, true] {
            let file = with_broken(kind, payload, with_profile);
            let what = format!(
                "{} {payload:?}, profile {with_profile}",
                String::from_utf8_lossy(kind)
            );
            for (exif, xmp, icc) in blocks {
                // Some of these edits never read the broken box; none may panic.
                let _ = replace_metadata(Format::Avif, &file, exif, xmp, icc);
            }
            let all = replace_metadata(Format::Avif, &file, Some(EXIF), Some(XMP), Some(ICC));
            assert!(all.is_err(), "{what}");
            let rotation = primary_rotation(&file);
            if kind == b"pitm" || kind == b"ipma" {
                assert_eq!(rotation, None, "{what}");
            }
        }
    }
}

#[test]
fn empty_meta_boxes_are_refused() {
    let empty = |kind: &[u8; 4]| wrap(kind, &[]);
    let iprp = wrap(b"iprp", &[wrap(b"ipco", &[]), empty(b"ipma")].concat());
    let all_empty = meta(&[
        empty(b"pitm"),
        empty(b"iloc"),
        empty(b"iinf"),
        empty(b"iref"),
        iprp,
    ]);
    for meta_box in [
        wrap(b"meta", &[]),
        wrap(b"meta", &[0, 0]),
        wrap(b"meta", &[0, 0, 0, 0]),
        all_empty,
    ] {
        let file = [ftyp(), meta_box].concat();
        let out = replace_metadata(Format::Avif, &file, Some(EXIF), Some(XMP), Some(ICC));
        assert!(out.is_err());
        assert!(replace_metadata(Format::Heic, &file, None, None, None).is_err());
        assert_eq!(primary_rotation(&file), None);
    }
}

#[test]
fn an_item_count_beyond_the_entries_is_rewritten_to_what_is_there() {
    // `iinf` says 1000 entries and holds none.
    let children: Vec<Vec<u8>> = image_children(0, false)
        .into_iter()
        .map(|(kind, b)| match &kind {
            b"iinf" => full(b"iinf", 0, 0, &1000u16.to_be_bytes()),
            _ => b,
        })
        .collect();
    let file = [ftyp(), meta(&children), wrap(b"mdat", PIXELS)].concat();
    let out = replace_metadata(Format::Avif, &file, None, Some(XMP), None).unwrap();
    let children = meta_children(&out).unwrap();
    let iinf = children.iter().find(|b| &b.kind == b"iinf").unwrap();
    let body = iinf.body(&out).unwrap();
    assert_eq!(body[4..6], 1u16.to_be_bytes());
    assert_eq!(boxes(&out, iinf.payload + 6, iinf.end).unwrap().len(), 1);
    assert_eq!(item_data(&out, 2), Some(XMP));
}

#[test]
fn item_info_counts_that_cannot_be_read_or_grown_are_refused() {
    let xmp = [NewItem::xmp(XMP)];
    // 1000 declared, none present: the count grows, nothing is read.
    let iinf = full(b"iinf", 0, 0, &1000u16.to_be_bytes());
    let grown = add_infe(&iinf, only_box(&iinf), &[2], &xmp).unwrap();
    assert_eq!(grown[12..14], 1001u16.to_be_bytes());
    // A 16-bit count that is already full.
    let iinf = full(b"iinf", 0, 0, &u16::MAX.to_be_bytes());
    assert!(add_infe(&iinf, only_box(&iinf), &[2], &xmp).is_none());
    for payload in [&[][..], &[0, 0, 0, 0, 0][..], &[1, 0, 0, 0, 0, 0, 0][..]] {
        let iinf = wrap(b"iinf", payload);
        assert!(add_infe(&iinf, only_box(&iinf), &[2], &xmp).is_none());
        assert!(strip_infe(&iinf, only_box(&iinf)).is_none());
    }
}

#[test]
fn cut_references_and_associations_are_refused() {
    for payload in [&[][..], &[0][..], &[0, 0, 0][..], &[1, 0, 0, 0][..]] {
        let iref = wrap(b"iref", payload);
        assert!(strip_refs(&iref, only_box(&iref), &[2]).is_none());
        assert!(add_cdsc(&iref, Some(only_box(&iref)), &[2], 1).is_none());
    }
    let whole = [0, 0, 0, 0, 0, 0, 0, 1, 0, 1, 2, 0x81, 0x82];
    for cut in 0..whole.len() {
        let ipma = wrap(b"ipma", &whole[..cut]);
        assert!(associate(&ipma, only_box(&ipma), 1, 3).is_none(), "{cut}");
        assert!(renumber(&ipma, only_box(&ipma), &[2]).is_none(), "{cut}");
    }
    let ipma = wrap(b"ipma", &whole);
    assert!(associate(&ipma, only_box(&ipma), 1, 3).is_some());
    assert!(renumber(&ipma, only_box(&ipma), &[2]).is_some());
}

#[test]
fn item_locations_that_cost_nothing_or_overflow_are_refused() {
    // 65535 extents of no bytes each: refused before any is stored.
    let mut free = vec![0, 0, 0, 0, 0x00, 0x00, 0, 1, 0, 1, 0, 0];
    free.extend_from_slice(&u16::MAX.to_be_bytes());
    assert!(parse_iloc(&free).is_none());
    let one = [0, 0, 0, 0, 0x00, 0x00, 0, 1, 0, 1, 0, 0, 0, 1];
    assert_eq!(parse_iloc(&one).map(|items| items.len()), Some(1));
    // A field size ISO/IEC 14496-12 does not have.
    assert!(parse_iloc(&[0, 0, 0, 0, 0x33, 0x00, 0, 0]).is_none());

    // An Exif item whose extent would end past 2^64.
    let mut iloc = vec![0x88, 0x00, 0, 1, 0, 2, 0, 0, 0, 1];
    iloc.extend_from_slice(&(u64::MAX - 7).to_be_bytes());
    iloc.extend_from_slice(&16u64.to_be_bytes());
    let children: Vec<Vec<u8>> = image_children(0, false)
        .into_iter()
        .map(|(kind, b)| match &kind {
            b"iloc" => full(b"iloc", 0, 0, &iloc),
            b"iinf" => full(
                b"iinf",
                0,
                0,
                &[&[0, 1][..], &infe(2, b"Exif")[..]].concat(),
            ),
            _ => b,
        })
        .collect();
    let file = [ftyp(), meta(&children)].concat();
    assert!(replace_metadata(Format::Avif, &file, None, None, None).is_err());

    // The largest item id (iloc version 2): no id is left for a new item.
    let mut iloc = vec![0x44, 0x00, 0, 0, 0, 1];
    iloc.extend_from_slice(&u32::MAX.to_be_bytes());
    iloc.extend_from_slice(&[0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0]);
    let children: Vec<Vec<u8>> = image_children(0, false)
        .into_iter()
        .map(|(kind, b)| match &kind {
            b"iloc" => full(b"iloc", 2, 0, &iloc),
            _ => b,
        })
        .collect();
    let file = [ftyp(), meta(&children)].concat();
    assert!(rewrite(&file, &[NewItem::xmp(XMP)], None).is_none());
}
