//! The libjpeg objects and their error handling: the error manager that
//! unwinds out of libjpeg with a [`LibjpegFailure`] payload ([`failure_of`]),
//! [`run_libjpeg`], which catches that and turns it into a typed error, and
//! the guards ([`Decompressor`], [`Compressor`]) that destroy a libjpeg object
//! when dropped, also while unwinding.

use super::segments::{APP0, COM};
use crate::error::{panic_message, Error, Result};
use crate::format::Format;
use mozjpeg_sys::*;
use std::ffi::{c_int, c_uint, c_ulong, c_void};
use std::mem;
use std::panic::{catch_unwind, resume_unwind, AssertUnwindSafe};

/// Why libjpeg stopped: its message code and text.
struct LibjpegFailure {
    code: c_int,
    message: String,
}

extern "C" {
    fn free(ptr: *mut c_void);
}

/// libjpeg warnings that do not mean damaged image data.
fn is_benign_warning(code: c_int) -> bool {
    [
        JWRN_EXTRANEOUS_DATA,
        JWRN_ADOBE_XFORM,
        JWRN_JFIF_MAJOR,
        JWRN_BOGUS_ICC,
    ]
    .contains(&(code as J_MESSAGE_CODE))
}

fn failure_of(cinfo: &mut jpeg_common_struct) -> LibjpegFailure {
    // SAFETY: libjpeg calls this only for an object whose `err` points to the
    // boxed error manager `Decompressor::new`/`Compressor::new` set before
    // creating it, which lives (in `_err`) as long as that object.
    let err = unsafe { &*cinfo.err };
    let mut buffer = [0u8; 80];
    if let Some(format_message) = err.format_message {
        // mozjpeg-sys types the buffer `&[u8; 80]`, but libjpeg writes into it:
        // call it through the C signature, with a pointer we may write through.
        type FormatMessage = unsafe extern "C-unwind" fn(&mut jpeg_common_struct, *mut u8);
        // SAFETY: the two signatures differ only in the buffer argument, a
        // shared reference against a raw pointer to the same 80 bytes: one
        // pointer-sized argument in the C ABI either way.
        let format_message: FormatMessage = unsafe { std::mem::transmute(format_message) };
        // SAFETY: `cinfo` is the live object libjpeg handed us; libjpeg writes
        // at most JMSG_LENGTH_MAX (80) bytes into `buffer`, which is 80 bytes
        // and mutably borrowed for the call.
        unsafe { format_message(cinfo, buffer.as_mut_ptr()) };
    }
    let text = buffer.split(|&c| c == 0).next().unwrap_or_default();
    LibjpegFailure {
        code: err.msg_code,
        message: String::from_utf8_lossy(text).into_owned(),
    }
}

extern "C-unwind" fn error_exit(cinfo: &mut jpeg_common_struct) {
    resume_unwind(Box::new(failure_of(cinfo)));
}

extern "C-unwind" fn strict_emit_message(cinfo: &mut jpeg_common_struct, level: c_int) {
    // SAFETY: as in `failure_of`: `cinfo.err` is the live boxed error manager.
    let code = unsafe { (*cinfo.err).msg_code };
    if level < 0 && !is_benign_warning(code) {
        resume_unwind(Box::new(failure_of(cinfo)));
    }
}

extern "C-unwind" fn lenient_emit_message(_cinfo: &mut jpeg_common_struct, _level: c_int) {}

fn error_mgr(strict: bool) -> Box<jpeg_error_mgr> {
    // SAFETY: `jpeg_error_mgr` is a C struct of integers, raw pointers and
    // `Option` function pointers, all valid when zeroed; jpeg_std_error fills it.
    let mut err: Box<jpeg_error_mgr> = Box::new(unsafe { mem::zeroed() });
    // SAFETY: `err` is a valid, exclusively borrowed error manager; the call
    // only stores libjpeg's defaults into it and cannot fail.
    unsafe { jpeg_std_error(&mut err) };
    err.error_exit = Some(error_exit);
    err.emit_message = Some(if strict {
        strict_emit_message
    } else {
        lenient_emit_message
    });
    err
}

/// Runs libjpeg work, turning its failures into typed errors for `format`.
pub(super) fn run_libjpeg<T>(work: impl FnOnce() -> Result<T>) -> Result<T> {
    match catch_unwind(AssertUnwindSafe(work)) {
        Ok(result) => result,
        Err(payload) => match payload.downcast::<LibjpegFailure>() {
            Ok(failure) => Err(classify(*failure)),
            Err(other) => Err(Error::Internal(panic_message(other.as_ref()))),
        },
    }
}

fn classify(failure: LibjpegFailure) -> Error {
    let code = failure.code as J_MESSAGE_CODE;
    let detail = format!("libjpeg: {}", failure.message);
    if [JWRN_JPEG_EOF, JERR_INPUT_EOF, JERR_INPUT_EMPTY].contains(&code) {
        Error::truncated(Format::Jpeg, detail)
    } else if code == JERR_IMAGE_TOO_BIG {
        // Past 65500 a side: the size asked for, not a fault in any input
        // (`codecs::check_output_size` refuses it first on most paths).
        Error::InvalidArgument(detail)
    } else {
        Error::corrupt(Format::Jpeg, detail)
    }
}

/// A decompressor that is destroyed when dropped, also while unwinding.
pub(super) struct Decompressor {
    pub(super) cinfo: Box<jpeg_decompress_struct>,
    _err: Box<jpeg_error_mgr>,
}

impl Decompressor {
    /// Creates a decompressor over `data`, saving the APP and COM markers when asked.
    pub(super) fn new(data: &[u8], strict: bool, save_markers: bool) -> Decompressor {
        let mut err = error_mgr(strict);
        // SAFETY: all-zero is a valid `jpeg_decompress_struct` (integers, raw
        // pointers, `Option` fn pointers, enums whose 0 is a variant) and the
        // documented state before jpeg_create_decompress.
        let mut cinfo: Box<jpeg_decompress_struct> = Box::new(unsafe { mem::zeroed() });
        cinfo.common.err = &mut *err;
        let mut d = Decompressor { cinfo, _err: err };
        // SAFETY: `d.cinfo` is zeroed with `err` set to the boxed manager `d`
        // owns. `jpeg_mem_src` keeps a pointer to `data` without copying: every
        // caller keeps `data` alive for as long as the `Decompressor` (it is a
        // local of the function borrowing `data`, or held in a struct with
        // that borrow's lifetime, `DecodedRows`); the type does not enforce
        // it. Errors unwind through `error_exit` (mozjpeg-sys is built with
        // unwinding and declares these "C-unwind"), and `d`, already built,
        // is destroyed by its `Drop`.
        unsafe {
            jpeg_create_decompress(&mut *d.cinfo);
            jpeg_mem_src(&mut d.cinfo, data.as_ptr(), data.len() as c_ulong);
            if save_markers {
                for marker in (APP0..APP0 + 16).chain([COM]) {
                    jpeg_save_markers(&mut d.cinfo, marker, 0xFFFF);
                }
            }
            jpeg_read_header(&mut d.cinfo, 1);
        }
        d
    }

    /// The saved markers, as (marker code, payload) pairs in file order.
    pub(super) fn markers(&self) -> Vec<(u8, &[u8])> {
        let mut out = Vec::new();
        let mut node = self.cinfo.marker_list;
        while !node.is_null() {
            // SAFETY: `node` is non-null (loop condition) and a saved marker
            // in the decompressor's JPOOL_IMAGE pool, freed only by
            // jpeg_finish/abort/destroy, which all need `&mut self`: the
            // `&self` borrow the returned slices carry rules them out.
            let m = unsafe { &*node };
            // SAFETY: libjpeg saved `data_length` bytes at the non-null
            // `m.data` (right after the node), alive as `node` is (above).
            let data = unsafe { std::slice::from_raw_parts(m.data, m.data_length as usize) };
            out.push((m.marker, data));
            node = m.next;
        }
        out
    }
}

impl Drop for Decompressor {
    fn drop(&mut self) {
        // SAFETY: `self.cinfo` was created by jpeg_create_decompress in `new`
        // (before any call that can fail) and is destroyed only here, once;
        // destroying is valid in any state, also after an error unwound.
        unsafe { jpeg_destroy_decompress(&mut self.cinfo) };
    }
}

/// A compressor writing to a malloc'd memory buffer, destroyed when dropped.
pub(super) struct Compressor {
    pub(super) cinfo: Box<jpeg_compress_struct>,
    _err: Box<jpeg_error_mgr>,
    out: Box<(*mut u8, c_ulong)>,
}

impl Compressor {
    pub(super) fn new() -> Compressor {
        let mut err = error_mgr(true);
        // SAFETY: as for the decompressor: all-zero is a valid
        // `jpeg_compress_struct` and the state before jpeg_create_compress.
        let mut cinfo: Box<jpeg_compress_struct> = Box::new(unsafe { mem::zeroed() });
        cinfo.common.err = &mut *err;
        let mut c = Compressor {
            cinfo,
            _err: err,
            out: Box::new((std::ptr::null_mut(), 0)),
        };
        // SAFETY: `c.cinfo` is zeroed with `err` set to the boxed manager `c`
        // owns. `jpeg_mem_dest` keeps pointers to both halves of `*c.out`,
        // a heap allocation that does not move when `c` does and lives as
        // long as `c.cinfo` (freed in `Drop` after the destroy).
        unsafe {
            jpeg_create_compress(&mut *c.cinfo);
            let (buf, len) = &mut *c.out;
            jpeg_mem_dest(&mut c.cinfo, buf, len);
        }
        c
    }

    pub(super) fn set_bool(&mut self, param: J_BOOLEAN_PARAM, value: bool) {
        // SAFETY: `self.cinfo` is a created compressor (see `new`); the call
        // only stores a flag, erroring (an unwind) on an unknown parameter.
        unsafe { jpeg_c_set_bool_param(&mut self.cinfo, param, value as boolean) };
    }

    /// Whether mozjpeg will search its scan script (`optimize_scans`): then
    /// it picks scans by their places in the script, which must stay whole.
    pub(super) fn searches_scans(&self) -> bool {
        // SAFETY: `self.cinfo` is a created compressor; the call only reads a flag.
        unsafe { jpeg_c_get_bool_param(&self.cinfo, J_BOOLEAN_PARAM::JBOOLEAN_OPTIMIZE_SCANS) != 0 }
    }

    pub(super) fn write_marker(&mut self, marker: c_int, payload: &[u8]) {
        // SAFETY: `self.cinfo` is a created compressor; libjpeg copies
        // `payload` (read only during the call) and refuses, by an unwinding
        // error, a length over 65533 or a call in the wrong state; the `as
        // c_uint` cast can only shorten what it reads.
        unsafe {
            jpeg_write_marker(
                &mut self.cinfo,
                marker,
                payload.as_ptr(),
                payload.len() as c_uint,
            )
        };
    }

    /// Finishes the file and returns its bytes.
    pub(super) fn finish(mut self) -> Vec<u8> {
        // SAFETY: `self.cinfo` is a created compressor whose caller started
        // it; a wrong state or an error unwinds, and `Drop` still cleans up.
        unsafe { jpeg_finish_compress(&mut self.cinfo) };
        let (buf, len) = *self.out;
        // SAFETY: after jpeg_finish_compress the memory destination's
        // term_destination set `out` to its current (non-null, malloc'd)
        // buffer and the `len` bytes written into it; the copy is made before
        // `Drop` frees it.
        unsafe { std::slice::from_raw_parts(buf, len as usize) }.to_vec()
    }
}

impl Drop for Compressor {
    fn drop(&mut self) {
        // SAFETY: `self.cinfo` was created in `new` and is destroyed only
        // here; `dest`, when set, is the memory destination `new` installed,
        // whose term_destination only stores the current buffer into `out`.
        // That buffer came from libjpeg's `malloc`, is owned by us once
        // named in `out`, and is freed once, after the destroy.
        unsafe {
            // The memory destination names its buffer in `out` only when the
            // file is finished; an encode abandoned after the buffer grew
            // would leave `out` naming the first buffer, freed when it was
            // replaced. Terminating the destination names the current one.
            if let Some(dest) = self.cinfo.dest.as_mut() {
                if let Some(term) = dest.term_destination {
                    term(&mut self.cinfo);
                }
            }
            jpeg_destroy_compress(&mut self.cinfo);
            if !self.out.0.is_null() {
                free(self.out.0.cast());
            }
        }
    }
}
