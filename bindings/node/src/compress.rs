//! Compression: [`CancelToken`], the compress, file, metadata rewrite and
//! restore calls on the libuv thread pool, `compressSync` and `probe`.

use crate::errors::{Code, Failure, Fallible};
use crate::interceptor::{async_interceptor, sync_interceptor, JsInterceptor};
use crate::job::Job;
use crate::options::{parse_options, JsOptionValue, SizeBox};
use crate::output::{Info, Output};
use engine::{Compressed, Options};
use napi::bindgen_prelude::*;
use napi_derive::napi;
use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

/// A flag JavaScript raises (from an AbortSignal) to stop a running compression
/// at its next stage.
#[napi]
pub struct CancelToken {
    flag: Arc<AtomicBool>,
}

#[napi]
impl CancelToken {
    /// A token not yet cancelled.
    #[napi(constructor)]
    #[allow(clippy::new_without_default)]
    pub fn new() -> Self {
        CancelToken {
            flag: Arc::new(AtomicBool::new(false)),
        }
    }

    /// Asks the compression holding this token to stop.
    #[napi]
    pub fn cancel(&self) {
        self.flag.store(true, Ordering::SeqCst);
    }
}

/// What a compress task works on: a copy of the caller's bytes, or a file.
///
/// The bytes are copied when the task is made, on the JavaScript thread: a
/// Buffer held by reference could have its ArrayBuffer transferred or
/// detached (`postMessage`, `structuredClone` with `transfer`) while the task
/// reads it on another thread, and V8 may then free the memory under the
/// read. The copy costs a fraction of a decode; outputs still reach V8
/// without one.
enum Source {
    Bytes(Vec<u8>),
    /// `compressToFile`: bytes in, the output written atomically to `dst`
    /// with its restore record by the core's `write_output`.
    BytesToFile {
        input: Vec<u8>,
        dst: String,
    },
    File {
        src: String,
        dst: String,
    },
    /// `rewriteMetadata`: the metadata options applied without re-encoding.
    Rewrite(Vec<u8>),
    /// `restoreMetadata`: a file and its restore record.
    Restore {
        file: Vec<u8>,
        record: Vec<u8>,
    },
}

/// One compression on the libuv thread pool.
pub type CompressTask = Job<Compressed, Output>;

/// What a compress task does with its source, on a libuv pool thread.
fn compress_source(
    source: &Source,
    options: Fallible<Options>,
    cancel: Option<Arc<AtomicBool>>,
) -> Fallible<Compressed> {
    let options = options?;
    let mut keep_going =
        |_: &engine::Progress| !cancel.as_ref().is_some_and(|c| c.load(Ordering::SeqCst));
    match source {
        Source::Bytes(input) => Ok(engine::compress_with_progress(
            input,
            &options,
            &mut keep_going,
        )?),
        Source::BytesToFile { input, dst } => {
            let out = engine::compress_with_progress(input, &options, &mut keep_going)?;
            let record = out.metadata.restore_record.as_deref();
            engine::write_output(dst.as_ref(), &out.data, record)?;
            Ok(out)
        }
        Source::File { src, dst } => {
            if !keep_going(&engine::Progress {
                stage: engine::Stage::Decode,
                fraction: 0.0,
            }) {
                return Err(engine::Error::Cancelled.into());
            }
            Ok(engine::compress_file(src.as_ref(), dst.as_ref(), &options)?)
        }
        Source::Rewrite(input) => Ok(engine::rewrite_metadata(input, &options)?),
        Source::Restore { file, record } => Ok(engine::restore_metadata(file, record)?),
    }
}

fn task(
    source: Source,
    options: Option<HashMap<String, JsOptionValue>>,
    cancel: Option<&CancelToken>,
    interceptor: Option<JsInterceptor<'_>>,
) -> Result<AsyncTask<CompressTask>> {
    let interceptor = async_interceptor(interceptor)?;
    let options = parse_options(options).map(|mut o| {
        o.interceptor = interceptor;
        o
    });
    let cancel = cancel.map(|c| c.flag.clone());
    Ok(AsyncTask::new(CompressTask::new(
        move || compress_source(&source, options, cancel),
        Output::from,
    )))
}

/// Compresses an encoded image on the libuv thread pool. The input is copied
/// first (see [`Source`]); options are the core's keys.
#[napi(ts_return_type = "Promise<Output>")]
#[allow(clippy::type_complexity)] // the option object, spelled out for the TypeScript generator
pub fn compress(
    input: Buffer,
    options: Option<
        HashMap<
            String,
            Option<Either5<String, f64, bool, Vec<Either3<String, f64, Null>>, SizeBox>>,
        >,
    >,
    cancel: Option<&CancelToken>,
    #[napi(ts_arg_type = "(view: MetadataEditView) => MetadataEdits | undefined | void")]
    interceptor: Option<JsInterceptor<'_>>,
) -> Result<AsyncTask<CompressTask>> {
    task(Source::Bytes(input.to_vec()), options, cancel, interceptor)
}

/// Reads `src`, compresses it and writes `dst` atomically, on the libuv thread pool.
#[napi(ts_return_type = "Promise<Output>")]
#[allow(clippy::type_complexity)] // the option object, spelled out for the TypeScript generator
pub fn compress_file(
    src: String,
    dst: String,
    options: Option<
        HashMap<
            String,
            Option<Either5<String, f64, bool, Vec<Either3<String, f64, Null>>, SizeBox>>,
        >,
    >,
    cancel: Option<&CancelToken>,
    #[napi(ts_arg_type = "(view: MetadataEditView) => MetadataEdits | undefined | void")]
    interceptor: Option<JsInterceptor<'_>>,
) -> Result<AsyncTask<CompressTask>> {
    task(Source::File { src, dst }, options, cancel, interceptor)
}

/// Compresses an encoded image and writes the output to `dst` atomically, with
/// its restore record beside it when asked (the core's `write_output`: an
/// unpredictable temporary file created exclusively, synced, renamed; a
/// symlink at `dst` is replaced, never written through), on
/// the libuv thread pool. The input is copied first (see [`Source`]).
#[napi(ts_return_type = "Promise<Output>")]
#[allow(clippy::type_complexity)] // the option object, spelled out for the TypeScript generator
pub fn compress_to_file(
    input: Buffer,
    dst: String,
    options: Option<
        HashMap<
            String,
            Option<Either5<String, f64, bool, Vec<Either3<String, f64, Null>>, SizeBox>>,
        >,
    >,
    cancel: Option<&CancelToken>,
    #[napi(ts_arg_type = "(view: MetadataEditView) => MetadataEdits | undefined | void")]
    interceptor: Option<JsInterceptor<'_>>,
) -> Result<AsyncTask<CompressTask>> {
    let input = input.to_vec();
    task(
        Source::BytesToFile { input, dst },
        options,
        cancel,
        interceptor,
    )
}

/// Applies the metadata options (`metadata`, `provenance`, `restore_record`,
/// the interceptor) to an encoded JPEG, PNG or WebP without re-encoding
/// pixels, on the libuv thread pool.
#[napi(ts_return_type = "Promise<Output>")]
#[allow(clippy::type_complexity)] // the option object, spelled out for the TypeScript generator
pub fn rewrite_metadata(
    input: Buffer,
    options: Option<
        HashMap<
            String,
            Option<Either5<String, f64, bool, Vec<Either3<String, f64, Null>>, SizeBox>>,
        >,
    >,
    #[napi(ts_arg_type = "(view: MetadataEditView) => MetadataEdits | undefined | void")]
    interceptor: Option<JsInterceptor<'_>>,
) -> Result<AsyncTask<CompressTask>> {
    task(Source::Rewrite(input.to_vec()), options, None, interceptor)
}

/// Puts back into an encoded JPEG, PNG or WebP the metadata a restore record
/// holds (`output.metadata.restoreRecord`), without re-encoding pixels.
#[napi(ts_return_type = "Promise<Output>")]
pub fn restore_metadata(file: Buffer, record: Buffer) -> Result<AsyncTask<CompressTask>> {
    let (file, record) = (file.to_vec(), record.to_vec());
    task(Source::Restore { file, record }, None, None, None)
}

/// Compresses on the calling thread (for scripts; blocks the event loop).
#[napi]
#[allow(clippy::type_complexity)] // the option object, spelled out for the TypeScript generator
pub fn compress_sync(
    env: Env,
    input: &[u8],
    options: Option<
        HashMap<
            String,
            Option<Either5<String, f64, bool, Vec<Either3<String, f64, Null>>, SizeBox>>,
        >,
    >,
    #[napi(ts_arg_type = "(view: MetadataEditView) => MetadataEdits | undefined | void")]
    interceptor: Option<JsInterceptor<'_>>,
) -> Result<Output, Code> {
    let mut options = parse_options(options)?;
    options.interceptor = sync_interceptor(&env, interceptor).map_err(|e| Failure {
        code: engine::ErrorKind::InvalidArgument.code(),
        message: e.reason.clone(),
    })?;
    let compressed = engine::compress(input, &options).map_err(Failure::from)?;
    Ok(Output::from(compressed))
}

/// Reads format, size, bit depth, alpha, orientation, frames and which
/// metadata blocks are present from the headers.
#[napi]
pub fn probe(input: &[u8]) -> Result<Info, Code> {
    let i = engine::probe(input).map_err(Failure::from)?;
    Ok(Info {
        format: i.format.name().to_string(),
        width: i.width,
        height: i.height,
        bit_depth: u32::from(i.bit_depth),
        has_alpha: i.has_alpha,
        orientation: u32::from(i.orientation),
        frames: i.frames,
        has_exif: i.has_exif,
        has_xmp: i.has_xmp,
        has_icc: i.has_icc,
        has_iptc: i.has_iptc,
        dpi: i.dpi.map(|(x, y)| vec![x, y]),
    })
}
