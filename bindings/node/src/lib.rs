//! The native addon of the `pixpress` npm package. Compression runs on the
//! libuv thread pool (`AsyncTask`) on a copy of the caller's bytes (a Buffer
//! held by reference could be transferred or detached under the task) and
//! hands the output to V8 as an external buffer over library memory, without
//! a copy. Failures are `Error`s whose `code` is the shared `PXP_ERR_*` name.

#![deny(clippy::all)]

use engine::{Compressed, Options};
use napi::bindgen_prelude::*;
use napi::threadsafe_function::{ThreadsafeFunction, ThreadsafeFunctionCallMode};
use napi_derive::napi;
use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

/// A failure with its stable `code` (`PXP_ERR_CORRUPT`, ...) and message.
#[derive(Debug, Clone)]
struct Failure {
    code: &'static str,
    message: String,
}

impl From<engine::Error> for Failure {
    fn from(e: engine::Error) -> Failure {
        Failure {
            code: e.kind().code(),
            message: e.to_string(),
        }
    }
}

/// Rejects a task's promise with an Error carrying the failure's `code`
/// (the plain `err` when the task recorded no failure).
fn reject_with_code<T>(env: Env, err: Error, failure: Option<Failure>) -> Result<T> {
    let Some(failure) = failure else {
        return Err(err);
    };
    let mut object = env.create_error(Error::from_reason(failure.message))?;
    object.set_named_property("code", failure.code)?;
    Err(Error::from(object.to_unknown()))
}

/// The outcome of work that fails with a [`Failure`].
type Fallible<T> = std::result::Result<T, Failure>;

/// The error code of a synchronous call, shown to JavaScript as `error.code`.
pub struct Code(&'static str);

impl AsRef<str> for Code {
    fn as_ref(&self) -> &str {
        self.0
    }
}

impl From<Failure> for Error<Code> {
    fn from(f: Failure) -> Self {
        Error::new(Code(f.code), f.message)
    }
}

/// Options from a JavaScript object: every value is passed to the core's
/// `Options::set` in its string form (booleans as true/false, numbers as
/// written), so Node shares the one option vocabulary.
fn parse_options(
    options: Option<HashMap<String, Either3<String, f64, bool>>>,
) -> Fallible<Options> {
    let mut parsed = Options::default();
    for (key, value) in options.unwrap_or_default() {
        let text = match value {
            Either3::A(s) => s,
            Either3::B(n) if n.fract() == 0.0 => format!("{}", n as i64),
            Either3::B(n) => n.to_string(),
            Either3::C(b) => b.to_string(),
        };
        parsed.set(&key, &text).map_err(Failure::from)?;
    }
    Ok(parsed)
}

/// An encoded image. `data` is library memory handed to V8 without a copy.
#[napi(object)]
pub struct Output {
    /// The encoded file.
    pub data: Buffer,
    /// "jpeg", "png", "webp", "avif" or "heic".
    pub format: String,
    /// Width in pixels, as displayed.
    pub width: u32,
    /// Height in pixels, as displayed.
    pub height: u32,
    /// True when the input was returned unchanged because re-encoding would not shrink it.
    pub unchanged: bool,
    /// What the search for the `target` option did; absent without one.
    pub search: Option<SearchReport>,
    /// What the metadata policy and the conversion removed or moved.
    pub metadata: MetadataReport,
    /// With `format: 'auto'`, every format tried, in order; empty otherwise.
    pub candidates: Vec<Candidate>,
}

/// One format `format: 'auto'` tried.
#[napi(object)]
pub struct Candidate {
    /// "jpeg", "webp", "avif", ...
    pub format: String,
    /// Its search, when it met the target.
    pub search: Option<SearchReport>,
    /// Why it could not meet the target.
    pub error: Option<String>,
}

/// What a search for the `target` option did and achieved.
#[napi(object)]
pub struct SearchReport {
    /// The target, as `metric=score` or `size=bytes`.
    pub target: String,
    /// The metric `score` is in: the target's, or "ssimulacra2" for a size target.
    pub metric: String,
    /// The returned file's score against the pixels before encoding.
    pub score: f64,
    /// The returned file's size in bytes.
    pub bytes: u32,
    /// The encoder quality chosen; absent for lossless output.
    pub quality: Option<u32>,
    /// Encodes tried in all.
    pub trials: u32,
    /// Of those, encodes of the whole image (the rest ran on a tile mosaic).
    pub full_encodes: u32,
    /// Whether the search ran on a tile mosaic first.
    pub sampled: bool,
    /// Seconds the search took.
    pub seconds: f64,
    /// With the `tune` option, the value chosen for each tuned parameter (`{ subsampling: '444' }`).
    pub tuned: HashMap<String, String>,
}

impl From<Compressed> for Output {
    fn from(c: Compressed) -> Output {
        Output {
            format: c.format.name().to_string(),
            width: c.width,
            height: c.height,
            unchanged: c.unchanged,
            search: c.search.map(SearchReport::from),
            metadata: c.metadata.into(),
            candidates: c
                .candidates
                .into_iter()
                .map(|candidate| {
                    let (search, error) = match candidate.result {
                        Ok(search) => (Some(search.into()), None),
                        Err(error) => (None, Some(error)),
                    };
                    Candidate {
                        format: candidate.format.name().to_string(),
                        search,
                        error,
                    }
                })
                .collect(),
            data: Buffer::from(c.data),
        }
    }
}

impl From<engine::SearchReport> for SearchReport {
    fn from(s: engine::SearchReport) -> SearchReport {
        SearchReport {
            target: s.target.to_string(),
            metric: s.metric.name().to_string(),
            score: s.score,
            bytes: s.bytes as u32,
            quality: s.quality.map(u32::from),
            trials: s.trials,
            full_encodes: s.full_encodes,
            sampled: s.sampled,
            seconds: s.time.as_secs_f64(),
            tuned: s.tuned.into_iter().collect(),
        }
    }
}

/// One encode of an analysis.
#[napi(object)]
pub struct RatePoint {
    /// "jpeg", "webp", "avif" or "png".
    pub format: String,
    /// The encoder quality setting; absent for lossless PNG.
    pub quality: Option<u32>,
    /// The encoded size in bytes.
    pub bytes: u32,
    /// The decoded output's score against the analysed pixels.
    pub score: f64,
    /// True when no other point is both smaller and at least as good.
    pub pareto: bool,
}

impl From<&engine::RatePoint> for RatePoint {
    fn from(p: &engine::RatePoint) -> RatePoint {
        RatePoint {
            format: p.format.name().to_string(),
            quality: p.quality.map(u32::from),
            bytes: p.bytes as u32,
            score: p.score,
            pareto: p.pareto,
        }
    }
}

/// Bytes against score for each format at several settings.
#[napi(object)]
pub struct Analysis {
    /// Width of the analysed pixels (after orientation and any `resize`).
    pub width: u32,
    /// Height of the analysed pixels.
    pub height: u32,
    /// The metric of every score ("ssimulacra2" unless a score `target` names another).
    pub metric: String,
    /// Every encode, by format then quality.
    pub points: Vec<RatePoint>,
    /// The Pareto points, smallest first.
    pub front: Vec<RatePoint>,
    /// The curves and the front drawn as an SVG document.
    pub svg: String,
}

impl From<engine::Analysis> for Analysis {
    fn from(a: engine::Analysis) -> Analysis {
        Analysis {
            width: a.width,
            height: a.height,
            metric: a.metric.name().to_string(),
            points: a.points.iter().map(RatePoint::from).collect(),
            front: a.front().into_iter().map(RatePoint::from).collect(),
            svg: a.to_svg(),
        }
    }
}

/// One analysis on the libuv thread pool.
pub struct AnalyzeTask {
    input: Vec<u8>,
    options: Fallible<Options>,
    failure: Option<Failure>,
}

impl Task for AnalyzeTask {
    type Output = engine::Analysis;
    type JsValue = Analysis;

    fn compute(&mut self) -> Result<engine::Analysis> {
        let result = self
            .options
            .clone()
            .and_then(|o| Ok(engine::analyze(&self.input, &o)?));
        result.map_err(|f| {
            let reason = f.message.clone();
            self.failure = Some(f);
            Error::from_reason(reason)
        })
    }

    fn resolve(&mut self, _env: Env, analysis: engine::Analysis) -> Result<Analysis> {
        Ok(analysis.into())
    }

    fn reject(&mut self, env: Env, err: Error) -> Result<Analysis> {
        reject_with_code(env, err, self.failure.take())
    }
}

/// Encodes `input` (decoded, oriented and resized as the options say) to
/// each of `formats` (default "jpeg,webp,avif") at several quality settings
/// and losslessly to PNG, scores each, and marks the Pareto front; on the
/// libuv thread pool.
#[napi(ts_return_type = "Promise<Analysis>")]
pub fn analyze(
    input: Buffer,
    options: Option<HashMap<String, Either3<String, f64, bool>>>,
) -> AsyncTask<AnalyzeTask> {
    AsyncTask::new(AnalyzeTask {
        input: input.to_vec(),
        options: parse_options(options),
        failure: None,
    })
}

/// `analyze` on the calling thread (blocks the event loop: for scripts).
#[napi]
pub fn analyze_sync(
    input: &[u8],
    options: Option<HashMap<String, Either3<String, f64, bool>>>,
) -> Result<Analysis, Code> {
    let options = parse_options(options)?;
    Ok(engine::analyze(input, &options)
        .map_err(Failure::from)?
        .into())
}

/// One score computation on the libuv thread pool.
pub struct ScoreTask {
    reference: Vec<u8>,
    distorted: Vec<u8>,
    metric: Fallible<engine::Metric>,
    failure: Option<Failure>,
}

impl Task for ScoreTask {
    type Output = f64;
    type JsValue = f64;

    fn compute(&mut self) -> Result<f64> {
        let result = self
            .metric
            .clone()
            .and_then(|m| Ok(engine::score(&self.reference, &self.distorted, m)?));
        result.map_err(|f| {
            let reason = f.message.clone();
            self.failure = Some(f);
            Error::from_reason(reason)
        })
    }

    fn resolve(&mut self, _env: Env, score: f64) -> Result<f64> {
        Ok(score)
    }

    fn reject(&mut self, env: Env, err: Error) -> Result<f64> {
        reject_with_code(env, err, self.failure.take())
    }
}

/// Scores `distorted` against `reference` (encoded images, compared upright
/// at the same size) on the libuv thread pool, with `metric`:
/// "ssimulacra2" (default; 100 identical, 90 visually lossless, 80 very
/// high), "ssim" (1 identical) or "psnr" (dB; Infinity for identical images).
#[napi(ts_return_type = "Promise<number>")]
pub fn score(reference: Buffer, distorted: Buffer, metric: Option<String>) -> AsyncTask<ScoreTask> {
    let metric = parse_metric(metric);
    AsyncTask::new(ScoreTask {
        reference: reference.to_vec(),
        distorted: distorted.to_vec(),
        metric,
        failure: None,
    })
}

/// `score` on the calling thread (blocks the event loop: for scripts).
#[napi]
pub fn score_sync(reference: &[u8], distorted: &[u8], metric: Option<String>) -> Result<f64, Code> {
    let metric = parse_metric(metric)?;
    Ok(engine::score(reference, distorted, metric).map_err(Failure::from)?)
}

/// What the metadata policy and the conversion did to one output.
#[napi(object)]
pub struct MetadataReport {
    /// Fields removed, as `EXIF:GPS:GPSLatitude`, `XMP:exif:GPSLatitude`, `IPTC:City`, `ICC`.
    pub removed: Vec<String>,
    /// Fields carried in another block, as `IPTC:City -> XMP:photoshop:City`.
    pub moved: Vec<String>,
    /// Fields kept with a new value, as a GPS position coarsened by `gps=1km`.
    pub changed: Vec<String>,
    /// With `restore_record: true`, what `restoreMetadata` needs to put back
    /// what was removed or changed; absent when nothing was.
    pub restore_record: Option<Buffer>,
}

impl From<engine::MetadataReport> for MetadataReport {
    fn from(r: engine::MetadataReport) -> MetadataReport {
        MetadataReport {
            removed: r.removed,
            moved: r.moved,
            changed: r.changed,
            restore_record: r.restore_record.map(Buffer::from),
        }
    }
}

/// What an interceptor is given: the metadata about to be written.
#[napi(object)]
pub struct MetadataEditView {
    /// The output format.
    pub format: String,
    /// The output width in pixels.
    pub width: u32,
    /// The output height in pixels.
    pub height: u32,
    /// Every field, as `readMetadata` lists them.
    pub fields: Vec<MetadataField>,
}

/// What an interceptor returns (or nothing, to write the metadata as it is).
#[napi(object)]
pub struct MetadataEdits {
    /// Fields to set, by key (`'EXIF:IFD0:Artist'`, `'XMP:dc:rights'`, `'IPTC:City'`).
    pub set: Option<HashMap<String, String>>,
    /// Fields to remove, by key (`'ICC'` removes the profile).
    pub remove: Option<Vec<String>>,
}

fn view_of(edit: &engine::MetadataEdit) -> MetadataEditView {
    MetadataEditView {
        format: edit.format().name().to_string(),
        width: edit.width(),
        height: edit.height(),
        fields: edit.fields().iter().map(MetadataField::from).collect(),
    }
}

/// Applies what a JavaScript interceptor returned.
fn apply_edits(
    edit: &mut engine::MetadataEdit,
    edits: Option<MetadataEdits>,
) -> std::result::Result<(), String> {
    let Some(edits) = edits else { return Ok(()) };
    // A JavaScript object has no order the map keeps: sets go in key order.
    let mut sets: Vec<_> = edits.set.unwrap_or_default().into_iter().collect();
    sets.sort();
    edit.apply(&sets, &edits.remove.unwrap_or_default())
        .map_err(|e| e.to_string())
}

/// The JavaScript interceptor of an async call: called on the main thread
/// through a threadsafe function while the libuv worker waits for its answer.
type InterceptorFn =
    ThreadsafeFunction<MetadataEditView, Option<MetadataEdits>, MetadataEditView, Status, false>;

struct AsyncInterceptor(InterceptorFn);

impl engine::MetadataInterceptor for AsyncInterceptor {
    fn intercept(&self, edit: &mut engine::MetadataEdit) -> std::result::Result<(), String> {
        let (tx, rx) = std::sync::mpsc::channel();
        let status = self.0.call_with_return_value(
            view_of(edit),
            ThreadsafeFunctionCallMode::Blocking,
            move |result: Result<Option<MetadataEdits>>, _env| {
                let _ = tx.send(result.map_err(|e| e.reason.clone()));
                Ok(())
            },
        );
        if status != Status::Ok {
            return Err(format!(
                "the JavaScript interceptor could not be called ({status})"
            ));
        }
        let edits = rx
            .recv()
            .map_err(|_| "the JavaScript interceptor never answered".to_string())?
            .map_err(|reason| format!("the JavaScript interceptor threw: {reason}"))?;
        apply_edits(edit, edits)
    }
}

/// The JavaScript interceptor of a sync call, called directly: the core runs
/// it on the calling (main) thread, within the call.
struct SyncInterceptor {
    env: napi::sys::napi_env,
    function: napi::sys::napi_value,
}

// SAFETY: only used during the synchronous call that made it, on its thread.
unsafe impl Send for SyncInterceptor {}
unsafe impl Sync for SyncInterceptor {}

impl engine::MetadataInterceptor for SyncInterceptor {
    fn intercept(&self, edit: &mut engine::MetadataEdit) -> std::result::Result<(), String> {
        // SAFETY: env and function come from the running synchronous call.
        let function = unsafe {
            Function::<MetadataEditView, Option<MetadataEdits>>::from_napi_value(
                self.env,
                self.function,
            )
        }
        .map_err(|e| e.reason.clone())?;
        let edits = function
            .call(view_of(edit))
            .map_err(|e| format!("the JavaScript interceptor threw: {}", e.reason))?;
        apply_edits(edit, edits)
    }

    /// JavaScript runs only on the thread of its `env`.
    fn bound_to_calling_thread(&self) -> bool {
        true
    }
}

/// The interceptor of an async call.
fn async_interceptor(
    f: Option<Function<'_, MetadataEditView, Option<MetadataEdits>>>,
) -> Result<Option<engine::Interceptor>> {
    f.map(|f| {
        let tsfn = f
            .build_threadsafe_function::<MetadataEditView>()
            .callee_handled::<false>()
            .build()?;
        Ok(engine::Interceptor::new(AsyncInterceptor(tsfn)))
    })
    .transpose()
}

/// The interceptor of a sync call.
fn sync_interceptor(
    env: &Env,
    f: Option<Function<'_, MetadataEditView, Option<MetadataEdits>>>,
) -> Result<Option<engine::Interceptor>> {
    f.map(|f| {
        let function = unsafe { ToNapiValue::to_napi_value(env.raw(), f) }?;
        Ok(engine::Interceptor::new(SyncInterceptor {
            env: env.raw(),
            function,
        }))
    })
    .transpose()
}

/// One metadata field with its value as text.
#[napi(object)]
pub struct MetadataField {
    /// "EXIF", "XMP", "IPTC" or "ICC".
    pub block: String,
    /// The IFD (`IFD0`, `ExifIFD`, `GPS`...), the XMP prefix (`dc`...), "IPTC" or "ICC".
    pub group: String,
    /// The field's name (`Make`, `subject`, `City`, `Description`).
    pub name: String,
    /// The value as text (arrays joined by `; `).
    pub value: String,
}

impl From<&engine::MetadataField> for MetadataField {
    fn from(f: &engine::MetadataField) -> MetadataField {
        MetadataField {
            block: f.block.name().to_string(),
            group: f.group.clone(),
            name: f.name.clone(),
            value: f.value.clone(),
        }
    }
}

/// A field before and after.
#[napi(object)]
pub struct MetadataChange {
    /// The field in the first image.
    pub before: MetadataField,
    /// The field in the second image.
    pub after: MetadataField,
}

/// The field-level difference of two images' metadata.
#[napi(object)]
pub struct MetadataDiff {
    /// Fields only the second image has.
    pub added: Vec<MetadataField>,
    /// Fields only the first image has.
    pub removed: Vec<MetadataField>,
    /// Fields whose value differs.
    pub changed: Vec<MetadataChange>,
    /// Fields carried into another block (IPTC to XMP in WebP and AVIF).
    pub moved: Vec<MetadataChange>,
}

impl From<engine::MetadataDiff> for MetadataDiff {
    fn from(d: engine::MetadataDiff) -> MetadataDiff {
        let fields = |v: &[engine::MetadataField]| v.iter().map(MetadataField::from).collect();
        let changes = |v: &[(engine::MetadataField, engine::MetadataField)]| {
            v.iter()
                .map(|(a, b)| MetadataChange {
                    before: a.into(),
                    after: b.into(),
                })
                .collect()
        };
        MetadataDiff {
            added: fields(&d.added),
            removed: fields(&d.removed),
            changed: changes(&d.changed),
            moved: changes(&d.moved),
        }
    }
}

/// One metadata read (or diff) on the libuv thread pool.
pub struct MetadataTask {
    first: Vec<u8>,
    second: Option<Vec<u8>>,
    failure: Option<Failure>,
}

impl Task for MetadataTask {
    type Output = MetadataRead;
    type JsValue = Either<Vec<MetadataField>, MetadataDiff>;

    fn compute(&mut self) -> Result<Self::Output> {
        let result = (|| -> Fallible<Self::Output> {
            let first = engine::read_metadata(&self.first)?;
            Ok(match &self.second {
                None => MetadataRead::Fields(first.fields()),
                Some(second) => MetadataRead::Diff(first.diff(&engine::read_metadata(second)?)),
            })
        })();
        result.map_err(|f| {
            let reason = f.message.clone();
            self.failure = Some(f);
            Error::from_reason(reason)
        })
    }

    fn resolve(&mut self, _env: Env, output: Self::Output) -> Result<Self::JsValue> {
        Ok(match output {
            MetadataRead::Fields(fields) => {
                Either::A(fields.iter().map(MetadataField::from).collect())
            }
            MetadataRead::Diff(diff) => Either::B(diff.into()),
        })
    }

    fn reject(&mut self, env: Env, err: Error) -> Result<Self::JsValue> {
        reject_with_code(env, err, self.failure.take())
    }
}

/// Every EXIF, XMP, IPTC and ICC field of an encoded image, as stored, on
/// the libuv thread pool.
#[napi(ts_return_type = "Promise<Array<MetadataField>>")]
pub fn read_metadata(data: Buffer) -> AsyncTask<MetadataTask> {
    AsyncTask::new(MetadataTask {
        first: data.to_vec(),
        second: None,
        failure: None,
    })
}

/// `readMetadata` on the calling thread.
#[napi]
pub fn read_metadata_sync(data: &[u8]) -> Result<Vec<MetadataField>, Code> {
    let metadata = engine::read_metadata(data).map_err(Failure::from)?;
    Ok(metadata.fields().iter().map(MetadataField::from).collect())
}

/// The field-level difference of two encoded images' metadata, on the
/// libuv thread pool.
#[napi(ts_return_type = "Promise<MetadataDiff>")]
pub fn diff_metadata(before: Buffer, after: Buffer) -> AsyncTask<MetadataTask> {
    AsyncTask::new(MetadataTask {
        first: before.to_vec(),
        second: Some(after.to_vec()),
        failure: None,
    })
}

/// `diffMetadata` on the calling thread.
#[napi]
pub fn diff_metadata_sync(before: &[u8], after: &[u8]) -> Result<MetadataDiff, Code> {
    let a = engine::read_metadata(before).map_err(Failure::from)?;
    let b = engine::read_metadata(after).map_err(Failure::from)?;
    Ok(a.diff(&b).into())
}

/// What a metadata task computed.
pub enum MetadataRead {
    /// The fields of one image.
    Fields(Vec<engine::MetadataField>),
    /// The difference of two.
    Diff(engine::MetadataDiff),
}

/// The metric a name denotes; the core's default without one.
fn parse_metric(name: Option<String>) -> Fallible<engine::Metric> {
    name.map_or(Ok(engine::Metric::default()), |n| {
        Ok(engine::Metric::from_name(&n)?)
    })
}

/// Header facts about an image, read without decoding pixels.
#[napi(object)]
pub struct Info {
    /// The container format.
    pub format: String,
    /// Stored width in pixels (HEIF/AVIF: after irot/imir).
    pub width: u32,
    /// Stored height in pixels.
    pub height: u32,
    /// Bits per sample of the source.
    pub bit_depth: u32,
    /// Whether the image has alpha or transparency.
    pub has_alpha: bool,
    /// The EXIF orientation, 1-8.
    pub orientation: u32,
    /// Frames, pages or top-level images.
    pub frames: u32,
    /// Whether an EXIF block is present.
    pub has_exif: bool,
    /// Whether an XMP packet is present.
    pub has_xmp: bool,
    /// Whether an ICC profile is present.
    pub has_icc: bool,
    /// Whether IPTC data is present.
    pub has_iptc: bool,
    /// Stated resolution in pixels per inch `[x, y]` (JPEG JFIF, PNG pHYs), when given.
    pub dpi: Option<Vec<f64>>,
}

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
pub struct CompressTask {
    source: Source,
    options: Fallible<Options>,
    cancel: Option<Arc<AtomicBool>>,
    failure: Option<Failure>,
}

impl CompressTask {
    fn run(&self) -> Fallible<Compressed> {
        let options = self.options.clone()?;
        let cancel = self.cancel.clone();
        let mut keep_going =
            |_: &engine::Progress| !cancel.as_ref().is_some_and(|c| c.load(Ordering::SeqCst));
        match &self.source {
            Source::Bytes(input) => Ok(engine::compress_with_progress(
                input,
                &options,
                &mut keep_going,
            )?),
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
}

impl Task for CompressTask {
    type Output = Compressed;
    type JsValue = Output;

    fn compute(&mut self) -> Result<Self::Output> {
        self.run().map_err(|f| {
            let reason = f.message.clone();
            self.failure = Some(f);
            Error::from_reason(reason)
        })
    }

    fn resolve(&mut self, _env: Env, output: Self::Output) -> Result<Self::JsValue> {
        Ok(Output::from(output))
    }

    fn reject(&mut self, env: Env, err: Error) -> Result<Self::JsValue> {
        reject_with_code(env, err, self.failure.take())
    }
}

/// A JavaScript interceptor: given the metadata about to be written, returns
/// the edits to make (or nothing); throwing fails the call.
type JsInterceptor<'a> = Function<'a, MetadataEditView, Option<MetadataEdits>>;

fn task(
    source: Source,
    options: Option<HashMap<String, Either3<String, f64, bool>>>,
    cancel: Option<&CancelToken>,
    interceptor: Option<JsInterceptor<'_>>,
) -> Result<AsyncTask<CompressTask>> {
    let interceptor = async_interceptor(interceptor)?;
    let options = parse_options(options).map(|mut o| {
        o.interceptor = interceptor;
        o
    });
    Ok(AsyncTask::new(CompressTask {
        source,
        options,
        cancel: cancel.map(|c| c.flag.clone()),
        failure: None,
    }))
}

/// Compresses an encoded image on the libuv thread pool. The input is copied
/// first (see [`Source`]); options are the core's keys.
#[napi(ts_return_type = "Promise<Output>")]
pub fn compress(
    input: Buffer,
    options: Option<HashMap<String, Either3<String, f64, bool>>>,
    cancel: Option<&CancelToken>,
    #[napi(ts_arg_type = "(view: MetadataEditView) => MetadataEdits | undefined | void")]
    interceptor: Option<JsInterceptor<'_>>,
) -> Result<AsyncTask<CompressTask>> {
    task(Source::Bytes(input.to_vec()), options, cancel, interceptor)
}

/// Reads `src`, compresses it and writes `dst` atomically, on the libuv thread pool.
#[napi(ts_return_type = "Promise<Output>")]
pub fn compress_file(
    src: String,
    dst: String,
    options: Option<HashMap<String, Either3<String, f64, bool>>>,
    cancel: Option<&CancelToken>,
    #[napi(ts_arg_type = "(view: MetadataEditView) => MetadataEdits | undefined | void")]
    interceptor: Option<JsInterceptor<'_>>,
) -> Result<AsyncTask<CompressTask>> {
    task(Source::File { src, dst }, options, cancel, interceptor)
}

/// Applies the metadata options (`metadata`, `provenance`, `restore_record`,
/// the interceptor) to an encoded JPEG, PNG or WebP without re-encoding
/// pixels, on the libuv thread pool.
#[napi(ts_return_type = "Promise<Output>")]
pub fn rewrite_metadata(
    input: Buffer,
    options: Option<HashMap<String, Either3<String, f64, bool>>>,
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
pub fn compress_sync(
    env: Env,
    input: &[u8],
    options: Option<HashMap<String, Either3<String, f64, bool>>>,
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

/// Time spent in one stage since the process started.
#[napi(object)]
pub struct StageStats {
    /// How many times the stage ran.
    pub count: f64,
    /// Total seconds spent in it.
    pub seconds: f64,
}

/// Process-wide statistics of every compress and encode call so far.
#[napi(object)]
pub struct Stats {
    /// Images compressed or encoded successfully.
    pub images: f64,
    /// Encoded input bytes of the successful compress calls.
    pub bytes_in: f64,
    /// Output bytes of the successful calls.
    pub bytes_out: f64,
    /// Calls running now.
    pub in_flight: f64,
    /// Failed calls by status name (`PXP_ERR_CORRUPT`, ...).
    pub errors: HashMap<String, f64>,
    /// Per stage (`decode`, `transform`, `encode`, `search`, `metadata`, `checkpoint`).
    pub stages: HashMap<String, StageStats>,
    /// The memory budget in bytes (`setMemoryBudget`), if any.
    pub memory_budget: Option<f64>,
    /// Estimated bytes admitted to the calls running now.
    pub memory_admitted: f64,
    /// The most bytes ever admitted at once.
    pub memory_admitted_peak: f64,
    /// Calls that waited for the budget.
    pub admission_waits: f64,
    /// The buffer pools (`setPoolLimit`).
    pub pool: PoolStats,
}

/// How the buffer pools have been used.
#[napi(object)]
pub struct PoolStats {
    /// Buffer requests served from the pools.
    pub hits: f64,
    /// Buffer requests of a poolable size that allocated.
    pub misses: f64,
    /// Bytes held in the pools now.
    pub held_bytes: f64,
    /// Pooled buffers given back to the allocator after idling.
    pub idle_releases: f64,
    /// The bound on held bytes (0: pooling off).
    pub limit_bytes: f64,
}

/// Sets the bound on bytes the buffer pools hold (default 0: off; or the
/// `PIXPRESS_POOL_BYTES` environment variable); 0 turns pooling off. Decoded
/// pixels and metric planes of 64 KiB and more are reused across calls, and
/// buffers unused for 2 s are freed.
#[napi]
pub fn set_pool_limit(bytes: f64) {
    engine::set_pool_limit(bytes.max(0.0) as usize);
}

/// Sets the process-wide memory budget in bytes (`undefined` or 0: none).
/// Under a budget each compression is admitted by its estimated memory (2.5
/// times the decoded pixels, plus the input) and waits on its pool thread
/// while admitting it would go over; one larger than the budget runs alone.
#[napi]
pub fn set_memory_budget(bytes: Option<f64>) {
    engine::set_memory_budget(bytes.filter(|b| *b > 0.0).map(|b| b as u64));
}

/// Reads the process-wide statistics.
#[napi]
pub fn stats() -> Stats {
    let s = engine::stats();
    Stats {
        images: s.images as f64,
        bytes_in: s.bytes_in as f64,
        bytes_out: s.bytes_out as f64,
        in_flight: s.in_flight as f64,
        errors: s
            .errors
            .iter()
            .map(|(kind, n)| (kind.code().to_string(), *n as f64))
            .collect(),
        stages: s
            .stages
            .iter()
            .map(|st| {
                let entry = StageStats {
                    count: st.count as f64,
                    seconds: st.seconds,
                };
                (st.stage.name().to_string(), entry)
            })
            .collect(),
        memory_budget: s.memory_budget.map(|b| b as f64),
        memory_admitted: s.memory_admitted as f64,
        memory_admitted_peak: s.memory_admitted_peak as f64,
        admission_waits: s.admission_waits as f64,
        pool: PoolStats {
            hits: s.pool.hits as f64,
            misses: s.pool.misses as f64,
            held_bytes: s.pool.held_bytes as f64,
            idle_releases: s.pool.idle_releases as f64,
            limit_bytes: s.pool.limit_bytes as f64,
        },
    }
}

/// The statistics as Prometheus text exposition (names prefixed `pixpress_`).
#[napi]
pub fn metrics_prometheus() -> String {
    engine::metrics_prometheus()
}

/// The option keys the core understands.
#[napi]
pub fn option_keys() -> Vec<&'static str> {
    engine::OPTION_KEYS.to_vec()
}

/// The library version, "MAJOR.MINOR.PATCH".
#[napi]
pub fn version() -> &'static str {
    engine::VERSION
}

/// Counts over a batch session's tasks, and the task finished last.
#[napi(object)]
#[derive(Clone, Default)]
pub struct SessionProgress {
    /// Tasks in the job.
    pub total: u32,
    /// Tasks finished with a verified output.
    pub done: u32,
    /// Tasks that failed.
    pub failed: u32,
    /// Tasks not yet done.
    pub pending: u32,
    /// Input bytes of the finished tasks.
    pub bytes_in: f64,
    /// Output bytes of the finished tasks.
    pub bytes_out: f64,
    /// Tasks compressed per second in the current run (0 outside a run).
    pub rate: f64,
    /// Seconds left at that rate, when known.
    pub eta: Option<f64>,
    /// The input of the task finished last in this run.
    pub last_input: Option<String>,
    /// Its outcome: "compressed", "verified" or "failed".
    pub last_outcome: Option<String>,
}

impl From<engine::SessionStatus> for SessionProgress {
    fn from(s: engine::SessionStatus) -> Self {
        SessionProgress {
            total: s.total as u32,
            done: s.done as u32,
            failed: s.failed as u32,
            pending: s.pending as u32,
            bytes_in: s.bytes_in as f64,
            bytes_out: s.bytes_out as f64,
            ..Default::default()
        }
    }
}

/// A failed task of a batch session.
#[napi(object)]
pub struct SessionFailure {
    /// The input file.
    pub input: String,
    /// The `PXP_ERR_*` code.
    pub code: String,
    /// The message.
    pub error: String,
}

/// The shared state of a native session: the session itself (locked by a
/// run), its cancel flag, and the latest progress for `status()` to read.
struct SessionShared {
    /// `None` once closed.
    session: std::sync::Mutex<Option<engine::Session>>,
    /// Set on the JS thread when `run()` is called and cleared when its
    /// promise settles, so calls between the two see the session as busy
    /// even before the pool thread takes the lock.
    running: AtomicBool,
    cancel: AtomicBool,
    latest: std::sync::Mutex<SessionProgress>,
}

/// A resumable batch job (the `Session` class of index.js wraps it with
/// progress events and AbortSignal).
#[napi]
pub struct NativeSession {
    shared: Arc<SessionShared>,
}

fn wrap_session(session: engine::Session) -> NativeSession {
    let latest = SessionProgress::from(session.status());
    NativeSession {
        shared: Arc::new(SessionShared {
            session: std::sync::Mutex::new(Some(session)),
            running: AtomicBool::new(false),
            cancel: AtomicBool::new(false),
            latest: std::sync::Mutex::new(latest),
        }),
    }
}

/// One session run on the libuv thread pool.
pub struct RunTask {
    shared: Arc<SessionShared>,
    failure: Option<Failure>,
}

impl Task for RunTask {
    type Output = engine::SessionStatus;
    type JsValue = SessionProgress;

    fn compute(&mut self) -> Result<Self::Output> {
        let shared = Arc::clone(&self.shared);
        let mut guard = shared.session.lock().unwrap_or_else(|e| e.into_inner());
        let Some(session) = guard.as_mut() else {
            let f = closed();
            let reason = f.message.clone();
            self.failure = Some(f);
            return Err(Error::from_reason(reason));
        };
        let mut report = |p: &engine::BatchProgress| {
            let mut latest = shared.latest.lock().unwrap_or_else(|e| e.into_inner());
            *latest = SessionProgress {
                rate: p.rate,
                eta: p.eta.map(|d| d.as_secs_f64()),
                last_input: Some(p.task.input.to_string_lossy().into_owned()),
                last_outcome: Some(p.task.outcome.name().into()),
                ..SessionProgress::from(p.status)
            };
            true
        };
        session.run(&mut report, &shared.cancel).map_err(|e| {
            let f = Failure::from(e);
            let reason = f.message.clone();
            self.failure = Some(f);
            Error::from_reason(reason)
        })
    }

    fn resolve(&mut self, _env: Env, output: Self::Output) -> Result<Self::JsValue> {
        self.shared.running.store(false, Ordering::SeqCst);
        Ok(SessionProgress::from(output))
    }

    fn reject(&mut self, env: Env, err: Error) -> Result<Self::JsValue> {
        self.shared.running.store(false, Ordering::SeqCst);
        reject_with_code(env, err, self.failure.take())
    }
}

#[napi]
impl NativeSession {
    /// Opens the job in its state directory, or creates it: `spec` holds
    /// `input` (array), `output`, `state`, `include`, `exclude` (arrays),
    /// `naming`, `jobs`, and options of the shared vocabulary.
    #[napi(factory)]
    #[allow(clippy::type_complexity)]
    pub fn open_or_create(
        spec: HashMap<String, Either<Vec<String>, Either3<String, f64, bool>>>,
    ) -> Result<NativeSession, Code> {
        let mut parsed = engine::SessionSpec::default();
        for (key, value) in spec {
            let values = match value {
                Either::A(list) => list,
                Either::B(Either3::A(s)) => vec![s],
                Either::B(Either3::B(n)) if n.fract() == 0.0 => vec![format!("{}", n as i64)],
                Either::B(Either3::B(n)) => vec![n.to_string()],
                Either::B(Either3::C(b)) => vec![b.to_string()],
            };
            for value in values {
                parsed.set(&key, &value).map_err(Failure::from)?;
            }
        }
        let session = engine::Session::open_or_create(parsed).map_err(Failure::from)?;
        Ok(wrap_session(session))
    }

    /// Opens the session whose state is in `stateDir`, to resume it.
    #[napi(factory)]
    pub fn open(state_dir: String) -> Result<NativeSession, Code> {
        let session = engine::Session::open(state_dir.as_ref()).map_err(Failure::from)?;
        Ok(wrap_session(session))
    }

    /// The latest counts (updated after each task while a run goes on).
    #[napi]
    pub fn status(&self) -> SessionProgress {
        self.shared
            .latest
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    /// Runs the job to its end on the libuv thread pool (throws
    /// PXP_ERR_INVALID_ARGUMENT while another run of this session goes on).
    #[napi(ts_return_type = "Promise<SessionProgress>")]
    pub fn run(&self) -> Result<AsyncTask<RunTask>, Code> {
        if self.shared.running.swap(true, Ordering::SeqCst) {
            return Err(busy().into());
        }
        self.shared.cancel.store(false, Ordering::SeqCst);
        Ok(AsyncTask::new(RunTask {
            shared: Arc::clone(&self.shared),
            failure: None,
        }))
    }

    /// Closes the session: its state stays on disk and its lock is released,
    /// so another handle (or process) may open it. Later calls fail.
    #[napi]
    pub fn close(&self) -> Result<(), Code> {
        self.idle()?.take();
        Ok(())
    }

    /// Stops a run once the tasks in flight finish (it rejects with PXP_ERR_CANCELLED).
    #[napi]
    pub fn cancel(&self) {
        self.shared.cancel.store(true, Ordering::SeqCst);
    }

    /// Marks failed tasks pending again for the next run; returns how many.
    #[napi]
    pub fn retry_failed(&self) -> Result<u32, Code> {
        let mut guard = self.idle()?;
        let session = guard.as_mut().ok_or_else(closed)?;
        let n = session.retry_failed().map_err(Failure::from)?;
        *self.shared.latest.lock().unwrap_or_else(|e| e.into_inner()) = session.status().into();
        Ok(n as u32)
    }

    /// The failed tasks.
    #[napi]
    pub fn failures(&self) -> Result<Vec<SessionFailure>, Code> {
        let guard = self.idle()?;
        let session = guard.as_ref().ok_or_else(closed)?;
        Ok(session
            .failures()
            .into_iter()
            .map(|(input, kind, error)| SessionFailure {
                input: input.to_string_lossy().into_owned(),
                code: kind.code().to_string(),
                error,
            })
            .collect())
    }
}

impl NativeSession {
    /// The session when no run holds it (never blocks the event loop).
    fn idle(&self) -> Result<std::sync::MutexGuard<'_, Option<engine::Session>>, Code> {
        if self.shared.running.load(Ordering::SeqCst) {
            return Err(busy().into());
        }
        match self.shared.session.try_lock() {
            Ok(guard) => Ok(guard),
            Err(std::sync::TryLockError::Poisoned(e)) => Ok(e.into_inner()),
            Err(std::sync::TryLockError::WouldBlock) => Err(busy().into()),
        }
    }
}

/// The error for calls on a closed session.
fn closed() -> Failure {
    Failure {
        code: engine::ErrorKind::InvalidArgument.code(),
        message: "the session is closed".into(),
    }
}

/// The error for calls that need an idle session while a run goes on.
fn busy() -> Failure {
    Failure {
        code: engine::ErrorKind::InvalidArgument.code(),
        message: "the session is running; wait for run() to settle".into(),
    }
}
