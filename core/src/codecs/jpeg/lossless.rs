//! Lossless recompression: the DCT coefficients re-encoded with optimized
//! Huffman tables and, when asked, progressive scans (`jpegtran -optimize`).

use super::libjpeg::{run_libjpeg, Compressor, Decompressor};
use super::markers;
use super::segments::{APP0, ICC_PREFIX};
use crate::codecs::check_limit;
use crate::error::Result;
use mozjpeg_sys::*;
use std::ffi::c_int;

/// Re-encodes the DCT coefficients of `data` with optimized Huffman tables and
/// (when `progressive`) progressive scans, without touching the pixels, as
/// `jpegtran -optimize -progressive` does. `keep_markers` copies every APP and
/// COM marker; otherwise only the ICC profile is kept.
pub(crate) fn optimize_lossless(
    data: &[u8],
    progressive: bool,
    keep_markers: bool,
    max_pixels: u64,
) -> Result<Vec<u8>> {
    with_coefficients(data, true, max_pixels, |d, coefficients| {
        Ok(write_coefficients(
            d,
            coefficients,
            progressive,
            keep_markers,
        ))
    })
}

/// Runs `work` on the DCT coefficients of the JPEG `data` (markers checked,
/// at most `max_pixels`, APP and COM markers saved when `save_markers`),
/// inside libjpeg's error boundary ([`run_libjpeg`]).
pub(super) fn with_coefficients<T>(
    data: &[u8],
    save_markers: bool,
    max_pixels: u64,
    work: impl FnOnce(&mut Decompressor, *mut *mut jvirt_barray_control) -> Result<T>,
) -> Result<T> {
    markers::check(data, true)?;
    run_libjpeg(|| {
        let mut d = Decompressor::new(data, true, save_markers);
        check_limit(
            d.cinfo.image_width.into(),
            d.cinfo.image_height.into(),
            max_pixels,
        )?;
        // SAFETY: `d` has read its header; with a (non-suspending) memory
        // source the call returns the arrays, owned by `d`, or unwinds.
        let coefficients = unsafe { jpeg_read_coefficients(&mut d.cinfo) };
        work(&mut d, coefficients)
    })
}

/// The file `d`'s `coefficients` (read by jpeg_read_coefficients, maybe
/// changed since) make, with `d`'s parameters, optimized Huffman tables and
/// (when `progressive`) progressive scans; every APP and COM marker of `d`
/// is copied when `keep_markers`, else only the ICC profile. Finishes `d`.
/// Runs under [`run_libjpeg`].
pub(super) fn write_coefficients(
    d: &mut Decompressor,
    coefficients: *mut *mut jvirt_barray_control,
    progressive: bool,
    keep_markers: bool,
) -> Vec<u8> {
    let mut c = Compressor::new();
    // SAFETY: `d` has read its coefficients and `c` is freshly created;
    // libjpeg copies the parameters (no pointers into `d` are kept).
    unsafe { jpeg_copy_critical_parameters(&d.cinfo, &mut c.cinfo) };
    c.cinfo.optimize_coding = 1;
    if progressive {
        // SAFETY: `c` has its components (copied above).
        unsafe { jpeg_simple_progression(&mut c.cinfo) };
    } else {
        c.cinfo.num_scans = 0;
        c.cinfo.scan_info = std::ptr::null();
    }
    // SAFETY: `coefficients` are `d`'s arrays, which `d` (the caller's, so
    // it outlives `c`) keeps alive until `c.finish()` below, followed by
    // jpeg_finish_decompress; `c` has `d`'s parameters.
    unsafe { jpeg_write_coefficients(&mut c.cinfo, coefficients) };
    let (writes_jfif, writes_adobe) = (
        c.cinfo.write_JFIF_header != 0,
        c.cinfo.write_Adobe_marker != 0,
    );
    for (marker, payload) in d.markers() {
        let code = c_int::from(marker);
        let duplicate = (writes_jfif && code == APP0 && payload.starts_with(b"JFIF"))
            || (writes_adobe && code == APP0 + 14 && payload.starts_with(b"Adobe"));
        let wanted = keep_markers || (code == APP0 + 2 && payload.starts_with(ICC_PREFIX));
        if wanted && !duplicate {
            c.write_marker(code, payload);
        }
    }
    let out = c.finish();
    // SAFETY: `d` read all its coefficients; `c`, which used them, is finished.
    unsafe { jpeg_finish_decompress(&mut d.cinfo) };
    out
}
