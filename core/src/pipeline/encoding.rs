//! Encoding: prepared pixels, with the search for a target when one is set
//! ([`encode_prepared`]), and the entry points for pixels the caller gives
//! ([`encode`], [`encode_image`]).

use super::auto::{compress_auto, Origin};
use super::meta::output_metadata;
use super::stages::{drops_profile, to_srgb_where_needed, transform};
use super::{candidate_formats, resolve_format, Compressed, Timings};
use crate::codecs;
use crate::error::{Error, Result};
use crate::format::Format;
use crate::metadata::Metadata;
use crate::options::{Options, OutputFormat};
use crate::pixels::{Image, PixelsRef};
use crate::progress::{Reporter, Stage};
use crate::quality::{self, SearchReport};
use std::time::Instant;

/// Encodes prepared pixels, searching for the setting that meets
/// `options.target` when one is set.
pub(super) fn encode_prepared(
    format: Format,
    image: &Image,
    metadata: &Metadata,
    options: &Options,
) -> Result<(Vec<u8>, Option<SearchReport>)> {
    match options.target {
        Some(target) => {
            let started = Instant::now();
            let _span = tracing::debug_span!("pixpress.search", format = format.name()).entered();
            let (data, report) = quality::encode_tuned(
                image,
                metadata,
                format,
                &options.encode_params(),
                &options.tune,
                target,
            )?;
            crate::telemetry::record_stage(crate::telemetry::StatStage::Search, started.elapsed());
            Ok((data, Some(report)))
        }
        None => Ok((
            codecs::encode(format, image, metadata, &options.encode_params())?,
            None,
        )),
    }
}

/// Encodes caller-owned pixels. JPEG (gray, RGB) and WebP (RGB, RGBA) read
/// the rows in place when no resize is asked for; other cases work on a copy.
pub(crate) fn encode(
    pixels: PixelsRef,
    metadata: &Metadata,
    options: &Options,
    progress: &mut Reporter,
) -> Result<Compressed> {
    super::watermarking::refuse_for_pixels(options)?;
    if options.format == OutputFormat::Auto {
        return encode_image(pixels.to_image(), metadata, options, progress);
    }
    let format = explicit_format(options)?;
    let mut timings = Timings::default();
    progress.enter(Stage::Transform)?;
    let started = Instant::now();
    let in_place = options.resize.is_none()
        && !options.has_edits()
        && options.target.is_none()
        && !drops_profile(metadata, options);
    let (data, width, height, report) = if in_place
        && codecs::reads_in_place(format, pixels.layout())
    {
        progress.enter(Stage::Encode)?;
        let (width, height) = (pixels.width(), pixels.height());
        let (metadata, report) = output_metadata(metadata, options, format, width, height, None)?;
        let data = codecs::encode_in_place(format, &pixels, &metadata, &options.encode_params())?;
        (data, width, height, report)
    } else {
        return encode_image(pixels.to_image(), metadata, options, progress);
    };
    timings.encode = started.elapsed();
    progress.enter(Stage::Done)?;
    Ok(Compressed {
        timings,
        ..Compressed::new(data, format, (width, height), report)
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
    super::watermarking::refuse_for_pixels(options)?;
    let mut metadata = std::borrow::Cow::Borrowed(metadata);
    if options.edits.grayscale.is_some() || drops_profile(&metadata, options) {
        to_srgb_where_needed(&mut image, metadata.to_mut(), options);
    }
    let metadata = metadata.as_ref();
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
        timings,
        search,
        ..Compressed::new(data, format, (image.width, image.height), metadata_report)
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
