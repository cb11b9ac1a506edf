//! The one error type every face maps from.

use crate::format::Format;

/// Everything that can go wrong in pixpress.
///
/// Each variant carries the numbers and the underlying codec's own message, so
/// a caller can act on it. The faces map the variant to their own vocabulary in
/// one place each (`pxp_status`, Python exception classes, Node `code` strings),
/// using [`Error::kind`].
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The input is not an image format pixpress knows, or is empty.
    #[error("unsupported format: {detail}")]
    UnsupportedFormat {
        /// What was seen, for example the first bytes of the input.
        detail: String,
    },
    /// The input ends before the image does.
    #[error("truncated {format} input: {detail}")]
    Truncated {
        /// The format that was being decoded.
        format: Format,
        /// The codec's own message.
        detail: String,
    },
    /// The input is malformed: a bad header, chunk, box or entropy-coded data.
    #[error("corrupt {format} input: {detail}")]
    Corrupt {
        /// The format that was being decoded.
        format: Format,
        /// The codec's own message.
        detail: String,
    },
    /// A limit was exceeded before any large allocation was made.
    #[error("{what}: {width}x{height} = {pixels} pixels exceeds the limit of {limit} pixels (raise it with max_pixels)")]
    LimitExceeded {
        /// What exceeded it (for example "declared image size").
        what: &'static str,
        /// Declared width.
        width: u64,
        /// Declared height.
        height: u64,
        /// `width * height`.
        pixels: u64,
        /// The limit in force.
        limit: u64,
    },
    /// A cap on what a file may make pixpress do (inflated metadata, scans,
    /// saved markers) was exceeded; nothing more was read.
    #[error("{what}: {amount} exceeds the limit of {limit}")]
    ResourceLimit {
        /// What exceeded it, with its unit (for example "inflated iCCP profile bytes").
        what: &'static str,
        /// How much the file asked for (at least; counting stops at the limit).
        amount: u64,
        /// The limit in force.
        limit: u64,
    },
    /// This build has no codec for the requested work.
    #[error("codec unavailable: {detail}")]
    CodecUnavailable {
        /// Which codec is missing and why.
        detail: String,
    },
    /// An option key is unknown or its value is not valid for it.
    #[error("invalid option `{key}`: {reason}")]
    InvalidOption {
        /// The option's key, as given.
        key: String,
        /// What is wrong with the value.
        reason: String,
    },
    /// An argument other than an option is invalid (for example a zero-sized pixel buffer).
    #[error("invalid argument: {0}")]
    InvalidArgument(String),
    /// An encoder failed on valid pixels.
    #[error("{format} encoder failed: {detail}")]
    Encode {
        /// The output format.
        format: Format,
        /// The encoder's own message.
        detail: String,
    },
    /// Reading or writing a file failed.
    #[error("I/O error on {path}: {source}")]
    Io {
        /// The file involved.
        path: String,
        /// The operating system's error.
        #[source]
        source: std::io::Error,
    },
    /// The caller cancelled the work.
    #[error("cancelled")]
    Cancelled,
    /// No encoder setting meets the `target` option.
    #[error("target {target} cannot be met; the best found was {best}")]
    TargetUnreachable {
        /// The target, as `metric=score` or `size=bytes`.
        target: String,
        /// The closest result the search found.
        best: String,
    },
    /// A bug or a panic inside pixpress or a codec it uses.
    #[error("internal error: {0}")]
    Internal(String),
    /// A batch session's state on disk does not decode: altered from outside
    /// or damaged by the disk (a torn last write is not damage: it is cut
    /// off). Its kind is [`ErrorKind::Corrupt`].
    #[error("session state is damaged: {0}")]
    DamagedState(String),
    /// A metadata interceptor failed, panicked, or left metadata that is not
    /// well-formed; nothing was written.
    #[error("metadata interceptor: {0}")]
    Interceptor(String),
}

/// The kind of an [`Error`], without its detail: what every face switches on.
///
/// The numeric values are the C ABI's `pxp_status` values and never change.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[repr(u32)]
pub enum ErrorKind {
    /// An argument or option is invalid.
    InvalidArgument = 1,
    /// Unknown or unsupported format.
    UnsupportedFormat = 2,
    /// Malformed input.
    Corrupt = 3,
    /// Input ends early.
    Truncated = 4,
    /// A size or memory limit was exceeded.
    LimitExceeded = 5,
    /// File system error.
    Io = 6,
    /// Cancelled by the caller.
    Cancelled = 7,
    /// A quality or size target could not be met.
    TargetUnreachable = 8,
    /// Internal error or caught panic.
    Internal = 9,
    /// The codec needed is not in this build.
    CodecUnavailable = 10,
    /// A metadata interceptor failed or left metadata that is not well-formed.
    Interceptor = 11,
}

impl ErrorKind {
    /// Every kind, in numeric order.
    pub const ALL: [ErrorKind; 11] = [
        ErrorKind::InvalidArgument,
        ErrorKind::UnsupportedFormat,
        ErrorKind::Corrupt,
        ErrorKind::Truncated,
        ErrorKind::LimitExceeded,
        ErrorKind::Io,
        ErrorKind::Cancelled,
        ErrorKind::TargetUnreachable,
        ErrorKind::Internal,
        ErrorKind::CodecUnavailable,
        ErrorKind::Interceptor,
    ];

    /// The kind with this `pxp_status` number, if any.
    pub fn from_number(number: u32) -> Option<ErrorKind> {
        ErrorKind::ALL.into_iter().find(|k| *k as u32 == number)
    }

    /// The stable name every face uses: `PXP_ERR_CORRUPT` and so on.
    pub fn code(self) -> &'static str {
        match self {
            ErrorKind::InvalidArgument => "PXP_ERR_INVALID_ARGUMENT",
            ErrorKind::UnsupportedFormat => "PXP_ERR_UNSUPPORTED_FORMAT",
            ErrorKind::Corrupt => "PXP_ERR_CORRUPT",
            ErrorKind::Truncated => "PXP_ERR_TRUNCATED",
            ErrorKind::LimitExceeded => "PXP_ERR_LIMIT_EXCEEDED",
            ErrorKind::Io => "PXP_ERR_IO",
            ErrorKind::Cancelled => "PXP_ERR_CANCELLED",
            ErrorKind::TargetUnreachable => "PXP_ERR_TARGET_UNREACHABLE",
            ErrorKind::Internal => "PXP_ERR_INTERNAL",
            ErrorKind::CodecUnavailable => "PXP_ERR_CODEC_UNAVAILABLE",
            ErrorKind::Interceptor => "PXP_ERR_INTERCEPTOR",
        }
    }
}

impl Error {
    /// The kind of this error, for switching on without parsing messages.
    pub fn kind(&self) -> ErrorKind {
        match self {
            Error::UnsupportedFormat { .. } => ErrorKind::UnsupportedFormat,
            Error::Truncated { .. } => ErrorKind::Truncated,
            Error::Corrupt { .. } => ErrorKind::Corrupt,
            Error::LimitExceeded { .. } | Error::ResourceLimit { .. } => ErrorKind::LimitExceeded,
            Error::CodecUnavailable { .. } => ErrorKind::CodecUnavailable,
            Error::InvalidOption { .. } | Error::InvalidArgument(_) => ErrorKind::InvalidArgument,
            Error::Io { .. } => ErrorKind::Io,
            Error::Cancelled => ErrorKind::Cancelled,
            Error::TargetUnreachable { .. } => ErrorKind::TargetUnreachable,
            Error::Encode { .. } | Error::Internal(_) => ErrorKind::Internal,
            Error::DamagedState(_) => ErrorKind::Corrupt,
            Error::Interceptor(_) => ErrorKind::Interceptor,
        }
    }

    pub(crate) fn corrupt(format: Format, detail: impl Into<String>) -> Self {
        Error::Corrupt {
            format,
            detail: detail.into(),
        }
    }

    pub(crate) fn truncated(format: Format, detail: impl Into<String>) -> Self {
        Error::Truncated {
            format,
            detail: detail.into(),
        }
    }

    pub(crate) fn encode(format: Format, detail: impl Into<String>) -> Self {
        Error::Encode {
            format,
            detail: detail.into(),
        }
    }

    /// Refuses `width x height` above `limit` pixels as
    /// [`Error::LimitExceeded`] naming `what` ("declared image size",
    /// "resize output size", ...), before anything is allocated.
    pub(crate) fn check_pixels(
        what: &'static str,
        width: u64,
        height: u64,
        limit: u64,
    ) -> Result<()> {
        let pixels = width.saturating_mul(height);
        if pixels > limit {
            return Err(Error::LimitExceeded {
                what,
                width,
                height,
                pixels,
                limit,
            });
        }
        Ok(())
    }

    pub(crate) fn option(key: &str, reason: impl Into<String>) -> Self {
        Error::InvalidOption {
            key: key.to_string(),
            reason: reason.into(),
        }
    }

    pub(crate) fn io(path: &std::path::Path, source: std::io::Error) -> Self {
        Error::Io {
            path: path.display().to_string(),
            source,
        }
    }
}

/// `Result` with pixpress's [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Runs `work`, turning a panic inside it (ours or a codec's) into [`Error::Internal`].
pub(crate) fn catch_panic<T>(work: impl FnOnce() -> Result<T>) -> Result<T> {
    match std::panic::catch_unwind(std::panic::AssertUnwindSafe(work)) {
        Ok(result) => result,
        Err(payload) => Err(Error::Internal(panic_message(payload.as_ref()))),
    }
}

/// The text of a panic payload.
pub(crate) fn panic_message(payload: &(dyn std::any::Any + Send)) -> String {
    if let Some(s) = payload.downcast_ref::<&str>() {
        (*s).to_string()
    } else if let Some(s) = payload.downcast_ref::<String>() {
        s.clone()
    } else {
        "panic with a non-text payload".to_string()
    }
}
