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

use super::strips::{encode_striped, StripSource, StripStore};
use super::{
    configure, is_adobe, metadata_of, read_rows, run_libjpeg, set_output_scans, write_metadata,
    write_rows, Compressor, Decompressor,
};
use crate::codecs::check_limit;
use crate::error::{Error, Result};
use crate::format::Format;
use crate::metadata::Metadata;
use crate::options::Options;
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

/// A streamed file and its width and height.
pub(crate) type Streamed = (Vec<u8>, (u32, u32));

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
    if mode == Mode::Overlapped {
        let out = overlapped(input, strict, (width, height, gray), &out_metadata, options)?;
        return Ok(Some((out, (width, height))));
    }
    let mut source = DecodedRows {
        input,
        strict,
        shape: (width, height, gray),
        decoder: None,
        strip: Vec::new(),
    };
    let out = encode_striped(&mut source, &out_metadata, options, &mut Unkept);
    crate::pool::give(std::mem::take(&mut source.strip));
    Ok(Some((out?, (width, height))))
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
            crate::pool::give(strip);
            strip = crate::pool::zeroed(row_len * count as usize);
        }
        let (input, strict) = (self.input, self.strict);
        let decoder = &mut self.decoder;
        let read = run_libjpeg(|| {
            let cinfo = &mut *decoder_at(decoder, input, strict, gray, first).cinfo;
            while cinfo.output_scanline < first {
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
                unsafe { jpeg_finish_decompress(cinfo) };
                Ok(())
            })
        });
        // Moved in, so that an encoder failure drops the receiver and a
        // decoder waiting to send stops.
        let encoded = run_libjpeg(move || {
            let mut c = Compressor::new();
            configure(&mut c, width, height, gray, options);
            set_output_scans(&mut c, options);
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
mod tests {
    use super::*;
    use crate::codecs::DecodeRequest;

    /// A 1000x3000 gradient stored as a sequential JPEG q92.
    fn input() -> Vec<u8> {
        let data = super::super::strips::tests::gradient(1000, 3000);
        let pixels = PixelsRef::new(&data, 1000, 3000, 3000, Layout::Rgb).unwrap();
        let options = Options::from_pairs([("quality", "92"), ("progressive", "false")]).unwrap();
        super::super::encode_whole(&pixels, &Metadata::default(), &options).unwrap()
    }

    #[test]
    fn streamed_file_is_the_striped_encode_of_the_whole_decoded_image() {
        let jpeg = input();
        let options = Options::default();
        let (streamed, size) = recompress(&jpeg, &options, |_| {
            Ok(Some((Metadata::default(), Mode::Striped)))
        })
        .unwrap()
        .unwrap();
        assert_eq!(size, (1000, 3000));
        let request = DecodeRequest {
            max_pixels: u64::MAX,
            accept_truncated: false,
            min_size: None,
        };
        let decoded = super::super::decode(&jpeg, &request).unwrap().image;
        let mut pixels = decoded.pixels_ref().unwrap();
        let whole = encode_striped(&mut pixels, &Metadata::default(), &options, &mut Unkept);
        assert_eq!(streamed, whole.unwrap());
    }

    #[test]
    fn a_declined_plan_decodes_nothing_and_a_cut_file_is_an_error() {
        let jpeg = input();
        let options = Options::default();
        assert!(recompress(&jpeg, &options, |_| Ok(None)).unwrap().is_none());
        let cut = &jpeg[..jpeg.len() / 2];
        for mode in [Mode::Striped, Mode::Overlapped] {
            let err = recompress(cut, &options, |_| Ok(Some((Metadata::default(), mode))));
            let err = err.unwrap_err();
            assert_eq!(err.kind(), crate::ErrorKind::Truncated, "{mode:?}: {err}");
        }
    }

    #[test]
    fn overlapped_file_is_the_whole_image_encode_of_the_decoded_pixels() {
        let jpeg = input();
        for effort in ["0", "3"] {
            let options = Options::from_pairs([("effort", effort)]).unwrap();
            let (overlapped, _) = recompress(&jpeg, &options, |_| {
                Ok(Some((Metadata::default(), Mode::Overlapped)))
            })
            .unwrap()
            .unwrap();
            let request = DecodeRequest {
                max_pixels: u64::MAX,
                accept_truncated: false,
                min_size: None,
            };
            let decoded = super::super::decode(&jpeg, &request).unwrap().image;
            let pixels = decoded.pixels_ref().unwrap();
            let whole = super::super::encode_whole(&pixels, &Metadata::default(), &options);
            assert_eq!(overlapped, whole.unwrap(), "effort {effort}");
        }
    }
}
