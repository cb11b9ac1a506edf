//! Compressing and probing encoded images: `pxp_compress`,
//! `pxp_compress_with_progress`, `pxp_compress_file` and `pxp_probe`.

use crate::boundary::{self, bytes, init_out, path};
use crate::buffer::pxp_buffer;
use crate::options::{options_or_default, pxp_options};
use crate::status::{format_from_c, pxp_format, pxp_stage, pxp_status};
use engine::{Options, Progress};
use std::ffi::{c_int, c_void};

/// A progress report, passed to a pxp_progress_fn.
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct pxp_progress {
    /// sizeof(pxp_progress) as the library was built: fields are only appended.
    pub struct_size: usize,
    /// The stage being entered.
    pub stage: pxp_stage,
    /// The share of the call's work done so far, from 0.0 to 1.0.
    pub fraction: f64,
}

/// Called at the start of each stage of a call and once at the end, on the
/// calling thread. Returning non-zero cancels the call, which then returns
/// PXP_ERR_CANCELLED and produces nothing. The callback must not unwind
/// (longjmp, C++ exceptions) through the library.
pub type pxp_progress_fn =
    Option<unsafe extern "C" fn(user_data: *mut c_void, progress: *const pxp_progress) -> c_int>;

/// Header facts about an image, filled by pxp_probe.
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct pxp_info {
    /// Set by the caller to sizeof(pxp_info) before the call; the library
    /// fills only the fields that fit, so old callers keep working.
    pub struct_size: usize,
    /// The container format.
    pub format: pxp_format,
    /// Stored width in pixels (for HEIF/AVIF: after `irot`/`imir`).
    pub width: u32,
    /// Stored height in pixels.
    pub height: u32,
    /// Bits per sample of the source (8, 10, 12 or 16; 1 for fax TIFF).
    pub bit_depth: u32,
    /// The EXIF Orientation value, 1-8 (1 when absent).
    pub orientation: u32,
    /// Frames, pages or top-level images (1 for a still image).
    pub frames: u32,
    /// Whether the image has alpha or transparency.
    pub has_alpha: bool,
    /// Whether an EXIF block is present.
    pub has_exif: bool,
    /// Whether an XMP packet is present.
    pub has_xmp: bool,
    /// Whether an ICC profile is present.
    pub has_icc: bool,
    /// Whether IPTC-IIM data is present.
    pub has_iptc: bool,
    /// Stated horizontal resolution in pixels per inch (JPEG JFIF, PNG pHYs); 0 when not stated.
    pub dpi_x: f64,
    /// Stated vertical resolution in pixels per inch; 0 when not stated.
    pub dpi_y: f64,
}

/// Compresses `input` (any supported format) as `o` says (NULL: defaults,
/// which keep the format). On success `*out` holds the result; free it with
/// pxp_buffer_free. On failure `*out` is NULL.
///
/// # Safety
/// `input` points to `input_len` readable bytes; `o` is NULL or a live
/// handle; `out` is writable.
#[no_mangle]
pub unsafe extern "C" fn pxp_compress(
    input: *const u8,
    input_len: usize,
    o: *const pxp_options,
    out: *mut *mut pxp_buffer,
) -> pxp_status {
    // SAFETY: this export's contract on `input`, `o` and `out` is the one
    // pxp_compress_with_progress needs; a NULL `progress` needs nothing.
    unsafe { pxp_compress_with_progress(input, input_len, o, None, std::ptr::null_mut(), out) }
}

/// pxp_compress, reporting progress to `progress` (may be NULL) with
/// `user_data`; a non-zero return from it cancels with PXP_ERR_CANCELLED.
///
/// # Safety
/// As pxp_compress; `progress` is NULL or a function safe to call with `user_data`.
#[no_mangle]
pub unsafe extern "C" fn pxp_compress_with_progress(
    input: *const u8,
    input_len: usize,
    o: *const pxp_options,
    progress: pxp_progress_fn,
    user_data: *mut c_void,
    out: *mut *mut pxp_buffer,
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
        let options = options_or_default(o, &defaults);
        let compressed = match progress {
            None => engine::compress(input, options)?,
            Some(callback) => {
                let mut report = |p: &Progress| {
                    let c = pxp_progress {
                        struct_size: std::mem::size_of::<pxp_progress>(),
                        stage: p.stage.into(),
                        fraction: f64::from(p.fraction),
                    };
                    // SAFETY: by this export's contract `callback` is safe to
                    // call with `user_data`; `c` is a local alive for the call;
                    // it runs on the calling thread, inside this export.
                    unsafe { callback(user_data, &c) == 0 }
                };
                engine::compress_with_progress(input, options, &mut report)?
            }
        };
        *slot = Box::into_raw(Box::new(pxp_buffer { compressed }));
        Ok(())
    })
}

/// Reads `input_path`, compresses it as `o` says (NULL: defaults) and writes
/// `output_path` atomically (a temporary file in the same directory, then a
/// rename): on any failure no file, and no partial file, is left at
/// `output_path`. Paths are bytes, as the operating system takes them.
///
/// # Safety
/// The paths are NULL or NUL-terminated strings; `o` is NULL or a live handle.
#[no_mangle]
pub unsafe extern "C" fn pxp_compress_file(
    input_path: *const std::ffi::c_char,
    output_path: *const std::ffi::c_char,
    o: *const pxp_options,
) -> pxp_status {
    boundary::status(|| {
        // SAFETY: by this export's contract `input_path` is NULL or a
        // NUL-terminated string, alive and unchanged during the call.
        let input = unsafe { path(input_path, "input_path") }?;
        // SAFETY: as above, for `output_path`.
        let output = unsafe { path(output_path, "output_path") }?;
        let defaults = Options::default();
        engine::compress_file(input, output, options_or_default(o, &defaults)).map(drop)
    })
}

/// Reads format, dimensions, bit depth, alpha, orientation, frame count and
/// which metadata blocks are present from the headers of `input`, without
/// decoding pixels. The caller sets `info->struct_size = sizeof(pxp_info)`.
///
/// # Safety
/// `input` points to `input_len` readable bytes; `info` is NULL or points to
/// `info->struct_size` writable bytes.
#[no_mangle]
pub unsafe extern "C" fn pxp_probe(
    input: *const u8,
    input_len: usize,
    info: *mut pxp_info,
) -> pxp_status {
    boundary::status(|| {
        // SAFETY: by this export's contract `info` is NULL or a caller's
        // `pxp_info`, which begins with its `size_t struct_size`.
        let len = unsafe { boundary::sized_len(info, "info", "pxp_info") }?;
        // SAFETY: by this export's contract `input` points to `input_len` readable bytes
        // (or is NULL with 0) that stay valid and unchanged during the call,
        // the only time the slice is used.
        let input = unsafe { bytes(input, input_len, "input") }?;
        let probed = engine::probe(input)?;
        let full = pxp_info {
            struct_size: len,
            format: probed.format.into(),
            width: probed.width,
            height: probed.height,
            bit_depth: u32::from(probed.bit_depth),
            orientation: u32::from(probed.orientation),
            frames: probed.frames,
            has_alpha: probed.has_alpha,
            has_exif: probed.has_exif,
            has_xmp: probed.has_xmp,
            has_icc: probed.has_icc,
            has_iptc: probed.has_iptc,
            dpi_x: probed.dpi.map_or(0.0, |d| d.0),
            dpi_y: probed.dpi.map_or(0.0, |d| d.1),
        };
        // SAFETY: `info` is non-null (sized_len checked) with `struct_size`
        // writable bytes (contract), and `len` is
        // min(struct_size, size_of::<pxp_info>()).
        unsafe { boundary::write_prefix(info, &full, len) };
        Ok(())
    })
}

/// Whether this build decodes `format` (a pxp_format value).
#[no_mangle]
pub extern "C" fn pxp_can_decode(format: u32) -> bool {
    boundary::value(false, || {
        format_from_c(format).is_some_and(|f| engine::capabilities().decode.contains(&f))
    })
}

/// Whether this build encodes `format` (a pxp_format value). HEIC encoding
/// needs a build with the opt-in (GPL) x265 feature.
#[no_mangle]
pub extern "C" fn pxp_can_encode(format: u32) -> bool {
    boundary::value(false, || {
        format_from_c(format).is_some_and(|f| engine::capabilities().encode.contains(&f))
    })
}
