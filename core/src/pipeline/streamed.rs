//! The streamed path: JPEG to JPEG as a stream of rows, when nothing asked
//! for needs the whole image. From the header ([`jpeg::stream::Header`]) it
//! chooses a [`Mode`]: the codec's striped or overlapped recompression, or
//! the decode feeding the parallel strip encoder, scheduled here: as soon as
//! the rows a strip needs are decoded, the strip is resized and quantized on
//! another thread of the rayon pool while this one decodes on.

use super::meta::output_metadata;
#[cfg(doc)]
use super::route::Route;
use super::stages::{drops_profile, plan_from_header};
use super::{Compressed, Timings};
use crate::codecs::jpeg::stream::{Header, RowReader};
use crate::codecs::{jpeg, EncodeParams};
use crate::error::Result;
use crate::format::Format;
use crate::metadata::{Metadata, MetadataReport};
use crate::options::{Options, OrientationMode};
use crate::pixels::{Layout, PixelsRef};
use crate::progress::{Reporter, Stage};
use crate::resize::Fit;
use std::time::{Duration, Instant};

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
    let streamed = recompress(input, options, |header| {
        let (w, h) = header.source.size;
        let pixels = u64::from(w) * u64::from(h);
        let output = header_plan.map_or((w, h), |(plan, _)| plan.output);
        crate::codecs::check_output_size(Format::Jpeg, output.0, output.1)?;
        let output_pixels = u64::from(output.0) * u64::from(output.1);
        let resized = header_plan.is_some();
        let mode = if !resized && pixels >= STREAM_MIN_PIXELS {
            Mode::Striped
        } else if !jpeg::encodes_whole(&options.encode_params(), output_pixels) {
            Mode::Parallel {
                output,
                min_size: header_plan.map(|(_, size)| size),
                fit: options.fit,
            }
        } else if !resized && pixels >= OVERLAP_MIN_PIXELS && rayon::current_num_threads() > 1 {
            Mode::Overlapped
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

/// How a streamed recompression runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Mode {
    /// Strip by strip through the striped encoder: two passes over the
    /// input, never the whole image, a baseline file.
    Striped,
    /// The decode on a thread of its own feeding the whole-image encoder: the
    /// whole-image path's file, decode and encode on two cores at once.
    Overlapped,
    /// The decode on this thread, each strip of the output resized (when
    /// `output` is not the decoded size) and quantized on the rayon pool as
    /// soon as its rows are decoded, then gathered into the parallel strip
    /// encoder's file. `min_size` is the size the decoder may shrink to
    /// (libjpeg's DCT scaling), as a whole-image decode would.
    Parallel {
        /// The output's width and height.
        output: (u32, u32),
        /// The smallest size the decoder may deliver, when it may shrink.
        min_size: Option<(u32, u32)>,
        /// How the resize box is filled (`cover` crops the source).
        fit: Fit,
    },
}

/// A streamed file.
#[derive(Debug)]
pub(super) struct Streamed {
    /// The file.
    pub(super) data: Vec<u8>,
    /// Its width and height.
    pub(super) size: (u32, u32),
    /// Each stage's own time, when the stages overlapped ([`Mode::Parallel`]).
    pub(super) timings: Option<Timings>,
}

/// Recompresses the JPEG `input` as a stream with `options`. `plan` sees the
/// header and returns the metadata to write and the mode, or `None` when the
/// file should not be streamed (then nothing is decoded and `Ok(None)` is
/// returned). CMYK files are not streamed.
pub(super) fn recompress(
    input: &[u8],
    options: &Options,
    plan: impl FnOnce(&Header) -> Result<Option<(Metadata, Mode)>>,
) -> Result<Option<Streamed>> {
    let strict = !options.accept_truncated;
    let Some(header) = jpeg::stream::read_header(input, strict, options.max_pixels)? else {
        return Ok(None);
    };
    let Some((metadata, mode)) = plan(&header)? else {
        return Ok(None);
    };
    let params = options.encode_params();
    let (data, size, timings) = match mode {
        Mode::Striped => {
            let data = jpeg::stream::recompress_striped(&header, &metadata, &params)?;
            (data, header.source.size, None)
        }
        Mode::Overlapped => {
            let data = jpeg::stream::recompress_overlapped(&header, &metadata, &params)?;
            (data, header.source.size, None)
        }
        Mode::Parallel {
            output,
            min_size,
            fit,
        } => {
            let (data, timings) = parallel(&header, (output, min_size, fit), &metadata, &params)?;
            (data, output, Some(timings))
        }
    };
    Ok(Some(Streamed {
        data,
        size,
        timings,
    }))
}

/// Strips waiting for another thread, per other thread of the pool, at
/// most: beyond that the decoding thread encodes the strip itself, which
/// bounds the rows held and keeps both threads busy when the encode is the
/// slower side.
const PARALLEL_DEPTH: usize = 2;

/// [`Mode::Parallel`]: decodes the file of `header` (shrinking towards `min_size`) on
/// this thread and hands each strip of the `output`-sized file, with the
/// decoded rows it needs, to the rayon pool as soon as those rows exist.
/// Returns the file and each stage's own time (decode: the decoder's; the
/// transform: the strips' resizes, summed over threads; encode: the strips'
/// quantization, summed, and the final write).
fn parallel(
    header: &Header,
    (output, min_size, fit): ((u32, u32), Option<(u32, u32)>, Fit),
    metadata: &Metadata,
    params: &EncodeParams,
) -> Result<(Vec<u8>, Timings)> {
    use std::sync::atomic::{AtomicUsize, Ordering};
    let source = header.source;
    let layout = jpeg::stream::layout_of(source.gray);
    let pending = AtomicUsize::new(0);
    let failure = std::sync::Mutex::new(None);
    let clocks = StripClocks::default();
    let mut decode_time = Duration::ZERO;
    let mut filled = None;
    let data = crate::parallel::run(|| {
        let depth = PARALLEL_DEPTH * (rayon::current_num_threads() - 1);
        jpeg::strips::gathered(
            (output.0, output.1, source.gray),
            metadata,
            params,
            |strips| {
                let (pending, failure, clocks) = (&pending, &failure, &clocks);
                let decode_time = &mut decode_time;
                let decoded = rayon::scope(|scope| {
                    let mut reader = RowReader::start(source, min_size)?;
                    let decoded = reader.size();
                    let job = StripJob {
                        strips,
                        bands: (decoded != output)
                            .then(|| crate::resize::Bands::new(decoded, output, layout, fit)),
                        output,
                        layout,
                        clocks,
                    };
                    for index in 0..strips.layout.count {
                        let (start, end) = job.source_rows(index);
                        let rows = reader.rows_between((start, end))?;
                        if index + 1 < strips.layout.count {
                            reader.keep(&rows, (start, end), job.source_rows(index + 1).0);
                        }
                        let record = move |result: Result<()>| {
                            if let Err(e) = result {
                                failure.lock().expect("no panic holds it").get_or_insert(e);
                            }
                        };
                        if pending.load(Ordering::Relaxed) < depth {
                            pending.fetch_add(1, Ordering::Relaxed);
                            scope.spawn(move |_| {
                                record(job.run(index, rows, start));
                                pending.fetch_sub(1, Ordering::Relaxed);
                            });
                        } else {
                            record(job.run(index, rows, start));
                        }
                    }
                    *decode_time = reader.decode_time;
                    reader.finish()
                });
                filled = Some(Instant::now());
                decoded?;
                match failure.lock().expect("no panic holds it").take() {
                    Some(e) => Err(e),
                    None => Ok(()),
                }
            },
        )
    })?;
    let write_time = filled.map_or(Duration::ZERO, |at| at.elapsed());
    Ok((
        data,
        Timings {
            decode: decode_time,
            transform: clocks.resize.total(),
            encode: clocks.quantize.total() + write_time,
        },
    ))
}

/// Time spent by the strips of [`parallel`], summed over threads.
#[derive(Default)]
struct StripClocks {
    resize: Clock,
    quantize: Clock,
}

/// A running total of time, added to from any thread.
#[derive(Default)]
struct Clock(std::sync::atomic::AtomicU64);

impl Clock {
    /// Runs `work`, adding its time to the total.
    fn time<T>(&self, work: impl FnOnce() -> T) -> T {
        let started = Instant::now();
        let out = work();
        let nanos = started.elapsed().as_nanos() as u64;
        self.0
            .fetch_add(nanos, std::sync::atomic::Ordering::Relaxed);
        out
    }

    /// The total so far.
    fn total(&self) -> Duration {
        Duration::from_nanos(self.0.load(std::sync::atomic::Ordering::Relaxed))
    }
}

/// What each strip of [`parallel`] does with its decoded rows, on whichever
/// thread takes it.
#[derive(Clone, Copy)]
struct StripJob<'a, 's> {
    strips: &'a jpeg::strips::GatheredStrips<'s>,
    /// The resize from the decoded size to `output`, when they differ.
    bands: Option<crate::resize::Bands>,
    output: (u32, u32),
    layout: Layout,
    clocks: &'a StripClocks,
}

impl StripJob<'_, '_> {
    /// The output rows of strip `index`: the first and how many.
    fn output_rows(&self, index: usize) -> (u32, u32) {
        let first = self.strips.first_row(index);
        (first, self.strips.layout.rows.min(self.output.1 - first))
    }

    /// The decoded rows strip `index` needs, from the first to the end.
    fn source_rows(&self, index: usize) -> (u32, u32) {
        let (first, count) = self.output_rows(index);
        match self.bands {
            Some(bands) => bands.source_rows(first, count),
            None => (first, first + count),
        }
    }

    /// Resizes (when the sizes differ) and quantizes strip `index` from
    /// `rows`, decoded rows from row `start`, into the gathered strips.
    fn run(&self, index: usize, mut rows: Vec<u8>, start: u32) -> Result<()> {
        let (first, count) = self.output_rows(index);
        if let Some(bands) = self.bands {
            let resized = self
                .clocks
                .resize
                .time(|| bands.resize(&rows, start, first, count))?;
            crate::buffer_pool::give(std::mem::replace(&mut rows, resized));
        }
        let put = self.clocks.quantize.time(|| {
            let stride = self.output.0 as usize * self.layout.channels();
            let pixels = PixelsRef::new(&rows, self.output.0, count, stride, self.layout)?;
            self.strips.put(index, &pixels)
        });
        crate::buffer_pool::give(rows);
        put
    }
}

#[cfg(test)]
mod tests;
