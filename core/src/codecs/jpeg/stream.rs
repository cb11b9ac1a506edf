//! JPEG to JPEG as a stream of rows: libjpeg decodes a strip of rows, the
//! strip is encoded, and only then is the next decoded, so neither the
//! decoded image nor the output's coefficients are ever held whole. Memory is
//! the input, the output, one strip and libjpeg's row buffers, whatever the
//! image size (for a sequential input: a progressive one makes libjpeg buffer
//! its coefficients).
//!
//! The strips are those of a striped JPEG ([`super::strips`]): each encoded
//! as the options say, trellis quantization included, and joined by restart
//! markers under Huffman tables planned from a sample of strips. The sample
//! is taken in a first pass over the input (decoding only the rows it needs
//! and skipping the rest), the file written in a second. The output is a
//! baseline JPEG: progressive scans need every coefficient before the first
//! byte.
//!
//! Smaller images, when the whole-image encoder would write them in one
//! piece, can instead be recompressed with the decode overlapped
//! ([`Mode::Overlapped`]): libjpeg decodes on a thread of its own and hands
//! strips of rows to the encoder as they come, so decode and encode run on
//! two cores at once and the file is the one the whole-image path writes.
//!
//! Outputs the parallel strip encoder writes ([`super::strips::gathered`]),
//! resized or not, can be recompressed with the decode feeding their strips
//! ([`Mode::Parallel`]): as soon as the rows a strip needs are decoded, the
//! strip is resized and quantized on another thread of the rayon pool, while
//! this one decodes on.

use super::strips::{encode_striped, gathered, StripSource, StripStore};
use super::{
    configure, is_adobe, metadata_of, planned_huffman, read_rows, run_libjpeg, set_output_scans,
    use_planned_huffman, write_metadata, write_rows, Compressor, Decompressor,
};
use crate::codecs::check_limit;
use crate::error::{Error, Result};
use crate::format::Format;
use crate::metadata::Metadata;
use crate::options::Options;
use crate::pipeline::Timings;
use crate::pixels::{Layout, PixelsRef};
use mozjpeg_sys::*;

/// Rows the overlapped decoder hands over at a time.
const OVERLAP_ROWS: usize = 64;
/// Strips of rows decoded ahead of the encoder, at most.
const OVERLAP_DEPTH: usize = 4;

/// How a streamed recompression runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Mode {
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
    },
}

/// What the header says, for the caller to decide whether to stream.
pub(crate) struct Header<'a> {
    /// Width and height in pixels.
    pub(crate) size: (u32, u32),
    markers: &'a [(u8, &'a [u8])],
}

impl Header<'_> {
    /// The metadata the file carries (collected when asked for, so that a
    /// call declined by its size copies none).
    pub(crate) fn metadata(&self) -> Metadata {
        metadata_of(self.markers)
    }
}

/// A streamed file.
#[derive(Debug)]
pub(crate) struct Streamed {
    /// The file.
    pub(crate) data: Vec<u8>,
    /// Its width and height.
    pub(crate) size: (u32, u32),
    /// Each stage's own time, when the stages overlapped ([`Mode::Parallel`]).
    pub(crate) timings: Option<Timings>,
}

/// Recompresses the JPEG `input` as a stream with `options`. `plan` sees the
/// header and returns the metadata to write and the mode, or `None` when the
/// file should not be streamed (then nothing is decoded and `Ok(None)` is
/// returned). CMYK files are not streamed.
pub(crate) fn recompress(
    input: &[u8],
    options: &Options,
    plan: impl FnOnce(&Header) -> Result<Option<(Metadata, Mode)>>,
) -> Result<Option<Streamed>> {
    let strict = !options.accept_truncated;
    // Checked once here for every decoder below, which read the same input.
    super::markers::check(input, true)?;
    let d = run_libjpeg(|| Ok(Decompressor::new(input, strict, true)))?;
    let (width, height) = (d.cinfo.image_width, d.cinfo.image_height);
    check_limit(width.into(), height.into(), options.max_pixels)?;
    let markers = d.markers();
    let gray = match d.cinfo.jpeg_color_space {
        J_COLOR_SPACE::JCS_GRAYSCALE => true,
        J_COLOR_SPACE::JCS_CMYK | J_COLOR_SPACE::JCS_YCCK => return Ok(None),
        _ if is_adobe(&markers) && d.cinfo.num_components == 4 => return Ok(None),
        _ => false,
    };
    let header = Header {
        size: (width, height),
        markers: &markers,
    };
    let Some((out_metadata, mode)) = plan(&header)? else {
        return Ok(None);
    };
    let shape = (width, height, gray);
    match mode {
        Mode::Overlapped => {
            let data = overlapped(input, strict, shape, &out_metadata, options)?;
            return Ok(Some(Streamed {
                data,
                size: (width, height),
                timings: None,
            }));
        }
        Mode::Parallel { output, min_size } => {
            let sizes = (output, min_size);
            let (data, timings) = parallel(input, strict, shape, sizes, &out_metadata, options)?;
            return Ok(Some(Streamed {
                data,
                size: output,
                timings: Some(timings),
            }));
        }
        Mode::Striped => {}
    }
    let mut source = DecodedRows::new(input, strict, shape);
    let out = encode_striped(&mut source, &out_metadata, options, &mut Unkept);
    source.release();
    Ok(Some(Streamed {
        data: out?,
        size: (width, height),
        timings: None,
    }))
}

/// Rows decoded on demand: a decoder runs top to bottom, skipping rows not
/// asked for, and starts again from the top when asked for rows above it.
struct DecodedRows<'a> {
    input: &'a [u8],
    strict: bool,
    shape: (u32, u32, bool),
    decoder: Option<Decompressor>,
    /// The last rows asked for.
    strip: Vec<u8>,
}

impl<'a> DecodedRows<'a> {
    /// Rows of `input`, a JPEG of `shape` (width, height, gray), none decoded yet.
    fn new(input: &'a [u8], strict: bool, shape: (u32, u32, bool)) -> Self {
        DecodedRows {
            input,
            strict,
            shape,
            decoder: None,
            strip: Vec::new(),
        }
    }

    /// Gives the strip buffer back to the buffer pool.
    fn release(mut self) {
        crate::buffer_pool::give(std::mem::take(&mut self.strip));
    }
}

/// The layout of decoded gray or RGB rows.
fn layout_of(gray: bool) -> Layout {
    if gray {
        Layout::Gray
    } else {
        Layout::Rgb
    }
}

/// `decoder`, or a new one from the top of `input` when there is none or it
/// is past row `first`. Runs under [`run_libjpeg`].
fn decoder_at<'d>(
    decoder: &'d mut Option<Decompressor>,
    input: &[u8],
    strict: bool,
    gray: bool,
    first: u32,
) -> &'d mut Decompressor {
    if decoder
        .as_ref()
        .map_or(true, |d| d.cinfo.output_scanline > first)
    {
        let mut d = Decompressor::new(input, strict, false);
        d.cinfo.out_color_space = if gray {
            J_COLOR_SPACE::JCS_GRAYSCALE
        } else {
            J_COLOR_SPACE::JCS_RGB
        };
        // SAFETY: `d` was just created and read its header
        // (`Decompressor::new`); only the output colour space changed since.
        unsafe { jpeg_start_decompress(&mut d.cinfo) };
        *decoder = Some(d);
    }
    decoder.as_mut().expect("a decoder was just made")
}

impl StripSource for DecodedRows<'_> {
    fn shape(&self) -> (u32, u32, bool) {
        self.shape
    }

    fn rows(&mut self, first: u32, count: u32) -> Result<PixelsRef<'_>> {
        let (width, _, gray) = self.shape;
        let layout = layout_of(gray);
        let row_len = width as usize * layout.channels();
        let mut strip = std::mem::take(&mut self.strip);
        if strip.len() < row_len * count as usize {
            crate::buffer_pool::give(strip);
            strip = crate::buffer_pool::zeroed(row_len * count as usize);
        }
        let (input, strict) = (self.input, self.strict);
        let decoder = &mut self.decoder;
        let read = run_libjpeg(|| {
            let cinfo = &mut *decoder_at(decoder, input, strict, gray, first).cinfo;
            while cinfo.output_scanline < first {
                // SAFETY: `cinfo` is started (`decoder_at`), reads from a memory
                // source (not a suspending one, where skipping is undefined),
                // is not in raw or buffered-image mode, and the count is
                // positive (loop condition).
                let skipped = unsafe { jpeg_skip_scanlines(cinfo, first - cinfo.output_scanline) };
                if skipped == 0 {
                    return Err(Error::truncated(
                        Format::Jpeg,
                        "libjpeg skipped no scanlines",
                    ));
                }
            }
            read_rows(cinfo, &mut strip[..count as usize * row_len], row_len)
        });
        self.strip = strip;
        read?;
        PixelsRef::new(&self.strip, width, count, row_len, layout)
    }
}

/// The decode on a scoped thread of its own, strips of [`OVERLAP_ROWS`] rows
/// handed to the whole-image encoder on this one as they are decoded (at
/// most [`OVERLAP_DEPTH`] ahead, their buffers handed back for reuse).
fn overlapped(
    input: &[u8],
    strict: bool,
    (width, height, gray): (u32, u32, bool),
    metadata: &Metadata,
    options: &Options,
) -> Result<Vec<u8>> {
    let row_len = width as usize * layout_of(gray).channels();
    let (full_tx, full_rx) = std::sync::mpsc::sync_channel::<Vec<u8>>(OVERLAP_DEPTH);
    let (empty_tx, empty_rx) = std::sync::mpsc::channel::<Vec<u8>>();
    std::thread::scope(|scope| {
        let decoder = scope.spawn(move || {
            run_libjpeg(|| {
                let mut decoder = None;
                let cinfo = &mut *decoder_at(&mut decoder, input, strict, gray, 0).cinfo;
                while cinfo.output_scanline < height {
                    let rows = OVERLAP_ROWS.min((height - cinfo.output_scanline) as usize);
                    let mut strip = empty_rx.try_recv().unwrap_or_default();
                    strip.resize(rows * row_len, 0);
                    read_rows(cinfo, &mut strip, row_len)?;
                    if full_tx.send(strip).is_err() {
                        // The encoder stopped; its error is the one reported.
                        return Ok(());
                    }
                }
                // SAFETY: `cinfo` is started and every output row was read
                // (loop condition); it is used on this thread only.
                unsafe { jpeg_finish_decompress(cinfo) };
                Ok(())
            })
        });
        // Sampled (effort 1) while the decoder starts: a decoder of its own
        // reads the bands and skips the rest.
        let mut sampler = DecodedRows::new(input, strict, (width, height, gray));
        let planned = planned_huffman(&mut sampler, options);
        sampler.release();
        // Moved in, so that an encoder failure (a failed sample included)
        // drops the receiver and a decoder waiting to send stops.
        let encoded = run_libjpeg(move || {
            let planned = planned?;
            let mut c = Compressor::new();
            configure(&mut c, width, height, gray, options);
            set_output_scans(&mut c, options);
            use_planned_huffman(&mut c, planned.as_ref());
            // SAFETY: a created compressor configured for `width` x `height`
            // gray or RGB rows, which are what `write_rows` then gets.
            unsafe { jpeg_start_compress(&mut c.cinfo, 1) };
            write_metadata(&mut c, metadata);
            let mut rows = 0;
            for strip in full_rx {
                write_rows(&mut c, strip.chunks_exact(row_len));
                rows += strip.len() / row_len;
                let _ = empty_tx.send(strip);
            }
            Ok((c, rows))
        });
        decoder
            .join()
            .unwrap_or_else(|panic| std::panic::resume_unwind(panic))?;
        let (c, rows) = encoded?;
        if rows != height as usize {
            return Err(Error::Internal(format!(
                "{rows} of {height} rows reached the encoder"
            )));
        }
        run_libjpeg(|| Ok(c.finish()))
    })
}

/// Strips waiting for another thread, per other thread of the pool, at
/// most: beyond that the decoding thread encodes the strip itself, which
/// bounds the rows held and keeps both threads busy when the encode is the
/// slower side.
const PARALLEL_DEPTH: usize = 2;

/// [`Mode::Parallel`]: decodes `input` (shrinking towards `min_size`) on
/// this thread and hands each strip of the `output`-sized file, with the
/// decoded rows it needs, to the rayon pool as soon as those rows exist.
/// Returns the file and each stage's own time (decode: the decoder's; the
/// transform: the strips' resizes, summed over threads; encode: the strips'
/// quantization, summed, and the final write).
fn parallel(
    input: &[u8],
    strict: bool,
    (width, height, gray): (u32, u32, bool),
    (output, min_size): ((u32, u32), Option<(u32, u32)>),
    metadata: &Metadata,
    options: &Options,
) -> Result<(Vec<u8>, Timings)> {
    use std::sync::atomic::{AtomicUsize, Ordering};
    let layout = layout_of(gray);
    let pending = AtomicUsize::new(0);
    let failure = std::sync::Mutex::new(None);
    let clocks = StripClocks::default();
    let mut decode_time = std::time::Duration::ZERO;
    let mut filled = None;
    let data = crate::parallel::run(|| {
        let depth = PARALLEL_DEPTH * (rayon::current_num_threads() - 1);
        gathered((output.0, output.1, gray), metadata, options, |strips| {
            let (pending, failure, clocks) = (&pending, &failure, &clocks);
            let decode_time = &mut decode_time;
            let decoded = rayon::scope(|scope| {
                run_libjpeg(|| {
                    let started = std::time::Instant::now();
                    let mut d = Decompressor::new(input, strict, false);
                    let cinfo = &mut *d.cinfo;
                    cinfo.out_color_space = if gray {
                        J_COLOR_SPACE::JCS_GRAYSCALE
                    } else {
                        J_COLOR_SPACE::JCS_RGB
                    };
                    cinfo.scale_num = super::shrink_numerator(width, height, min_size);
                    cinfo.scale_denom = 8;
                    // A progressive input is entropy decoded whole here.
                    // SAFETY: `d` was just created and read its header; only
                    // output parameters changed since.
                    unsafe { jpeg_start_decompress(cinfo) };
                    *decode_time += started.elapsed();
                    let decoded = (cinfo.output_width, cinfo.output_height);
                    let job = StripJob {
                        strips,
                        bands: (decoded != output)
                            .then(|| crate::resize::Bands::new(decoded, output, layout)),
                        output,
                        layout,
                        clocks,
                    };
                    let mut carried = Carried::new(decoded.0 as usize * layout.channels());
                    for index in 0..strips.layout.count {
                        let (start, end) = job.source_rows(index);
                        let rows = carried.rows_between(cinfo, (start, end), decode_time)?;
                        if index + 1 < strips.layout.count {
                            carried.keep(&rows, (start, end), job.source_rows(index + 1).0);
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
                    // SAFETY: `cinfo` is started and used on this thread only;
                    // rows left unread make libjpeg fail (an unwind to
                    // `run_libjpeg`), not misbehave.
                    unsafe { jpeg_finish_decompress(cinfo) };
                    Ok(())
                })
            });
            filled = Some(std::time::Instant::now());
            decoded?;
            match failure.lock().expect("no panic holds it").take() {
                Some(e) => Err(e),
                None => Ok(()),
            }
        })
    })?;
    let write_time = filled.map_or(std::time::Duration::ZERO, |at| at.elapsed());
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
        let started = std::time::Instant::now();
        let out = work();
        let nanos = started.elapsed().as_nanos() as u64;
        self.0
            .fetch_add(nanos, std::sync::atomic::Ordering::Relaxed);
        out
    }

    /// The total so far.
    fn total(&self) -> std::time::Duration {
        std::time::Duration::from_nanos(self.0.load(std::sync::atomic::Ordering::Relaxed))
    }
}

/// What each strip of [`parallel`] does with its decoded rows, on whichever
/// thread takes it.
#[derive(Clone, Copy)]
struct StripJob<'a, 's> {
    strips: &'a super::strips::GatheredStrips<'s>,
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

/// Decoded rows kept for the next strip, which needs some of the rows the
/// last one did (a resize's filter reaches over strip edges): `rows` from
/// row `start` up to the decoder's position.
struct Carried {
    rows: Vec<u8>,
    start: u32,
    /// Bytes per decoded row.
    row_len: usize,
    /// Where rows the strips do not need are decoded to.
    skipped: Vec<u8>,
}

impl Carried {
    /// Nothing carried yet, for rows of `row_len` bytes.
    fn new(row_len: usize) -> Carried {
        Carried {
            rows: Vec::new(),
            start: 0,
            row_len,
            skipped: Vec::new(),
        }
    }

    /// Decoded rows `start..end`: those above the
    /// decoder's position from what was carried, the rest from the decoder
    /// (skipping any rows before `start`), the decoder's time added to
    /// `decode_time`.
    fn rows_between(
        &mut self,
        cinfo: &mut jpeg_decompress_struct,
        (start, end): (u32, u32),
        decode_time: &mut std::time::Duration,
    ) -> Result<Vec<u8>> {
        let row_len = self.row_len;
        let mut rows = crate::buffer_pool::zeroed::<u8>((end - start) as usize * row_len);
        let next = cinfo.output_scanline;
        if start < next {
            let from = (start - self.start) as usize * row_len;
            let len = ((next.min(end) - start) as usize) * row_len;
            rows[..len].copy_from_slice(&self.rows[from..from + len]);
        }
        let started = std::time::Instant::now();
        while cinfo.output_scanline < start {
            let skip = (start - cinfo.output_scanline).min(16) as usize;
            self.skipped.resize(16 * row_len, 0);
            read_rows(cinfo, &mut self.skipped[..skip * row_len], row_len)?;
        }
        let at = (cinfo.output_scanline - start) as usize * row_len;
        if at < rows.len() {
            read_rows(cinfo, &mut rows[at..], row_len)?;
        }
        *decode_time += started.elapsed();
        Ok(rows)
    }

    /// Keeps of `rows` (decoded rows `start..end`) those from `next_start`,
    /// where the next strip's rows begin.
    fn keep(&mut self, rows: &[u8], (start, end): (u32, u32), next_start: u32) {
        let keep = next_start.clamp(start, end);
        self.rows.clear();
        self.rows
            .extend_from_slice(&rows[(keep - start) as usize * self.row_len..]);
        self.start = keep;
    }
}

/// A strip store that keeps nothing: a streamed encode is not resumed.
struct Unkept;

impl StripStore for Unkept {
    fn wants(&self, _: u32, _: u32) -> bool {
        true
    }
    fn load(&self, _: usize) -> Option<Vec<u8>> {
        None
    }
    fn save(&mut self, _: usize, _: &[u8]) -> Result<()> {
        Ok(())
    }
}

#[cfg(test)]
mod tests;
