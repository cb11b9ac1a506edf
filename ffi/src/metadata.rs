//! Metadata in C: `pxp_metadata` (a read-only set of fields), the diff,
//! in-place rewrite and restore, and interceptors (`pxp_interceptor_fn`
//! with a `pxp_metadata_edit` handle).

use crate::boundary::{self, arg, arg_mut, bytes, invalid, text};
use crate::buffer::pxp_buffer;
use crate::options::pxp_options;
use crate::status::pxp_status;
use engine::{Metadata, MetadataEdit};
use std::ffi::{c_char, c_void, CString};

/// The metadata of an image: its fields (EXIF, XMP, IPTC, ICC), each with a
/// key (`EXIF:IFD0:Make`, `XMP:dc:rights`, `IPTC:IPTC:City`, `ICC:ICC:Description`)
/// and a value as text. Immutable; free it with pxp_metadata_free.
pub struct pxp_metadata {
    metadata: Metadata,
    fields: Vec<(CString, CString)>,
}

impl pxp_metadata {
    fn new(metadata: Metadata) -> pxp_metadata {
        let c = |s: String| CString::new(s.replace('\0', " ")).unwrap_or_default();
        let fields = metadata
            .fields()
            .into_iter()
            .map(|f| (c(f.key()), c(f.value)))
            .collect();
        pxp_metadata { metadata, fields }
    }
}

/// Reads the metadata of an encoded image. On success `*out` holds it;
/// free it with pxp_metadata_free. On failure `*out` is NULL.
///
/// # Safety
/// `input` points to `input_len` readable bytes; `out` is writable.
#[no_mangle]
pub unsafe extern "C" fn pxp_metadata_read(
    input: *const u8,
    input_len: usize,
    out: *mut *mut pxp_metadata,
) -> pxp_status {
    boundary::status(|| {
        // SAFETY: by this export's contract `out` is NULL (refused) or a writable
        // `*mut` slot the caller does not touch during the call.
        let out = unsafe { arg_mut(out, "out") }?;
        *out = std::ptr::null_mut();
        // SAFETY: by this export's contract `input` points to `input_len` readable bytes
        // (or is NULL with 0) that stay valid and unchanged during the call,
        // the only time the slice is used.
        let input = unsafe { bytes(input, input_len, "input") }?;
        let metadata = engine::read_metadata(input)?;
        *out = Box::into_raw(Box::new(pxp_metadata::new(metadata)));
        Ok(())
    })
}

/// The number of fields (0 for NULL).
///
/// # Safety
/// `m` is NULL or a live handle.
#[no_mangle]
pub unsafe extern "C" fn pxp_metadata_count(m: *const pxp_metadata) -> usize {
    // SAFETY: by this export's contract `m` is NULL or a live, immutable handle.
    unsafe { boundary::read_handle(m, 0, |m| m.fields.len()) }
}

/// Field `index` (0-based): its key and value, valid while `m` lives.
/// PXP_ERR_INVALID_ARGUMENT when `index` is out of range.
///
/// # Safety
/// `m` is NULL or a live handle; `key` and `value` are writable.
#[no_mangle]
pub unsafe extern "C" fn pxp_metadata_field(
    m: *const pxp_metadata,
    index: usize,
    key: *mut *const c_char,
    value: *mut *const c_char,
) -> pxp_status {
    boundary::status(|| {
        // SAFETY: by this export's contract `m` is NULL or a live, immutable handle,
        // which outlives the pointers into it handed back (valid while `m` lives).
        let m = unsafe { arg(m, "metadata") }?;
        // SAFETY: by this export's contract `key` and `value` are NULL (refused)
        // or writable `*const c_char` slots, distinct and untouched during the call.
        let (key, value) = (unsafe { arg_mut(key, "key") }?, unsafe {
            arg_mut(value, "value")
        }?);
        let (k, v) = m
            .fields
            .get(index)
            .ok_or_else(|| invalid(format!("field {index} of {}", m.fields.len())))?;
        *key = k.as_ptr();
        *value = v.as_ptr();
        Ok(())
    })
}

/// The value of the field with key `key`, valid while `m` lives; NULL when
/// there is none.
///
/// # Safety
/// `m` is NULL or a live handle; `key` is NULL or a NUL-terminated string.
#[no_mangle]
pub unsafe extern "C" fn pxp_metadata_get(
    m: *const pxp_metadata,
    key: *const c_char,
) -> *const c_char {
    boundary::value(std::ptr::null(), || {
        // SAFETY: by this export's contract `m` is NULL or a live, immutable
        // handle, and `key` NULL or a NUL-terminated string alive during the call.
        let (Ok(m), Ok(key)) = (unsafe { arg(m, "metadata") }, unsafe { text(key, "key") }) else {
            return std::ptr::null();
        };
        m.fields
            .iter()
            .find(|(k, _)| k.as_bytes() == key.as_bytes())
            .map_or(std::ptr::null(), |(_, v)| v.as_ptr())
    })
}

/// The fields as JSON (`[{"block", "group", "name", "value"}, ...]`): a new
/// string to free with pxp_string_free; NULL for NULL.
///
/// # Safety
/// `m` is NULL or a live handle.
#[no_mangle]
pub unsafe extern "C" fn pxp_metadata_json(m: *const pxp_metadata) -> *mut c_char {
    boundary::value(std::ptr::null_mut(), || {
        // SAFETY: by this export's contract `m` is NULL or a live, immutable handle.
        let Ok(m) = (unsafe { arg(m, "metadata") }) else {
            return std::ptr::null_mut();
        };
        owned_string(m.metadata.fields_json().to_string())
    })
}

/// The field-level difference from `before` to `after` as JSON (`added`,
/// `removed`, `changed`, `moved`; see `pixpress meta diff --json`): a new
/// string to free with pxp_string_free; NULL if either is NULL.
///
/// # Safety
/// `before` and `after` are NULL or live handles.
#[no_mangle]
pub unsafe extern "C" fn pxp_metadata_diff_json(
    before: *const pxp_metadata,
    after: *const pxp_metadata,
) -> *mut c_char {
    boundary::value(std::ptr::null_mut(), || {
        // SAFETY: by this export's contract `before` and `after` are NULL or live,
        // immutable handles (they may be the same one: both are shared borrows).
        let (Ok(a), Ok(b)) = (unsafe { arg(before, "before") }, unsafe {
            arg(after, "after")
        }) else {
            return std::ptr::null_mut();
        };
        owned_string(a.metadata.diff(&b.metadata).to_json().to_string())
    })
}

fn owned_string(text: String) -> *mut c_char {
    CString::new(text).map_or(std::ptr::null_mut(), CString::into_raw)
}

/// Frees `m`. NULL does nothing.
///
/// # Safety
/// `m` is NULL or a live handle; it is invalid afterwards.
#[no_mangle]
pub unsafe extern "C" fn pxp_metadata_free(m: *mut pxp_metadata) {
    // SAFETY: by this export's contract `m` is NULL or a live handle made by
    // this library (`Box::into_raw`), not used afterwards.
    unsafe { boundary::free_handle(m) }
}

/// The restore record of a compress with the `restore_record` option: `*data`
/// and the returned length (0 and NULL when nothing was removed or changed, or
/// the option was off). Valid until pxp_buffer_free.
///
/// # Safety
/// `b` is NULL or a live buffer; `data` is writable.
#[no_mangle]
pub unsafe extern "C" fn pxp_buffer_restore_record(
    b: *const pxp_buffer,
    data: *mut *const u8,
) -> usize {
    boundary::value(0, || {
        // SAFETY: by this export's contract `b` is NULL or a live, immutable buffer
        // (which owns the record pointed to), and `data` NULL or a writable slot.
        let (Ok(b), Ok(data)) = (unsafe { arg(b, "buffer") }, unsafe {
            arg_mut(data, "data")
        }) else {
            return 0;
        };
        let record = b.compressed.metadata.restore_record.as_deref();
        *data = record.map_or(std::ptr::null(), <[u8]>::as_ptr);
        record.map_or(0, <[u8]>::len)
    })
}

/// Applies the metadata options of `o` (`metadata` policy with `gps=`,
/// `provenance`, `restore_record`, the interceptor) to an encoded JPEG, PNG
/// or WebP without re-encoding pixels. `*out` holds the rewritten file (and
/// its restore record); free it with pxp_buffer_free.
///
/// # Safety
/// As pxp_compress.
#[no_mangle]
pub unsafe extern "C" fn pxp_rewrite_metadata(
    input: *const u8,
    input_len: usize,
    o: *const pxp_options,
    out: *mut *mut pxp_buffer,
) -> pxp_status {
    boundary::status(|| {
        // SAFETY: by this export's contract `out` is NULL (refused) or a writable
        // `*mut` slot the caller does not touch during the call.
        let out = unsafe { arg_mut(out, "out") }?;
        *out = std::ptr::null_mut();
        // SAFETY: by this export's contract `input` points to `input_len` readable bytes
        // (or is NULL with 0) that stay valid and unchanged during the call,
        // the only time the slice is used.
        let input = unsafe { bytes(input, input_len, "input") }?;
        let default = engine::Options::default();
        let options = crate::options::options_or_default(o, &default);
        let compressed = engine::rewrite_metadata(input, options)?;
        *out = Box::into_raw(Box::new(pxp_buffer { compressed }));
        Ok(())
    })
}

/// Puts back into an encoded JPEG, PNG or WebP the metadata a restore
/// record holds, without re-encoding pixels. `*out` holds the result; free
/// it with pxp_buffer_free.
///
/// # Safety
/// `input` and `record` point to their lengths of readable bytes; `out` is writable.
#[no_mangle]
pub unsafe extern "C" fn pxp_restore_metadata(
    input: *const u8,
    input_len: usize,
    record: *const u8,
    record_len: usize,
    out: *mut *mut pxp_buffer,
) -> pxp_status {
    boundary::status(|| {
        // SAFETY: by this export's contract `out` is NULL (refused) or a writable
        // `*mut` slot the caller does not touch during the call.
        let out = unsafe { arg_mut(out, "out") }?;
        *out = std::ptr::null_mut();
        // SAFETY: by this export's contract `input` points to `input_len` readable bytes
        // (or is NULL with 0) that stay valid and unchanged during the call,
        // the only time the slice is used.
        let input = unsafe { bytes(input, input_len, "input") }?;
        // SAFETY: by this export's contract `record` points to `record_len` readable bytes
        // (or is NULL with 0) that stay valid and unchanged during the call,
        // the only time the slice is used.
        let record = unsafe { bytes(record, record_len, "record") }?;
        let compressed = engine::restore_metadata(input, record)?;
        *out = Box::into_raw(Box::new(pxp_buffer { compressed }));
        Ok(())
    })
}

/// The edits an interceptor makes: valid only during the callback.
pub struct pxp_metadata_edit {
    edit: *mut MetadataEdit,
}

/// An interceptor: called with `user_data`, a read-only view of the metadata
/// about to be written (valid during the call), and an edit handle. Return 0
/// to write the (edited) metadata; anything else fails the call with
/// PXP_ERR_INTERCEPTOR and nothing is written. It runs on the thread that
/// makes the call, and may run on several threads at once when the options
/// handle is shared.
pub type pxp_interceptor_fn = Option<
    unsafe extern "C" fn(
        user_data: *mut c_void,
        view: *const pxp_metadata,
        edit: *mut pxp_metadata_edit,
    ) -> i32,
>;

/// A C callback and its user data as a core interceptor.
struct CInterceptor {
    callback: unsafe extern "C" fn(*mut c_void, *const pxp_metadata, *mut pxp_metadata_edit) -> i32,
    user_data: *mut c_void,
}

// SAFETY: the only non-`Send` field is the raw `user_data`, which this type
// never dereferences; the caller of pxp_options_set_interceptor promised the
// callback may be called with it from any thread that makes calls with the
// options (see its `# Safety`), so moving the pair to such a thread is sound.
unsafe impl Send for CInterceptor {}
// SAFETY: `CInterceptor` is only read (its fields are never changed after
// construction) and `intercept` takes `&self`; calling the callback from
// several threads at once is what the caller of
// pxp_options_set_interceptor promised is safe (see its `# Safety`).
unsafe impl Sync for CInterceptor {}

impl engine::MetadataInterceptor for CInterceptor {
    fn intercept(&self, edit: &mut MetadataEdit) -> Result<(), String> {
        let view = pxp_metadata::new(edit.metadata().clone());
        let mut handle = pxp_metadata_edit { edit };
        // SAFETY: the caller of pxp_options_set_interceptor promised the
        // callback is safe to call with `user_data` on this thread; `view`
        // and `handle` are locals alive for the whole call, and `handle.edit`
        // is derived from the `&mut` edit we hold, used by nothing else until
        // the callback returns (the handle is documented valid only during it).
        let code = unsafe { (self.callback)(self.user_data, &view, &mut handle) };
        match code {
            0 => Ok(()),
            code => Err(format!("the C interceptor returned {code}")),
        }
    }

    /// The host may free `user_data` once its call returns, so the callback
    /// never outlives the call: it runs inline, without a deadline.
    fn bound_to_calling_thread(&self) -> bool {
        true
    }
}

/// Registers an interceptor on `o` (NULL `callback` removes it). Calls made
/// with `o` (and its clones) run it just before metadata is written.
///
/// # Safety
/// `o` is NULL or a live handle used by no other thread; `callback` is NULL
/// or a function safe to call with `user_data` from any thread making calls
/// with `o`, for as long as `o` or a clone of it is used.
#[no_mangle]
pub unsafe extern "C" fn pxp_options_set_interceptor(
    o: *mut pxp_options,
    callback: pxp_interceptor_fn,
    user_data: *mut c_void,
) -> pxp_status {
    boundary::status(|| {
        // SAFETY: by this export's contract `o` is NULL or a live handle no other
        // thread uses during the call, so the `&mut` is exclusive.
        let o = unsafe { arg_mut(o, "options") }?;
        o.inner.interceptor = callback.map(|callback| {
            engine::Interceptor::new(CInterceptor {
                callback,
                user_data,
            })
        });
        Ok(())
    })
}

/// Sets a field by key (`EXIF:IFD0:Artist`, `XMP:dc:rights`, `IPTC:City`):
/// EXIF text and integer fields, XMP simple properties, IPTC datasets.
///
/// # Safety
/// `e` is the handle given to the running callback; `key` and `value` are
/// NUL-terminated strings.
#[no_mangle]
pub unsafe extern "C" fn pxp_metadata_edit_set(
    e: *mut pxp_metadata_edit,
    key: *const c_char,
    value: *const c_char,
) -> pxp_status {
    boundary::status(|| {
        // SAFETY: by this export's contract `e` is NULL or the handle given to the
        // callback that is running now (so its edit is alive and borrowed by nothing else).
        let edit = unsafe { edit_of(e) }?;
        // SAFETY: by this export's contract `key` and `value` are NULL or
        // NUL-terminated strings, alive and unchanged during the call.
        edit.set(unsafe { text(key, "key") }?, unsafe {
            text(value, "value")
        }?)
    })
}

/// Removes a field by key (`ICC` removes the profile). Removing a field that
/// is not there is not an error.
///
/// # Safety
/// As pxp_metadata_edit_set.
#[no_mangle]
pub unsafe extern "C" fn pxp_metadata_edit_remove(
    e: *mut pxp_metadata_edit,
    key: *const c_char,
) -> pxp_status {
    boundary::status(|| {
        // SAFETY: by this export's contract `e` is NULL or the handle given to the
        // callback that is running now (so its edit is alive and borrowed by nothing else).
        let edit = unsafe { edit_of(e) }?;
        // SAFETY: by this export's contract `key` is NULL or a NUL-terminated
        // string, alive and unchanged during the call.
        edit.remove(unsafe { text(key, "key") }?).map(|_| ())
    })
}

/// The edit behind a handle given to a running callback.
///
/// # Safety
/// `e` is NULL or the handle given to the running callback.
unsafe fn edit_of<'a>(e: *mut pxp_metadata_edit) -> Result<&'a mut MetadataEdit, engine::Error> {
    // SAFETY: our caller guarantees `e` is NULL or the handle given to the
    // running callback: a live `pxp_metadata_edit` on the interceptor's stack.
    let handle = unsafe { arg_mut(e, "edit") }?;
    // SAFETY: `intercept` made `handle.edit` from its live `&mut MetadataEdit`
    // and does not touch that edit until the callback (the only place `e`
    // is valid, per the contract) returns, so this `&mut` is exclusive.
    Ok(unsafe { &mut *handle.edit })
}
