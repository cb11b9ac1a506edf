//! `pxp_options`: the core's option vocabulary behind an opaque handle.

use crate::boundary::{self, arg_mut, invalid, text};
use crate::status::{format_from_c, pxp_status};
use engine::{OptionValue, Options};
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
    // SAFETY: every caller is an export whose `# Safety` requires `o` to be
    // NULL or a live handle not being set meanwhile, and passes its own `o`;
    // the returned borrow is used only during that export's call. (This is a
    // safe fn over a raw pointer: sound only through those callers.)
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
        // SAFETY: by this export's contract `o` is NULL (`None`) or a live
        // handle, only read (cloned) here.
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
    // SAFETY: by this export's contract `o` is NULL or a live handle made by
    // this library (`Box::into_raw`), not used afterwards.
    // No other thread may be using it (the contract says so).
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
        // SAFETY: by the contract of the exports that reach here, `o` is NULL or a
        // live handle no other thread uses during the call, so `&mut` is exclusive.
        let o = unsafe { arg_mut(o, "options") }?;
        // SAFETY: by this export's contract `key` is NULL or a NUL-terminated
        // string, alive and unchanged during the call.
        let key = unsafe { text(key, "key") }?;
        // SAFETY: as above, for `value`.
        let value = unsafe { text(value, "value") }?;
        let mut changed = o.inner.clone();
        changed.set(key, value)?;
        o.inner = changed;
        Ok(())
    })
}

/// Sets one option from a typed value (shared by the typed setters).
fn set(o: *mut pxp_options, key: &str, value: OptionValue) -> pxp_status {
    boundary::status(|| {
        // SAFETY: by the contract of the exports that reach here, `o` is NULL or a
        // live handle no other thread uses during the call, so `&mut` is exclusive.
        let o = unsafe { arg_mut(o, "options") }?;
        o.inner.set_value(key, &value)
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
        (0, _) => set(o, "format", OptionValue::Text("same".into())),
        (_, Some(f)) => set(o, "format", OptionValue::Text(f.name().into())),
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
        0 => set(o, "quality", OptionValue::Default),
        q => set(o, "quality", OptionValue::Int(q.into())),
    }
}

/// Sets the encoder effort, 0 (fastest) to 10 (smallest).
///
/// # Safety
/// `o` is NULL or a live handle used by no other thread.
#[no_mangle]
pub unsafe extern "C" fn pxp_options_set_effort(o: *mut pxp_options, effort: u32) -> pxp_status {
    set(o, "effort", OptionValue::Int(effort.into()))
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
    set(o, "lossless", OptionValue::Bool(lossless))
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
    let side = |v: u32| (v != 0).then_some(v);
    match (width, height) {
        (0, 0) => set(o, "resize", OptionValue::Default),
        (w, h) => set(o, "resize", OptionValue::Pair(side(w), side(h))),
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
    let value = i64::try_from(max_pixels).map_or_else(
        |_| OptionValue::Text(max_pixels.to_string()),
        OptionValue::Int,
    );
    set(o, "max_pixels", value)
}
