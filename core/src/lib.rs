//! pixpress: any common image in (JPEG, PNG, WebP, AVIF, HEIC/HEIF, GIF, TIFF,
//! BMP), a smaller JPEG, PNG, WebP or AVIF out, with resize and
//! auto-orientation on the way.
//!
//! ```no_run
//! let input = std::fs::read("photo.heic")?;
//! let mut options = pixpress::Options::default();
//! options.set("format", "jpeg")?;
//! options.set("resize", "1600x1600")?;
//! let out = pixpress::compress(&input, &options)?;
//! std::fs::write("photo.jpg", &out.data)?;
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! Every face of pixpress (the CLI, the C ABI, Python, Node) parses options
//! with [`Options::set`] and maps errors from [`Error::kind`], so they share
//! one vocabulary.
//!
//! # The metadata functions, one family
//!
//! Five functions read or write metadata without re-encoding pixels; each
//! name says what it does to which side:
//!
//! | function | in | out |
//! |---|---|---|
//! | [`read_metadata`] | an encoded file | its blocks as stored (what `pixpress meta show` lists) |
//! | [`decoded_metadata`] | an encoded file | the blocks a [`decode`] would give (a CMYK profile dropped, HEIF orientation reset) |
//! | [`replace_metadata`] | a file and [`Metadata`] | the file with exactly those blocks |
//! | [`rewrite_metadata`] | a file and [`Options`] | the file as a compress's metadata rules would leave it (policy, provenance, interceptor, restore record) |
//! | [`restore_metadata`] | a file and a restore record | the file with what the record holds put back |
//!
//! [`compress`] applies the same rules as [`rewrite_metadata`] on the way
//! through; [`Metadata::diff`] compares two files' fields.

#![warn(missing_docs)]

mod analysis;
mod budget;
mod buffer_pool;
mod capabilities;
mod codecs;
mod color;
mod edits;
mod error;
mod failpoint;
mod format;
mod geometry;
mod info;
mod io;
mod metadata;
mod options;
mod orient;
mod parallel;
mod pipeline;
mod pixels;
mod plan;
mod progress;
mod quality;
mod resize;
mod session;
mod telemetry;
mod watermark;

pub use analysis::{Analysis, RatePoint};
pub use budget::{memory_budget, set_memory_budget};
pub use buffer_pool::{
    buffer_pool_limit, buffer_pool_stats, set_buffer_pool_limit, trim_buffer_pools, BufferPoolStats,
};
pub use capabilities::{capabilities, Capabilities, Library};
pub use codecs::{
    vision_tables, EncodeParams, QuantTables, Subsampling, ANNEX_K_CHROMA, ANNEX_K_LUMA,
    DEFAULT_PPD,
};
pub use edits::Edits;
pub use error::{Error, ErrorKind, Result};
pub use format::{sniff, Format};
pub use geometry::{crop, rotate, Canvas, Interpolation, Region, Rotation};
pub use info::Info;
pub use io::{restore_record_path, write_atomic, write_output};
pub use metadata::{
    Block, ExifValue, Group, Ifd, Interceptor, Metadata, MetadataDiff, MetadataEdit, MetadataField,
    MetadataInterceptor, MetadataPolicy, MetadataReport, Preset, RestoreRecord, Rule, Selector,
    MAX_INTERCEPTED_BYTES,
};
pub use options::{
    OptionValue, Options, OrientationMode, OutputFormat, WatermarkMode, DEFAULT_AUTO_FORMATS,
    DEFAULT_INTERCEPTOR_TIMEOUT, DEFAULT_MAX_PIXELS, OPTION_KEYS,
};
pub use orient::Orientation;
pub use pipeline::{Candidate, Compressed, DecodedImage};
pub use pixels::{Grayscale, Image, Layout, PixelsRef, Rgba8, Samples};
pub use plan::{render_name, write_planned_output, Plan, PlanSpec, Selection};
pub use progress::{Progress, Stage, Timings};
pub use quality::{
    parse_byte_size, promise_margin, score_images, Metric, SearchReport, Target, TuneParam,
};
pub use resize::Fit;
pub use session::{
    compress_as_batch, has_image_extension, input_hash, output_checksum, BatchProgress, Session,
    SessionSpec, SessionStatus, StatusWatch, TaskOutcome, TaskReport, DEFAULT_NAMING,
    DEFAULT_STRIP_PIXELS, IMAGE_EXTENSIONS, STATE_DIR_NAME,
};
pub use telemetry::{metrics_prometheus, stats, StageStats, StatStage, Stats, BUCKET_BOUNDS};
pub use watermark::{Watermark, WatermarkRead, MAX_WATERMARK_DATA};

use error::catch_panic;
use progress::Reporter;

/// Compresses `input` (any supported format) according to `options`.
///
/// A panic inside a codec is caught and returned as [`Error::Internal`].
pub fn compress(input: &[u8], options: &Options) -> Result<Compressed> {
    pipeline::admitted_and_counted(
        || pipeline::estimate_input(input),
        input.len(),
        || pipeline::compress(input, options, &mut Reporter::silent(), None),
    )
}

/// [`compress`], reporting each stage to `progress`; when it returns `false`
/// the call stops there with [`Error::Cancelled`].
pub fn compress_with_progress(
    input: &[u8],
    options: &Options,
    progress: &mut dyn FnMut(&Progress) -> bool,
) -> Result<Compressed> {
    pipeline::admitted_and_counted(
        || pipeline::estimate_input(input),
        input.len(),
        || pipeline::compress(input, options, &mut Reporter::new(progress), None),
    )
}

/// Encodes caller-owned 8-bit pixels to `options.format` (which must name a
/// format), resizing if asked. JPEG (gray, RGB) and WebP (RGB, RGBA) read
/// the rows in place, without a copy, when no resize is asked for.
pub fn encode(pixels: PixelsRef<'_>, metadata: &Metadata, options: &Options) -> Result<Compressed> {
    let pixel_bytes =
        u64::from(pixels.width()) * u64::from(pixels.height()) * pixels.layout().channels() as u64;
    pipeline::admitted_and_counted(
        || budget::estimate_pixels(pixel_bytes),
        0,
        || pipeline::encode(pixels, metadata, options, &mut Reporter::silent()),
    )
}

/// Decodes `input` to pixels, applying the EXIF orientation unless
/// `options.orientation` is `Keep`, then the operations and the resize the
/// options ask for ([`Edits`], `resize`; JPEG shrinks while decoding, as with
/// [`compress`]). Honors `max_pixels` and `accept_truncated`. Encoding the
/// result with the same options would apply the operations twice.
pub fn decode(input: &[u8], options: &Options) -> Result<DecodedImage> {
    catch_panic(|| pipeline::decode(input, options))
}

/// The metadata of an encoded image as stored: EXIF, XMP, IPTC and ICC, with
/// the orientation tag as written (see [`Metadata::fields`] and
/// [`Metadata::diff`] for reading and comparing). Read from the container's
/// headers without decoding pixels where the format allows it (JPEG, WebP,
/// AVIF, HEIC), so damage in the image data after the headers goes
/// unnoticed here, as in exiftool; PNG, GIF, TIFF and BMP are decoded, and
/// their blocks are those decoding gives, with the ICC profile as stored
/// (decoding drops a CMYK profile, its pixels being RGB).
pub fn read_metadata(input: &[u8]) -> Result<Metadata> {
    catch_panic(|| {
        let format = sniff(input)?;
        if let Some(metadata) = codecs::header_metadata(format, input, false) {
            return metadata;
        }
        let options = Options::default();
        let request = codecs::DecodeRequest {
            max_pixels: options.max_pixels,
            accept_truncated: options.accept_truncated,
            min_size: None,
        };
        let decoded = codecs::decode(format, input, &request)?;
        let mut metadata = decoded.metadata;
        metadata.icc = metadata.icc.or(decoded.dropped_icc);
        Ok(metadata)
    })
}

/// The metadata blocks [`decode`] gives with `orientation=keep`, read from
/// the headers as [`read_metadata`] reads them: as stored, except that a
/// CMYK JPEG's profile is dropped (its pixels decode to sRGB) and HEIF's
/// orientation is reset (libheif applies its transforms while decoding).
/// `None` for the formats whose metadata only a decode gives (PNG, GIF,
/// TIFF, BMP), so that a caller about to decode anyway decodes once.
pub fn decoded_metadata(input: &[u8]) -> Result<Option<Metadata>> {
    catch_panic(|| codecs::header_metadata(sniff(input)?, input, true).transpose())
}

/// `file` (an encoded JPEG, PNG or WebP) with its metadata blocks replaced
/// by `metadata`'s, without re-encoding pixels: every image byte is copied
/// as it is. A block `metadata` lacks is removed; what pixpress does not
/// model (JPEG COM and other APPn segments, PNG text chunks, data after
/// the image) stays. Each block must be well-formed (as for an
/// interceptor's edits).
pub fn replace_metadata(file: &[u8], metadata: &Metadata) -> Result<Vec<u8>> {
    replace_metadata_under(file, metadata, &MetadataPolicy::KEEP)
}

/// [`replace_metadata`] for an output of `policy` (`metadata` already
/// filtered by it): unless the policy keeps everything, what pixpress does
/// not model goes too, as it does from re-encoded pixels.
fn replace_metadata_under(
    file: &[u8],
    metadata: &Metadata,
    policy: &MetadataPolicy,
) -> Result<Vec<u8>> {
    catch_panic(|| {
        metadata.validate_blocks()?;
        codecs::replace_metadata(sniff(file)?, file, metadata, policy)
    })
}

/// Reads the coefficient watermark (`watermark=on`) that `key` (the
/// `watermark_key` it was made with; `None` for the public key) placed in
/// the JPEG `file`: the mark, or that there is none, or that one is there
/// but too damaged to read. Files of other formats carry none.
pub fn read_watermark(file: &[u8], key: Option<&str>) -> Result<WatermarkRead> {
    catch_panic(|| watermark::read(file, key, DEFAULT_MAX_PIXELS))
}

/// Applies `options`' metadata handling to an encoded JPEG, PNG or WebP
/// without re-encoding pixels: the `metadata` policy (with `gps=`
/// coarsening), `provenance`, the interceptor and `restore_record`, as a
/// compress would for the same output. Pixel options are ignored; the
/// orientation stays as it is, the pixels being untouched, and so does the
/// EXIF thumbnail unless the policy removes it.
pub fn rewrite_metadata(file: &[u8], options: &Options) -> Result<Compressed> {
    catch_panic(|| {
        // EXIF pixel dimensions describe the image as stored.
        let info = probe(file)?;
        let metadata = read_metadata(file)?;
        let (metadata, report) = pipeline::rewritten_metadata(
            &metadata,
            options,
            info.format,
            (info.width, info.height),
            Some(file),
            false,
        )?;
        let data = replace_metadata_under(file, &metadata, &options.metadata)?;
        Ok(untouched(data, &info, report))
    })
}

/// Puts back into `file` what a restore record (from the `restore_record`
/// option) holds, without re-encoding pixels: the metadata becomes what
/// `metadata=keep` would have written.
pub fn restore_metadata(file: &[u8], record: &[u8]) -> Result<Compressed> {
    catch_panic(|| {
        let record = RestoreRecord::from_bytes(record)?;
        let info = probe(file)?;
        let current = read_metadata(file)?;
        let data = replace_metadata(file, &record.apply(&current))?;
        Ok(untouched(data, &info, MetadataReport::default()))
    })
}

/// A file whose pixels were not re-encoded (so `info`, its input's, still
/// describes it), as a [`Compressed`].
fn untouched(data: Vec<u8>, info: &Info, metadata: MetadataReport) -> Compressed {
    Compressed::new(data, info.format, (info.width, info.height), metadata)
}

/// Reads format, dimensions, bit depth, alpha, orientation, frame count and
/// which metadata blocks are present, from headers only (no pixel decoding).
pub fn probe(input: &[u8]) -> Result<Info> {
    catch_panic(|| {
        let format = sniff(input)?;
        codecs::probe(format, input)
    })
}

/// Scores `distorted` against `reference` (both encoded images of any
/// supported format, decoded upright) with `metric`; see [`Metric`] for each
/// scale. The two must have the same displayed dimensions.
pub fn score(reference: &[u8], distorted: &[u8], metric: Metric) -> Result<f64> {
    catch_panic(|| {
        let options = Options::default();
        let a = pipeline::decode(reference, &options)?;
        let b = pipeline::decode(distorted, &options)?;
        score_images(&a.image, &b.image, metric)
    })
}

/// Encodes `input` (decoded, oriented and resized as `options` say) to each
/// format of `options.formats` at several quality settings, and losslessly to
/// PNG; scores every output with SSIMULACRA2 (or the metric of a score
/// `target`) and marks the Pareto front. The other options (effort,
/// subsampling, tables, metadata) apply to every encode.
pub fn analyze(input: &[u8], options: &Options) -> Result<Analysis> {
    catch_panic(|| analysis::analyze(input, options))
}

/// Reads `input_path`, compresses it and writes the result to `output_path`
/// atomically, with its restore record beside it when `restore_record` is
/// set ([`write_output`]): on any failure no file (and no partial file) is
/// left there.
/// An output that is the input itself (through any symlink) is refused with
/// [`Error::InvalidArgument`]: an output never replaces an input.
pub fn compress_file(
    input_path: &std::path::Path,
    output_path: &std::path::Path,
    options: &Options,
) -> Result<Compressed> {
    if plan::same_file(input_path, output_path) {
        return Err(Error::InvalidArgument(format!(
            "{} is the input; an output never replaces an input",
            output_path.display()
        )));
    }
    let input = std::fs::read(input_path).map_err(|e| Error::io(input_path, e))?;
    let out = compress(&input, options)?;
    write_output(
        output_path,
        &out.data,
        out.metadata.restore_record.as_deref(),
    )?;
    Ok(out)
}

/// Encodes an owned image (8- or 16-bit; 16-bit is kept where the format
/// can store it, PNG) to the format `options.format` names, resizing if asked.
pub fn encode_image(image: Image, metadata: &Metadata, options: &Options) -> Result<Compressed> {
    let pixel_bytes = image.pixel_count() as u64
        * image.layout.channels() as u64
        * u64::from(image.bit_depth() / 8);
    pipeline::admitted_and_counted(
        || budget::estimate_pixels(pixel_bytes),
        0,
        || pipeline::encode_image(image, metadata, options, &mut Reporter::silent()),
    )
}

/// Resamples `image` to exactly `width` x `height` with Lanczos3 (alpha
/// premultiplied while resampling; 16-bit stays 16-bit).
pub fn resize(image: &Image, width: u32, height: u32) -> Result<Image> {
    if width == 0 || height == 0 {
        return Err(Error::InvalidArgument(format!(
            "cannot resize to {width}x{height}"
        )));
    }
    catch_panic(|| resize::resize(image, (width, height), Fit::Exact))
}

/// The library version, `MAJOR.MINOR.PATCH`.
pub const VERSION: &str = env!("CARGO_PKG_VERSION");
