//! The provenance record (the `provenance` option): XMP properties in the
//! `pixpress` namespace (`https://pixpress.dev/ns/provenance/1.0/`) that tie
//! an output to its source.
//!
//! | property | value |
//! |---|---|
//! | `pixpress:SourceBLAKE3` | BLAKE3 of the input bytes, hex (when the call had input bytes) |
//! | `pixpress:CaptureTime` | capture time, ISO 8601 with its UTC offset when known: EXIF DateTimeOriginal with OffsetTimeOriginal, else the GPS date and time (UTC) |
//! | `pixpress:Parameters` | the processing options, in the option vocabulary |
//! | `pixpress:Version` | the pixpress version |

use super::exif::{self, Ifd};
use super::iptc::{XmpShape, XmpValue};
use super::Metadata;

const DATE_TIME_ORIGINAL: u16 = 0x9003;
const OFFSET_TIME_ORIGINAL: u16 = 0x9011;
const GPS_TIME_STAMP: u16 = 0x0007;
const GPS_DATE_STAMP: u16 = 0x001D;

fn text(data: &[u8], ifd: Ifd, tag: u16) -> Option<String> {
    exif::text(data, ifd, tag)
        .map(|v| v.trim().to_string())
        .filter(|v| !v.is_empty())
}

/// `YYYY:MM:DD` (and an optional ` HH:MM:SS`) as ISO 8601 `YYYY-MM-DD[THH:MM:SS]`.
///
/// The text comes from the file: a multi-byte char across byte 10 (full-width
/// digits, say) or anywhere in the date makes it no date, rather than a panic.
fn iso_date(exif_date: &str) -> Option<String> {
    let split = exif_date.len().min(10);
    let (date, time) = (exif_date.get(..split)?, exif_date.get(split..)?);
    let date = date.replace(':', "-");
    let valid = date.len() == 10
        && date.is_ascii()
        && date.bytes().filter(|b| b.is_ascii_digit()).count() == 8;
    valid.then(|| match time.trim() {
        "" => date,
        t => format!("{date}T{t}"),
    })
}

/// The GPS date and time (UTC) as ISO 8601 without a zone.
fn gps_time(exif_block: &[u8]) -> Option<String> {
    let date = text(exif_block, Ifd::Gps, GPS_DATE_STAMP).and_then(|d| iso_date(&d))?;
    let hms = exif::rationals(exif_block, Ifd::Gps, GPS_TIME_STAMP)?;
    let [h, m, s] = hms[..] else { return None };
    Some(format!(
        "{date}T{:02}:{:02}:{:02}",
        h as u32, m as u32, s as u32
    ))
}

/// Seconds since 1970 of an ISO 8601 `YYYY-MM-DDTHH:MM:SS` (no zone).
fn seconds(iso: &str) -> Option<i64> {
    let n = |r: std::ops::Range<usize>| iso.get(r)?.parse::<i64>().ok();
    let (y, mo, d) = (n(0..4)?, n(5..7)?, n(8..10)?);
    let (h, mi, s) = (n(11..13)?, n(14..16)?, n(17..19)?);
    // Days from civil (Howard Hinnant's algorithm).
    let y = if mo <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let doy = (153 * (mo + if mo > 2 { -3 } else { 9 }) + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    let days = era * 146_097 + doe - 719_468;
    Some(days * 86_400 + h * 3600 + mi * 60 + s)
}

/// The UTC offset of local time `local` given the same instant in UTC,
/// rounded to 15 minutes; `None` beyond the ±14 h real zones span (a
/// camera clock that was simply wrong).
fn offset_between(local: &str, utc: &str) -> Option<String> {
    let diff = seconds(local)? - seconds(utc)?;
    let quarters = (diff as f64 / 900.0).round() as i64;
    if quarters.abs() > 14 * 4 {
        return None;
    }
    let sign = if quarters < 0 { '-' } else { '+' };
    let minutes = quarters.abs() * 15;
    Some(format!("{sign}{:02}:{:02}", minutes / 60, minutes % 60))
}

/// The capture time with its UTC offset when the EXIF block gives one:
/// DateTimeOriginal with OffsetTimeOriginal, or with the offset the GPS
/// time (UTC) implies; else the GPS time itself, in UTC.
pub(crate) fn capture_time(exif_block: &[u8]) -> Option<String> {
    let gps = gps_time(exif_block);
    if let Some(local) = text(exif_block, Ifd::Exif, DATE_TIME_ORIGINAL).and_then(|d| iso_date(&d))
    {
        let offset = text(exif_block, Ifd::Exif, OFFSET_TIME_ORIGINAL)
            .filter(|o| o.len() == 6 && (o.starts_with('+') || o.starts_with('-')))
            .or_else(|| offset_between(&local, gps.as_deref()?));
        return Some(local + offset.as_deref().unwrap_or(""));
    }
    gps.map(|utc| utc + "Z")
}

/// Adds (or replaces) the provenance properties in the XMP packet of
/// `metadata`; the capture time is read from `original` (the input's
/// metadata, before a policy removed any of it).
pub(crate) fn add(
    metadata: &mut Metadata,
    original: &Metadata,
    source: Option<&[u8]>,
    parameters: &str,
) {
    let mut values = Vec::new();
    if let Some(source) = source {
        values.push(("SourceBLAKE3", blake3::hash(source).to_hex().to_string()));
    }
    if let Some(time) = original.exif.as_deref().and_then(capture_time) {
        values.push(("CaptureTime", time));
    }
    values.push(("Parameters", parameters.to_string()));
    values.push(("Version", env!("CARGO_PKG_VERSION").to_string()));
    let add: Vec<XmpValue> = values
        .iter()
        .map(|(name, value)| XmpValue {
            prefix: "pixpress".to_string(),
            name: name.to_string(),
            shape: XmpShape::Text,
            values: vec![value.clone()],
        })
        .collect();
    let set: Vec<(&str, &str, String)> = values
        .iter()
        .map(|(name, value)| ("pixpress", *name, value.clone()))
        .collect();
    metadata.edit_xmp(&|_, _| true, &set, &add);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn adds_the_record_to_a_new_packet() {
        let mut m = Metadata::default();
        add(
            &mut m,
            &Metadata::default(),
            Some(b"input"),
            "format=jpeg quality=80",
        );
        let fields: Vec<String> = m.fields().iter().map(|f| f.to_string()).collect();
        let hash = blake3::hash(b"input").to_hex().to_string();
        assert!(
            fields.contains(&format!("XMP:pixpress:SourceBLAKE3 = {hash}")),
            "{fields:?}"
        );
        assert!(fields.contains(&"XMP:pixpress:Parameters = format=jpeg quality=80".to_string()));
        // A second run replaces rather than repeats.
        add(&mut m, &Metadata::default(), Some(b"other"), "format=png");
        let count = m.fields().iter().filter(|f| f.name == "Parameters").count();
        assert_eq!(count, 1);
        assert!(m.fields().iter().any(|f| f.value == "format=png"));
    }

    #[test]
    fn reads_capture_time_with_offset() {
        assert_eq!(
            iso_date("2019:05:01 12:30:00").as_deref(),
            Some("2019-05-01T12:30:00")
        );
        assert_eq!(iso_date("2019:05:01").as_deref(), Some("2019-05-01"));
        assert_eq!(iso_date("    :  :  "), None);
        let offset = |a, b| offset_between(a, b);
        assert_eq!(
            offset("2019-05-01T12:30:00", "2019-05-01T10:29:58").as_deref(),
            Some("+02:00")
        );
        assert_eq!(
            offset("2019-05-01T00:10:00", "2019-05-01T05:40:00").as_deref(),
            Some("-05:30")
        );
        assert_eq!(
            offset("2019-03-01T01:00:00", "2019-02-28T23:00:00").as_deref(),
            Some("+02:00")
        );
        assert_eq!(offset("2008-10-22T16:28:39", "2008-10-23T14:27:07"), None);
    }

    #[test]
    fn crafted_dates_do_not_panic() {
        // Full-width digits: byte 10 falls inside a char.
        assert_eq!(iso_date("２０２６-01-01"), None);
        assert_eq!(iso_date("２０２６:01:01 12:00:00"), None);
        assert_eq!(iso_date("2019:05:0é 12:30:00"), None);
        // Ten bytes with eight digits, but not ASCII.
        assert_eq!(iso_date("20190501é 12:30:00"), None);
        // A time that is no time passes through, and yields no offset.
        let local = iso_date("2019:05:01 12é4").unwrap();
        assert_eq!(local, "2019-05-01T12é4");
        assert_eq!(seconds(&local), None);
        assert_eq!(offset_between(&local, "2019-05-01T10:29:58"), None);
        assert_eq!(seconds("２０２６-01-01T00:00:00"), None);
    }
}
