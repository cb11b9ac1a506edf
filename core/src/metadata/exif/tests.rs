//! Tests of the EXIF IFD walk, reading and in-place editing.

use super::structure::{
    find, put_u32, Tiff, ASCII, EXIF_POINTER, LONG, RATIONAL, SHORT, SRATIONAL,
};
use super::tiff_file::{write_tiff, NewEntry};
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

#[test]
fn typed_entries_give_each_value_in_its_type() {
    let rational = [72u32.to_le_bytes(), 1u32.to_le_bytes()].concat();
    let block = test_block(
        &[
            (0x0112, 3, 1, &6u16.to_le_bytes()),
            (0x010F, 2, 6, b"Canon\0"),
            (0x011A, 5, 1, &rational),
            (0x0212, 3, 2, &[2, 0, 1, 0]),
        ],
        &[],
        &[(0x0000, 1, 4, &[2, 2, 0, 0])],
    );
    let entries = typed_entries(&block, Ifd::Ifd0);
    assert!(entries.contains(&(0x0112, ExifValue::Integers(vec![6]))));
    assert!(entries.contains(&(0x010F, ExifValue::Text("Canon".into()))));
    assert!(entries.contains(&(0x011A, ExifValue::Numbers(vec![72.0]))));
    assert!(entries.contains(&(0x0212, ExifValue::Integers(vec![2, 1]))));
    let gps = typed_entries(&block, Ifd::Gps);
    assert_eq!(gps, [(0x0000, ExifValue::Bytes(vec![2, 2, 0, 0]))]);
    assert!(typed_entries(&block, Ifd::Interop).is_empty());
    assert!(typed_entries(b"not a tiff", Ifd::Ifd0).is_empty());
}
