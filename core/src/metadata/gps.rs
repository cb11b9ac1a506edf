//! Positions: which fields carry one (in any block, under any name), and
//! GPS coarsening, a position kept at a chosen precision instead of removed
//! (the `gps=1km` policy token), in the EXIF GPS IFD and in the XMP copies.

use super::exif::{self, Ifd};
use super::exif_tags;

const LATITUDE: u16 = 0x0002;
const LONGITUDE: u16 = 0x0004;
const DEST_LATITUDE: u16 = 0x0014;
const DEST_LONGITUDE: u16 = 0x0016;
/// The EXIF coordinate pairs: latitude and longitude tags, and their names.
const EXIF_PAIRS: [(u16, u16, &str, &str); 2] = [
    (LATITUDE, LONGITUDE, "GPSLatitude", "GPSLongitude"),
    (
        DEST_LATITUDE,
        DEST_LONGITUDE,
        "GPSDestLatitude",
        "GPSDestLongitude",
    ),
];
/// The XMP `exif:` coordinate pairs, which `gps=DISTANCE` rounds.
pub(crate) const XMP_PAIRS: [(&str, &str); 2] = [
    ("GPSLatitude", "GPSLongitude"),
    ("GPSDestLatitude", "GPSDestLongitude"),
];
/// Meters per degree of latitude (and of longitude at the equator).
const METERS_PER_DEGREE: f64 = 111_320.0;
/// Two positions read back within this many degrees are the same.
const READ_BACK_TOLERANCE: f64 = 1e-5;

/// Words that make a name a position's: a coordinate or an altitude,
/// spelled out (DJI's `Longtitude` too) or short.
const LONG_WORDS: [&str; 6] = [
    "latitude",
    "longitude",
    "longtitude",
    "altitude",
    "coordinate",
    "geolocation",
];
/// Short forms, which make a name a position's as whole words only.
const SHORT_WORDS: [&str; 4] = ["lat", "lon", "lng", "gps"];

/// The words of a name: split at `_`, `-` and other separators, at
/// lower-to-upper case changes (`AbsoluteAltitude`), at the end of a run of
/// capitals (`GPSLatitude`) and between letters and digits.
fn words(name: &str) -> Vec<String> {
    let chars: Vec<char> = name.chars().collect();
    let mut words = Vec::new();
    let mut word = String::new();
    for (i, &c) in chars.iter().enumerate() {
        if !c.is_alphanumeric() {
            if !word.is_empty() {
                words.push(std::mem::take(&mut word));
            }
            continue;
        }
        if let Some(&prev) = i.checked_sub(1).and_then(|j| chars.get(j)) {
            let next_is_lower = chars.get(i + 1).is_some_and(|n| n.is_lowercase());
            let boundary = (prev.is_lowercase() && c.is_uppercase())
                || (prev.is_alphanumeric() && prev.is_alphabetic() != c.is_alphabetic())
                || (prev.is_uppercase() && c.is_uppercase() && next_is_lower);
            if boundary && !word.is_empty() {
                words.push(std::mem::take(&mut word));
            }
        }
        word.push(c);
    }
    if !word.is_empty() {
        words.push(word);
    }
    words
}

/// Whether an XMP property or structure field with the local name `name`,
/// in any namespace, carries a position or a part of one: a name that
/// starts with `GPS` (`exif:GPSLatitude`, `drone-dji:GpsLongtitude`,
/// `Camera:GPSXYAccuracy`), holds latitude, longitude, altitude, coordinate
/// or geolocation (`drone-dji:AbsoluteAltitude`), or has one of their short
/// forms as a word (`RtkStdLat`, `lon`).
pub(crate) fn is_position_name(name: &str) -> bool {
    let lower = name.to_ascii_lowercase();
    lower.starts_with("gps")
        || LONG_WORDS.iter().any(|w| lower.contains(w))
        || words(name)
            .iter()
            .any(|w| SHORT_WORDS.contains(&w.to_ascii_lowercase().as_str()))
}

/// Whether XMP `exif:NAME` stays under `gps=DISTANCE` without rounding: a
/// GPS field of the EXIF standard that is not a coordinate (`GPSAltitude`,
/// `GPSTimeStamp`, `GPSMapDatum`), as the EXIF GPS IFD keeps them.
pub(crate) fn is_exif_gps_detail(name: &str) -> bool {
    exif_tags::GPS.iter().any(|(_, n)| *n == name)
        && !EXIF_PAIRS
            .iter()
            .any(|(_, _, lat, lon)| name == *lat || name == *lon)
}

/// Whether `(ifd, tag)` is a GPSInfo pointer outside IFD0: a crafted block's
/// second GPS IFD, which exiftool and other readers follow as they do the
/// one IFD0 links.
pub(crate) fn is_stray_gps_pointer(ifd: Ifd, tag: u16) -> bool {
    ifd != Ifd::Ifd0 && tag == exif::GPS_POINTER
}

/// Photoshop image resources that are whole copies of another block and
/// may carry a position: EXIF (0x0422, 0x0423) and XMP (0x0424).
pub(crate) fn is_photoshop_copy(id: u16) -> bool {
    matches!(id, 0x0422..=0x0424)
}

/// Degrees, minutes and seconds (to 1/100 s) as three EXIF rationals.
fn dms_rationals(degrees: f64) -> [(u32, u32); 3] {
    let degrees = degrees.abs();
    let whole = degrees.floor();
    let minutes = ((degrees - whole) * 60.0).floor();
    let centiseconds = ((degrees - whole - minutes / 60.0) * 360_000.0).round();
    [
        (whole as u32, 1),
        (minutes as u32, 1),
        (centiseconds as u32, 100),
    ]
}

/// Signed degrees as `count` EXIF rationals, numerator and denominator, all
/// of the sign of `degrees`: degrees (to 10⁻⁶), degrees and minutes (to
/// 10⁻⁴), or degrees, minutes and seconds (to 1/100 s).
fn rationals_of(degrees: f64, count: usize) -> Option<Vec<(i64, u32)>> {
    let sign = if degrees < 0.0 { -1 } else { 1 };
    let abs = degrees.abs();
    let whole = abs.floor();
    let values = match count {
        1 => vec![((abs * 1e6).round() as i64, 1_000_000)],
        2 => vec![
            (whole as i64, 1),
            (((abs - whole) * 600_000.0).round() as i64, 10_000),
        ],
        3 => dms_rationals(abs)
            .iter()
            .map(|&(n, d)| (i64::from(n), d))
            .collect(),
        _ => return None,
    };
    Some(values.into_iter().map(|(n, d)| (sign * n, d)).collect())
}

/// Signed degrees from one to three EXIF rationals (degrees, minutes,
/// seconds), summed as readers sum them.
fn degrees_of(values: &[f64]) -> Option<f64> {
    let degrees = match values {
        [d] => *d,
        [d, m] => d + m / 60.0,
        [d, m, s] => d + m / 60.0 + s / 3600.0,
        _ => return None,
    };
    degrees.is_finite().then_some(degrees)
}

/// Whether `(latitude, longitude)` is a position on Earth (not NaN, not
/// infinite).
fn is_on_earth(latitude: f64, longitude: f64) -> bool {
    latitude.abs() <= 90.0 && longitude.abs() <= 180.0
}

/// `value` rounded to the nearest multiple of `step`.
fn round_to(value: f64, step: f64) -> f64 {
    (value / step).round() * step
}

/// The step in degrees of latitude that `meters` stands for.
fn latitude_step(meters: u32) -> f64 {
    f64::from(meters) / METERS_PER_DEGREE
}

/// The step in degrees of longitude that `meters` stands for, at the
/// already rounded `latitude`: taken at the edge of that latitude's band
/// nearer the equator, so that it is never wider than asked and depends on
/// nothing finer than the rounded latitude (a step taken at the exact
/// latitude would give the exact latitude away through the longitude).
fn longitude_step(meters: u32, latitude: f64) -> f64 {
    let lat_step = latitude_step(meters);
    let edge = (latitude.abs() - lat_step / 2.0).max(0.0);
    lat_step / edge.to_radians().cos().max(0.01)
}

/// The position `(latitude, longitude)` rounded to `meters`.
pub(crate) fn coarsen(latitude: f64, longitude: f64, meters: u32) -> (f64, f64) {
    let latitude = round_to(latitude, latitude_step(meters));
    (
        latitude,
        round_to(longitude, longitude_step(meters, latitude)),
    )
}

/// Rounds the EXIF GPS positions (latitude and longitude, destination
/// latitude and longitude) to `meters`, in place, in whatever shape they are
/// stored: RATIONAL or SRATIONAL; degrees, degrees and minutes, or degrees,
/// minutes and seconds; every entry of a repeated tag. A pair one half of
/// which is missing or cannot be read or rounded (another type, another
/// count, a zero denominator, not a position on Earth) is removed instead:
/// no exact position is left. Returns the fields changed and the fields
/// removed, as `GPS:Name`.
pub(crate) fn coarsen_exif(data: &mut [u8], meters: u32) -> (Vec<String>, Vec<String>) {
    let mut changed = Vec::new();
    let mut unroundable: Vec<u16> = Vec::new();
    for (lat_tag, lon_tag, lat_name, lon_name) in EXIF_PAIRS {
        let lats = exif::rational_entries(data, Ifd::Gps, lat_tag);
        let lons = exif::rational_entries(data, Ifd::Gps, lon_tag);
        if lats.is_empty() && lons.is_empty() {
            continue;
        }
        if coarsen_exif_pair(data, meters, (lat_tag, &lats), (lon_tag, &lons)) {
            changed.push(format!("GPS:{lat_name}"));
            changed.push(format!("GPS:{lon_name}"));
        } else {
            unroundable.extend([lat_tag, lon_tag]);
        }
    }
    let removed = if unroundable.is_empty() {
        Vec::new()
    } else {
        exif::retain(data, &|ifd, tag| {
            ifd != Ifd::Gps || !unroundable.contains(&tag)
        })
    };
    (changed, removed)
}

/// The entries of one tag as [`exif::rational_entries`] reads them.
type Entries = [Option<(bool, Vec<f64>)>];

/// Rounds every entry of a latitude tag and a longitude tag; `false` when
/// one of them cannot be read, rounded or written back.
fn coarsen_exif_pair(
    data: &mut [u8],
    meters: u32,
    (lat_tag, lat_entries): (u16, &Entries),
    (lon_tag, lon_entries): (u16, &Entries),
) -> bool {
    let read = |entries: &Entries| -> Option<Vec<f64>> {
        entries.iter().map(|e| degrees_of(&e.as_ref()?.1)).collect()
    };
    let (Some(lats), Some(lons)) = (read(lat_entries), read(lon_entries)) else {
        return false;
    };
    let (Some(&latitude), Some(&longitude)) = (lats.first(), lons.first()) else {
        return false;
    };
    let on_earth = lats.iter().all(|&lat| is_on_earth(lat, 0.0))
        && lons.iter().all(|&lon| is_on_earth(0.0, lon));
    if !on_earth {
        return false;
    }
    let (rounded_latitude, _) = coarsen(latitude, longitude, meters);
    let steps = [
        latitude_step(meters),
        longitude_step(meters, rounded_latitude),
    ];
    let tags = [(lat_tag, lats, lat_entries), (lon_tag, lons, lon_entries)];
    let mut written: Vec<(u16, Vec<f64>)> = Vec::new();
    for ((tag, values, entries), step) in tags.into_iter().zip(steps) {
        let mut rounded = Vec::with_capacity(values.len());
        for (index, (value, entry)) in values.iter().zip(entries).enumerate() {
            let count = entry.as_ref().map_or(0, |(_, v)| v.len());
            let value = round_to(*value, step);
            let Some(rationals) = rationals_of(value, count) else {
                return false;
            };
            if !exif::set_rational_entry(data, Ifd::Gps, tag, index, &rationals) {
                return false;
            }
            rounded.push(value);
        }
        written.push((tag, rounded));
    }
    // Read back what is stored now: in a crafted block one entry's value may
    // overlap another's, and only rounded positions may be left.
    written.iter().all(|(tag, rounded)| {
        read(&exif::rational_entries(data, Ifd::Gps, *tag)).is_some_and(|now| {
            now.len() == rounded.len()
                && now
                    .iter()
                    .zip(rounded)
                    .all(|(a, b)| (a - b).abs() < READ_BACK_TOLERANCE)
        })
    })
}

/// An XMP GPS coordinate (`DDD,MM.mmmmK` or `DDD,MM,SSK`) as signed degrees.
pub(crate) fn parse_xmp_coordinate(text: &str) -> Option<f64> {
    let text = text.trim();
    let hemisphere = text.chars().last()?;
    let sign = match hemisphere {
        'N' | 'E' => 1.0,
        'S' | 'W' => -1.0,
        _ => return None,
    };
    let parts: Vec<f64> = text[..text.len() - 1]
        .split(',')
        .map(|p| p.trim().parse::<f64>())
        .collect::<Result<_, _>>()
        .ok()?;
    let degrees = match parts[..] {
        [d, m] => d + m / 60.0,
        [d, m, s] => d + m / 60.0 + s / 3600.0,
        _ => return None,
    };
    Some(sign * degrees)
}

/// Signed degrees as an XMP GPS coordinate `DDD,MM.mmmmK`.
pub(crate) fn xmp_coordinate(degrees: f64, latitude: bool) -> String {
    let hemisphere = match (latitude, degrees < 0.0) {
        (true, false) => 'N',
        (true, true) => 'S',
        (false, false) => 'E',
        (false, true) => 'W',
    };
    let abs = degrees.abs();
    let whole = abs.floor();
    format!("{},{:.4}{hemisphere}", whole as u32, (abs - whole) * 60.0)
}

/// The XMP coordinate pair `(latitude, longitude)` rounded to `meters` and
/// written back as XMP coordinates; `None` when either does not parse or is
/// not a position on Earth.
pub(crate) fn coarsen_xmp(
    latitude: &str,
    longitude: &str,
    meters: u32,
) -> Option<(String, String)> {
    let (lat, lon) = (
        parse_xmp_coordinate(latitude)?,
        parse_xmp_coordinate(longitude)?,
    );
    if !is_on_earth(lat, lon) {
        return None;
    }
    let (lat, lon) = coarsen(lat, lon, meters);
    Some((xmp_coordinate(lat, true), xmp_coordinate(lon, false)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rounds_to_the_precision_asked() {
        let (lat, lon) = coarsen(47.497_912, 19.040_235, 1000);
        // Within half a step of the truth, and on the grid.
        assert!((lat - 47.497_912).abs() * METERS_PER_DEGREE <= 500.0);
        assert!((lon - 19.040_235).abs() * METERS_PER_DEGREE * 47.5f64.to_radians().cos() <= 501.0);
        let text = xmp_coordinate(-lat, true);
        assert!(text.ends_with('S'), "{text}");
        assert!((parse_xmp_coordinate(&text).unwrap() + lat).abs() < 1e-6);
        assert_eq!(
            parse_xmp_coordinate("47,30,15N"),
            Some(47.5 + 15.0 / 3600.0)
        );
        let [d, m, s] = dms_rationals(47.5042);
        assert_eq!((d, m), ((47, 1), (30, 1)));
        assert_eq!(s, (1512, 100));
    }

    #[test]
    fn the_longitude_grid_does_not_give_the_latitude_away() {
        // Two latitudes that round alike give the same longitude.
        let a = coarsen(47.497_912, 19.040_235, 1000);
        let b = coarsen(47.496_100, 19.040_235, 1000);
        assert_eq!(a, b);
    }

    #[test]
    fn position_names_in_any_namespace() {
        for name in [
            "GPSLatitude",
            "GPSAltitude",
            "GpsLatitude",
            "GpsLongtitude",
            "GpsLongitude",
            "AbsoluteAltitude",
            "RelativeAltitude",
            "GPSXYAccuracy",
            "RtkStdLat",
            "lon",
            "geo_lng",
            "Latitude",
            "GeoLocation",
            "Coordinates",
        ] {
            assert!(is_position_name(name), "{name}");
        }
        for name in [
            "City",
            "LateralChromaticAberrationCorrectionAlreadyApplied",
            "AutoLateralCA",
            "YCbCrPositioning",
            "LongExposureNoiseReduction",
            "Salon",
            "LocationCreated",
        ] {
            assert!(!is_position_name(name), "{name}");
        }
        assert!(is_exif_gps_detail("GPSAltitude"));
        assert!(!is_exif_gps_detail("GPSLatitude"));
        assert!(!is_exif_gps_detail("GPSLatitudeX"));
    }

    fn rationals_le(values: &[(i64, u32)]) -> Vec<u8> {
        values
            .iter()
            .flat_map(|&(n, d)| [(n as u32).to_le_bytes(), d.to_le_bytes()].concat())
            .collect()
    }

    const SRATIONAL: u16 = 10;
    const RATIONAL: u16 = 5;

    #[test]
    fn every_shape_of_exif_position_is_rounded() {
        // Latitude: two SRATIONALs, degrees and minutes, south. Longitude:
        // one RATIONAL, degrees, written twice with different values.
        let lat = rationals_le(&[(-47, 1), (-298_786, 10_000)]);
        let lon = rationals_le(&[(19_040_235, 1_000_000)]);
        let lon2 = rationals_le(&[(19_050_000, 1_000_000)]);
        let mut data = exif::test_block(
            &[],
            &[],
            &[
                (LATITUDE, SRATIONAL, 2, &lat[..]),
                (LONGITUDE, RATIONAL, 1, &lon[..]),
                (LONGITUDE, RATIONAL, 1, &lon2[..]),
            ],
        );
        let (changed, removed) = coarsen_exif(&mut data, 1000);
        assert_eq!(changed, vec!["GPS:GPSLatitude", "GPS:GPSLongitude"]);
        assert!(removed.is_empty(), "{removed:?}");
        let read = |tag| -> Vec<f64> {
            exif::rational_entries(&data, Ifd::Gps, tag)
                .into_iter()
                .map(|e| degrees_of(&e.unwrap().1).unwrap())
                .collect()
        };
        let (lats, lons) = (read(LATITUDE), read(LONGITUDE));
        let truth = -(47.0 + 29.8786 / 60.0);
        let step = latitude_step(1000);
        assert_eq!(lats.len(), 1);
        assert!(lats[0] < 0.0 && (lats[0] - truth).abs() <= step / 2.0 + 1e-6);
        assert!((lats[0] / step - (lats[0] / step).round()).abs() < 1e-3);
        assert_eq!(lons.len(), 2);
        assert!((lons[0] - 19.040_235).abs() > 1e-6, "not left exact");
        assert!((lons[1] - 19.05).abs() > 1e-6, "not left exact");
        // Same shape as before: still SRATIONAL x 2 and RATIONAL x 1.
        let shapes: Vec<(bool, usize)> = exif::rational_entries(&data, Ifd::Gps, LATITUDE)
            .into_iter()
            .chain(exif::rational_entries(&data, Ifd::Gps, LONGITUDE))
            .map(|e| e.map(|(signed, v)| (signed, v.len())).unwrap())
            .collect();
        assert_eq!(shapes, vec![(true, 2), (false, 1), (false, 1)]);
    }

    #[test]
    fn an_exif_position_that_cannot_be_rounded_is_removed() {
        let lat = rationals_le(&[(47, 1), (29, 1), (5284, 100)]);
        let zero = rationals_le(&[(19, 0)]);
        for (lon_kind, lon_count, lon) in [
            (2u16, 8u32, &b"19.0402\0"[..]),
            (RATIONAL, 1, &zero[..]),
            (RATIONAL, 4, &[&lat[..], &lat[..8]].concat()[..]),
        ] {
            let mut data = exif::test_block(
                &[],
                &[],
                &[
                    (1, 2, 2, &b"N\0"[..]),
                    (LATITUDE, RATIONAL, 3, &lat[..]),
                    (LONGITUDE, lon_kind, lon_count, lon),
                ],
            );
            let (changed, removed) = coarsen_exif(&mut data, 1000);
            assert!(changed.is_empty(), "{changed:?}");
            assert_eq!(removed, vec!["GPS:GPSLatitude", "GPS:GPSLongitude"]);
            assert!(exif::rational_entries(&data, Ifd::Gps, LATITUDE).is_empty());
            // The exact seconds are gone from the bytes too.
            assert!(!data.windows(4).any(|w| w == 5284u32.to_le_bytes()));
        }
        // A latitude without its longitude is removed as well.
        let mut data = exif::test_block(&[], &[], &[(LATITUDE, RATIONAL, 3, &lat[..])]);
        let (_, removed) = coarsen_exif(&mut data, 1000);
        assert_eq!(removed, vec!["GPS:GPSLatitude"]);
    }

    #[test]
    fn rationals_keep_their_shape_and_sign() {
        let one = rationals_of(-47.5, 1).unwrap();
        assert_eq!(one, vec![(-47_500_000, 1_000_000)]);
        let two = rationals_of(19.25, 2).unwrap();
        assert_eq!(two, vec![(19, 1), (150_000, 10_000)]);
        assert_eq!(rationals_of(1.0, 4), None);
        assert_eq!(degrees_of(&[-47.0, -30.0]), Some(-47.5));
        assert_eq!(degrees_of(&[]), None);
        assert_eq!(degrees_of(&[f64::INFINITY]), None);
        assert!(coarsen_xmp("47,29.88N", "19,2.41E", 1000).is_some());
        assert!(coarsen_xmp("47.498", "19,2.41E", 1000).is_none());
        assert!(coarsen_xmp("147,0N", "19,2.41E", 1000).is_none());
    }
}
