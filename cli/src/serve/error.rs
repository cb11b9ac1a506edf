//! What a request can fail with, and its status in each protocol: the
//! engine's typed error, or one of the server's own (queue full, deadline,
//! body too large, not authenticated). Bad input is always a 4xx or a
//! client-side gRPC status, with the `PXP_ERR_*` code in the body or the
//! trailing metadata; 500 and INTERNAL are for the engine's internal errors.

use axum::http::{HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use pixpress::ErrorKind;
use std::time::Duration;
use tonic::Code;

/// A failed request.
#[derive(Debug)]
pub(crate) enum ServeError {
    /// The engine refused or failed.
    Engine(pixpress::Error),
    /// Every worker is busy and the queue is full.
    Overloaded {
        /// When to try again.
        retry_after: Duration,
    },
    /// The deadline passed; the work was cancelled.
    DeadlineExceeded,
    /// The request body is larger than the server accepts.
    TooLarge {
        /// The limit, in bytes.
        limit: usize,
    },
    /// No valid token or signature.
    Unauthenticated(&'static str),
}

impl From<pixpress::Error> for ServeError {
    fn from(e: pixpress::Error) -> Self {
        match e.kind() {
            ErrorKind::Cancelled => ServeError::DeadlineExceeded,
            _ => ServeError::Engine(e),
        }
    }
}

impl ServeError {
    /// The stable code: the engine's `PXP_ERR_*`, or the server's own.
    pub(crate) fn code(&self) -> &'static str {
        match self {
            ServeError::Engine(e) => e.kind().code(),
            ServeError::Overloaded { .. } => "PXP_ERR_OVERLOADED",
            ServeError::DeadlineExceeded => ErrorKind::Cancelled.code(),
            ServeError::TooLarge { .. } => ErrorKind::LimitExceeded.code(),
            ServeError::Unauthenticated(_) => "PXP_ERR_UNAUTHENTICATED",
        }
    }

    /// What went wrong, for people.
    pub(crate) fn message(&self) -> String {
        match self {
            ServeError::Engine(e) => e.to_string(),
            ServeError::Overloaded { .. } => "every worker is busy and the queue is full".into(),
            ServeError::DeadlineExceeded => "the deadline passed; the work was cancelled".into(),
            ServeError::TooLarge { limit } => {
                format!("the request body exceeds the limit of {limit} bytes (max_request_bytes)")
            }
            ServeError::Unauthenticated(why) => (*why).into(),
        }
    }

    /// The HTTP status.
    pub(crate) fn http_status(&self) -> StatusCode {
        match self {
            ServeError::Engine(e) => match e.kind() {
                ErrorKind::InvalidArgument => StatusCode::BAD_REQUEST,
                ErrorKind::UnsupportedFormat => StatusCode::UNSUPPORTED_MEDIA_TYPE,
                ErrorKind::LimitExceeded => StatusCode::PAYLOAD_TOO_LARGE,
                ErrorKind::Corrupt
                | ErrorKind::Truncated
                | ErrorKind::TargetUnreachable
                | ErrorKind::CodecUnavailable => StatusCode::UNPROCESSABLE_ENTITY,
                ErrorKind::Cancelled => StatusCode::GATEWAY_TIMEOUT,
                _ => StatusCode::INTERNAL_SERVER_ERROR,
            },
            ServeError::Overloaded { .. } => StatusCode::SERVICE_UNAVAILABLE,
            ServeError::DeadlineExceeded => StatusCode::GATEWAY_TIMEOUT,
            ServeError::TooLarge { .. } => StatusCode::PAYLOAD_TOO_LARGE,
            ServeError::Unauthenticated(_) => StatusCode::UNAUTHORIZED,
        }
    }

    /// The gRPC status, the code in the `pxp-error-code` metadata too.
    pub(crate) fn grpc_status(&self) -> tonic::Status {
        let code = match self {
            ServeError::Engine(e) => match e.kind() {
                ErrorKind::InvalidArgument
                | ErrorKind::UnsupportedFormat
                | ErrorKind::Corrupt
                | ErrorKind::Truncated => Code::InvalidArgument,
                ErrorKind::LimitExceeded => Code::ResourceExhausted,
                ErrorKind::TargetUnreachable => Code::OutOfRange,
                ErrorKind::CodecUnavailable => Code::Unimplemented,
                ErrorKind::Cancelled => Code::DeadlineExceeded,
                _ => Code::Internal,
            },
            ServeError::Overloaded { .. } | ServeError::TooLarge { .. } => Code::ResourceExhausted,
            ServeError::DeadlineExceeded => Code::DeadlineExceeded,
            ServeError::Unauthenticated(_) => Code::Unauthenticated,
        };
        let mut status = tonic::Status::new(code, format!("{}: {}", self.code(), self.message()));
        status.metadata_mut().insert(
            "pxp-error-code",
            tonic::metadata::MetadataValue::from_static(self.code()),
        );
        if let ServeError::Overloaded { retry_after } = self {
            if let Ok(value) = retry_after.as_millis().to_string().parse() {
                status
                    .metadata_mut()
                    .insert("grpc-retry-pushback-ms", value);
            }
        }
        status
    }
}

impl IntoResponse for ServeError {
    fn into_response(self) -> Response {
        let body = serde_json::json!({ "code": self.code(), "message": self.message() });
        let mut response = (self.http_status(), axum::Json(body)).into_response();
        let headers = response.headers_mut();
        headers.insert("x-pixpress-error", HeaderValue::from_static(self.code()));
        match &self {
            ServeError::Overloaded { retry_after } => {
                let seconds = retry_after.as_secs().max(1).to_string();
                if let Ok(value) = HeaderValue::from_str(&seconds) {
                    headers.insert("retry-after", value);
                }
            }
            ServeError::Unauthenticated(_) => {
                headers.insert("www-authenticate", HeaderValue::from_static("Bearer"));
            }
            _ => {}
        }
        response
    }
}
