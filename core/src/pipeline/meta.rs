//! The metadata an output is written with: the policy and the conversion's
//! semantics, the provenance record, the interceptor and the restore record,
//! the one sequence every path applies.

use crate::error::{Error, Result};
use crate::format::Format;
use crate::metadata::{Metadata, MetadataPolicy, MetadataReport, RestoreRecord};
use crate::options::Options;

/// The metadata to write into a `format` output of `width` x `height`: the
/// policy and the conversion's semantics ([`Metadata::for_output`]), then
/// the provenance record (`source` is the input, when the call had one),
/// then the interceptor; with `restore_record`, the report carries what
/// puts back everything these removed or changed.
pub(super) fn output_metadata(
    metadata: &Metadata,
    options: &Options,
    format: Format,
    width: u32,
    height: u32,
    source: Option<&[u8]>,
) -> Result<(Metadata, MetadataReport)> {
    rewritten_metadata(metadata, options, format, (width, height), source, true)
}

/// [`output_metadata`]; `pixels_changed` false keeps the EXIF thumbnail
/// (for [`rewrite_metadata`](crate::rewrite_metadata), which leaves the pixels as they are).
pub(crate) fn rewritten_metadata(
    metadata: &Metadata,
    options: &Options,
    format: Format,
    size: (u32, u32),
    source: Option<&[u8]>,
    pixels_changed: bool,
) -> Result<(Metadata, MetadataReport)> {
    let (width, height) = size;
    let (mut out, mut report) =
        metadata.for_pixels(&options.metadata, format, size, pixels_changed);
    if !pixels_changed {
        keep_orientation(metadata, &mut out, &mut report)?;
    }
    if options.provenance {
        let parameters = parameters(options, format);
        crate::metadata::add_provenance(&mut out, metadata, source, &parameters);
    }
    if let Some(interceptor) = &options.interceptor {
        out = interceptor.run(out, format, width, height, options.interceptor_timeout)?;
    }
    if options.restore_record {
        let (kept, _) = metadata.for_pixels(&MetadataPolicy::KEEP, format, size, pixels_changed);
        let record = RestoreRecord::between(&kept, &out);
        report.restore_record = (!record.is_empty()).then(|| record.to_bytes());
    }
    Ok((out, report))
}

/// Lists `ICC` as removed in `report` when decoding dropped the input's
/// profile (`dropped_icc`, see `codecs::Decoded`), which the policy step
/// never saw: a CMYK profile, which does not describe the RGB pixels.
pub(super) fn report_dropped_icc(report: &mut MetadataReport, dropped_icc: bool) {
    if dropped_icc && !report.removed.iter().any(|field| field == "ICC") {
        report.removed.push("ICC".to_string());
    }
}

/// Pixels left as they are (a lossless JPEG, a metadata rewrite) are shown
/// upright only through their Orientation tag, so a policy never removes it
/// there: a policy that drops EXIF leaves a block holding just the
/// orientation; one that keeps EXIF but removes the tag is refused.
fn keep_orientation(
    source: &Metadata,
    out: &mut Metadata,
    report: &mut MetadataReport,
) -> Result<()> {
    let Some(orientation) = source.exif_orientation().filter(|o| (2..=8).contains(o)) else {
        return Ok(());
    };
    if out.exif_orientation() == Some(orientation) {
        return Ok(());
    }
    if out.exif.is_some() {
        return Err(Error::option(
            "metadata",
            "the policy removes EXIF Orientation from pixels that are not turned (lossless or a metadata rewrite): the image would display turned; keep the tag or re-encode",
        ));
    }
    out.exif = Some(crate::metadata::orientation_only_exif(orientation));
    report
        .removed
        .retain(|field| field != "EXIF:IFD0:Orientation");
    Ok(())
}

/// The operations of `options`, in the option vocabulary (empty for none).
fn edit_parameters(options: &Options) -> String {
    let edits = &options.edits;
    let mut text = String::new();
    if let Some(r) = edits.crop {
        text += &format!(" crop={},{},{},{}", r.left, r.top, r.width, r.height);
    }
    for (key, on) in [
        ("flip", edits.flip),
        ("flop", edits.flop),
        ("flatten", edits.flatten),
    ] {
        if on {
            text += &format!(" {key}=true");
        }
    }
    if edits.rotate != 0.0 {
        text += &format!(" rotate={}", edits.rotate);
    }
    if let Some(method) = edits.grayscale {
        text += &format!(" grayscale={method:?}").to_lowercase();
    }
    if options.has_edits() {
        let c = options.background;
        text += &format!(" background=#{:02x}{:02x}{:02x}{:02x}", c.r, c.g, c.b, c.a);
    }
    text
}

/// The options that shaped an output, in the option vocabulary, for the provenance record.
fn parameters(options: &Options, format: Format) -> String {
    let mut text = format!("format={}", format.name());
    if let Some(quality) = options.quality {
        text += &format!(" quality={quality}");
    }
    if options.lossless {
        text += " lossless=true";
    }
    if let Some(effort) = options.effort {
        text += &format!(" effort={effort}");
    }
    if let Some((w, h)) = options.resize {
        let side = |v: Option<u32>| v.map_or(String::new(), |v| v.to_string());
        text += &format!(" resize={}x{} fit={:?}", side(w), side(h), options.fit).to_lowercase();
    }
    if let Some(target) = &options.target {
        text += &format!(" target={target}");
    }
    text += &edit_parameters(options);
    text + &format!(" metadata={}", options.metadata)
}
