//! `pxp_buffer`: an encoded file owned by the library.

use crate::boundary;
use crate::status::pxp_format;
use engine::Compressed;

/// An encoded image the library owns: the bytes of a compress or encode call
/// and what they hold. Immutable; free it with pxp_buffer_free.
pub struct pxp_buffer {
    pub(crate) compressed: Compressed,
}

/// Runs `read` on the buffer, or returns `fallback` for NULL.
fn read<T: Copy>(b: *const pxp_buffer, fallback: T, read: impl FnOnce(&Compressed) -> T) -> T {
    // SAFETY: every caller is an export whose `# Safety` requires `b` to be
    // NULL or a live buffer, and passes its own `b` unchanged. (This helper
    // is a safe fn over a raw pointer: sound only through those callers.)
    unsafe { boundary::read_handle(b, fallback, |b| read(&b.compressed)) }
}

/// The first byte of the encoded file (NULL for NULL). Valid until pxp_buffer_free.
///
/// # Safety
/// `b` is NULL or a live buffer.
#[no_mangle]
pub unsafe extern "C" fn pxp_buffer_data(b: *const pxp_buffer) -> *const u8 {
    read(b, std::ptr::null(), |c| c.data.as_ptr())
}

/// The length of the encoded file in bytes (0 for NULL).
///
/// # Safety
/// `b` is NULL or a live buffer.
#[no_mangle]
pub unsafe extern "C" fn pxp_buffer_len(b: *const pxp_buffer) -> usize {
    read(b, 0, |c| c.data.len())
}

/// The format of the encoded file (PXP_FORMAT_UNKNOWN for NULL).
///
/// # Safety
/// `b` is NULL or a live buffer.
#[no_mangle]
pub unsafe extern "C" fn pxp_buffer_format(b: *const pxp_buffer) -> pxp_format {
    read(b, pxp_format::PXP_FORMAT_UNKNOWN, |c| c.format.into())
}

/// The width of the encoded image in pixels, as displayed (0 for NULL).
///
/// # Safety
/// `b` is NULL or a live buffer.
#[no_mangle]
pub unsafe extern "C" fn pxp_buffer_width(b: *const pxp_buffer) -> u32 {
    read(b, 0, |c| c.width)
}

/// The height of the encoded image in pixels, as displayed (0 for NULL).
///
/// # Safety
/// `b` is NULL or a live buffer.
#[no_mangle]
pub unsafe extern "C" fn pxp_buffer_height(b: *const pxp_buffer) -> u32 {
    read(b, 0, |c| c.height)
}

/// True when the buffer holds the input unchanged, because re-encoding would
/// not have made it smaller (the `never_larger` option).
///
/// # Safety
/// `b` is NULL or a live buffer.
#[no_mangle]
pub unsafe extern "C" fn pxp_buffer_unchanged(b: *const pxp_buffer) -> bool {
    read(b, false, |c| c.unchanged)
}

/// Frames of the input in the output: above 1 for an animated WebP (0 for NULL).
///
/// # Safety
/// `b` is NULL or a live buffer.
#[no_mangle]
pub unsafe extern "C" fn pxp_buffer_frames(b: *const pxp_buffer) -> u32 {
    read(b, 0, |c| c.frames)
}

/// Frames of an animated input not written: the output format cannot
/// animate (only WebP can), or the `pages` option kept fewer (0 for NULL).
///
/// # Safety
/// `b` is NULL or a live buffer.
#[no_mangle]
pub unsafe extern "C" fn pxp_buffer_frames_dropped(b: *const pxp_buffer) -> u32 {
    read(b, 0, |c| c.frames_dropped)
}

/// Frees `b`. NULL does nothing.
///
/// # Safety
/// `b` is NULL or a live buffer; it is invalid afterwards.
#[no_mangle]
pub unsafe extern "C" fn pxp_buffer_free(b: *mut pxp_buffer) {
    // SAFETY: by this export's contract `b` is NULL or a live buffer made by
    // this library (`Box::into_raw`), not used afterwards.
    unsafe { boundary::free_handle(b) }
}
