//! The compress pipeline: sniff, decode (shrinking on load), orient, resize,
//! prepare samples for the encoder, encode.
//!
//! This root holds the result types and [`compress`], which takes the one
//! path [`route`] chooses from what the request needs: lossless JPEG recompression ([`lossless`]), JPEG streamed
//! as rows ([`streamed`]), HEIF planes to JPEG ([`heif_planes`]), animations
//! frame by frame ([`animated`]), and the
//! general path: the stages ([`stages`]), the output metadata ([`meta`]),
//! `format=auto` ([`auto`]), the encode ([`encoding`]), striped for a session
//! that asks ([`striped`]).

mod admission;
mod animated;
mod auto;
mod encoding;
mod heif_planes;
mod lossless;
mod meta;
mod route;
mod stages;
mod streamed;
mod striped;
mod watermarking;

use crate::codecs::jpeg::strips::StripStore;
use crate::codecs::{self, DecodeRequest};
use crate::error::{Error, Result};
use crate::format::{sniff, Format};
use crate::metadata::{Metadata, MetadataReport};
use crate::options::{Options, OrientationMode, OutputFormat};
use crate::orient::Orientation;
use crate::pixels::Image;
use crate::progress::{Reporter, Stage, Timings};
use crate::quality::SearchReport;
pub(crate) use admission::{admitted_and_counted, estimate_input};
use animated::compress_animated;
use auto::{compress_auto, Origin};
pub(crate) use encoding::{encode, encode_image};
use heif_planes::compress_ycbcr;
use lossless::optimize_jpeg;
pub(crate) use meta::rewritten_metadata;
use meta::{output_metadata, report_dropped_icc};
use route::{Needs, Route};
pub(crate) use stages::{decode, prepare};
use stages::{orient, plan_from_header, to_srgb_where_needed, transform};
use std::time::Instant;
use streamed::compress_streaming;
use striped::encode_output;

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
    /// Frames of the input in the output: above 1 for an animated WebP
    /// (libwebp may merge a frame identical to the one before into it).
    pub frames: u32,
    /// Frames of an animated input not written: the output format cannot
    /// animate (only WebP can, from GIF or WebP), `pages` asked for fewer,
    /// or `format=auto` chose from still images; for HEIF and AVIF, the
    /// top-level images besides the primary one.
    pub frames_dropped: u32,
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

/// Compresses `input` as `options` say, by the path [`route`] chooses, and
/// marks the output when `watermark` asks ([`watermarking`]).
///
/// `strips`, when given, takes JPEG outputs it wants striped (see
/// [`encode_striped`](crate::codecs::jpeg::strips::encode_striped)): a
/// baseline JPEG whose finished strips it keeps, so that an interrupted
/// encode resumes at the next strip.
pub(crate) fn compress(
    input: &[u8],
    options: &Options,
    progress: &mut Reporter,
    strips: Option<&mut dyn StripStore>,
) -> Result<Compressed> {
    let out = compress_by_route(input, options, progress, strips)?;
    watermarking::mark(out, input, options)
}

/// [`compress`] without the watermark.
fn compress_by_route(
    input: &[u8],
    options: &Options,
    progress: &mut Reporter,
    strips: Option<&mut dyn StripStore>,
) -> Result<Compressed> {
    let started = Instant::now();
    progress.enter(Stage::Decode)?;
    let in_format = sniff(input)?;
    crate::failpoint::hit("panic.decode");
    crate::failpoint::hit("sleep.decode");
    let candidates = candidate_formats(options, in_format)?;
    let out_format = candidates[0];
    let frames = codecs::frame_count(in_format, input);
    let needs = Needs::of(options, (in_format, frames), out_format, strips.is_some());
    let served = match needs.route() {
        Route::Animated => Some(compress_animated(
            (input, in_format, frames),
            options,
            progress,
            started,
        )?),
        Route::Lossless => {
            let out = optimize_jpeg(input, in_format, options, started)?;
            progress.enter(Stage::Done)?;
            Some(out)
        }
        Route::Streamed => compress_streaming(input, in_format, options, progress, started)?,
        Route::HeifPlanes => compress_ycbcr(input, in_format, options, progress, started)?,
        Route::Pixels => None,
    };
    if let Some(out) = served {
        return Ok(out.with_input_frames(frames));
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
    let mut dropped_icc = decoded.dropped_icc.is_some();
    let (mut image, mut metadata) = orient(
        decoded.image,
        decoded.metadata,
        decoded.orientation,
        options,
    );
    dropped_icc |= to_srgb_where_needed(&mut image, &mut metadata, options);
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
        )
        .map(|out| out.with_input_frames(frames));
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
    let (data, search) = encode_output(strips, out_format, &image, &metadata, options)?;
    timings.encode = encode_started.elapsed();
    progress.enter(Stage::Done)?;

    // A first frame is not the animation it came from.
    let same_content = frames == 1
        && options.resize.is_none()
        && !options.has_edits()
        && options.metadata.keeps_everything()
        && search.is_none()
        && !turned;
    Ok(Compressed {
        timings,
        search,
        ..Compressed::new(
            data,
            out_format,
            (image.width, image.height),
            metadata_report,
        )
    }
    .or_input(input, in_format, same_content, options)
    .with_input_frames(frames))
}

impl Compressed {
    /// An output of `format`, `width` x `height`, with its metadata report;
    /// no timings, search or candidates (struct update sets those).
    pub(crate) fn new(
        data: Vec<u8>,
        format: Format,
        (width, height): (u32, u32),
        metadata: MetadataReport,
    ) -> Compressed {
        Compressed {
            data,
            format,
            width,
            height,
            unchanged: false,
            timings: Timings::default(),
            search: None,
            metadata,
            candidates: Vec::new(),
            frames: 1,
            frames_dropped: 0,
        }
    }

    /// This output with the frames of an input of `frames` it did not write
    /// counted in `frames_dropped`.
    fn with_input_frames(mut self, frames: u32) -> Compressed {
        self.frames_dropped = frames.saturating_sub(self.frames);
        self
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
