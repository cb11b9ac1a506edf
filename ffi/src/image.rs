//! Pixels across the boundary: `pxp_decode` into a library-owned `pxp_image`,
//! and `pxp_encode` from caller-owned pixels read in place.

use crate::boundary::{self, bytes, init_out, invalid};
use crate::buffer::pxp_buffer;
use crate::options::{options_or_default, pxp_options};
use crate::status::{layout_from_c, pxp_format, pxp_layout, pxp_status};
use engine::{DecodedImage, Metadata, Options, PixelsRef, Samples};

/// Decoded pixels the library owns: rows packed without padding, 8-bit
/// samples, or 16-bit samples in native byte order. Immutable; free it with
/// pxp_image_free.
pub struct pxp_image {
    decoded: DecodedImage,
}

/// Decodes `input` to pixels, upright unless the `orientation` option is
/// `keep`, with the operations and resize the options ask for (`crop`,
/// `rotate`, `resize`, ...). High-bit-depth sources (16-bit PNG/TIFF, 10/12-bit AVIF/HEIC) give
/// 16-bit samples. `o` may be NULL for the defaults (`max_pixels` and
/// `accept_truncated` apply). On failure `*out` is NULL.
///
/// # Safety
/// `input` points to `input_len` readable bytes; `o` is NULL or a live
/// handle; `out` is writable.
#[no_mangle]
pub unsafe extern "C" fn pxp_decode(
    input: *const u8,
    input_len: usize,
    o: *const pxp_options,
    out: *mut *mut pxp_image,
) -> pxp_status {
    boundary::status(|| {
        // SAFETY: by this export's contract `out` is NULL (refused by `init_out`)
        // or a writable `*mut` slot the caller does not touch during the call.
        let slot = unsafe { init_out(out) }?;
        // SAFETY: by this export's contract `input` points to `input_len` readable bytes
        // (or is NULL with 0) that stay valid and unchanged during the call,
        // the only time the slice is used.
        let input = unsafe { bytes(input, input_len, "input") }?;
        let defaults = Options::default();
        let decoded = engine::decode(input, options_or_default(o, &defaults))?;
        *slot = Box::into_raw(Box::new(pxp_image { decoded }));
        Ok(())
    })
}

/// Runs `read` on the image, or returns `fallback` for NULL.
fn read<T: Copy>(i: *const pxp_image, fallback: T, read: impl FnOnce(&DecodedImage) -> T) -> T {
    // SAFETY: every caller is an export whose `# Safety` requires `i` to be
    // NULL or a live image, and passes its own `i` unchanged. (This helper is
    // a safe fn over a raw pointer: sound only through those callers.)
    unsafe { boundary::read_handle(i, fallback, |i| read(&i.decoded)) }
}

/// The first sample (NULL for NULL). Valid until pxp_image_free.
///
/// # Safety
/// `i` is NULL or a live image.
#[no_mangle]
pub unsafe extern "C" fn pxp_image_data(i: *const pxp_image) -> *const u8 {
    read(i, std::ptr::null(), |d| match &d.image.samples {
        Samples::U8(v) => v.as_ptr(),
        Samples::U16(v) => v.as_ptr().cast(),
    })
}

/// Width in pixels (0 for NULL).
///
/// # Safety
/// `i` is NULL or a live image.
#[no_mangle]
pub unsafe extern "C" fn pxp_image_width(i: *const pxp_image) -> u32 {
    read(i, 0, |d| d.image.width)
}

/// Height in pixels (0 for NULL).
///
/// # Safety
/// `i` is NULL or a live image.
#[no_mangle]
pub unsafe extern "C" fn pxp_image_height(i: *const pxp_image) -> u32 {
    read(i, 0, |d| d.image.height)
}

/// Bytes from one row to the next: width x channels x bytes per sample (0 for NULL).
///
/// # Safety
/// `i` is NULL or a live image.
#[no_mangle]
pub unsafe extern "C" fn pxp_image_stride(i: *const pxp_image) -> usize {
    read(i, 0, |d| {
        d.image.width as usize * d.image.layout.channels() * usize::from(d.image.bit_depth() / 8)
    })
}

/// The channels of each pixel (PXP_LAYOUT_RGB for NULL).
///
/// # Safety
/// `i` is NULL or a live image.
#[no_mangle]
pub unsafe extern "C" fn pxp_image_layout(i: *const pxp_image) -> pxp_layout {
    read(i, pxp_layout::PXP_LAYOUT_RGB, |d| d.image.layout.into())
}

/// Bits per sample: 8 or 16 (0 for NULL).
///
/// # Safety
/// `i` is NULL or a live image.
#[no_mangle]
pub unsafe extern "C" fn pxp_image_bit_depth(i: *const pxp_image) -> u32 {
    read(i, 0, |d| u32::from(d.image.bit_depth()))
}

/// The format the image was decoded from (PXP_FORMAT_UNKNOWN for NULL).
///
/// # Safety
/// `i` is NULL or a live image.
#[no_mangle]
pub unsafe extern "C" fn pxp_image_source_format(i: *const pxp_image) -> pxp_format {
    read(i, pxp_format::PXP_FORMAT_UNKNOWN, |d| d.format.into())
}

/// Frees `i`. NULL does nothing.
///
/// # Safety
/// `i` is NULL or a live image; it is invalid afterwards.
#[no_mangle]
pub unsafe extern "C" fn pxp_image_free(i: *mut pxp_image) {
    // SAFETY: by this export's contract `i` is NULL or a live image made by
    // this library (`Box::into_raw`), not used afterwards.
    unsafe { boundary::free_handle(i) }
}

/// Encodes caller-owned 8-bit pixels (`height` rows of `width` pixels of
/// `layout`, a pxp_layout value, rows `stride` bytes apart) to the format
/// the `format` option names (it must name one). JPEG from gray or RGB and
/// WebP from RGB or RGBA read the rows in place, without a copy, when no
/// resize is asked for. The pixels are not kept after the call. On failure
/// `*out` is NULL.
///
/// # Safety
/// `pixels` points to `stride * (height - 1) + width * channels` readable
/// bytes; `o` is NULL or a live handle; `out` is writable.
#[no_mangle]
pub unsafe extern "C" fn pxp_encode(
    pixels: *const u8,
    width: u32,
    height: u32,
    stride: usize,
    layout: u32,
    o: *const pxp_options,
    out: *mut *mut pxp_buffer,
) -> pxp_status {
    boundary::status(|| {
        // SAFETY: by this export's contract `out` is NULL (refused by `init_out`)
        // or a writable `*mut` slot the caller does not touch during the call.
        let slot = unsafe { init_out(out) }?;
        let layout = layout_from_c(layout)
            .ok_or_else(|| invalid(format!("{layout} is not a pxp_layout value")))?;
        let row = width as usize * layout.channels();
        // Zero sizes reach PixelsRef::new, which names them.
        let len = match height {
            0 => 0,
            h => (h as usize - 1)
                .checked_mul(stride)
                .and_then(|n| n.checked_add(row))
                .ok_or_else(|| {
                    invalid(format!("{width}x{height} with stride {stride} overflows"))
                })?,
        };
        // SAFETY: by this export's contract `pixels` points to
        // `stride * (height - 1) + width * channels` readable bytes, which is
        // `len` as computed (checked for overflow) above; they stay valid and
        // unchanged during the call, the only time the slice is used.
        let data = unsafe { bytes(pixels, len, "pixels") }?;
        let view = PixelsRef::new(data, width, height, stride, layout)?;
        let defaults = Options::default();
        let compressed =
            engine::encode(view, &Metadata::default(), options_or_default(o, &defaults))?;
        *slot = Box::into_raw(Box::new(pxp_buffer { compressed }));
        Ok(())
    })
}
