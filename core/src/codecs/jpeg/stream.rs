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

use super::strips::{encode_striped, StripSource, StripStore};
use super::{is_adobe, metadata_of, run_libjpeg, Decompressor};
use crate::codecs::check_limit;
use crate::error::{Error, Result};
use crate::format::Format;
use crate::metadata::Metadata;
use crate::options::Options;
use crate::pixels::{Layout, PixelsRef};
use mozjpeg_sys::*;

/// What the header says, for the caller to decide whether to stream.
pub(crate) struct Header<'a> {
    /// Width and height in pixels.
    pub(crate) size: (u32, u32),
    /// The metadata the file carries.
    pub(crate) metadata: &'a Metadata,
}

/// A streamed file and its width and height.
pub(crate) type Streamed = (Vec<u8>, (u32, u32));

/// Recompresses the JPEG `input` strip by strip with `options`. `plan` sees
/// the header and returns the metadata to write, or `None` when the file
/// should not be streamed (then nothing is decoded and `Ok(None)` is
/// returned). CMYK files are not streamed.
pub(crate) fn recompress(
    input: &[u8],
    options: &Options,
    plan: impl FnOnce(&Header) -> Result<Option<Metadata>>,
) -> Result<Option<Streamed>> {
    let header = run_libjpeg(|| {
        let d = Decompressor::new(input, !options.accept_truncated, true);
        let (width, height) = (d.cinfo.image_width, d.cinfo.image_height);
        check_limit(width.into(), height.into(), options.max_pixels)?;
        let markers = d.markers();
        let gray = match d.cinfo.jpeg_color_space {
            J_COLOR_SPACE::JCS_GRAYSCALE => Some(true),
            J_COLOR_SPACE::JCS_CMYK | J_COLOR_SPACE::JCS_YCCK => None,
            _ if is_adobe(&markers) && d.cinfo.num_components == 4 => None,
            _ => Some(false),
        };
        Ok((width, height, gray, metadata_of(&markers)))
    })?;
    let (width, height, Some(gray), metadata) = header else {
        return Ok(None);
    };
    let header = Header {
        size: (width, height),
        metadata: &metadata,
    };
    let Some(out_metadata) = plan(&header)? else {
        return Ok(None);
    };
    let mut source = DecodedRows {
        input,
        strict: !options.accept_truncated,
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

impl DecodedRows<'_> {
    fn row_len(&self) -> usize {
        let (width, _, gray) = self.shape;
        width as usize * if gray { 1 } else { 3 }
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
        let row_len = self.row_len();
        let mut strip = std::mem::take(&mut self.strip);
        if strip.len() < row_len * count as usize {
            crate::pool::give(strip);
            strip = crate::pool::zeroed(row_len * count as usize);
        }
        let (input, strict, gray) = (self.input, self.strict, self.shape.2);
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
            let mut filled = 0;
            let mut pointers: Vec<*mut u8> = Vec::with_capacity(16);
            while filled < count as usize {
                pointers.clear();
                pointers.extend(
                    strip[filled * row_len..count as usize * row_len]
                        .chunks_exact_mut(row_len)
                        .take(16)
                        .map(<[u8]>::as_mut_ptr),
                );
                let read = unsafe {
                    jpeg_read_scanlines(cinfo, pointers.as_mut_ptr(), pointers.len() as JDIMENSION)
                };
                if read == 0 {
                    return Err(Error::truncated(
                        Format::Jpeg,
                        "libjpeg returned no scanlines",
                    ));
                }
                filled += read as usize;
            }
            Ok(())
        });
        self.strip = strip;
        read?;
        let layout = if self.shape.2 {
            Layout::Gray
        } else {
            Layout::Rgb
        };
        PixelsRef::new(&self.strip, self.shape.0, count, row_len, layout)
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
        let (streamed, size) = recompress(&jpeg, &options, |_| Ok(Some(Metadata::default())))
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
        let err = recompress(cut, &options, |_| Ok(Some(Metadata::default()))).unwrap_err();
        assert_eq!(err.kind(), crate::ErrorKind::Truncated, "{err}");
    }
}
