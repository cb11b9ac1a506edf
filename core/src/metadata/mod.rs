//! Metadata blocks as carried between containers: EXIF, XMP, IPTC and ICC.
//!
//! Blocks are kept as bytes in a container-neutral form and edited in place
//! at the field level on the way to an output ([`Metadata::for_output`]):
//! a [`MetadataPolicy`] decides which fields stay, the semantics of the
//! conversion fix the rest (orientation, pixel dimensions, the stale EXIF
//! thumbnail, IPTC moved into XMP where a container has no IPTC slot).

mod edit;
mod exif;
mod exif_tags;
mod gps;
mod icc;
mod iptc;
mod policy;
mod provenance;
mod restore;
mod view;
mod xmp;

pub use edit::{Interceptor, MetadataEdit, MetadataInterceptor, MAX_INTERCEPTED_BYTES};
pub use exif::Ifd;
pub use policy::{Group, MetadataPolicy, Preset, Rule, Selector};
pub use restore::RestoreRecord;
pub use view::{Block, MetadataDiff, MetadataField};

pub(crate) use provenance::add as add_provenance;

use crate::format::Format;
use policy::Field;

/// The metadata blocks of an image, each in its container-neutral form.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Metadata {
    /// EXIF as a TIFF structure (starting `II*\0` or `MM\0*`), without the JPEG `Exif\0\0` prefix.
    pub exif: Option<Vec<u8>>,
    /// The XMP packet (UTF-8 XML).
    pub xmp: Option<Vec<u8>>,
    /// The ICC color profile.
    pub icc: Option<Vec<u8>>,
    /// The Photoshop image resource block (APP13) holding IPTC-IIM.
    pub iptc: Option<Vec<u8>>,
}

/// What preparing metadata for an output changed, field by field.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MetadataReport {
    /// Fields removed, as `EXIF:GPS:GPSLatitude`, `XMP:exif:GPSLatitude`,
    /// `IPTC:City`, `ICC` (a field of an XMP structure as
    /// `XMP:Iptc4xmpExt:LocationCreated/exif:GPSLatitude`): by the policy,
    /// because they went stale (the EXIF thumbnail of re-encoded pixels),
    /// because the output container has no slot for them (Photoshop
    /// resources, as `Photoshop:Resource0x03ED`, and IPTC datasets XMP does
    /// not hold, in WebP and AVIF), or because they do not describe the
    /// decoded pixels (a CMYK profile once the pixels are RGB).
    pub removed: Vec<String>,
    /// Fields carried in another block because the output container has no
    /// slot for theirs, as `IPTC:City -> XMP:photoshop:City` (also when the
    /// XMP already held the value), `IPTC:TimeCreated ->
    /// XMP:photoshop:DateCreated` for a time carried in its date.
    pub moved: Vec<String>,
    /// Fields kept with a changed value, as `EXIF:GPS:GPSLatitude` for a
    /// position coarsened by `gps=DISTANCE`.
    pub changed: Vec<String>,
    /// With the `restore_record` option: the serialized [`RestoreRecord`]
    /// that puts back what was removed or changed (`None` when nothing was).
    pub restore_record: Option<Vec<u8>>,
}

/// The prefix of EXIF in JPEG APP1 (and sometimes in WebP and HEIF).
pub(crate) const EXIF_PREFIX: &[u8] = b"Exif\0\0";

/// IFD0 tags read here.
const ORIENTATION_TAG: u16 = 0x0112;
const X_RESOLUTION_TAG: u16 = 0x011A;
const RESOLUTION_UNIT_TAG: u16 = 0x0128;

/// An EXIF block (a little-endian TIFF structure) holding only IFD0
/// Orientation = `orientation`: what a stripped image whose pixels were not
/// turned keeps.
pub(crate) fn orientation_only_exif(orientation: u16) -> Vec<u8> {
    let mut block = b"II*\0\x08\0\0\0".to_vec();
    block.extend_from_slice(&1u16.to_le_bytes());
    block.extend_from_slice(&ORIENTATION_TAG.to_le_bytes());
    block.extend_from_slice(&3u16.to_le_bytes()); // SHORT
    block.extend_from_slice(&1u32.to_le_bytes());
    block.extend_from_slice(&orientation.to_le_bytes());
    block.extend_from_slice(&[0, 0]);
    block.extend_from_slice(&0u32.to_le_bytes()); // no next IFD
    block
}

impl Metadata {
    /// The EXIF Orientation value (1-8), if there is an EXIF block holding one.
    pub fn exif_orientation(&self) -> Option<u16> {
        let value = exif::uint(self.exif.as_deref()?, Ifd::Ifd0, ORIENTATION_TAG)?;
        u16::try_from(value).ok()
    }

    /// The EXIF resolution in pixels per inch (IFD0 XResolution, used for both
    /// axes as Pillow does; ResolutionUnit 3, centimeters, is converted).
    pub fn exif_dpi(&self) -> Option<f64> {
        let exif = self.exif.as_deref()?;
        let dpi = exif::rational(exif, Ifd::Ifd0, X_RESOLUTION_TAG)?;
        let unit = exif::uint(exif, Ifd::Ifd0, RESOLUTION_UNIT_TAG).unwrap_or(2);
        Some(if unit == 3 { dpi * 2.54 } else { dpi })
    }

    /// Records that the pixels are now upright: EXIF and XMP orientation become 1.
    pub fn reset_orientation(&mut self) {
        if let Some(exif) = self.exif.as_mut() {
            exif::set_uint(exif, Ifd::Ifd0, ORIENTATION_TAG, 1);
        }
        let set = [("tiff", "Orientation", "1".to_string())];
        self.edit_xmp(&|_, _| true, &set, &[]);
    }

    /// The metadata to write into a `format` output of `width` x `height`
    /// re-encoded pixels: `policy` applied to every block, the EXIF and XMP
    /// pixel dimensions set to the output's, the EXIF thumbnail (now stale)
    /// dropped, and IPTC moved into XMP when the container has no IPTC slot.
    pub fn for_output(
        &self,
        policy: &MetadataPolicy,
        format: Format,
        width: u32,
        height: u32,
    ) -> (Metadata, MetadataReport) {
        self.for_pixels(policy, format, (width, height), true)
    }

    /// [`for_output`](Metadata::for_output), keeping the EXIF thumbnail
    /// (unless the policy removes it) when the pixels are not re-encoded.
    pub(crate) fn for_pixels(
        &self,
        policy: &MetadataPolicy,
        format: Format,
        (width, height): (u32, u32),
        pixels_changed: bool,
    ) -> (Metadata, MetadataReport) {
        let started = std::time::Instant::now();
        let _span = tracing::debug_span!("pixpress.metadata").entered();
        let mut out = self.clone();
        let mut report = MetadataReport::default();
        let precision = policy.gps_precision_m;
        if let Some(data) = out.exif.as_mut() {
            // A second GPS IFD cannot be rounded in place: `gps=DISTANCE` removes it.
            let keep = |ifd: Ifd, tag: u16| {
                (ifd != Ifd::Thumbnail || !pixels_changed)
                    && policy.keeps(Field::Exif(ifd, tag))
                    && (precision.is_none() || !gps::is_stray_gps_pointer(ifd, tag))
            };
            let removed = exif::retain(data, &keep);
            report
                .removed
                .extend(removed.iter().map(|f| format!("EXIF:{f}")));
            if let Some(meters) = precision {
                let (changed, removed) = gps::coarsen_exif(data, meters);
                report
                    .changed
                    .extend(changed.iter().map(|f| format!("EXIF:{f}")));
                report
                    .removed
                    .extend(removed.iter().map(|f| format!("EXIF:{f}")));
            }
            exif::set_uint(data, Ifd::Exif, exif::PIXEL_X_DIMENSION, width);
            exif::set_uint(data, Ifd::Exif, exif::PIXEL_Y_DIMENSION, height);
            if exif::fields(data).is_empty() {
                out.exif = None;
            }
        }
        let mut moved_to_xmp = Vec::new();
        // The IPTC block of a container without an IPTC slot, carried into XMP.
        let mut carried = None;
        if let Some(block) = out.iptc.take() {
            // Photoshop's copies of EXIF and XMP go with the positions they may hold.
            let keeps_positions = policy.keeps_positions();
            let keep_resource = |id: u16| {
                policy.keeps(Field::Photoshop) && (keeps_positions || !gps::is_photoshop_copy(id))
            };
            let (kept, removed) = iptc::retain(
                &block,
                &|r, n| policy.keeps(Field::Iptc(r, n)),
                &keep_resource,
            );
            report
                .removed
                .extend(removed.iter().map(|f| match f.starts_with("Photoshop:") {
                    true => f.clone(),
                    false => format!("IPTC:{f}"),
                }));
            match kept {
                Some(kept) if !has_iptc_slot(format) => {
                    moved_to_xmp = iptc::to_xmp(&kept);
                    // The other Photoshop resources have no slot either.
                    report.removed.extend(iptc::resource_names(&kept));
                    carried = Some(kept);
                }
                kept => out.iptc = kept,
            }
        }
        let mut set = vec![
            ("exif", "PixelXDimension", width.to_string()),
            ("exif", "PixelYDimension", height.to_string()),
            ("tiff", "ImageWidth", width.to_string()),
            ("tiff", "ImageLength", height.to_string()),
        ];
        let coarsened: Vec<_> = precision
            .map_or_else(Vec::new, |m| out.xmp_gps_coarsened(m))
            .into_iter()
            .filter(|(name, _)| policy.keeps(Field::Xmp("exif", name)))
            .collect();
        for (name, value) in &coarsened {
            report.changed.push(format!("XMP:exif:{name}"));
            set.push(("exif", *name, value.clone()));
        }
        // Under `gps=DISTANCE` a position stays only rounded: the `exif:`
        // coordinates rounded above, and the `exif:GPS*` fields that are
        // not coordinates (as in the EXIF GPS IFD). Every other position, in
        // any namespace or inside a structure, is removed.
        let rounded_or_detail = |prefix: &str, name: &str| {
            prefix == "exif"
                && (gps::is_exif_gps_detail(name) || coarsened.iter().any(|(n, _)| *n == name))
        };
        let keep = |prefix: &str, name: &str| {
            policy.keeps(Field::Xmp(prefix, name))
                && (precision.is_none()
                    || !gps::is_position_name(name)
                    || rounded_or_detail(prefix, name))
        };
        let keep_nested = |prefix: &str, name: &str| {
            !gps::is_position_name(name)
                || (precision.is_none() && policy.keeps(Field::Xmp(prefix, name)))
        };
        let moved_to_xmp: Vec<_> = moved_to_xmp
            .into_iter()
            .filter(|v| keep(&v.prefix, &v.name))
            .collect();
        let edit = xmp::Edit {
            keep: &keep,
            keep_nested: &keep_nested,
            set: &set,
            add: &moved_to_xmp,
        };
        let (removed, _) = out.apply_xmp_edit(&edit);
        report
            .removed
            .extend(removed.iter().map(|f| format!("XMP:{f}")));
        if let Some(block) = carried {
            // Judged on the packet written: a dataset is moved when its
            // property holds its value (added now or there already), else removed.
            let values = out.xmp.as_deref().map(xmp::values).unwrap_or_default();
            let (moved, removed) = iptc::fate_in_xmp(&block, &values);
            report.moved.extend(
                moved
                    .iter()
                    .map(|(from, to)| format!("IPTC:{from} -> XMP:{to}")),
            );
            report
                .removed
                .extend(removed.iter().map(|f| format!("IPTC:{f}")));
        }
        if out.icc.is_some() && !policy.keeps(Field::Icc) {
            out.icc = None;
            report.removed.push("ICC".to_string());
        }
        crate::telemetry::record_stage(crate::telemetry::MetricStage::Metadata, started.elapsed());
        (out, report)
    }

    /// The XMP `exif:` coordinate pairs (`GPSLatitude` and `GPSLongitude`,
    /// `GPSDestLatitude` and `GPSDestLongitude`) rounded to `meters`, for the
    /// pairs the packet has whole: each half present, every copy of it plain
    /// text, the first copies a position (every copy gets its rounded value).
    /// A pair left out here is removed by the policy step.
    fn xmp_gps_coarsened(&self, meters: u32) -> Vec<(&'static str, String)> {
        let Some(packet) = self.xmp.as_deref() else {
            return Vec::new();
        };
        let mut rounded = Vec::new();
        for (lat_name, lon_name) in gps::XMP_PAIRS {
            let first = |name: &str| -> Option<String> {
                let copies: Option<Vec<String>> =
                    xmp::text_values(packet, "exif", name).into_iter().collect();
                copies?.into_iter().next()
            };
            let (Some(lat), Some(lon)) = (first(lat_name), first(lon_name)) else {
                continue;
            };
            if let Some((lat, lon)) = gps::coarsen_xmp(&lat, &lon, meters) {
                rounded.push((lat_name, lat));
                rounded.push((lon_name, lon));
            }
        }
        rounded
    }

    /// Edits the XMP packet (creating one when there is none and `add` is
    /// not empty); a packet that is not well-formed is left as it is.
    /// Returns the properties removed and added.
    fn edit_xmp(
        &mut self,
        keep: &dyn Fn(&str, &str) -> bool,
        set: &[(&str, &str, String)],
        add: &[iptc::XmpValue],
    ) -> (Vec<String>, Vec<String>) {
        let keep_nested = |_: &str, _: &str| true;
        self.apply_xmp_edit(&xmp::Edit {
            keep,
            keep_nested: &keep_nested,
            set,
            add,
        })
    }

    /// [`edit_xmp`](Metadata::edit_xmp) with every part of the edit given,
    /// what is removed from inside properties included.
    fn apply_xmp_edit(&mut self, edit: &xmp::Edit) -> (Vec<String>, Vec<String>) {
        let Some(packet) = self.xmp.as_deref() else {
            if edit.add.is_empty() {
                return (Vec::new(), Vec::new());
            }
            self.xmp = Some(xmp::packet_of(edit.add));
            let added = edit
                .add
                .iter()
                .map(|v| format!("{}:{}", v.prefix, v.name))
                .collect();
            return (Vec::new(), added);
        };
        match xmp::edit(packet, edit) {
            Some(edited) => {
                self.xmp = edited.packet;
                (edited.removed, edited.added)
            }
            None => (Vec::new(), Vec::new()),
        }
    }

    /// The metadata of a TIFF file: its IFD0 is both the image directory and
    /// the EXIF, so the EXIF block is rebuilt from the descriptive tags; XMP
    /// (tag 700) and ICC (34675) are read from their tags, and the IPTC block
    /// from the Photoshop resources of 34377 with the IIM of 33723 added
    /// when the resources hold none. What `decoded` already holds wins.
    pub(crate) fn from_tiff_file(file: &[u8], decoded: Metadata) -> Metadata {
        const XMP_TAG: u16 = 700;
        const IPTC_TAG: u16 = 33723;
        const PHOTOSHOP_TAG: u16 = 34377;
        const ICC_TAG: u16 = 34675;
        let photoshop =
            exif::tiff_tag_bytes(file, PHOTOSHOP_TAG).filter(|block| iptc::has_resources(block));
        let iim = exif::tiff_tag_bytes(file, IPTC_TAG);
        let iptc = match (photoshop, iim) {
            (Some(block), Some(iim)) => Some(iptc::with_iim(&block, &iim)),
            (Some(block), None) => Some(block),
            (None, iim) => iim.map(|iim| iptc::block_of(&iim)),
        };
        Metadata {
            exif: exif::from_tiff_file(file).or(decoded.exif),
            xmp: decoded.xmp.or_else(|| exif::tiff_tag_bytes(file, XMP_TAG)),
            icc: decoded.icc.or_else(|| exif::tiff_tag_bytes(file, ICC_TAG)),
            iptc: decoded.iptc.or(iptc),
        }
    }

    /// Normalizes an EXIF payload as found in a container to the TIFF structure.
    pub(crate) fn normalize_exif(raw: &[u8]) -> Option<Vec<u8>> {
        let body = raw.strip_prefix(EXIF_PREFIX).unwrap_or(raw);
        let is_tiff = body.starts_with(b"II*\0") || body.starts_with(b"MM\0*");
        is_tiff.then(|| body.to_vec())
    }

    /// What PNG's `Raw profile type iptc` holds for the IPTC block: the bare
    /// IIM stream when the block holds no other Photoshop resource, else the
    /// whole block (as exiftool writes it, and as
    /// [`iptc_block_of`](Metadata::iptc_block_of) reads it back).
    pub(crate) fn iptc_raw_profile(&self) -> Option<Vec<u8>> {
        iptc::raw_profile(self.iptc.as_deref()?)
    }

    /// Whether the ICC profile is one of CMYK data, which describes no
    /// decoded pixels (pixpress converts CMYK samples to RGB).
    pub(crate) fn has_cmyk_profile(&self) -> bool {
        self.icc.as_deref().is_some_and(icc::is_cmyk)
    }

    /// The IPTC block (a Photoshop resource block) for IPTC found bare:
    /// `data` is returned as is when it already is a resource block.
    pub(crate) fn iptc_block_of(data: &[u8]) -> Vec<u8> {
        if data.starts_with(b"8BIM") {
            return data.to_vec();
        }
        iptc::block_of(data)
    }
}

/// Whether a container has a native IPTC-IIM slot (JPEG APP13, PNG raw profile).
fn has_iptc_slot(format: Format) -> bool {
    matches!(format, Format::Jpeg | Format::Png)
}

#[cfg(test)]
mod tests {
    use super::iptc::resource;
    use super::*;

    #[test]
    fn an_orientation_only_block_is_well_formed_exif() {
        let block = orientation_only_exif(6);
        assert!(exif::is_well_formed(&block));
        let metadata = Metadata {
            exif: Some(block),
            ..Metadata::default()
        };
        assert_eq!(metadata.exif_orientation(), Some(6));
    }

    const PACKET: &str = r#"<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#"><rdf:Description rdf:about="" xmlns:tiff="http://ns.adobe.com/tiff/1.0/" xmlns:ex="http://ns.adobe.com/exif/1.0/" tiff:Orientation="6" ex:GPSLatitude="47,30N"><tiff:Make>Nikon</tiff:Make><ex:PixelXDimension>4000</ex:PixelXDimension><ex:GPSLongitude>19,2E</ex:GPSLongitude></rdf:Description><rdf:Description rdf:about=""><tiff:Orientation>8</tiff:Orientation></rdf:Description></rdf:RDF></x:xmpmeta>"#;

    #[test]
    fn reads_and_resets_orientation() {
        let mut m = Metadata {
            exif: Some(orientation_only_exif(6)),
            xmp: Some(PACKET.as_bytes().to_vec()),
            ..Metadata::default()
        };
        assert_eq!(m.exif_orientation(), Some(6));
        m.reset_orientation();
        assert_eq!(m.exif_orientation(), Some(1));
        let xmp = String::from_utf8(m.xmp.unwrap()).unwrap();
        assert!(xmp.contains(r#"tiff:Orientation="1""#), "{xmp}");
        assert!(
            xmp.contains("<tiff:Orientation>1</tiff:Orientation>"),
            "{xmp}"
        );
    }

    #[test]
    fn web_policy_removes_gps_from_every_block_and_sets_dimensions() {
        let m = Metadata {
            xmp: Some(PACKET.as_bytes().to_vec()),
            ..Metadata::default()
        };
        let web = MetadataPolicy::parse("web").unwrap();
        let (out, report) = m.for_output(&web, Format::WebP, 640, 480);
        let xmp = String::from_utf8(out.xmp.unwrap()).unwrap();
        assert!(!xmp.contains("GPS"), "{xmp}");
        assert!(
            xmp.contains("<ex:PixelXDimension>640</ex:PixelXDimension>"),
            "{xmp}"
        );
        assert!(xmp.contains("<tiff:Make>Nikon</tiff:Make>"), "{xmp}");
        assert_eq!(
            report.removed,
            vec!["XMP:exif:GPSLatitude", "XMP:exif:GPSLongitude"]
        );
        let strip = MetadataPolicy::parse("strip").unwrap();
        let (out, _) = m.for_output(&strip, Format::WebP, 640, 480);
        assert_eq!(out, Metadata::default());
    }

    /// A packet with positions in other namespaces, in structures and in
    /// `exif:` fields of every kind.
    const HOSTILE: &str = concat!(
        r#"<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">"#,
        r#"<rdf:Description rdf:about="" xmlns:exif="http://ns.adobe.com/exif/1.0/" "#,
        r#"xmlns:Iptc4xmpExt="http://iptc.org/std/Iptc4xmpExt/2008-02-29/" "#,
        r#"xmlns:drone-dji="http://www.dji.com/drone-dji/1.0/" xmlns:dc="http://purl.org/dc/elements/1.1/" "#,
        r#"drone-dji:GpsLongtitude="+19.0402" drone-dji:AbsoluteAltitude="+120.5" "#,
        r#"exif:GPSLatitude="47,29.8807N" exif:GPSLongitude="19,2.4141E" exif:GPSAltitude="1205/10" "#,
        r#"exif:GPSDestLatitude="47.4981" exif:GPSDestLongitude="19,2.4100E" dc:format="image/jpeg">"#,
        r#"<Iptc4xmpExt:LocationCreated rdf:parseType="Resource">"#,
        r#"<Iptc4xmpExt:City>Budapest</Iptc4xmpExt:City>"#,
        r#"<exif:GPSLatitude>47,29.8807N</exif:GPSLatitude>"#,
        r#"</Iptc4xmpExt:LocationCreated>"#,
        r#"</rdf:Description></rdf:RDF></x:xmpmeta>"#,
    );

    #[test]
    fn web_removes_positions_of_every_namespace_and_structure() {
        let m = Metadata {
            xmp: Some(HOSTILE.as_bytes().to_vec()),
            ..Metadata::default()
        };
        let web = MetadataPolicy::parse("web").unwrap();
        let (out, report) = m.for_output(&web, Format::WebP, 640, 480);
        let xmp = String::from_utf8(out.xmp.unwrap()).unwrap();
        for gone in ["GPS", "Gps", "Altitude", "29.88", "2.41", "19.04", "47.49"] {
            assert!(!xmp.contains(gone), "{gone} in {xmp}");
        }
        assert!(
            xmp.contains("<Iptc4xmpExt:City>Budapest</Iptc4xmpExt:City>"),
            "{xmp}"
        );
        assert!(xmp.contains(r#"dc:format="image/jpeg""#), "{xmp}");
        for removed in [
            "XMP:drone-dji:GpsLongtitude",
            "XMP:drone-dji:AbsoluteAltitude",
            "XMP:Iptc4xmpExt:LocationCreated/exif:GPSLatitude",
        ] {
            assert!(report.removed.iter().any(|r| r == removed), "{report:?}");
        }
        // keep keeps them all.
        let (out, report) = m.for_output(&MetadataPolicy::KEEP, Format::WebP, 640, 480);
        let xmp = String::from_utf8(out.xmp.unwrap()).unwrap();
        assert!(report.removed.is_empty(), "{report:?}");
        assert!(xmp.contains("drone-dji:GpsLongtitude") && xmp.contains("29.8807"));
    }

    #[test]
    fn gps_distance_rounds_the_exif_coordinates_and_removes_other_positions() {
        let m = Metadata {
            xmp: Some(HOSTILE.as_bytes().to_vec()),
            ..Metadata::default()
        };
        let policy = MetadataPolicy::parse("keep,gps=1km").unwrap();
        let (out, report) = m.for_output(&policy, Format::WebP, 640, 480);
        let xmp = String::from_utf8(out.xmp.unwrap()).unwrap();
        let values = xmp::values(xmp.as_bytes());
        let value = |name: &str| {
            values
                .iter()
                .find(|(p, n, _)| p == "exif" && n == name)
                .map(|(_, _, v)| v.clone())
        };
        let lat = gps::parse_xmp_coordinate(&value("GPSLatitude").unwrap()).unwrap();
        let lon = gps::parse_xmp_coordinate(&value("GPSLongitude").unwrap()).unwrap();
        let exact = 47.0 + 29.8807 / 60.0;
        assert!(
            (lat - exact).abs() > 1e-6 && (lat - exact).abs() < 0.005,
            "{lat}"
        );
        assert!((lon - (19.0 + 2.4141 / 60.0)).abs() < 0.007, "{lon}");
        assert_eq!(value("GPSAltitude").as_deref(), Some("1205/10"));
        // The destination latitude does not parse: the pair goes.
        assert_eq!(value("GPSDestLatitude"), None);
        assert_eq!(value("GPSDestLongitude"), None);
        for gone in [
            "drone-dji:Gps",
            "drone-dji:Abs",
            "29.8807",
            "2.4141",
            "Altitude=\"+120",
        ] {
            assert!(!xmp.contains(gone), "{gone} in {xmp}");
        }
        assert!(
            xmp.contains("<Iptc4xmpExt:City>Budapest</Iptc4xmpExt:City>"),
            "{xmp}"
        );
        assert_eq!(
            report.changed,
            vec!["XMP:exif:GPSLatitude", "XMP:exif:GPSLongitude"]
        );
        for removed in [
            "XMP:exif:GPSDestLatitude",
            "XMP:exif:GPSDestLongitude",
            "XMP:drone-dji:GpsLongtitude",
            "XMP:Iptc4xmpExt:LocationCreated/exif:GPSLatitude",
        ] {
            assert!(report.removed.iter().any(|r| r == removed), "{report:?}");
        }
    }

    #[test]
    fn gps_distance_removes_what_it_cannot_round_in_exif() {
        // The latitude is text, and the Exif IFD links a second GPS IFD.
        let lon: Vec<u8> = [19u32, 1, 2, 1, 2484, 100]
            .iter()
            .flat_map(|v| v.to_le_bytes())
            .collect();
        let gps_ifd = [(0x0002, 2, 8, &b"47.4980\0"[..]), (0x0004, 5, 3, &lon[..])];
        let build = |stray: u32| {
            let make = [(0x010F, 2, 6, &b"Nikon\0"[..])];
            exif::test_block(&make, &[(0x8825, 4, 1, &stray.to_le_bytes()[..])], &gps_ifd)
        };
        let stray = build(0).len() as u32;
        let mut block = build(stray);
        block.extend_from_slice(&1u16.to_le_bytes());
        block.extend_from_slice(&[2, 0, 2, 0, 4, 0, 0, 0]);
        block.extend_from_slice(b"47.5");
        block.extend_from_slice(&0u32.to_le_bytes());
        let m = Metadata {
            exif: Some(block),
            ..Metadata::default()
        };
        let policy = MetadataPolicy::parse("keep,gps=1km").unwrap();
        let (out, report) = m.for_output(&policy, Format::Jpeg, 640, 480);
        for removed in [
            "EXIF:ExifIFD:Tag0x8825",
            "EXIF:GPS:GPSLatitude",
            "EXIF:GPS:GPSLongitude",
        ] {
            assert!(report.removed.iter().any(|r| r == removed), "{report:?}");
        }
        let exif = out.exif.unwrap();
        assert_eq!(exif::fields(&exif), vec![(Ifd::Ifd0, 0x010F)]);
        assert!(!exif.windows(4).any(|w| w == b"47.4" || w == b"47.5"));
        assert!(!exif.windows(4).any(|w| w == 2484u32.to_le_bytes()));
        let (_, report) = m.for_output(&MetadataPolicy::KEEP, Format::Jpeg, 640, 480);
        assert!(report.removed.is_empty(), "{report:?}");
    }

    #[test]
    fn photoshop_copies_of_exif_and_xmp_go_with_positions() {
        let block = [
            resource(0x03ED, &[0, 72, 0, 0, 0, 1, 0, 1, 0, 72, 0, 0, 0, 1, 0, 1]),
            resource(0x0424, HOSTILE.as_bytes()),
        ]
        .concat();
        let m = Metadata {
            iptc: Some(block.clone()),
            ..Metadata::default()
        };
        let web = MetadataPolicy::parse("web").unwrap();
        let (out, report) = m.for_output(&web, Format::Jpeg, 640, 480);
        assert!(
            report
                .removed
                .iter()
                .any(|r| r == "Photoshop:Resource0x0424"),
            "{report:?}"
        );
        let kept = out.iptc.unwrap();
        assert!(kept.starts_with(b"8BIM\x03\xED") && !kept.windows(3).any(|w| w == b"GPS"));
        let with_gps = MetadataPolicy::parse("web,+gps").unwrap();
        let (out, _) = m.for_output(&with_gps, Format::Jpeg, 640, 480);
        assert_eq!(out.iptc, Some(block));
    }

    #[test]
    fn iptc_without_a_slot_is_reported_moved_or_removed_dataset_by_dataset() {
        let datasets = [
            (1, 90, "\x1b%G"),
            (2, 0, "\0\x04"),
            (2, 90, "Budapest"), // photoshop:City, already in the packet
            (2, 101, "Hungary"), // photoshop:Country, added
            (2, 95, "Pest"),     // photoshop:State, in the packet with another value
            (2, 55, "20060712"), // photoshop:DateCreated, added with the time
            (2, 60, "101010+0200"),
            (2, 230, "notes"), // DocumentNotes: no XMP property
        ]
        .map(|(record, number, data)| iptc::Dataset {
            record,
            number,
            data: data.as_bytes().to_vec(),
        });
        let block = [
            resource(0x03ED, &[0; 16]),
            iptc::block_of(&iptc::write_iim(&datasets)),
        ]
        .concat();
        let packet = concat!(
            r#"<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">"#,
            r#"<rdf:Description rdf:about="" xmlns:photoshop="http://ns.adobe.com/photoshop/1.0/">"#,
            r#"<photoshop:City>Budapest</photoshop:City><photoshop:State>Buda</photoshop:State>"#,
            r#"</rdf:Description></rdf:RDF></x:xmpmeta>"#,
        );
        let m = Metadata {
            xmp: Some(packet.as_bytes().to_vec()),
            iptc: Some(block.clone()),
            ..Metadata::default()
        };
        let (out, report) = m.for_output(&MetadataPolicy::KEEP, Format::WebP, 640, 480);
        assert_eq!(out.iptc, None);
        assert_eq!(
            report.moved,
            vec![
                "IPTC:City -> XMP:photoshop:City",
                "IPTC:Country-PrimaryLocationName -> XMP:photoshop:Country",
                "IPTC:DateCreated -> XMP:photoshop:DateCreated",
                "IPTC:TimeCreated -> XMP:photoshop:DateCreated",
            ]
        );
        assert_eq!(
            report.removed,
            vec![
                "Photoshop:Resource0x03ED",
                "IPTC:CodedCharacterSet",
                "IPTC:ApplicationRecordVersion",
                "IPTC:Province-State",
                "IPTC:2:230",
            ]
        );
        let xmp = String::from_utf8(out.xmp.unwrap()).unwrap();
        assert_eq!(xmp.matches("photoshop:City>").count(), 2, "{xmp}");
        assert!(
            xmp.contains("<photoshop:State>Buda</photoshop:State>"),
            "{xmp}"
        );
        assert!(xmp.contains("2006-07-12T10:10:10+02:00"), "{xmp}");
        // A container with an IPTC slot keeps the block as it is.
        let (out, report) = m.for_output(&MetadataPolicy::KEEP, Format::Jpeg, 640, 480);
        assert_eq!(out.iptc, Some(block));
        assert!(
            report.moved.is_empty() && report.removed.is_empty(),
            "{report:?}"
        );
    }

    #[test]
    fn a_tiff_s_photoshop_resources_are_read_with_or_without_iptc() {
        let iim = |city: &[u8]| {
            iptc::write_iim(&[iptc::Dataset {
                record: 2,
                number: 90,
                data: city.to_vec(),
            }])
        };
        let (zug, bern) = (iim(&b"Zug"[..]), iim(&b"Bern"[..]));
        let resources = [resource(0x03ED, &[0; 16]), resource(0x0425, &[7; 16])].concat();
        let own = [resources.clone(), iptc::block_of(&bern)].concat();
        let tiff = |iptc_tag: Option<&[u8]>, photoshop_tag: Option<&[u8]>| {
            let mut entries: Vec<exif::TestEntry> = vec![(0x010F, 2, 6, &b"Nikon\0"[..])];
            if let Some(bytes) = iptc_tag {
                entries.push((33723, 7, bytes.len() as u32, bytes));
            }
            if let Some(bytes) = photoshop_tag {
                entries.push((34377, 7, bytes.len() as u32, bytes));
            }
            let file = exif::test_block(&entries, &[], &[]);
            Metadata::from_tiff_file(&file, Metadata::default()).iptc
        };
        // The resources alone, the IIM alone, the two combined (the digest kept).
        assert_eq!(tiff(None, Some(&resources[..])), Some(resources.clone()));
        assert_eq!(tiff(Some(&zug[..]), None), Some(iptc::block_of(&zug)));
        let both = [resources.clone(), iptc::block_of(&zug)].concat();
        assert_eq!(tiff(Some(&zug[..]), Some(&resources[..])), Some(both));
        // IIM among the resources wins over tag 33723.
        assert_eq!(tiff(Some(&zug[..]), Some(&own[..])), Some(own.clone()));
    }

    #[test]
    fn normalizes_exif_prefix() {
        let raw = [EXIF_PREFIX, &orientation_only_exif(3)[..]].concat();
        assert_eq!(
            Metadata::normalize_exif(&raw),
            Some(orientation_only_exif(3))
        );
        assert_eq!(Metadata::normalize_exif(b"garbage"), None);
    }
}
