//! The coefficient watermark of JPEG files: `pxp_watermark_read`.

use crate::boundary::{self, bytes, text};
use crate::status::pxp_status;
use engine::WatermarkRead;

/// What reading a file for a watermark found.
#[repr(C)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum pxp_watermark_state {
    /// No mark under this key.
    PXP_WATERMARK_ABSENT = 0,
    /// A whole mark, its CRC checked: the other fields hold it.
    PXP_WATERMARK_FOUND = 1,
    /// A mark is there but too damaged to read.
    PXP_WATERMARK_DAMAGED = 2,
}

/// A watermark as `pxp_watermark_read` fills it. The caller sets
/// `struct_size` to `sizeof(pxp_watermark)`; fields past it are not written.
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct pxp_watermark {
    /// Set by the caller to `sizeof(pxp_watermark)`.
    pub struct_size: usize,
    /// What was found (a pxp_watermark_state value); the fields below are
    /// zero unless it is PXP_WATERMARK_FOUND.
    pub state: u32,
    /// When the mark was made, in seconds since 1970-01-01 UTC.
    pub time: u64,
    /// The first 8 bytes of the BLAKE3 of the source the file was made from.
    pub source: [u8; 8],
    /// The user data (`watermark_data`), `data_len` bytes of it.
    pub data: [u8; 16],
    /// How many bytes of `data` the mark holds.
    pub data_len: usize,
}

/// Reads the coefficient watermark (`watermark=on`) that `key` placed in the
/// JPEG in `data` into `*out`: `out->state` says whether one was found, is
/// absent or is damaged (a file of another format carries none). `key` is
/// the `watermark_key` the mark was made with, or NULL for the public key.
/// Fails (PXP_ERR_CORRUPT, ...) only when `data` is not a readable image.
///
/// # Safety
/// `data` points to `len` readable bytes; `key` is NULL or a NUL-terminated
/// string; `out` is NULL or points to `out->struct_size` writable bytes.
#[no_mangle]
pub unsafe extern "C" fn pxp_watermark_read(
    data: *const u8,
    len: usize,
    key: *const std::ffi::c_char,
    out: *mut pxp_watermark,
) -> pxp_status {
    boundary::status(|| {
        // SAFETY: by this export's contract `out` is NULL (refused) or a
        // caller's pxp_watermark, which begins with its `size_t struct_size`.
        let out_len = unsafe { boundary::sized_len(out, "out", "pxp_watermark") }?;
        // SAFETY: by this export's contract `data` points to `len` readable
        // bytes (or is NULL with 0), unchanged during the call.
        let data = unsafe { bytes(data, len, "data") }?;
        let key = if key.is_null() {
            None
        } else {
            // SAFETY: non-null (checked), and by this export's contract a
            // NUL-terminated string alive during the call.
            Some(unsafe { text(key, "key") }?)
        };
        let mut full = pxp_watermark {
            struct_size: out_len,
            state: pxp_watermark_state::PXP_WATERMARK_ABSENT as u32,
            time: 0,
            source: [0; 8],
            data: [0; 16],
            data_len: 0,
        };
        match engine::read_watermark(data, key)? {
            WatermarkRead::Found(mark) => {
                full.state = pxp_watermark_state::PXP_WATERMARK_FOUND as u32;
                full.time = mark.time;
                full.source = mark.source;
                full.data[..mark.data.len()].copy_from_slice(&mark.data);
                full.data_len = mark.data.len();
            }
            WatermarkRead::Absent => {}
            WatermarkRead::Damaged => {
                full.state = pxp_watermark_state::PXP_WATERMARK_DAMAGED as u32;
            }
        }
        // SAFETY: `out` is non-null (sized_len checked) with `struct_size`
        // writable bytes (contract), and `out_len` is
        // min(struct_size, size_of::<pxp_watermark>()).
        unsafe { boundary::write_prefix(out, &full, out_len) };
        Ok(())
    })
}
