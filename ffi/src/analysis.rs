//! `pxp_analysis`: bytes against score for each format at several settings,
//! and the Pareto front (what `pixpress analyze` prints).

use crate::boundary::{self, bytes, init_out, read_handle};
use crate::options::{options_or_default, pxp_options};
use crate::status::{pxp_format, pxp_status};
use engine::{Analysis, Options};
use std::ffi::{c_char, CString};

/// The result of pxp_analyze: its points, and the same as JSON and as an SVG
/// drawing. Immutable; readable from any thread; free it with pxp_analysis_free.
pub struct pxp_analysis {
    analysis: Analysis,
    json: CString,
    svg: CString,
}

/// One encode of an analysis. The caller sets `struct_size` to
/// `sizeof(pxp_rate_point)`; fields past it are not written.
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct pxp_rate_point {
    /// Set by the caller to `sizeof(pxp_rate_point)`.
    pub struct_size: usize,
    /// The output format.
    pub format: pxp_format,
    /// The encoder quality setting; 0 for lossless PNG.
    pub quality: u32,
    /// The encoded size in bytes.
    pub bytes: usize,
    /// The score of the decoded output (the metric pxp_analysis_json names;
    /// SSIMULACRA2 unless the options' `target` names another).
    pub score: f64,
    /// True when no other point is both smaller and at least as good.
    pub pareto: bool,
}

/// Encodes `input` (decoded, oriented and resized as `o` says; NULL `o` for
/// the defaults) to each format of the `formats` option (default JPEG, WebP,
/// AVIF) at several quality settings and losslessly to PNG, scores each, and
/// marks the Pareto front. On success `*out` holds a new analysis; on failure
/// it is NULL.
///
/// # Safety
/// `input` points to `input_len` readable bytes; `o` is NULL or a live
/// options handle; `out` is writable.
#[no_mangle]
pub unsafe extern "C" fn pxp_analyze(
    input: *const u8,
    input_len: usize,
    o: *const pxp_options,
    out: *mut *mut pxp_analysis,
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
        let analysis = engine::analyze(input, options_or_default(o, &defaults))?;
        let text = |s: String| CString::new(s).unwrap_or_default();
        *slot = Box::into_raw(Box::new(pxp_analysis {
            json: text(analysis.to_json()),
            svg: text(analysis.to_svg()),
            analysis,
        }));
        Ok(())
    })
}

/// How many points the analysis holds (0 for NULL).
///
/// # Safety
/// `a` is NULL or a live analysis.
#[no_mangle]
pub unsafe extern "C" fn pxp_analysis_len(a: *const pxp_analysis) -> usize {
    // SAFETY: by this export's contract `a` is NULL or a live analysis; it
    // is immutable, so reading it from any thread is sound.
    unsafe { read_handle(a, 0, |a| a.analysis.points.len()) }
}

/// Fills `*point` with point `index` (by format, then quality). Returns false
/// (and leaves `*point` alone) when `a` is NULL, `index` is out of range, or
/// `point` is NULL or its `struct_size` is not set.
///
/// # Safety
/// `a` is NULL or a live analysis; `point` is NULL or points to
/// `point->struct_size` writable bytes.
#[no_mangle]
pub unsafe extern "C" fn pxp_analysis_point(
    a: *const pxp_analysis,
    index: usize,
    point: *mut pxp_rate_point,
) -> bool {
    boundary::value(false, || {
        // SAFETY: by this export's contract `a` is NULL (`None`) or a live,
        // immutable analysis.
        let Some(p) = (unsafe { a.as_ref() }).and_then(|a| a.analysis.points.get(index)) else {
            return false;
        };
        // SAFETY: by this export's contract `point` is NULL or a caller's
        // pxp_rate_point, which begins with its `size_t struct_size`.
        let Ok(len) = (unsafe { boundary::sized_len(point, "point", "pxp_rate_point") }) else {
            return false;
        };
        let full = pxp_rate_point {
            struct_size: len,
            format: p.format.into(),
            quality: p.quality.map_or(0, u32::from),
            bytes: p.bytes,
            score: p.score,
            pareto: p.pareto,
        };
        // SAFETY: `point` is non-null (sized_len checked) with
        // `struct_size` writable bytes (contract), and `len` is
        // min(struct_size, size_of::<pxp_rate_point>()).
        unsafe { boundary::write_prefix(point, &full, len) };
        true
    })
}

/// The analysis as a NUL-terminated JSON document (`width`, `height`,
/// `metric`, `points`, `front`), owned by `a` and valid until
/// pxp_analysis_free; NULL for NULL.
///
/// # Safety
/// `a` is NULL or a live analysis.
#[no_mangle]
pub unsafe extern "C" fn pxp_analysis_json(a: *const pxp_analysis) -> *const c_char {
    // SAFETY: by this export's contract `a` is NULL or a live analysis; it
    // is immutable, so reading it from any thread is sound.
    // The pointer returned is owned by `a`, valid until pxp_analysis_free.
    unsafe { read_handle(a, std::ptr::null(), |a| a.json.as_ptr()) }
}

/// The curves and the Pareto front as a NUL-terminated SVG document, owned
/// by `a` and valid until pxp_analysis_free; NULL for NULL.
///
/// # Safety
/// `a` is NULL or a live analysis.
#[no_mangle]
pub unsafe extern "C" fn pxp_analysis_svg(a: *const pxp_analysis) -> *const c_char {
    // SAFETY: by this export's contract `a` is NULL or a live analysis; it
    // is immutable, so reading it from any thread is sound.
    // The pointer returned is owned by `a`, valid until pxp_analysis_free.
    unsafe { read_handle(a, std::ptr::null(), |a| a.svg.as_ptr()) }
}

/// Frees `a`. NULL does nothing.
///
/// # Safety
/// `a` is NULL or a live analysis; it is invalid afterwards.
#[no_mangle]
pub unsafe extern "C" fn pxp_analysis_free(a: *mut pxp_analysis) {
    // SAFETY: by this export's contract `a` is NULL or a live analysis made by
    // this library (`Box::into_raw`), not used afterwards.
    unsafe { boundary::free_handle(a) }
}
