//! Failures with their stable `PXP_ERR_*` code: [`Failure`] (what fallible
//! work returns), [`Code`] (the error of a synchronous call) and
//! [`reject_with_code`] (how an async task rejects with one).

use napi::bindgen_prelude::*;

/// A failure with its stable `code` (`PXP_ERR_CORRUPT`, ...) and message.
#[derive(Debug, Clone)]
pub(crate) struct Failure {
    pub(crate) code: &'static str,
    pub(crate) message: String,
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
pub(crate) fn reject_with_code<T>(env: Env, err: Error, failure: Option<Failure>) -> Result<T> {
    let Some(failure) = failure else {
        return Err(err);
    };
    let mut object = env.create_error(Error::from_reason(failure.message))?;
    object.set_named_property("code", failure.code)?;
    Err(Error::from(object.to_unknown()))
}

/// The outcome of work that fails with a [`Failure`].
pub(crate) type Fallible<T> = std::result::Result<T, Failure>;

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
