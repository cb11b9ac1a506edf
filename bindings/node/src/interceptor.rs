//! Metadata interceptors from JavaScript: a function given a
//! [`MetadataEditView`] of the metadata about to be written, returning the
//! [`MetadataEdits`] to make. An async call reaches it through a threadsafe
//! function; a sync call calls it directly, on the calling thread.

use crate::metadata::MetadataField;
use napi::bindgen_prelude::*;
use napi::threadsafe_function::{ThreadsafeFunction, ThreadsafeFunctionCallMode};
use napi_derive::napi;
use std::collections::HashMap;

/// A JavaScript interceptor: given the metadata about to be written, returns
/// the edits to make (or nothing); throwing fails the call.
pub(crate) type JsInterceptor<'a> = Function<'a, MetadataEditView, Option<MetadataEdits>>;

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

// SAFETY: the raw napi handles are only used on the JavaScript thread: the
// interceptor is made by `compress_sync` and lives in that call's `Options`
// (dropped when it returns, and with it every clone of the `Arc`), and
// `bound_to_calling_thread` makes the core call it inline, on the calling
// thread, never on the interceptor thread (no `parallel::run` or rayon job
// reaches `output_metadata`). `Send` is needed only because
// `MetadataInterceptor` requires it, not because it crosses threads.
unsafe impl Send for SyncInterceptor {}
// SAFETY: as for `Send`: shared references exist only on the calling thread,
// during the synchronous call.
unsafe impl Sync for SyncInterceptor {}

impl engine::MetadataInterceptor for SyncInterceptor {
    fn intercept(&self, edit: &mut engine::MetadataEdit) -> std::result::Result<(), String> {
        // SAFETY: `env` and `function` come from `compress_sync`, which is
        // still running on this (the JavaScript) thread, so the env and the
        // handle scope the napi_value belongs to are alive; the value is a
        // JavaScript function (it was converted from a `Function`).
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
pub(crate) fn async_interceptor(
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
pub(crate) fn sync_interceptor(
    env: &Env,
    f: Option<Function<'_, MetadataEditView, Option<MetadataEdits>>>,
) -> Result<Option<engine::Interceptor>> {
    f.map(|f| {
        // SAFETY: `env` is the env of the running synchronous call, on its
        // thread; `f` is a function value of that same env.
        let function = unsafe { ToNapiValue::to_napi_value(env.raw(), f) }?;
        Ok(engine::Interceptor::new(SyncInterceptor {
            env: env.raw(),
            function,
        }))
    })
    .transpose()
}
