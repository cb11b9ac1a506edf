//! JPEG to JPEG as a stream of rows, the codec's share: the header read
//! before anything is decoded, rows decoded as a caller asks for them, and
//! two recompressions that stay inside libjpeg. The pipeline's streamed path
//! ([`crate::pipeline`]) chooses among them from the header and, for the
//! parallel strip encoder, schedules the strips itself over a [`RowReader`].
//!
//! - [`recompress_striped`]: strip by strip through the striped encoder
//!   ([`super::strips`]), each strip encoded as the parameters say (trellis
//!   quantization included) and joined by restart markers under Huffman
//!   tables planned from a sample of strips. The sample is taken in a first
//!   pass over the input (decoding only the rows it needs and skipping the
//!   rest), the file written in a second. Neither the decoded image nor the
//!   output's coefficients are ever held whole: memory is the input, the
//!   output, one strip and libjpeg's row buffers, whatever the image size
//!   (for a sequential input: a progressive one makes libjpeg buffer its
//!   coefficients). The output is a baseline JPEG: progressive scans need
//!   every coefficient before the first byte.
//! - [`recompress_overlapped`]: libjpeg decodes on a thread of its own and
//!   hands strips of rows to the whole-image encoder as they come, so decode
//!   and encode run on two cores at once and the file is the one the
//!   whole-image path writes.
//! - [`RowReader`]: rows decoded top to bottom in ranges, for a caller that
//!   hands each range on as soon as it exists.

use super::strips::{encode_striped, StripSource, UnkeptStrips};
use super::{
    configure, is_adobe, metadata_of, planned_huffman, read_rows, run_libjpeg, set_output_scans,
    shrink_numerator, use_planned_huffman, write_metadata, write_rows, Compressor, Decompressor,
};
use crate::codecs::{check_limit, EncodeParams};
use crate::error::{Error, Result};
use crate::format::Format;
use crate::metadata::Metadata;
use crate::pixels::{Layout, PixelsRef};
use mozjpeg_sys::*;
use std::time::{Duration, Instant};

/// Rows the overlapped decoder hands over at a time.
const OVERLAP_ROWS: usize = 64;
/// Strips of rows decoded ahead of the encoder, at most.
const OVERLAP_DEPTH: usize = 4;

/// A JPEG to stream, as its header describes it: plain data that any
/// thread may start a decoder from.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Source<'a> {
    /// Width and height in pixels.
    pub(crate) size: (u32, u32),
    /// Whether the file is grayscale (otherwise YCbCr, decoded to RGB).
    pub(crate) gray: bool,
    input: &'a [u8],
    strict: bool,
}

/// The header of a JPEG to stream, read before anything is decoded.
pub(crate) struct Header<'a> {
    /// The file it heads.
    pub(crate) source: Source<'a>,
    /// The decoder that read the header; the saved markers live in it.
    decoder: Decompressor,
}

impl Header<'_> {
    /// The metadata the file carries (collected when asked for, so that a
    /// call declined by its size copies none).
    pub(crate) fn metadata(&self) -> Metadata {
        metadata_of(&self.decoder.markers())
    }
}

/// Reads the header of the JPEG `input` (damaged data accepted unless
/// `strict`), checking its size against `max_pixels`. `None` for a CMYK or
/// YCCK file, which is not streamed.
pub(crate) fn read_header(
    input: &[u8],
    strict: bool,
    max_pixels: u64,
) -> Result<Option<Header<'_>>> {
    // Checked once here for every decoder that reads the same input later.
    super::markers::check(input, true)?;
    let decoder = run_libjpeg(|| Ok(Decompressor::new(input, strict, true)))?;
    let (width, height) = (decoder.cinfo.image_width, decoder.cinfo.image_height);
    check_limit(width.into(), height.into(), max_pixels)?;
    let gray = match decoder.cinfo.jpeg_color_space {
        J_COLOR_SPACE::JCS_GRAYSCALE => true,
        J_COLOR_SPACE::JCS_CMYK | J_COLOR_SPACE::JCS_YCCK => return Ok(None),
        _ if is_adobe(&decoder.markers()) && decoder.cinfo.num_components == 4 => return Ok(None),
        _ => false,
    };
    Ok(Some(Header {
        source: Source {
            size: (width, height),
            gray,
            input,
            strict,
        },
        decoder,
    }))
}

/// The file of `header`, recompressed strip by strip through the striped
/// encoder with `metadata` and `params`: two passes over the input, never
/// the whole image, a baseline file.
pub(crate) fn recompress_striped(
    header: &Header,
    metadata: &Metadata,
    params: &EncodeParams,
) -> Result<Vec<u8>> {
    let mut source = DecodedRows::new(header.source);
    let out = encode_striped(
        &mut source,
        metadata,
        params,
        &mut UnkeptStrips { min_pixels: 0 },
    );
    source.release();
    out
}

/// Rows decoded on demand: a decoder runs top to bottom, skipping rows not
/// asked for, and starts again from the top when asked for rows above it.
struct DecodedRows<'a> {
    source: Source<'a>,
    decoder: Option<Decompressor>,
    /// The last rows asked for.
    strip: Vec<u8>,
}

impl<'a> DecodedRows<'a> {
    /// Rows of `source`, none decoded yet.
    fn new(source: Source<'a>) -> Self {
        DecodedRows {
            source,
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
pub(crate) fn layout_of(gray: bool) -> Layout {
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
        let Source { size, gray, .. } = self.source;
        (size.0, size.1, gray)
    }

    fn rows(&mut self, first: u32, count: u32) -> Result<PixelsRef<'_>> {
        let (width, gray) = (self.source.size.0, self.source.gray);
        let layout = layout_of(gray);
        let row_len = width as usize * layout.channels();
        let mut strip = std::mem::take(&mut self.strip);
        if strip.len() < row_len * count as usize {
            crate::buffer_pool::give(strip);
            strip = crate::buffer_pool::zeroed(row_len * count as usize);
        }
        let (input, strict) = (self.source.input, self.source.strict);
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

/// The file of `header` with `metadata` and `params`, as the whole-image
/// encoder writes it, with the decode on a scoped thread of its own: strips of [`OVERLAP_ROWS`] rows
/// handed to the whole-image encoder on this one as they are decoded (at
/// most [`OVERLAP_DEPTH`] ahead, their buffers handed back for reuse).
pub(crate) fn recompress_overlapped(
    header: &Header,
    metadata: &Metadata,
    params: &EncodeParams,
) -> Result<Vec<u8>> {
    let Source {
        size: (width, height),
        gray,
        input,
        strict,
    } = header.source;
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
        let mut sampler = DecodedRows::new(header.source);
        let planned = planned_huffman(&mut sampler, params);
        sampler.release();
        // Moved in, so that an encoder failure (a failed sample included)
        // drops the receiver and a decoder waiting to send stops.
        let encoded = run_libjpeg(move || {
            let planned = planned?;
            let mut c = Compressor::new();
            configure(&mut c, width, height, gray, params);
            set_output_scans(&mut c, params);
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

/// A JPEG decoded top to bottom in ranges of rows, for a caller that hands
/// each range on as it comes (the pipeline's strips for the parallel strip
/// encoder). A range may begin above the end of the last one (a resize's
/// filter reaches over strip edges): the rows kept with [`RowReader::keep`]
/// are given again; rows no range needs are decoded and dropped.
pub(crate) struct RowReader<'a> {
    decoder: Decompressor,
    carried: Carried,
    /// Time spent decoding so far.
    pub(crate) decode_time: Duration,
    input: std::marker::PhantomData<&'a [u8]>,
}

impl<'a> RowReader<'a> {
    /// Starts decoding `source`, shrunk (libjpeg's DCT scaling) towards
    /// `min_size` when given, to gray or RGB rows. A progressive input is
    /// entropy decoded whole here.
    pub(crate) fn start(source: Source<'a>, min_size: Option<(u32, u32)>) -> Result<RowReader<'a>> {
        let started = Instant::now();
        let Source {
            size: (width, height),
            gray,
            input,
            strict,
        } = source;
        let decoder = run_libjpeg(|| {
            let mut d = Decompressor::new(input, strict, false);
            let cinfo = &mut *d.cinfo;
            cinfo.out_color_space = if gray {
                J_COLOR_SPACE::JCS_GRAYSCALE
            } else {
                J_COLOR_SPACE::JCS_RGB
            };
            cinfo.scale_num = shrink_numerator(width, height, min_size);
            cinfo.scale_denom = 8;
            // SAFETY: `d` was just created and read its header; only output
            // parameters changed since.
            unsafe { jpeg_start_decompress(cinfo) };
            Ok(d)
        })?;
        let row_len = decoder.cinfo.output_width as usize * layout_of(gray).channels();
        Ok(RowReader {
            decoder,
            carried: Carried::new(row_len),
            decode_time: started.elapsed(),
            input: std::marker::PhantomData,
        })
    }

    /// The size of the decoded rows (shrunk or not).
    pub(crate) fn size(&self) -> (u32, u32) {
        (
            self.decoder.cinfo.output_width,
            self.decoder.cinfo.output_height,
        )
    }

    /// Decoded rows `start..end`, from a buffer of the buffer pool.
    pub(crate) fn rows_between(&mut self, rows: (u32, u32)) -> Result<Vec<u8>> {
        let (cinfo, carried, decode_time) = (
            &mut *self.decoder.cinfo,
            &mut self.carried,
            &mut self.decode_time,
        );
        run_libjpeg(|| carried.rows_between(cinfo, rows, decode_time))
    }

    /// Keeps of `rows` (decoded rows `start..end`) those from `next_start`,
    /// where the next range begins.
    pub(crate) fn keep(&mut self, rows: &[u8], range: (u32, u32), next_start: u32) {
        self.carried.keep(rows, range, next_start);
    }

    /// Ends the decode; fails when rows were left unread.
    pub(crate) fn finish(mut self) -> Result<()> {
        let cinfo = &mut *self.decoder.cinfo;
        run_libjpeg(|| {
            // SAFETY: `cinfo` is started and used on this thread only; rows
            // left unread make libjpeg fail (an unwind to `run_libjpeg`), not
            // misbehave.
            unsafe { jpeg_finish_decompress(cinfo) };
            Ok(())
        })
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
