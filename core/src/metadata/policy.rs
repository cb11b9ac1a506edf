//! Metadata policies: which fields go to the output.
//!
//! A policy is a preset and rules applied after it, left to right:
//!
//! | written | meaning |
//! |---|---|
//! | `keep` | everything (the default) |
//! | `web` | everything but GPS, serial numbers, owner names, the MakerNote and the thumbnail |
//! | `strip` | nothing but the ICC profile (what color fidelity needs) |
//! | `-NAME` / `+NAME` | remove / keep a group or a field, overriding what came before |
//! | `gps=DISTANCE` | keep the GPS position rounded to `DISTANCE` (`1km`, `500m`) instead of exact; overrides the preset, not `-gps` |
//!
//! Groups: `exif`, `xmp` (also `xmp:*`), `iptc`, `icc`, `gps`, `location`
//! (GPS plus IPTC and XMP place names), `makernote`, `thumbnail`, `serials`,
//! `owner`. Fields: an EXIF tag name as exiftool prints it (`Make`,
//! `DateTimeOriginal`), an XMP property `prefix:Name` (`dc:rights`, and
//! `prefix:*` for a whole namespace), an IPTC dataset `iptc:Name`
//! (`iptc:City`). Example: `web,+gps,-iptc:Contact`.
//!
//! Filters work by meaning across blocks: `gps` removes the EXIF GPS IFD
//! (and a second one a crafted block links from another IFD), every XMP
//! property that carries a position in any namespace (`exif:GPSLatitude`,
//! DJI's `drone-dji:GpsLongtitude` and `drone-dji:AbsoluteAltitude`: names
//! starting with GPS or holding latitude, longitude or altitude), the same
//! fields inside structures (`exif:GPSLatitude` in
//! `Iptc4xmpExt:LocationCreated`) and Photoshop's copies of EXIF and XMP in
//! the IPTC block.
//!
//! `gps=DISTANCE` rounds the EXIF GPS coordinates, whatever their shape
//! (RATIONAL or SRATIONAL; degrees, degrees and minutes, or degrees,
//! minutes and seconds), and the XMP `exif:` coordinates; what cannot be
//! rounded is removed: a coordinate that does not read as a position, a
//! position in another XMP namespace or inside a structure, a second GPS
//! IFD. No exact position is left.

use super::exif::Ifd;
use super::{gps, iptc};
use crate::error::{Error, Result};
use std::fmt;

/// What a policy starts from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Preset {
    /// Every field.
    #[default]
    Keep,
    /// Every field but GPS, serial numbers, owner names, MakerNote and thumbnail.
    Web,
    /// Only the ICC profile.
    Strip,
}

/// Named sets of fields.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Group {
    /// The whole EXIF block.
    Exif,
    /// The whole XMP packet.
    Xmp,
    /// All IPTC-IIM datasets (and the other Photoshop resources of their block).
    Iptc,
    /// The ICC profile.
    Icc,
    /// The EXIF GPS IFD and every XMP property or structure field that
    /// carries a position, in any namespace.
    Gps,
    /// GPS plus IPTC and XMP place names (city, sublocation, state, country,
    /// the location structures, `xmpDM:shotLocation`).
    Location,
    /// The EXIF MakerNote.
    MakerNote,
    /// The EXIF thumbnail (IFD1).
    Thumbnail,
    /// Camera body and lens serial numbers (EXIF and XMP).
    Serials,
    /// Camera owner names (EXIF and XMP).
    Owner,
}

const GROUPS: [(&str, Group); 10] = [
    ("exif", Group::Exif),
    ("xmp", Group::Xmp),
    ("iptc", Group::Iptc),
    ("icc", Group::Icc),
    ("gps", Group::Gps),
    ("location", Group::Location),
    ("makernote", Group::MakerNote),
    ("thumbnail", Group::Thumbnail),
    ("serials", Group::Serials),
    ("owner", Group::Owner),
];

/// What a rule names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Selector {
    /// A group of fields.
    Group(Group),
    /// One EXIF tag, by exiftool's name.
    Exif(String),
    /// XMP properties: canonical prefix and local name (`*` for all).
    Xmp(String, String),
    /// One IPTC-IIM dataset: record and number.
    Iptc(u8, u8),
}

/// One `+NAME` or `-NAME` rule.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rule {
    /// `true` for `+` (keep), `false` for `-` (remove).
    pub keep: bool,
    /// What the rule applies to.
    pub selector: Selector,
}

/// Which metadata fields are carried to the output: a preset and rules.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct MetadataPolicy {
    /// The starting point.
    pub preset: Preset,
    /// Rules applied in order after the preset; the last one that matches wins.
    pub rules: Vec<Rule>,
    /// `gps=DISTANCE`: GPS positions kept, rounded to this many meters.
    pub gps_precision_m: Option<u32>,
}

/// One field of one block, as the policy sees it.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Field<'a> {
    Exif(Ifd, u16),
    Xmp(&'a str, &'a str),
    Iptc(u8, u8),
    /// A Photoshop image resource other than IPTC, in the same APP13 block.
    Photoshop,
    Icc,
}

impl MetadataPolicy {
    /// Everything.
    pub const KEEP: MetadataPolicy = MetadataPolicy {
        preset: Preset::Keep,
        rules: Vec::new(),
        gps_precision_m: None,
    };

    /// Only the ICC profile.
    pub const STRIP: MetadataPolicy = MetadataPolicy {
        preset: Preset::Strip,
        rules: Vec::new(),
        gps_precision_m: None,
    };

    /// Parses `keep`, `web`, `strip`, optionally followed by `,+NAME` and
    /// `,-NAME` rules (see the module documentation); rules alone start from `keep`.
    pub fn parse(text: &str) -> Result<MetadataPolicy> {
        let mut policy = MetadataPolicy::default();
        for (i, token) in text.split(',').map(str::trim).enumerate() {
            let preset = match token.to_ascii_lowercase().as_str() {
                "keep" | "all" => Some(Preset::Keep),
                "web" => Some(Preset::Web),
                "strip" | "none" => Some(Preset::Strip),
                _ => None,
            };
            if let Some(distance) = token.strip_prefix("gps=") {
                policy.gps_precision_m = Some(parse_distance(distance)?);
                continue;
            }
            match (preset, token.as_bytes().first()) {
                (Some(preset), _) if i == 0 => policy.preset = preset,
                (_, Some(b'+' | b'-')) => policy.rules.push(Rule {
                    keep: token.starts_with('+'),
                    selector: selector(&token[1..])?,
                }),
                _ => {
                    return Err(Error::option(
                        "metadata",
                        format!(
                        "`{token}`: expected keep, web or strip first, then +NAME or -NAME rules"
                    ),
                    ))
                }
            }
        }
        Ok(policy)
    }

    /// Whether the policy carries every field (nothing to filter).
    pub fn keeps_everything(&self) -> bool {
        self.preset == Preset::Keep
            && self.rules.iter().all(|r| r.keep)
            && self.gps_precision_m.is_none()
    }

    /// Whether the ICC profile goes to the output (when it does not, pixels
    /// are converted to sRGB first).
    pub fn keeps_icc(&self) -> bool {
        self.keeps(Field::Icc)
    }

    /// Whether positions go to the output as they are: no `gps=DISTANCE`,
    /// and the EXIF and XMP GPS coordinates kept.
    pub(crate) fn keeps_positions(&self) -> bool {
        self.gps_precision_m.is_none()
            && self.keeps(Field::Exif(Ifd::Gps, GPS_LATITUDE))
            && self.keeps(Field::Xmp("exif", "GPSLatitude"))
    }

    /// Whether `field` goes to the output.
    pub(crate) fn keeps(&self, field: Field) -> bool {
        let mut keep = match self.preset {
            Preset::Keep => true,
            Preset::Strip => matches!(field, Field::Icc),
            Preset::Web => ![
                Group::Gps,
                Group::MakerNote,
                Group::Thumbnail,
                Group::Serials,
                Group::Owner,
            ]
            .iter()
            .any(|&g| in_group(g, field)),
        };
        if self.gps_precision_m.is_some() && in_group(Group::Gps, field) {
            keep = true;
        }
        for rule in &self.rules {
            if matches(&rule.selector, field) {
                keep = rule.keep;
            }
        }
        keep
    }
}

impl fmt::Display for MetadataPolicy {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self.preset {
            Preset::Keep => "keep",
            Preset::Web => "web",
            Preset::Strip => "strip",
        })?;
        if let Some(meters) = self.gps_precision_m {
            write!(f, ",gps={meters}m")?;
        }
        for rule in &self.rules {
            let sign = if rule.keep { '+' } else { '-' };
            match &rule.selector {
                Selector::Group(g) => {
                    let name = GROUPS.iter().find(|(_, x)| x == g).map_or("", |(n, _)| n);
                    write!(f, ",{sign}{name}")?
                }
                Selector::Exif(name) => write!(f, ",{sign}{name}")?,
                Selector::Xmp(prefix, name) => write!(f, ",{sign}{prefix}:{name}")?,
                Selector::Iptc(r, n) => write!(f, ",{sign}iptc:{}", iptc::dataset_name(*r, *n))?,
            }
        }
        Ok(())
    }
}

/// Parses a `gps=` distance: `1km`, `500m`, `2.5km` (at least 1 m).
fn parse_distance(text: &str) -> Result<u32> {
    let bad = || {
        Error::option(
            "metadata",
            format!("`gps={text}`: expected a distance such as 1km or 500m"),
        )
    };
    let lower = text.trim().to_ascii_lowercase();
    let (number, scale) = match lower.strip_suffix("km") {
        Some(n) => (n, 1000.0),
        None => (lower.strip_suffix('m').ok_or_else(bad)?, 1.0),
    };
    let meters = number.trim().parse::<f64>().map_err(|_| bad())? * scale;
    if !(1.0..=20_000_000.0).contains(&meters) {
        return Err(bad());
    }
    Ok(meters.round() as u32)
}

/// Parses the NAME of a rule.
fn selector(name: &str) -> Result<Selector> {
    if let Some((_, group)) = GROUPS.iter().find(|(n, _)| n.eq_ignore_ascii_case(name)) {
        return Ok(Selector::Group(*group));
    }
    if name.eq_ignore_ascii_case("xmp:*") {
        return Ok(Selector::Group(Group::Xmp));
    }
    if let Some((prefix, local)) = name.split_once(':') {
        if prefix.eq_ignore_ascii_case("iptc") {
            let (record, number) = iptc::dataset_of(local).ok_or_else(|| {
                Error::option("metadata", format!("`{name}` is not an IPTC-IIM dataset"))
            })?;
            return Ok(Selector::Iptc(record, number));
        }
        if prefix.is_empty() || local.is_empty() {
            return Err(Error::option(
                "metadata",
                format!("`{name}`: XMP fields are written prefix:Name"),
            ));
        }
        return Ok(Selector::Xmp(prefix.to_string(), local.to_string()));
    }
    let known = [Ifd::Ifd0, Ifd::Exif, Ifd::Gps, Ifd::Interop]
        .iter()
        .any(|ifd| ifd.tag_of(name).is_some());
    if known {
        return Ok(Selector::Exif(name.to_string()));
    }
    let groups: Vec<&str> = GROUPS.iter().map(|(n, _)| *n).collect();
    Err(Error::option(
        "metadata",
        format!(
            "`{name}` is neither a group ({}) nor an EXIF tag name; XMP fields are prefix:Name, IPTC fields iptc:Name",
            groups.join(", ")
        ),
    ))
}

fn matches(selector: &Selector, field: Field) -> bool {
    match (selector, field) {
        (Selector::Group(g), _) => in_group(*g, field),
        (Selector::Exif(name), Field::Exif(ifd, tag)) => {
            ifd != Ifd::Thumbnail && ifd.tag_of(name) == Some(tag)
        }
        (Selector::Xmp(prefix, name), Field::Xmp(p, n)) => {
            prefix.eq_ignore_ascii_case(p) && (name == "*" || name.eq_ignore_ascii_case(n))
        }
        (Selector::Iptc(r, n), Field::Iptc(record, number)) => (*r, *n) == (record, number),
        _ => false,
    }
}

/// EXIF tags of the Exif IFD by meaning.
const MAKER_NOTE: u16 = 0x927C;
const OWNER_NAME: u16 = 0xA430;
const BODY_SERIAL: u16 = 0xA431;
const LENS_SERIAL: u16 = 0xA435;
/// The GPS IFD's GPSLatitude.
const GPS_LATITUDE: u16 = 0x0002;

fn in_group(group: Group, field: Field) -> bool {
    match (group, field) {
        (Group::Exif, Field::Exif(..))
        | (Group::Xmp, Field::Xmp(..))
        | (Group::Iptc, Field::Iptc(..) | Field::Photoshop)
        | (Group::Icc, Field::Icc) => true,
        (Group::Gps, Field::Exif(ifd, tag)) => {
            ifd == Ifd::Gps || gps::is_stray_gps_pointer(ifd, tag)
        }
        (Group::Gps, Field::Xmp(_, name)) => gps::is_position_name(name),
        (Group::Location, Field::Iptc(record, number)) => iptc::is_location(record, number),
        (Group::Location, Field::Xmp(prefix, name)) => {
            in_group(Group::Gps, field)
                || matches!(
                    (prefix, name),
                    ("photoshop", "City" | "State" | "Country")
                        | ("Iptc4xmpCore", "Location" | "CountryCode")
                        | ("Iptc4xmpExt", "LocationCreated" | "LocationShown")
                        | ("xmpDM", "shotLocation")
                )
        }
        (Group::Location, _) => in_group(Group::Gps, field),
        (Group::MakerNote, Field::Exif(ifd, tag)) => ifd == Ifd::Exif && tag == MAKER_NOTE,
        (Group::Thumbnail, Field::Exif(ifd, _)) => ifd == Ifd::Thumbnail,
        (Group::Serials, Field::Exif(ifd, tag)) => {
            ifd == Ifd::Exif && matches!(tag, BODY_SERIAL | LENS_SERIAL)
        }
        (Group::Serials, Field::Xmp(prefix, name)) => matches!(
            (prefix, name),
            ("aux", "SerialNumber" | "LensSerialNumber")
                | ("exifEX", "BodySerialNumber" | "LensSerialNumber")
        ),
        (Group::Owner, Field::Exif(ifd, tag)) => ifd == Ifd::Exif && tag == OWNER_NAME,
        (Group::Owner, Field::Xmp(prefix, name)) => matches!(
            (prefix, name),
            ("aux", "OwnerName") | ("exifEX", "CameraOwnerName")
        ),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_presets_and_rules() {
        let p = MetadataPolicy::parse("web,+gps,-dc:rights,-iptc:City,-Make").unwrap();
        assert_eq!(p.preset, Preset::Web);
        assert_eq!(p.to_string(), "web,+gps,-dc:rights,-iptc:City,-Make");
        assert!(p.keeps(Field::Exif(Ifd::Gps, 2)));
        assert!(!p.keeps(Field::Exif(Ifd::Exif, MAKER_NOTE)));
        assert!(!p.keeps(Field::Xmp("dc", "rights")));
        assert!(!p.keeps(Field::Iptc(2, 90)));
        assert!(!p.keeps(Field::Exif(Ifd::Ifd0, 0x010F)));
        assert!(p.keeps(Field::Exif(Ifd::Ifd0, 0x0110)));
        assert!(MetadataPolicy::parse("keep,-Nonsense").is_err());
        assert!(MetadataPolicy::parse("web,keep").is_err());
    }

    #[test]
    fn web_removes_by_meaning() {
        let web = MetadataPolicy::parse("web").unwrap();
        assert!(!web.keeps(Field::Xmp("exif", "GPSLatitude")));
        assert!(!web.keeps(Field::Xmp("aux", "SerialNumber")));
        assert!(!web.keeps(Field::Exif(Ifd::Thumbnail, 0x0201)));
        assert!(web.keeps(Field::Xmp("dc", "rights")));
        assert!(web.keeps(Field::Icc));
        let strip = MetadataPolicy::parse("strip,+Copyright").unwrap();
        assert!(strip.keeps(Field::Icc));
        assert!(strip.keeps(Field::Exif(Ifd::Ifd0, 0x8298)));
        assert!(!strip.keeps(Field::Exif(Ifd::Ifd0, 0x010F)));
        let location = MetadataPolicy::parse("-location").unwrap();
        assert!(!location.keeps(Field::Xmp("photoshop", "City")));
        assert!(!location.keeps(Field::Exif(Ifd::Gps, 1)));
        assert!(location.keeps(Field::Xmp("photoshop", "Credit")));
    }

    #[test]
    fn gps_is_every_position_in_any_namespace() {
        let web = MetadataPolicy::parse("web").unwrap();
        for (prefix, name) in [
            ("drone-dji", "GpsLongtitude"),
            ("drone-dji", "AbsoluteAltitude"),
            ("Camera", "GPSXYAccuracy"),
            ("exif", "GPSDestLatitude"),
            ("", "GPSLongitude"),
        ] {
            assert!(!web.keeps(Field::Xmp(prefix, name)), "{prefix}:{name}");
        }
        assert!(web.keeps(Field::Xmp("drone-dji", "FlightYawDegree")));
        assert!(web.keeps(Field::Xmp("Iptc4xmpExt", "LocationCreated")));
        // A GPS IFD linked from another IFD than IFD0 is GPS too.
        assert!(!web.keeps(Field::Exif(Ifd::Exif, 0x8825)));
        assert!(web.keeps(Field::Exif(Ifd::Ifd0, 0x0110)));
        let location = MetadataPolicy::parse("-location").unwrap();
        assert!(!location.keeps(Field::Xmp("xmpDM", "shotLocation")));
        // Which policies carry positions as they are.
        for (text, keeps) in [
            ("keep", true),
            ("web", false),
            ("web,+gps", true),
            ("keep,-gps", false),
            ("keep,gps=1km", false),
            ("strip", false),
        ] {
            let policy = MetadataPolicy::parse(text).unwrap();
            assert_eq!(policy.keeps_positions(), keeps, "{text}");
        }
    }
}
