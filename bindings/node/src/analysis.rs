//! `analyze` (bytes against score for each format) and `score` (one image
//! against another), on the libuv thread pool or the calling thread.

use crate::errors::{Code, Failure};
use crate::job::Job;
use crate::options::{parse_metric, parse_options, SizeBox};
use crate::output::Analysis;
use napi::bindgen_prelude::*;
use napi_derive::napi;
use std::collections::HashMap;

/// One analysis on the libuv thread pool.
pub type AnalyzeTask = Job<engine::Analysis, Analysis>;

/// Encodes `input` (decoded, oriented and resized as the options say) to
/// each of `formats` (default "jpeg,webp,avif") at several quality settings
/// and losslessly to PNG, scores each, and marks the Pareto front; on the
/// libuv thread pool.
#[napi(ts_return_type = "Promise<Analysis>")]
#[allow(clippy::type_complexity)] // the option object, spelled out for the TypeScript generator
pub fn analyze(
    input: Buffer,
    options: Option<
        HashMap<
            String,
            Option<Either5<String, f64, bool, Vec<Either3<String, f64, Null>>, SizeBox>>,
        >,
    >,
) -> AsyncTask<AnalyzeTask> {
    let input = input.to_vec();
    let options = parse_options(options);
    AsyncTask::new(AnalyzeTask::new(
        move || Ok(engine::analyze(&input, &options?)?),
        Analysis::from,
    ))
}

/// `analyze` on the calling thread (blocks the event loop: for scripts).
#[napi]
#[allow(clippy::type_complexity)] // the option object, spelled out for the TypeScript generator
pub fn analyze_sync(
    input: &[u8],
    options: Option<
        HashMap<
            String,
            Option<Either5<String, f64, bool, Vec<Either3<String, f64, Null>>, SizeBox>>,
        >,
    >,
) -> Result<Analysis, Code> {
    let options = parse_options(options)?;
    Ok(engine::analyze(input, &options)
        .map_err(Failure::from)?
        .into())
}

/// One score computation on the libuv thread pool.
pub type ScoreTask = Job<f64, f64>;

/// Scores `distorted` against `reference` (encoded images, compared upright
/// at the same size) on the libuv thread pool, with `metric`:
/// "ssimulacra2" (default; 100 identical, 90 visually lossless, 80 very
/// high), "ssim" (1 identical) or "psnr" (dB; Infinity for identical images).
#[napi(ts_return_type = "Promise<number>")]
pub fn score(reference: Buffer, distorted: Buffer, metric: Option<String>) -> AsyncTask<ScoreTask> {
    let metric = parse_metric(metric);
    let (reference, distorted) = (reference.to_vec(), distorted.to_vec());
    AsyncTask::new(ScoreTask::new(
        move || Ok(engine::score(&reference, &distorted, metric?)?),
        std::convert::identity,
    ))
}

/// `score` on the calling thread (blocks the event loop: for scripts).
#[napi]
pub fn score_sync(reference: &[u8], distorted: &[u8], metric: Option<String>) -> Result<f64, Code> {
    let metric = parse_metric(metric)?;
    Ok(engine::score(reference, distorted, metric).map_err(Failure::from)?)
}
