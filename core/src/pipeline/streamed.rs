//! The streamed path: JPEG to JPEG as a stream of rows (in strips, feeding
//! the parallel strip encoder, or with the decode overlapping the encode),
//! when nothing asked for needs the whole image.

use super::meta::output_metadata;
#[cfg(doc)]
use super::route::Route;
use super::stages::{drops_profile, plan_from_header};
use super::{Compressed, Timings};
use crate::codecs::{self, jpeg};
use crate::error::Result;
use crate::format::Format;
use crate::metadata::MetadataReport;
use crate::options::{Options, OrientationMode};
use crate::progress::{Reporter, Stage};
use std::time::Instant;

/// Images of at least this many pixels are recompressed JPEG to JPEG as a
/// stream of row strips ([`compress_streaming`]).
pub const STREAM_MIN_PIXELS: u64 = 48_000_000;
/// Images of at least this many pixels (and under [`STREAM_MIN_PIXELS`]) are
/// recompressed JPEG to JPEG with the decode overlapping the encode, when the
/// encoder writes them in one piece and the rayon pool has two threads or more.
pub const OVERLAP_MIN_PIXELS: u64 = 1_000_000;

/// JPEG to JPEG as a stream of rows, for a request [`Route::Streamed`]
/// serves, when the header shows nothing that needs the whole image (upright
/// or orientation kept, no profile conversion, not CMYK): in strips for a large image without a
/// resize (at least [`STREAM_MIN_PIXELS`]); with the decode feeding the
/// parallel strip encoder when that encoder writes the output, resized or
/// not; overlapped for a mid-sized one without a resize
/// ([`OVERLAP_MIN_PIXELS`]). `None` when the call is not streamed.
pub(super) fn compress_streaming(
    input: &[u8],
    in_format: Format,
    options: &Options,
    progress: &mut Reporter,
    started: Instant,
) -> Result<Option<Compressed>> {
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
    let compressed = Compressed {
        timings,
        ..Compressed::new(streamed.data, Format::Jpeg, streamed.size, report)
    };
    let same_content = options.resize.is_none() && options.metadata.keeps_everything();
    Ok(Some(compressed.or_input(
        input,
        in_format,
        same_content,
        options,
    )))
}
