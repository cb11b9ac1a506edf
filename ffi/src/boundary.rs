//! The panic boundary every export runs behind, this thread's last error,
//! and checked conversions of C arguments.

use crate::status::pxp_status;
use engine::Error;
use std::cell::RefCell;
use std::ffi::{c_char, CStr, CString};
use std::panic::{catch_unwind, AssertUnwindSafe};

thread_local! {
    static LAST_ERROR: RefCell<CString> = RefCell::new(CString::default());
}

/// Records `message` as this thread's last error.
fn set_last_error(message: &str) {
    let text = CString::new(message.replace('\0', " ")).unwrap_or_default();
    LAST_ERROR.with(|e| *e.borrow_mut() = text);
}

/// The message of the last failed call on this thread, or "" if none failed.
/// The string stays valid until the next failing call on this thread; like
/// errno, a successful call leaves it unchanged.
#[no_mangle]
pub extern "C" fn pxp_last_error_message() -> *const c_char {
    LAST_ERROR.with(|e| e.borrow().as_ptr())
}

/// Turns a panic payload into text.
fn panic_text(payload: &(dyn std::any::Any + Send)) -> String {
    payload
        .downcast_ref::<&str>()
        .map(|s| s.to_string())
        .or_else(|| payload.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "a panic with a non-text payload".into())
}

/// Runs `work` behind the panic boundary and turns its outcome into a status,
/// recording the message of any failure.
pub(crate) fn status(work: impl FnOnce() -> Result<(), Error>) -> pxp_status {
    match catch_unwind(AssertUnwindSafe(work)) {
        Ok(Ok(())) => pxp_status::PXP_OK,
        Ok(Err(e)) => {
            set_last_error(&e.to_string());
            e.kind().into()
        }
        Err(payload) => {
            set_last_error(&format!("internal error: {}", panic_text(&*payload)));
            pxp_status::PXP_ERR_INTERNAL
        }
    }
}

/// Runs an infallible accessor behind the panic boundary; `fallback` on panic.
pub(crate) fn value<T>(fallback: T, work: impl FnOnce() -> T) -> T {
    catch_unwind(AssertUnwindSafe(work)).unwrap_or_else(|payload| {
        set_last_error(&format!("internal error: {}", panic_text(&*payload)));
        fallback
    })
}

/// Runs an accessor on the handle behind `ptr`; `fallback` for NULL or a panic.
///
/// # Safety
/// `ptr` is NULL or points to a live `H`.
pub(crate) unsafe fn read_handle<H, T: Copy>(
    ptr: *const H,
    fallback: T,
    read: impl FnOnce(&H) -> T,
) -> T {
    // SAFETY: the caller guarantees `ptr` is NULL (`as_ref` gives `None`) or
    // points to a live, aligned `H` not mutated during this call.
    value(fallback, || unsafe { ptr.as_ref() }.map_or(fallback, read))
}

/// Frees a handle made with `Box::into_raw`; NULL does nothing.
///
/// # Safety
/// `ptr` is NULL or a live handle of this crate, not used afterwards.
pub(crate) unsafe fn free_handle<H>(ptr: *mut H) {
    value((), || {
        if !ptr.is_null() {
            // SAFETY: `ptr` is non-null (checked) and, by the caller's
            // contract, a handle this crate made with `Box::into_raw`, not
            // freed before and not used after.
            drop(unsafe { Box::from_raw(ptr) });
        }
    })
}

/// An invalid-argument error naming `what`.
pub(crate) fn invalid(what: impl Into<String>) -> Error {
    Error::InvalidArgument(what.into())
}

/// How many bytes of a caller's extensible struct to fill: the
/// `size_t struct_size` it begins with, capped at this library's size of
/// `T`. Fails naming the argument when it is NULL or its size is not set.
///
/// # Safety
/// `out` is NULL or points to a struct that begins with a `size_t`.
pub(crate) unsafe fn sized_len<T>(
    out: *mut T,
    name: &str,
    type_name: &str,
) -> Result<usize, Error> {
    if out.is_null() {
        return Err(invalid(format!("`{name}` is NULL")));
    }
    // SAFETY: `out` is non-null (checked) and, by the caller's contract,
    // points to a caller struct that begins with an initialised, aligned
    // `size_t`, which is all this reads.
    let size = unsafe { out.cast::<usize>().read() };
    if size < std::mem::size_of::<usize>() {
        return Err(invalid(format!(
            "`{name}->struct_size` is not set; set it to sizeof({type_name})"
        )));
    }
    Ok(size.min(std::mem::size_of::<T>()))
}

/// Copies the first `len` bytes of `value` to `out`: a caller's older,
/// smaller struct gets the fields it knows and nothing past them.
///
/// # Safety
/// `out` points to at least `len` writable bytes; `len <= size_of::<T>()`.
pub(crate) unsafe fn write_prefix<T>(out: *mut T, value: &T, len: usize) {
    // SAFETY: by the caller's contract `out` has `len` writable bytes and
    // `len <= size_of::<T>()`, so `value` (a live `&T`) has `len` readable
    // bytes; `value` is the callee's own struct, so the two do not overlap.
    unsafe {
        std::ptr::copy_nonoverlapping((value as *const T).cast::<u8>(), out.cast::<u8>(), len)
    }
}

/// Borrows `*ptr`, or fails naming the argument when it is NULL.
///
/// # Safety
/// `ptr` is NULL or points to a live `T` for the returned lifetime.
pub(crate) unsafe fn arg<'a, T>(ptr: *const T, name: &str) -> Result<&'a T, Error> {
    // SAFETY: the caller guarantees `ptr` is NULL (`None`) or points to a
    // live, aligned `T` that stays valid and unmutated for `'a`.
    unsafe { ptr.as_ref() }.ok_or_else(|| invalid(format!("`{name}` is NULL")))
}

/// Mutably borrows `*ptr`, or fails naming the argument when it is NULL.
///
/// # Safety
/// `ptr` is NULL or points to a live `T`, not aliased, for the returned lifetime.
pub(crate) unsafe fn arg_mut<'a, T>(ptr: *mut T, name: &str) -> Result<&'a mut T, Error> {
    // SAFETY: the caller guarantees `ptr` is NULL (`None`) or points to a
    // live, aligned `T` that nothing else accesses for `'a`.
    unsafe { ptr.as_mut() }.ok_or_else(|| invalid(format!("`{name}` is NULL")))
}

/// Borrows `len` bytes at `ptr` (NULL is allowed only with `len` 0).
///
/// # Safety
/// `ptr` is NULL or points to `len` readable bytes for the returned lifetime.
pub(crate) unsafe fn bytes<'a>(ptr: *const u8, len: usize, name: &str) -> Result<&'a [u8], Error> {
    match (ptr.is_null(), len) {
        (true, 0) => Ok(&[]),
        (true, _) => Err(invalid(format!("`{name}` is NULL"))),
        // SAFETY: `ptr` is non-null (this arm) and, by the caller's contract,
        // points to `len` initialised bytes of one allocation (so `len` <=
        // isize::MAX) not mutated for `'a`; `u8` needs no alignment.
        (false, _) => Ok(unsafe { std::slice::from_raw_parts(ptr, len) }),
    }
}

/// Reads a NUL-terminated string argument as UTF-8.
///
/// # Safety
/// `ptr` is NULL or a NUL-terminated string alive for the returned lifetime.
pub(crate) unsafe fn text<'a>(ptr: *const c_char, name: &str) -> Result<&'a str, Error> {
    // SAFETY: our caller guarantees `ptr` is NULL or a NUL-terminated string
    // alive for `'a`, so its first byte is a live `c_char`, as `arg` needs.
    let c = unsafe { arg(ptr, name) }?;
    // SAFETY: `c` is non-NULL (`arg` checked) and, by the caller's contract,
    // starts a NUL-terminated string alive and unchanged for `'a`.
    unsafe { CStr::from_ptr(c) }
        .to_str()
        .map_err(|_| invalid(format!("`{name}` is not UTF-8")))
}

/// Reads a NUL-terminated path argument (any bytes; no UTF-8 needed).
///
/// # Safety
/// As for [`text`].
pub(crate) unsafe fn path<'a>(
    ptr: *const c_char,
    name: &str,
) -> Result<&'a std::path::Path, Error> {
    use std::os::unix::ffi::OsStrExt;
    // SAFETY: as in `text`: NULL, or a NUL-terminated string alive for `'a`.
    let c = unsafe { arg(ptr, name) }?;
    // SAFETY: `c` is non-NULL (`arg` checked) and, by the caller's contract,
    // starts a NUL-terminated string alive and unchanged for `'a`.
    let raw = unsafe { CStr::from_ptr(c) }.to_bytes();
    if raw.is_empty() {
        return Err(invalid(format!("`{name}` is empty")));
    }
    Ok(std::path::Path::new(std::ffi::OsStr::from_bytes(raw)))
}

/// Stores `value` boxed in `*out`, which must not be NULL; `*out` is set to
/// NULL first so that it is NULL on every failure.
///
/// # Safety
/// `out` is NULL or writable.
pub(crate) unsafe fn init_out<'a, T>(out: *mut *mut T) -> Result<&'a mut *mut T, Error> {
    // SAFETY: our caller guarantees `out` is NULL or a writable, aligned
    // `*mut T` slot that nothing else uses during the call.
    let slot = unsafe { arg_mut(out, "out") }?;
    *slot = std::ptr::null_mut();
    Ok(slot)
}
