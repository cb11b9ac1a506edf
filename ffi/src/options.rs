//! `pxp_options`: the core's option vocabulary behind an opaque handle.

use crate::boundary::{self, arg_mut, invalid, text};
use crate::status::{format_from_c, pxp_status};
use engine::Options;
use std::ffi::c_char;

/// Options for a call: the same keys and values as the CLI's `-s KEY=VALUE`,
/// Python keyword arguments and Node option objects (`format`, `quality`,
/// `lossless`, `progressive`, `subsampling`, `effort`, `resize`, `fit`,
/// `enlarge`, `background`, `orientation`, `max_pixels`, `metadata`, `target`,
/// `tables`, `formats`, ...).
///
/// Setters need exclusive access. Once passed to a call the handle is only
/// read, so threads may share it while nobody sets options on it.
pub struct pxp_options {
    pub(crate) inner: Options,
}

/// The options a NULL `pxp_options *` stands for.
pub(crate) fn options_or_default(o: *const pxp_options, default: &Options) -> &Options {
    // SAFETY: the exported functions document that `o` is NULL or a live handle.
    match unsafe { o.as_ref() } {
        Some(o) => &o.inner,
        None => default,
    }
}

/// A new options handle holding the defaults. Free it with pxp_options_free.
/// Returns NULL only if memory is exhausted.
#[no_mangle]
pub extern "C" fn pxp_options_new() -> *mut pxp_options {
    boundary::value(std::ptr::null_mut(), || {
        Box::into_raw(Box::new(pxp_options {
            inner: Options::default(),
        }))
    })
}

/// A copy of `o` (NULL when `o` is NULL), to change without touching the original.
///
/// # Safety
/// `o` is NULL or a live handle.
#[no_mangle]
pub unsafe extern "C" fn pxp_options_clone(o: *const pxp_options) -> *mut pxp_options {
    boundary::value(std::ptr::null_mut(), || {
        // SAFETY: the caller's contract.
        unsafe { o.as_ref() }.map_or(std::ptr::null_mut(), |o| {
            Box::into_raw(Box::new(pxp_options {
                inner: o.inner.clone(),
            }))
        })
    })
}

/// Frees `o`. NULL does nothing.
///
/// # Safety
/// `o` is NULL or a live handle no other thread is using; it is invalid afterwards.
#[no_mangle]
pub unsafe extern "C" fn pxp_options_free(o: *mut pxp_options) {
    unsafe { boundary::free_handle(o) }
}

/// Sets one option from its string form: `pxp_options_set(o, "quality", "80")`.
/// An unknown key or a bad value gives PXP_ERR_INVALID_ARGUMENT with a message
/// naming the key, and leaves `o` unchanged.
///
/// # Safety
/// `o` is NULL or a live handle used by no other thread; `key` and `value`
/// are NULL or NUL-terminated strings.
#[no_mangle]
pub unsafe extern "C" fn pxp_options_set(
    o: *mut pxp_options,
    key: *const c_char,
    value: *const c_char,
) -> pxp_status {
    boundary::status(|| {
        let o = unsafe { arg_mut(o, "options") }?;
        let key = unsafe { text(key, "key") }?;
        let value = unsafe { text(value, "value") }?;
        let mut changed = o.inner.clone();
        changed.set(key, value)?;
        o.inner = changed;
        Ok(())
    })
}

/// Sets one option from its string form (shared by the typed setters).
fn set(o: *mut pxp_options, key: &str, value: &str) -> pxp_status {
    boundary::status(|| {
        let o = unsafe { arg_mut(o, "options") }?;
        o.inner.set(key, value)
    })
}

/// Sets the output format: a pxp_format value (JPEG, PNG, WebP, AVIF, HEIC),
/// or 0 (PXP_FORMAT_UNKNOWN) for "same as the input".
///
/// # Safety
/// `o` is NULL or a live handle used by no other thread.
#[no_mangle]
pub unsafe extern "C" fn pxp_options_set_format(o: *mut pxp_options, format: u32) -> pxp_status {
    match (format, format_from_c(format)) {
        (0, _) => set(o, "format", "same"),
        (_, Some(f)) => set(o, "format", f.name()),
        (_, None) => {
            boundary::status(|| Err(invalid(format!("{format} is not a pxp_format value"))))
        }
    }
}

/// Sets the quality, 1-100 (0 restores the encoder's default).
///
/// # Safety
/// `o` is NULL or a live handle used by no other thread.
#[no_mangle]
pub unsafe extern "C" fn pxp_options_set_quality(o: *mut pxp_options, quality: u32) -> pxp_status {
    match quality {
        0 => set(o, "quality", ""),
        q => set(o, "quality", &q.to_string()),
    }
}

/// Sets the encoder effort, 0 (fastest) to 10 (smallest).
///
/// # Safety
/// `o` is NULL or a live handle used by no other thread.
#[no_mangle]
pub unsafe extern "C" fn pxp_options_set_effort(o: *mut pxp_options, effort: u32) -> pxp_status {
    set(o, "effort", &effort.to_string())
}

/// Turns lossless encoding on or off (for JPEG to JPEG: lossless optimization).
///
/// # Safety
/// `o` is NULL or a live handle used by no other thread.
#[no_mangle]
pub unsafe extern "C" fn pxp_options_set_lossless(
    o: *mut pxp_options,
    lossless: bool,
) -> pxp_status {
    set(o, "lossless", if lossless { "true" } else { "false" })
}

/// Sets the resize box; 0 leaves that side free (both 0: no resize). The fit
/// mode is the `fit` option.
///
/// # Safety
/// `o` is NULL or a live handle used by no other thread.
#[no_mangle]
pub unsafe extern "C" fn pxp_options_set_resize(
    o: *mut pxp_options,
    width: u32,
    height: u32,
) -> pxp_status {
    let side = |v: u32| if v == 0 { String::new() } else { v.to_string() };
    match (width, height) {
        (0, 0) => set(o, "resize", ""),
        (w, h) => set(o, "resize", &format!("{}x{}", side(w), side(h))),
    }
}

/// Sets the largest width x height accepted, checked from headers before decoding.
///
/// # Safety
/// `o` is NULL or a live handle used by no other thread.
#[no_mangle]
pub unsafe extern "C" fn pxp_options_set_max_pixels(
    o: *mut pxp_options,
    max_pixels: u64,
) -> pxp_status {
    set(o, "max_pixels", &max_pixels.to_string())
}
