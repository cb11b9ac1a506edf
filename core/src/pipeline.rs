//! The compress pipeline: sniff, decode (shrinking on load), orient, resize,
//! prepare samples for the encoder, encode.

use crate::codecs::jpeg::strips::{encode_striped, StripStore};
use crate::codecs::{self, heif, jpeg, DecodeRequest};
use crate::error::{Error, Result};
use crate::format::{sniff, Format};
use crate::metadata::{Metadata, MetadataPolicy, MetadataReport, RestoreRecord};
use crate::options::{Options, OrientationMode, OutputFormat, Subsampling};
use crate::orient::Orientation;
use crate::pixels::{Image, PixelsRef};
use crate::progress::{Reporter, Stage};
use crate::quality::{self, SearchReport};
use crate::resize::{self, ResizePlan};
use std::time::{Duration, Instant};

/// Time spent in each stage of one call. Where the stages overlap (a JPEG
/// recompressed with its decode feeding the parallel strip encoder), each is
/// its own time summed over threads, and together they can exceed the call.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Timings {
    /// Sniffing, header parsing and decoding.
    pub decode: Duration,
    /// Orientation, resizing and sample conversion.
    pub transform: Duration,
    /// Encoding and metadata writing.
    pub encode: Duration,
}

/// The result of [`compress`](crate::compress).
#[derive(Debug, Clone)]
pub struct Compressed {
    /// The encoded file.
    pub data: Vec<u8>,
    /// Its format.
    pub format: Format,
    /// Width in pixels, as displayed.
    pub width: u32,
    /// Height in pixels, as displayed.
    pub height: u32,
    /// True when the input was returned unchanged because re-encoding would
    /// not have made it smaller (see the `never_larger` option).
    pub unchanged: bool,
    /// Per-stage timings.
    pub timings: Timings,
    /// What the search did, when the `target` option was set.
    pub search: Option<SearchReport>,
    /// What the metadata policy and the conversion removed or moved.
    pub metadata: MetadataReport,
    /// With `format=auto`, every format tried and how it did, in the order tried.
    pub candidates: Vec<Candidate>,
}

/// One format `format=auto` tried.
#[derive(Debug, Clone)]
pub struct Candidate {
    /// The format.
    pub format: Format,
    /// Its search report, or why it could not meet the target.
    pub result: std::result::Result<SearchReport, String>,
}

/// A decoded image with its metadata, as [`decode`](crate::decode) returns it.
#[derive(Debug, Clone)]
pub struct DecodedImage {
    /// The pixels (upright unless `orientation=keep`).
    pub image: Image,
    /// The metadata blocks (orientation reset to 1 when it was applied).
    pub metadata: Metadata,
    /// The input's format.
    pub format: Format,
}

/// The output format for an input of `input` format under `requested`.
pub(crate) fn resolve_format(requested: OutputFormat, input: Format) -> Result<Format> {
    let format = match requested {
        OutputFormat::Exact(f) => f,
        OutputFormat::Auto => {
            return Err(Error::Internal(
                "format=auto names several formats; see candidate_formats".into(),
            ))
        }
        OutputFormat::Same => match input {
            Format::Heic if !codecs::can_encode(Format::Heic) => Format::Jpeg,
            Format::Gif | Format::Tiff | Format::Bmp => Format::Png,
            other => other,
        },
    };
    if !codecs::can_encode(format) {
        return Err(Error::CodecUnavailable {
            detail: format!("this build cannot encode {format}"),
        });
    }
    Ok(format)
}

/// For JPEG input with a resize, the resize plan worked out from the header
/// (upright dimensions) and the size the decoder must deliver in stored
/// orientation, so that it can shrink while decoding.
fn plan_from_header(
    input: &[u8],
    format: Format,
    options: &Options,
) -> Result<Option<(ResizePlan, (u32, u32))>> {
    let (Some(target), Format::Jpeg) = (options.resize, format) else {
        return Ok(None);
    };
    let info = codecs::probe(format, input)?;
    let swaps = options.orientation == OrientationMode::Apply
        && Orientation::from_exif(info.orientation).swaps_dimensions();
    let (w, h) = if swaps {
        (info.height, info.width)
    } else {
        (info.width, info.height)
    };
    let Some(plan) = resize::plan(
        w,
        h,
        target,
        options.fit,
        options.enlarge,
        options.max_pixels,
    )?
    else {
        return Ok(None);
    };
    let (sw, sh) = plan.scaled;
    Ok(Some((plan, if swaps { (sh, sw) } else { (sw, sh) })))
}

/// Decodes, orients and, when `options.resize` is set, resizes (shrinking
/// JPEG while decoding where the target allows it).
pub(crate) fn decode(input: &[u8], options: &Options) -> Result<DecodedImage> {
    let format = sniff(input)?;
    let header_plan = plan_from_header(input, format, options)?;
    let request = DecodeRequest {
        max_pixels: options.max_pixels,
        accept_truncated: options.accept_truncated,
        min_size: header_plan.map(|(_, size)| size),
    };
    let decoded = codecs::decode(format, input, &request)?;
    let (image, metadata) = orient(
        decoded.image,
        decoded.metadata,
        decoded.orientation,
        options,
    );
    let image = resize_planned(image, header_plan.map(|(plan, _)| plan), options)?;
    Ok(DecodedImage {
        image,
        metadata,
        format,
    })
}

/// Resizes by `plan`, or by one worked out from the image when `None`; the
/// image as is without `options.resize`.
fn resize_planned(image: Image, plan: Option<ResizePlan>, options: &Options) -> Result<Image> {
    let plan = match (plan, options.resize) {
        (Some(plan), _) => Some(plan),
        (None, Some(target)) => resize::plan(
            image.width,
            image.height,
            target,
            options.fit,
            options.enlarge,
            options.max_pixels,
        )?,
        (None, None) => None,
    };
    match plan.filter(|p| p.output != (image.width, image.height)) {
        Some(plan) => resize::resize(&image, plan.output),
        None => Ok(image),
    }
}

fn orient(
    image: Image,
    mut metadata: Metadata,
    orientation: Orientation,
    options: &Options,
) -> (Image, Metadata) {
    match options.orientation {
        OrientationMode::Apply => {
            metadata.reset_orientation();
            (orientation.apply(image), metadata)
        }
        OrientationMode::Keep => (image, metadata),
    }
}

/// Whether the policy drops an ICC profile the pixels are in (so they must
/// be converted to sRGB before encoding).
fn drops_profile(metadata: &Metadata, options: &Options) -> bool {
    metadata.icc.is_some() && !options.metadata.keeps_icc()
}

/// Converts RGB pixels to sRGB when the policy drops their ICC profile, so
/// that colors do not shift in viewers that then assume sRGB.
fn to_srgb_if_dropped(image: &mut Image, metadata: &Metadata, options: &Options) {
    if let (true, Some(icc)) = (drops_profile(metadata, options), metadata.icc.as_deref()) {
        crate::color::rgb_to_srgb(image, icc);
    }
}

/// Converts samples to what `format`'s encoder takes: drops alpha that is
/// unused or unsupported (flattening onto the background), expands gray where
/// needed, reduces to 8 bits where needed.
pub(crate) fn prepare(image: Image, format: Format, options: &Options) -> Image {
    let layout = image.layout;
    let keep_alpha = layout.has_alpha() && codecs::keeps_alpha(format) && image.uses_alpha();
    let color = layout.is_color() || !codecs::keeps_gray(format);
    let target = if color {
        crate::pixels::Layout::Rgb
    } else {
        crate::pixels::Layout::Gray
    }
    .with_alpha(keep_alpha);
    let image = image.convert(target, options.background);
    if codecs::keeps_high_bit_depth(format) {
        image
    } else {
        image.into_u8()
    }
}

/// `strips`, when given, takes JPEG outputs it wants striped (see
/// [`encode_striped`]): a baseline JPEG whose finished strips it keeps, so
/// that an interrupted encode resumes at the next strip.
pub(crate) fn compress(
    input: &[u8],
    options: &Options,
    progress: &mut Reporter,
    strips: Option<&mut dyn StripStore>,
) -> Result<Compressed> {
    let started = Instant::now();
    progress.enter(Stage::Decode)?;
    let in_format = sniff(input)?;
    crate::failpoint::hit("panic.decode");
    let candidates = candidate_formats(options, in_format)?;
    let out_format = candidates[0];
    if options.lossless && options.format != OutputFormat::Auto && out_format == Format::Jpeg {
        let out = optimize_jpeg(input, in_format, options, started)?;
        progress.enter(Stage::Done)?;
        return Ok(out);
    }
    if strips.is_none() {
        if let Some(out) = compress_streaming(input, in_format, options, progress, started)? {
            return Ok(out);
        }
        if let Some(out) = compress_ycbcr(input, in_format, out_format, options, progress, started)?
        {
            return Ok(out);
        }
    }
    let header_plan = plan_from_header(input, in_format, options)?;
    let min_size = header_plan.map(|(_, size)| size);
    let request = DecodeRequest {
        max_pixels: options.max_pixels,
        accept_truncated: options.accept_truncated,
        min_size,
    };
    let decoded = {
        let _span = tracing::debug_span!("pixpress.decode", format = in_format.name()).entered();
        codecs::decode(in_format, input, &request)?
    };
    let mut timings = Timings {
        decode: started.elapsed(),
        ..Timings::default()
    };

    progress.enter(Stage::Transform)?;
    let transform_started = Instant::now();
    // Turned pixels are other content: the input never stands in for them.
    let turned =
        options.orientation == OrientationMode::Apply && decoded.orientation != Orientation::Normal;
    let dropped_icc = decoded.dropped_icc.is_some();
    let (mut image, metadata) = orient(
        decoded.image,
        decoded.metadata,
        decoded.orientation,
        options,
    );
    to_srgb_if_dropped(&mut image, &metadata, options);
    // Plan on the full-size upright dimensions, then resample whatever the decoder returned.
    let plan = header_plan.map(|(plan, _)| plan);
    if options.format == OutputFormat::Auto {
        timings.transform = transform_started.elapsed();
        return compress_auto(
            image,
            plan,
            Origin {
                metadata: &metadata,
                input: Some(input),
                dropped_icc,
            },
            &candidates,
            options,
            progress,
            timings,
        );
    }
    let image = {
        let _span = tracing::debug_span!("pixpress.transform").entered();
        transform(image, plan, out_format, options)?
    };
    let (metadata, mut metadata_report) = output_metadata(
        &metadata,
        options,
        out_format,
        image.width,
        image.height,
        Some(input),
    )?;
    report_dropped_icc(&mut metadata_report, dropped_icc);
    timings.transform = transform_started.elapsed();

    progress.enter(Stage::Encode)?;
    let encode_started = Instant::now();
    let _span = tracing::debug_span!("pixpress.encode", format = out_format.name()).entered();
    let striped = strips.filter(|s| {
        out_format == Format::Jpeg && options.target.is_none() && s.wants(image.width, image.height)
    });
    let (data, search) = match (striped, image.pixels_ref()) {
        (Some(store), Some(mut pixels)) => (
            encode_striped(&mut pixels, &metadata, options, store)?,
            None,
        ),
        _ => encode_prepared(out_format, &image, &metadata, options)?,
    };
    timings.encode = encode_started.elapsed();
    progress.enter(Stage::Done)?;

    let same_content = options.resize.is_none()
        && options.metadata.keeps_everything()
        && search.is_none()
        && !turned;
    Ok(Compressed {
        data,
        format: out_format,
        width: image.width,
        height: image.height,
        unchanged: false,
        timings,
        search,
        metadata: metadata_report,
        candidates: Vec::new(),
    }
    .or_input(input, in_format, same_content, options))
}

impl Compressed {
    /// A JPEG of `width` x `height` written without a search or candidates.
    fn jpeg(
        data: Vec<u8>,
        (width, height): (u32, u32),
        timings: Timings,
        metadata: MetadataReport,
    ) -> Compressed {
        Compressed {
            data,
            format: Format::Jpeg,
            width,
            height,
            unchanged: false,
            timings,
            search: None,
            metadata,
            candidates: Vec::new(),
        }
    }

    /// The input itself in place of this output when `never_larger` holds
    /// the output back: the same format and content (`same_content`), and no
    /// fewer bytes.
    fn or_input(
        mut self,
        input: &[u8],
        in_format: Format,
        same_content: bool,
        options: &Options,
    ) -> Compressed {
        if options.never_larger
            && same_content
            && self.format == in_format
            && self.data.len() >= input.len()
        {
            self.data = input.to_vec();
            self.unchanged = true;
            self.metadata = MetadataReport::default();
        }
        self
    }
}

/// Images of at least this many pixels are recompressed JPEG to JPEG as a
/// stream of row strips ([`compress_streaming`]).
pub const STREAM_MIN_PIXELS: u64 = 48_000_000;
/// Images of at least this many pixels (and under [`STREAM_MIN_PIXELS`]) are
/// recompressed JPEG to JPEG with the decode overlapping the encode, when the
/// encoder writes them in one piece and the rayon pool has two threads or more.
pub const OVERLAP_MIN_PIXELS: u64 = 1_000_000;

/// JPEG to JPEG as a stream of rows when nothing asked for needs the whole
/// image (no target or lossless optimization, upright or orientation kept,
/// no profile conversion, not CMYK): in strips for a large image without a
/// resize (at least [`STREAM_MIN_PIXELS`]); with the decode feeding the
/// parallel strip encoder when that encoder writes the output, resized or
/// not; overlapped for a mid-sized one without a resize
/// ([`OVERLAP_MIN_PIXELS`]). `None` when the call is not streamed.
fn compress_streaming(
    input: &[u8],
    in_format: Format,
    options: &Options,
    progress: &mut Reporter,
    started: Instant,
) -> Result<Option<Compressed>> {
    if in_format != Format::Jpeg
        || !matches!(
            options.format,
            OutputFormat::Same | OutputFormat::Exact(Format::Jpeg)
        )
        || options.target.is_some()
        || options.lossless
    {
        return Ok(None);
    }
    let header_plan = plan_from_header(input, in_format, options)?;
    let mut report = MetadataReport::default();
    let streamed = codecs::jpeg::stream::recompress(input, options, |header| {
        let (w, h) = header.size;
        let pixels = u64::from(w) * u64::from(h);
        let output = header_plan.map_or((w, h), |(plan, _)| plan.output);
        let output_pixels = u64::from(output.0) * u64::from(output.1);
        let resized = header_plan.is_some();
        let mode = if !resized && pixels >= STREAM_MIN_PIXELS {
            jpeg::stream::Mode::Striped
        } else if !jpeg::encodes_whole(options, output_pixels) {
            jpeg::stream::Mode::Parallel {
                output,
                min_size: header_plan.map(|(_, size)| size),
            }
        } else if !resized && pixels >= OVERLAP_MIN_PIXELS && rayon::current_num_threads() > 1 {
            jpeg::stream::Mode::Overlapped
        } else {
            return Ok(None);
        };
        let mut metadata = header.metadata();
        let upright = options.orientation == OrientationMode::Keep
            || metadata.exif_orientation().unwrap_or(1) == 1;
        if !upright || drops_profile(&metadata, options) {
            return Ok(None);
        }
        progress.enter(Stage::Encode)?;
        if options.orientation == OrientationMode::Apply {
            metadata.reset_orientation();
        }
        let (out, out_report) = output_metadata(
            &metadata,
            options,
            Format::Jpeg,
            output.0,
            output.1,
            Some(input),
        )?;
        report = out_report;
        Ok(Some((out, mode)))
    })?;
    let Some(streamed) = streamed else {
        return Ok(None);
    };
    progress.enter(Stage::Done)?;
    let timings = streamed.timings.unwrap_or(Timings {
        encode: started.elapsed(),
        ..Timings::default()
    });
    let compressed = Compressed::jpeg(streamed.data, streamed.size, timings, report);
    let same_content = options.resize.is_none() && options.metadata.keeps_everything();
    Ok(Some(compressed.or_input(
        input,
        in_format,
        same_content,
        options,
    )))
}

/// HEIC or AVIF to JPEG without the round trip through RGB: libheif's
/// YCbCr 4:2:0 planes go to the JPEG encoder as they are
/// ([`jpeg::encode_ycbcr420`]), when nothing asked for needs pixels (no
/// resize, target or profile conversion; 4:2:0 output; the encoder writes in
/// one piece) and the planes are what JPEG codes ([`heif::decode_ycbcr420`]).
/// `None` when the call takes the pixel path.
fn compress_ycbcr(
    input: &[u8],
    in_format: Format,
    out_format: Format,
    options: &Options,
    progress: &mut Reporter,
    started: Instant,
) -> Result<Option<Compressed>> {
    if !matches!(in_format, Format::Heic | Format::Avif)
        || options.format != OutputFormat::Exact(Format::Jpeg)
        || out_format != Format::Jpeg
        || options.resize.is_some()
        || options.target.is_some()
        || options.lossless
        || options.subsampling.is_some_and(|s| s != Subsampling::S420)
    {
        return Ok(None);
    }
    let accepts = |width: u32, height: u32, metadata: &Metadata| {
        jpeg::encodes_whole(options, u64::from(width) * u64::from(height))
            && !drops_profile(metadata, options)
    };
    let Some(decoded) = heif::decode_ycbcr420(in_format, input, options.max_pixels, accepts)?
    else {
        return Ok(None);
    };
    let decode = started.elapsed();
    progress.enter(Stage::Encode)?;
    let planes = decoded.planes();
    let (width, height) = (planes.width, planes.height);
    let (metadata, report) = output_metadata(
        &decoded.metadata,
        options,
        Format::Jpeg,
        width,
        height,
        Some(input),
    )?;
    let data = jpeg::encode_ycbcr420(&planes, &metadata, options)?;
    progress.enter(Stage::Done)?;
    let timings = Timings {
        decode,
        encode: started.elapsed() - decode,
        ..Timings::default()
    };
    Ok(Some(Compressed::jpeg(
        data,
        (width, height),
        timings,
        report,
    )))
}

/// The metadata to write into a `format` output of `width` x `height`: the
/// policy and the conversion's semantics ([`Metadata::for_output`]), then
/// the provenance record (`source` is the input, when the call had one),
/// then the interceptor; with `restore_record`, the report carries what
/// puts back everything these removed or changed.
pub(crate) fn output_metadata(
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
fn report_dropped_icc(report: &mut MetadataReport, dropped_icc: bool) {
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
    text + &format!(" metadata={}", options.metadata)
}

/// The formats a compress may write: the one `options.format` resolves to
/// (`in_format` standing for `same`), or for `auto` those of
/// `options.formats` this build can encode.
fn candidate_formats(options: &Options, in_format: Format) -> Result<Vec<Format>> {
    if options.format != OutputFormat::Auto {
        return Ok(vec![resolve_format(options.format, in_format)?]);
    }
    let formats: Vec<Format> = options
        .formats
        .iter()
        .copied()
        .filter(|f| codecs::can_encode(*f))
        .collect();
    if formats.is_empty() {
        return Err(Error::CodecUnavailable {
            detail: format!(
                "format=auto: this build encodes none of {}",
                options
                    .formats
                    .iter()
                    .map(|f| f.to_string())
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        });
    }
    Ok(formats)
}

/// The `format=auto` end of a compress or encode, in its transform stage:
/// resizes (by `plan`, or by one worked out from the image), then keeps the
/// best of the candidates ([`encode_auto`]), adding to `timings`.
fn compress_auto(
    image: Image,
    plan: Option<ResizePlan>,
    origin: Origin,
    candidates: &[Format],
    options: &Options,
    progress: &mut Reporter,
    mut timings: Timings,
) -> Result<Compressed> {
    let started = Instant::now();
    let image = resize_planned(image, plan, options)?;
    timings.transform += started.elapsed();
    progress.enter(Stage::Encode)?;
    let encode_started = Instant::now();
    let mut out = encode_auto(image, origin, candidates, options)?;
    timings.encode = encode_started.elapsed();
    out.timings = timings;
    progress.enter(Stage::Done)?;
    Ok(out)
}

/// Where an image came from: its metadata, the input bytes when the call
/// had them (for the provenance record), and whether decoding dropped the
/// input's ICC profile (for the report).
#[derive(Clone, Copy)]
struct Origin<'a> {
    metadata: &'a Metadata,
    input: Option<&'a [u8]>,
    dropped_icc: bool,
}

/// The target `format=auto` meets when the options give none.
const AUTO_TARGET: quality::Target = quality::Target::Score {
    metric: quality::Metric::Ssimulacra2,
    min: 80.0,
};

/// `format=auto`: searches each candidate format for the target and keeps
/// the smallest file that meets it (for a size target, the best-scoring file
/// within it). Formats that would flatten an alpha channel the image uses
/// are passed over while another remains.
fn encode_auto(
    image: Image,
    origin: Origin,
    candidates: &[Format],
    options: &Options,
) -> Result<Compressed> {
    let mut options = options.clone();
    options.target.get_or_insert(AUTO_TARGET);
    let uses_alpha = image.layout.has_alpha() && image.uses_alpha();
    let keeps_alpha: Vec<Format> = candidates
        .iter()
        .copied()
        .filter(|f| codecs::keeps_alpha(*f))
        .collect();
    let candidates = if uses_alpha && !keeps_alpha.is_empty() {
        &keeps_alpha[..]
    } else {
        candidates
    };
    let mut tried = Vec::with_capacity(candidates.len());
    let mut best: Option<Compressed> = None;
    let mut last_error = None;
    for &format in candidates {
        let prepared = prepare(image.clone(), format, &options);
        let (metadata, mut metadata_report) = output_metadata(
            origin.metadata,
            &options,
            format,
            prepared.width,
            prepared.height,
            origin.input,
        )?;
        report_dropped_icc(&mut metadata_report, origin.dropped_icc);
        match encode_prepared(format, &prepared, &metadata, &options) {
            Ok((data, Some(search))) => {
                tried.push(Candidate {
                    format,
                    result: Ok(search.clone()),
                });
                let held = best.as_ref().and_then(|b| b.search.as_ref());
                if held.map_or(true, |held| search.beats(held)) {
                    best = Some(Compressed {
                        data,
                        format,
                        width: prepared.width,
                        height: prepared.height,
                        unchanged: false,
                        timings: Timings::default(),
                        search: Some(search),
                        metadata: metadata_report,
                        candidates: Vec::new(),
                    });
                }
            }
            Ok((_, None)) => unreachable!("auto always sets a target"),
            Err(e) if e.kind() == crate::error::ErrorKind::TargetUnreachable => {
                tried.push(Candidate {
                    format,
                    result: Err(e.to_string()),
                });
                last_error = Some(e);
            }
            Err(e) => return Err(e),
        }
    }
    match best {
        Some(mut out) => {
            out.candidates = tried;
            Ok(out)
        }
        None => Err(last_error.expect("at least one candidate was tried")),
    }
}

/// Encodes prepared pixels, searching for the setting that meets
/// `options.target` when one is set.
fn encode_prepared(
    format: Format,
    image: &Image,
    metadata: &Metadata,
    options: &Options,
) -> Result<(Vec<u8>, Option<SearchReport>)> {
    match options.target {
        Some(target) => {
            let started = Instant::now();
            let _span = tracing::debug_span!("pixpress.search", format = format.name()).entered();
            let (data, report) = quality::encode_tuned(image, metadata, format, options, target)?;
            crate::telemetry::record_stage(
                crate::telemetry::MetricStage::Search,
                started.elapsed(),
            );
            Ok((data, Some(report)))
        }
        None => Ok((codecs::encode(format, image, metadata, options)?, None)),
    }
}

/// Resizes (by `plan`, or by one worked out from the image when `None`) and
/// converts the samples to what `out_format`'s encoder takes.
fn transform(
    image: Image,
    plan: Option<ResizePlan>,
    out_format: Format,
    options: &Options,
) -> Result<Image> {
    let image = resize_planned(image, plan, options)?;
    Ok(prepare(image, out_format, options))
}

/// Encodes caller-owned pixels. JPEG (gray, RGB) and WebP (RGB, RGBA) read
/// the rows in place when no resize is asked for; other cases work on a copy.
pub(crate) fn encode(
    pixels: PixelsRef,
    metadata: &Metadata,
    options: &Options,
    progress: &mut Reporter,
) -> Result<Compressed> {
    if options.format == OutputFormat::Auto {
        return encode_image(pixels.to_image(), metadata, options, progress);
    }
    let format = explicit_format(options)?;
    let mut timings = Timings::default();
    progress.enter(Stage::Transform)?;
    let started = Instant::now();
    let in_place =
        options.resize.is_none() && options.target.is_none() && !drops_profile(metadata, options);
    let (data, width, height, report) = if in_place
        && codecs::reads_in_place(format, pixels.layout())
    {
        progress.enter(Stage::Encode)?;
        let (width, height) = (pixels.width(), pixels.height());
        let (metadata, report) = output_metadata(metadata, options, format, width, height, None)?;
        let data = codecs::encode_in_place(format, &pixels, &metadata, options)?;
        (data, width, height, report)
    } else {
        return encode_image(pixels.to_image(), metadata, options, progress);
    };
    timings.encode = started.elapsed();
    progress.enter(Stage::Done)?;
    Ok(Compressed {
        data,
        format,
        width,
        height,
        unchanged: false,
        timings,
        search: None,
        metadata: report,
        candidates: Vec::new(),
    })
}

/// Encodes an owned image (8- or 16-bit) to the format `options.format` names,
/// resizing if asked.
pub(crate) fn encode_image(
    mut image: Image,
    metadata: &Metadata,
    options: &Options,
    progress: &mut Reporter,
) -> Result<Compressed> {
    to_srgb_if_dropped(&mut image, metadata, options);
    if options.format == OutputFormat::Auto {
        progress.enter(Stage::Transform)?;
        // With `auto` the input format stands for nothing: any will do.
        let candidates = candidate_formats(options, Format::Png)?;
        return compress_auto(
            image,
            None,
            Origin {
                metadata,
                input: None,
                dropped_icc: false,
            },
            &candidates,
            options,
            progress,
            Timings::default(),
        );
    }
    let format = explicit_format(options)?;
    progress.enter(Stage::Transform)?;
    let started = Instant::now();
    let image = transform(image, None, format, options)?;
    let (metadata, metadata_report) =
        output_metadata(metadata, options, format, image.width, image.height, None)?;
    let metadata = &metadata;
    let mut timings = Timings {
        transform: started.elapsed(),
        ..Timings::default()
    };
    progress.enter(Stage::Encode)?;
    let encode_started = Instant::now();
    let (data, search) = encode_prepared(format, &image, metadata, options)?;
    timings.encode = encode_started.elapsed();
    progress.enter(Stage::Done)?;
    Ok(Compressed {
        data,
        format,
        width: image.width,
        height: image.height,
        unchanged: false,
        timings,
        search,
        metadata: metadata_report,
        candidates: Vec::new(),
    })
}

/// The output format `options` names; `same` is refused, there being no input format.
fn explicit_format(options: &Options) -> Result<Format> {
    let OutputFormat::Exact(format) = options.format else {
        return Err(Error::option(
            "format",
            "encoding pixels needs an explicit output format, not `same`",
        ));
    };
    resolve_format(options.format, format)
}

fn optimize_jpeg(
    input: &[u8],
    in_format: Format,
    options: &Options,
    started: Instant,
) -> Result<Compressed> {
    if in_format != Format::Jpeg {
        return Err(Error::option(
            "lossless",
            format!("lossless JPEG output needs JPEG input, not {in_format}"),
        ));
    }
    if options.resize.is_some() {
        return Err(Error::option(
            "lossless",
            "lossless JPEG optimization cannot resize; drop `resize` or `lossless`",
        ));
    }
    let info = codecs::probe(in_format, input)?;
    let keep = options.metadata.keeps_everything();
    let data = jpeg::optimize_lossless(input, options.progressive, keep, options.max_pixels)?;
    // The same metadata rules as every other path (policy, provenance,
    // interceptor, restore record), applied as `rewrite_metadata` does: the
    // pixels are not turned, so the orientation stays.
    let untouched =
        keep && options.interceptor.is_none() && !options.provenance && !options.restore_record;
    let (data, report) = if untouched {
        (data, MetadataReport::default())
    } else {
        let (metadata, report) = rewritten_metadata(
            &crate::read_metadata(input)?,
            options,
            Format::Jpeg,
            (info.width, info.height),
            Some(input),
            false,
        )?;
        (crate::replace_metadata(&data, &metadata)?, report)
    };
    let timings = Timings {
        encode: started.elapsed(),
        ..Timings::default()
    };
    Ok(Compressed {
        data,
        format: Format::Jpeg,
        width: info.width,
        height: info.height,
        unchanged: false,
        timings,
        search: None,
        metadata: report,
        candidates: Vec::new(),
    }
    .or_input(input, in_format, untouched, options))
}
