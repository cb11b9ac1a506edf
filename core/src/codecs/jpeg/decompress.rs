//! Decoding: the header probe, the header's metadata blocks, and the decode
//! to 8-bit pixels (shrinking by DCT scaling, CMYK converted to sRGB).

use super::libjpeg::{run_libjpeg, Decompressor};
use super::markers;
use super::segments::{is_adobe, metadata_of};
use crate::codecs::{check_limit, DecodeRequest, Decoded};
use crate::error::{Error, Result};
use crate::format::Format;
use crate::info::Info;
use crate::metadata::Metadata;
use crate::orient::Orientation;
use crate::pixels::{Image, Layout};
use mozjpeg_sys::*;

/// Reads the header and markers only.
pub(crate) fn probe(data: &[u8]) -> Result<Info> {
    markers::check(data, false)?;
    run_libjpeg(|| {
        let d = Decompressor::new(data, true, true);
        let metadata = metadata_of(&d.markers());
        let mut info = Info::new(Format::Jpeg, d.cinfo.image_width, d.cinfo.image_height)
            .with_metadata(&metadata);
        let c = &d.cinfo;
        let (x, y) = (f64::from(c.X_density), f64::from(c.Y_density));
        // libjpeg leaves density_unit 0 unless a JFIF marker states a unit.
        // Without one, the EXIF resolution, as Pillow falls back to it.
        info.dpi = match c.density_unit {
            1 => Some((x, y)),
            2 => Some((x * 2.54, y * 2.54)),
            _ => metadata.exif_dpi().map(|d| (d, d)),
        };
        Ok(info)
    })
}

/// The metadata blocks of the header, as stored or (`as_decoded`) as
/// [`decode`] gives them.
pub(crate) fn header_metadata(data: &[u8], as_decoded: bool) -> Result<Metadata> {
    markers::check(data, false)?;
    run_libjpeg(|| {
        let d = Decompressor::new(data, true, true);
        let mut metadata = metadata_of(&d.markers());
        if as_decoded
            && matches!(
                d.cinfo.jpeg_color_space,
                J_COLOR_SPACE::JCS_CMYK | J_COLOR_SPACE::JCS_YCCK
            )
        {
            // As decoded: CMYK becomes sRGB, which the CMYK profile does not describe.
            metadata.icc = None;
        }
        Ok(metadata)
    })
}

/// The DCT scale numerator (over 8) that keeps at least `min` pixels each way.
pub(super) fn shrink_numerator(width: u32, height: u32, min: Option<(u32, u32)>) -> u32 {
    let Some((min_w, min_h)) = min else { return 8 };
    [1u32, 2, 4]
        .into_iter()
        .find(|&num| width.div_ceil(8 / num) >= min_w && height.div_ceil(8 / num) >= min_h)
        .unwrap_or(8)
}

pub(crate) fn decode(data: &[u8], request: &DecodeRequest) -> Result<Decoded> {
    markers::check(data, true)?;
    run_libjpeg(|| {
        let mut d = Decompressor::new(data, !request.accept_truncated, true);
        let (width, height) = (d.cinfo.image_width, d.cinfo.image_height);
        check_limit(width.into(), height.into(), request.max_pixels)?;
        let markers = d.markers();
        let mut metadata = metadata_of(&markers);
        let adobe = is_adobe(&markers);
        let cinfo = &mut *d.cinfo;
        cinfo.scale_num = shrink_numerator(width, height, request.min_size);
        cinfo.scale_denom = 8;
        let cmyk = matches!(
            cinfo.jpeg_color_space,
            J_COLOR_SPACE::JCS_CMYK | J_COLOR_SPACE::JCS_YCCK
        );
        cinfo.out_color_space = match cinfo.jpeg_color_space {
            J_COLOR_SPACE::JCS_GRAYSCALE => J_COLOR_SPACE::JCS_GRAYSCALE,
            _ if cmyk => J_COLOR_SPACE::JCS_CMYK,
            _ => J_COLOR_SPACE::JCS_RGB,
        };
        // SAFETY: `cinfo` is the decompressor `Decompressor::new` created and
        // read the header of; only output parameters were changed since.
        unsafe { jpeg_start_decompress(cinfo) };
        let (out_w, out_h, channels) = (
            cinfo.output_width as usize,
            cinfo.output_height as usize,
            cinfo.output_components as usize,
        );
        let row_len = out_w * channels;
        let mut pixels = crate::buffer_pool::zeroed::<u8>(row_len * out_h);
        read_rows(cinfo, &mut pixels, row_len)?;
        // SAFETY: `cinfo` is started and `read_rows` read every output row
        // (else it returned an error); the saved markers borrowed earlier
        // are no longer used (the borrow checker ends them at `&mut *d.cinfo`).
        unsafe { jpeg_finish_decompress(cinfo) };
        let (w, h) = (out_w as u32, out_h as u32);
        let mut dropped_icc = None;
        let image = if cmyk {
            let rgb = crate::color::cmyk_to_rgb(&pixels, metadata.icc.as_deref(), adobe)?;
            // The CMYK profile does not describe the RGB pixels, which are now sRGB.
            dropped_icc = metadata.icc.take();
            Image::from_u8(w, h, Layout::Rgb, rgb)?
        } else {
            let layout = if channels == 1 {
                Layout::Gray
            } else {
                Layout::Rgb
            };
            Image::from_u8(w, h, layout, pixels)?
        };
        let orientation = Orientation::from_exif(metadata.exif_orientation().unwrap_or(1));
        Ok(Decoded {
            image,
            metadata,
            orientation,
            dropped_icc,
        })
    })
}

/// Fills `rows` (whole rows of `row_len` bytes) with the decoder's next rows.
pub(super) fn read_rows(
    cinfo: &mut jpeg_decompress_struct,
    rows: &mut [u8],
    row_len: usize,
) -> Result<()> {
    let mut pointers: Vec<*mut u8> = Vec::with_capacity(16);
    let mut filled = 0;
    while filled * row_len < rows.len() {
        pointers.clear();
        pointers.extend(
            rows[filled * row_len..]
                .chunks_exact_mut(row_len)
                .take(16)
                .map(<[u8]>::as_mut_ptr),
        );
        // SAFETY: `cinfo` is a started decompressor; each of the (at most 16)
        // pointers addresses a distinct `row_len`-byte row of `rows`, which
        // is not otherwise touched until the call returns. Every caller
        // passes `row_len` = output_width * output_components of `cinfo`,
        // exactly what libjpeg writes per row (this function cannot check it).
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
}
