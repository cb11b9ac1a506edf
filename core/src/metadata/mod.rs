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
pub use exif::{ExifValue, Ifd};
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

    /// The entries of one IFD of the EXIF block in stored order, each with
    /// its typed value, pointer tags included: what Pillow's
    /// `Image.getexif()` lists for IFD0 and `get_ifd` for the others. Empty
    /// without EXIF or without that IFD.
    pub fn exif_entries(&self, ifd: Ifd) -> Vec<(u16, ExifValue)> {
        self.exif
            .as_deref()
            .map_or_else(Vec::new, |exif| exif::typed_entries(exif, ifd))
    }

    /// Sets the EXIF Orientation to `value` (1-8) when the block holds the
    /// tag, as Pillow's `exif_transpose` does; XMP is left as it is (see
    /// [`reset_orientation`](Metadata::reset_orientation) for both).
    pub fn set_exif_orientation(&mut self, value: u16) {
        if let Some(exif) = self.exif.as_mut() {
            exif::set_uint(exif, Ifd::Ifd0, ORIENTATION_TAG, u32::from(value));
        }
    }

    /// Records that the pixels are now upright: EXIF and XMP orientation become 1.
    pub fn reset_orientation(&mut self) {
        self.set_exif_orientation(1);
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
        crate::telemetry::record_stage(crate::telemetry::StatStage::Metadata, started.elapsed());
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
mod tests;
