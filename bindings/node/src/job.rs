//! [`Job`]: the one task type behind every promise-returning call. Its work
//! runs on the libuv thread pool, and a failure keeps its `PXP_ERR_*` code
//! for the rejection.

use crate::errors::{reject_with_code, Failure, Fallible};
use napi::bindgen_prelude::*;

/// The work of a [`Job`]: run once, on a libuv pool thread.
type Work<T> = Box<dyn FnOnce() -> Fallible<T> + Send>;

/// What a [`Job`] runs on the JavaScript thread when its promise settles.
type Settle = Box<dyn FnOnce() + Send>;

/// Work for the libuv thread pool whose failure keeps its `PXP_ERR_*` code
/// for the rejection: `compute` runs the work and records its [`Failure`],
/// `resolve` converts the output for JavaScript, and `reject` rejects with an
/// Error whose `code` is the failure's.
pub struct Job<T, V> {
    /// `None` once computed.
    work: Option<Work<T>>,
    /// The output as JavaScript receives it.
    convert: fn(T) -> V,
    /// Run first thing in `resolve` or `reject`, if set.
    settle: Option<Settle>,
    /// What the work failed with, for `reject`.
    failure: Option<Failure>,
}

impl<T, V> Job<T, V> {
    /// A job running `work` and resolving with `convert` of its output.
    pub(crate) fn new(
        work: impl FnOnce() -> Fallible<T> + Send + 'static,
        convert: fn(T) -> V,
    ) -> Self {
        Job {
            work: Some(Box::new(work)),
            convert,
            settle: None,
            failure: None,
        }
    }

    /// Also runs `settle` on the JavaScript thread when the promise settles,
    /// before the output is converted or the rejection made.
    pub(crate) fn on_settle(mut self, settle: impl FnOnce() + Send + 'static) -> Self {
        self.settle = Some(Box::new(settle));
        self
    }

    fn settled(&mut self) {
        if let Some(settle) = self.settle.take() {
            settle();
        }
    }
}

impl<T: Send + 'static, V: ToNapiValue + TypeName> Task for Job<T, V> {
    type Output = T;
    type JsValue = V;

    fn compute(&mut self) -> Result<T> {
        let Some(work) = self.work.take() else {
            return Err(Error::from_reason("the task already ran"));
        };
        work().map_err(|f| {
            let reason = f.message.clone();
            self.failure = Some(f);
            Error::from_reason(reason)
        })
    }

    fn resolve(&mut self, _env: Env, output: T) -> Result<V> {
        self.settled();
        Ok((self.convert)(output))
    }

    fn reject(&mut self, env: Env, err: Error) -> Result<V> {
        self.settled();
        reject_with_code(env, err, self.failure.take())
    }
}
