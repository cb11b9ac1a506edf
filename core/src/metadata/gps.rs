//! GPS coarsening: a position kept at a chosen precision instead of removed
//! (the `gps=1km` policy token), in the EXIF GPS IFD and in the XMP copies.

use super::exif::{self, Ifd};

const LATITUDE: u16 = 0x0002;
const LONGITUDE: u16 = 0x0004;
const DEST_LATITUDE: u16 = 0x0014;
const DEST_LONGITUDE: u16 = 0x0016;
/// Meters per degree of latitude (and of longitude at the equator).
const METERS_PER_DEGREE: f64 = 111_320.0;

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

/// `value` rounded to the nearest multiple of `step`.
fn round_to(value: f64, step: f64) -> f64 {
    (value / step).round() * step
}

/// The step in degrees of latitude and of longitude (at `latitude`) that
/// `meters` stands for.
fn steps(meters: u32, latitude: f64) -> (f64, f64) {
    let lat_step = f64::from(meters) / METERS_PER_DEGREE;
    let cos = latitude.to_radians().cos().max(0.01);
    (lat_step, lat_step / cos)
}

fn degrees_of(data: &[u8], tag: u16) -> Option<f64> {
    let v = exif::rationals(data, Ifd::Gps, tag)?;
    Some(v.first()? + v.get(1).unwrap_or(&0.0) / 60.0 + v.get(2).unwrap_or(&0.0) / 3600.0)
}

/// Rounds the EXIF GPS latitude and longitude (and destination) to `meters`,
/// in place; returns the fields changed as `GPS:Name`.
pub(crate) fn coarsen_exif(data: &mut [u8], meters: u32) -> Vec<String> {
    let mut changed = Vec::new();
    for (lat_tag, lon_tag, names) in [
        (LATITUDE, LONGITUDE, ("GPSLatitude", "GPSLongitude")),
        (
            DEST_LATITUDE,
            DEST_LONGITUDE,
            ("GPSDestLatitude", "GPSDestLongitude"),
        ),
    ] {
        let (Some(lat), Some(lon)) = (degrees_of(data, lat_tag), degrees_of(data, lon_tag)) else {
            continue;
        };
        // The magnitudes are rounded; the hemisphere references stay as they are.
        let (lat, lon) = coarsen(lat, lon, meters);
        if exif::set_rationals(data, Ifd::Gps, lat_tag, &dms_rationals(lat)) {
            changed.push(format!("GPS:{}", names.0));
        }
        if exif::set_rationals(data, Ifd::Gps, lon_tag, &dms_rationals(lon)) {
            changed.push(format!("GPS:{}", names.1));
        }
    }
    changed
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

/// The position `(latitude, longitude)` rounded to `meters`.
pub(crate) fn coarsen(latitude: f64, longitude: f64, meters: u32) -> (f64, f64) {
    let (lat_step, lon_step) = steps(meters, latitude);
    (round_to(latitude, lat_step), round_to(longitude, lon_step))
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
}
