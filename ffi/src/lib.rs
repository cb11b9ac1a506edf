//! The C ABI of pixpress.
//!
//! Every export is an `extern "C"` function named `pxp_*`. Each one runs
//! behind a panic boundary ([`boundary`]): a Rust panic becomes
//! `PXP_ERR_INTERNAL` (or a NULL/zero result for accessors), never an unwind
//! into C. Handles are boxed Rust values handed out as opaque pointers.
//!
//! Thread safety, per handle:
//! - `pxp_options`: setters need exclusive access; once passed to a call the
//!   handle is only read, so any number of threads may use one handle at once
//!   as long as nobody sets options on it meanwhile.
//! - `pxp_buffer`, `pxp_image`, `pxp_analysis`, `pxp_metadata`: immutable;
//!   readable from any thread; freed once.
//! - `pxp_metadata_edit`: valid only inside the interceptor callback it is given to.
//! - Compress, decode, encode and probe calls are reentrant and may run on many
//!   threads at once.

#![allow(non_camel_case_types)]
#![warn(missing_docs)]

mod analysis;
mod boundary;
mod buffer;
mod compress;
mod image;
mod metadata;
mod metrics;
mod options;
mod quality;
mod session;
mod status;
mod watermark;

pub use analysis::*;
pub use boundary::pxp_last_error_message;
pub use buffer::*;
pub use compress::*;
pub use image::*;
pub use metadata::*;
pub use metrics::*;
pub use options::*;
pub use quality::*;
pub use session::*;
pub use status::*;
pub use watermark::*;

use std::ffi::c_char;

/// The ABI version of this header and library. It changes only when an
/// existing function or struct changes incompatibly; additions keep it.
pub const PXP_ABI_VERSION: u32 = 1;

/// The library version, "MAJOR.MINOR.PATCH". The string is static.
#[no_mangle]
pub extern "C" fn pxp_version() -> *const c_char {
    concat!(env!("CARGO_PKG_VERSION"), "\0").as_ptr().cast()
}

/// The ABI version the library was built with; equals PXP_ABI_VERSION when the
/// header and the library match.
#[no_mangle]
pub extern "C" fn pxp_abi_version() -> u32 {
    PXP_ABI_VERSION
}
