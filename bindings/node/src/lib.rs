//! The native addon of the `pixpress` npm package. Compression runs on the
//! libuv thread pool (`AsyncTask`) on a copy of the caller's bytes (a Buffer
//! held by reference could be transferred or detached under the task) and
//! hands the output to V8 as an external buffer over library memory, without
//! a copy. Failures are `Error`s whose `code` is the shared `PXP_ERR_*` name.

#![deny(clippy::all)]

pub mod analysis;
pub mod compress;
pub mod errors;
pub mod interceptor;
pub mod job;
pub mod metadata;
pub mod options;
pub mod output;
pub mod session;
pub mod stats;
pub mod watermark;

use napi_derive::napi;

/// The option keys the core understands.
#[napi]
pub fn option_keys() -> Vec<&'static str> {
    engine::OPTION_KEYS.to_vec()
}

/// Every error code a call may reject with (`PXP_ERR_*`), from the core's
/// list of error kinds.
#[napi]
pub fn error_codes() -> Vec<&'static str> {
    engine::ErrorKind::ALL.iter().map(|k| k.code()).collect()
}

/// The library version, "MAJOR.MINOR.PATCH".
#[napi]
pub fn version() -> &'static str {
    engine::VERSION
}
