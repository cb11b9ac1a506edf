//! Core errors as the exception classes of `pixpress.errors`, by error kind.

use engine::{Error, ErrorKind};
use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;

/// The `pixpress.errors` class for an error kind.
fn class_name(kind: ErrorKind) -> &'static str {
    match kind {
        ErrorKind::InvalidArgument => "InvalidArgumentError",
        ErrorKind::UnsupportedFormat => "UnsupportedFormatError",
        ErrorKind::Corrupt => "CorruptImageError",
        ErrorKind::Truncated => "TruncatedImageError",
        ErrorKind::LimitExceeded => "LimitExceededError",
        ErrorKind::Io => "FileError",
        ErrorKind::Cancelled => "CancelledError",
        ErrorKind::TargetUnreachable => "TargetUnreachableError",
        ErrorKind::CodecUnavailable => "CodecUnavailableError",
        ErrorKind::Internal => "InternalError",
        ErrorKind::Interceptor => "InterceptorError",
    }
}

/// Every error kind's `PXP_ERR_*` code and `pixpress.errors` class name, in
/// `ErrorKind::ALL` order: the module's `ERROR_CLASSES`, which the tests check
/// the hand-written classes against.
pub(crate) fn classes() -> Vec<(&'static str, &'static str)> {
    ErrorKind::ALL
        .into_iter()
        .map(|kind| (kind.code(), class_name(kind)))
        .collect()
}

/// Raises `kind`'s class with `message`; a ValueError if the module is missing.
fn raise(kind: ErrorKind, message: String) -> PyErr {
    Python::attach(|py| {
        match py
            .import("pixpress.errors")
            .and_then(|m| m.getattr(class_name(kind)))
        {
            Ok(class) => match class.call1((message.clone(), kind.code())) {
                Ok(instance) => PyErr::from_value(instance),
                Err(e) => e,
            },
            Err(_) => PyValueError::new_err(message),
        }
    })
}

/// The Python exception for a core error.
pub(crate) fn to_py(e: Error) -> PyErr {
    if e.kind() == ErrorKind::Interceptor {
        if let Some(interrupt) = crate::interceptor::take_interrupt() {
            return interrupt;
        }
    }
    raise(e.kind(), e.to_string())
}

/// An InvalidArgumentError with `message`.
pub(crate) fn invalid(message: impl Into<String>) -> PyErr {
    raise(ErrorKind::InvalidArgument, message.into())
}
