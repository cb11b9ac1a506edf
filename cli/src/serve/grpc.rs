//! The gRPC face: the `pixpress.v1.Pixpress` service of
//! `proto/pixpress/v1/pixpress.proto`, beside `grpc.health.v1` health
//! checking and server reflection.

use super::error::ServeError;
use super::work::Done;
use super::Shared;
use crate::capabilities::format_names;
use axum::body::Bytes;
use std::future::Future;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tonic::service::interceptor::InterceptedService;
use tonic::service::Interceptor;
use tonic::{Request, Response, Status, Streaming};
use tracing::Instrument;

/// The Rust messages and service generated from the schema by `build.rs`.
#[allow(missing_docs, clippy::all, clippy::pedantic)]
pub(crate) mod pb {
    tonic::include_proto!("pixpress.v1");
}

/// The encoded descriptor set of the schema, for server reflection.
pub(crate) const DESCRIPTOR_SET: &[u8] =
    include_bytes!(concat!(env!("OUT_DIR"), "/pixpress_descriptor.bin"));

/// When a call arrived, noted by the interceptor before its message is read.
#[derive(Clone, Copy)]
struct Arrival(Instant);

/// The service, holding the shared engine.
pub(crate) struct Service {
    shared: Arc<Shared>,
}

impl Service {
    /// The tonic server for the service, with the server's message limit,
    /// behind the bearer check (an interceptor: it runs before a message is
    /// read, so a caller without a token cannot make the server buffer one).
    pub(crate) fn server(
        shared: Arc<Shared>,
    ) -> InterceptedService<pb::pixpress_server::PixpressServer<Service>, impl Interceptor + Clone>
    {
        // A message holds the input and its options; the options are small.
        let limit = shared
            .engine
            .settings
            .max_request_bytes
            .saturating_add(64 << 10);
        let auth = Arc::clone(&shared);
        let server = pb::pixpress_server::PixpressServer::new(Service { shared })
            .max_decoding_message_size(limit)
            .max_encoding_message_size(usize::MAX);
        InterceptedService::new(server, move |mut request: Request<()>| {
            request.extensions_mut().insert(Arrival(Instant::now()));
            let authorization = request
                .metadata()
                .get("authorization")
                .and_then(|v| v.to_str().ok());
            if auth.auth.required() && !auth.auth.bearer(authorization) {
                // Refused before the method is known: counted under one route.
                let e = ServeError::Unauthenticated("a bearer token is required");
                auth.engine
                    .metrics
                    .observe("grpc", "(any)", "Unauthenticated", Duration::ZERO);
                tracing::info!(protocol = "grpc", code = e.code(), "refused");
                return Err(e.grpc_status());
            }
            Ok(request)
        })
    }

    /// Runs `work` in a span with a request id, after the bearer check; logs
    /// and counts the answer.
    async fn observed<T, F>(
        &self,
        route: &'static str,
        metadata: &tonic::metadata::MetadataMap,
        work: F,
    ) -> Result<Response<T>, Status>
    where
        F: Future<Output = Result<T, ServeError>>,
    {
        let started = Instant::now();
        let id = super::request_id(metadata.get("x-request-id").and_then(|v| v.to_str().ok()));
        let span =
            tracing::info_span!("request", request_id = %id, protocol = "grpc", route = route);
        let departure = super::Departure {
            armed: true,
            shared: &self.shared,
            protocol: "grpc",
            route: route.into(),
            status: "Cancelled",
            started,
            span: span.clone(),
        };
        let result = work.instrument(span.clone()).await;
        departure.answered();
        let took = started.elapsed();
        let (status, code) = match &result {
            Ok(_) => ("OK".to_string(), None),
            Err(e) => (format!("{:?}", e.grpc_status().code()), Some(e.code())),
        };
        self.shared
            .engine
            .metrics
            .observe("grpc", route, &status, took);
        span.in_scope(|| {
            tracing::info!(status = %status, duration_ms = took.as_secs_f64() * 1e3, code, "answered")
        });
        let id: Option<tonic::metadata::MetadataValue<_>> = id.parse().ok();
        match result {
            Ok(message) => {
                let mut response = Response::new(message);
                if let Some(id) = id {
                    response.metadata_mut().insert("x-request-id", id);
                }
                Ok(response)
            }
            Err(e) => {
                let mut status = e.grpc_status();
                if let Some(id) = id {
                    status.metadata_mut().insert("x-request-id", id);
                }
                Err(status)
            }
        }
    }

    /// The request's deadline, counted from its arrival (noted by the
    /// interceptor, before its message was read).
    fn deadline<T>(&self, request: &Request<T>) -> Instant {
        let arrival = request
            .extensions()
            .get::<Arrival>()
            .map_or_else(Instant::now, |a| a.0);
        self.shared
            .engine
            .deadline(arrival, client_deadline(request.metadata()))
    }

    /// Compresses `data` with `options` by `deadline`.
    async fn compress_bytes(
        &self,
        data: Bytes,
        options: &std::collections::HashMap<String, String>,
        deadline: Instant,
    ) -> Result<pb::CompressResponse, ServeError> {
        let engine = &self.shared.engine;
        let options = engine.options(options.iter().map(|(k, v)| (k.as_str(), v.as_str())))?;
        let input_bytes = data.len() as u64;
        let done = engine.compress(data, options, deadline).await?;
        Ok(compress_response(done, input_bytes))
    }
}

#[tonic::async_trait]
impl pb::pixpress_server::Pixpress for Service {
    async fn compress(
        &self,
        request: Request<pb::CompressRequest>,
    ) -> Result<Response<pb::CompressResponse>, Status> {
        let deadline = self.deadline(&request);
        let (metadata, _, message) = request.into_parts();
        self.observed("Compress", &metadata, async {
            self.compress_bytes(message.data, &message.options, deadline)
                .await
        })
        .await
    }

    async fn compress_stream(
        &self,
        request: Request<Streaming<pb::CompressRequest>>,
    ) -> Result<Response<pb::CompressResponse>, Status> {
        let deadline = self.deadline(&request);
        let (metadata, _, mut stream) = request.into_parts();
        self.observed("CompressStream", &metadata, async {
            let engine = &self.shared.engine;
            let mut options = None;
            let mut data = Vec::new();
            while let Some(message) = tokio::time::timeout_at(deadline.into(), stream.message())
                .await
                .map_err(|_| ServeError::DeadlineExceeded)?
                .map_err(|status| {
                    if status.code() == tonic::Code::OutOfRange {
                        // One message over tonic's limit (see `oversized_as_limit`).
                        return ServeError::TooLarge {
                            limit: engine.settings.max_request_bytes,
                        };
                    }
                    ServeError::Engine(pixpress::Error::InvalidArgument(format!(
                        "the request stream broke: {}",
                        status.message()
                    )))
                })?
            {
                options.get_or_insert(message.options);
                engine.check_size(data.len() + message.data.len())?;
                data.extend_from_slice(&message.data);
            }
            let options = options.unwrap_or_default();
            self.compress_bytes(Bytes::from(data), &options, deadline)
                .await
        })
        .await
    }

    async fn probe(
        &self,
        request: Request<pb::ProbeRequest>,
    ) -> Result<Response<pb::ProbeResponse>, Status> {
        let (metadata, _, message) = request.into_parts();
        self.observed("Probe", &metadata, async {
            let i = self.shared.engine.probe(&message.data)?;
            Ok(pb::ProbeResponse {
                format: i.format.name().into(),
                width: i.width,
                height: i.height,
                bit_depth: i.bit_depth.into(),
                has_alpha: i.has_alpha,
                orientation: i.orientation.into(),
                frames: i.frames,
                has_exif: i.has_exif,
                has_xmp: i.has_xmp,
                has_icc: i.has_icc,
                has_iptc: i.has_iptc,
            })
        })
        .await
    }

    async fn capabilities(
        &self,
        request: Request<pb::CapabilitiesRequest>,
    ) -> Result<Response<pb::CapabilitiesResponse>, Status> {
        self.observed("Capabilities", request.metadata(), async {
            let c = pixpress::capabilities();
            Ok(pb::CapabilitiesResponse {
                version: pixpress::VERSION.into(),
                decode: format_names(&c.decode)
                    .into_iter()
                    .map(Into::into)
                    .collect(),
                encode: format_names(&c.encode)
                    .into_iter()
                    .map(Into::into)
                    .collect(),
                libraries: c
                    .libraries
                    .into_iter()
                    .map(|l| pb::Library {
                        name: l.name,
                        version: l.version,
                        license: l.license.into(),
                        role: l.role.into(),
                    })
                    .collect(),
            })
        })
        .await
    }
}

/// The response message for a finished compression.
fn compress_response(done: Done, input_bytes: u64) -> pb::CompressResponse {
    let out = done.output;
    let micros = |d: Duration| u64::try_from(d.as_micros()).unwrap_or(u64::MAX);
    pb::CompressResponse {
        format: out.format.name().into(),
        width: out.width,
        height: out.height,
        timings: Some(pb::Timings {
            decode_us: micros(out.timings.decode),
            transform_us: micros(out.timings.transform),
            encode_us: micros(out.timings.encode),
            queue_us: micros(done.queued),
        }),
        metadata: Some(pb::MetadataReport {
            removed: out.metadata.removed,
            moved: out.metadata.moved,
            changed: out.metadata.changed,
        }),
        input_bytes,
        unchanged: out.unchanged,
        score: out.search.map(|s| s.score),
        data: Bytes::from(out.data),
    }
}

/// tonic refuses a message over its size limit with OUT_OF_RANGE before any
/// handler runs; this gives that refusal the status and code every other
/// oversized input gets (RESOURCE_EXHAUSTED, `PXP_ERR_LIMIT_EXCEEDED`).
pub(crate) fn oversized_as_limit<B>(
    mut response: axum::http::Response<B>,
) -> axum::http::Response<B> {
    let headers = response.headers_mut();
    let out_of_range = headers.get("grpc-status").is_some_and(|v| v == "11");
    let too_large = headers
        .get("grpc-message")
        .and_then(|m| m.to_str().ok())
        .is_some_and(|m| m.replace("%20", " ").contains("message length too large"));
    if out_of_range && too_large {
        headers.insert("grpc-status", axum::http::HeaderValue::from_static("8"));
        headers.insert(
            "pxp-error-code",
            axum::http::HeaderValue::from_static(pixpress::ErrorKind::LimitExceeded.code()),
        );
    }
    response
}

/// The client's deadline, from the `grpc-timeout` header (`100m`, `5S`, ...),
/// less a tenth: tonic cancels the call at the client's deadline itself
/// (answering CANCELLED), so the server's own deadline must come first to
/// answer DEADLINE_EXCEEDED with its code.
fn client_deadline(metadata: &tonic::metadata::MetadataMap) -> Option<Duration> {
    grpc_timeout(metadata).map(|t| t - t / 10)
}

/// The `grpc-timeout` header's duration.
fn grpc_timeout(metadata: &tonic::metadata::MetadataMap) -> Option<Duration> {
    let text = metadata.get("grpc-timeout")?.to_str().ok()?;
    let (digits, unit) = text.split_at(text.len().checked_sub(1)?);
    let n: u64 = digits.parse().ok()?;
    Some(match unit {
        "H" => Duration::from_secs(n.saturating_mul(3600)),
        "M" => Duration::from_secs(n.saturating_mul(60)),
        "S" => Duration::from_secs(n),
        "m" => Duration::from_millis(n),
        "u" => Duration::from_micros(n),
        "n" => Duration::from_nanos(n),
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn timeout(text: &str) -> Option<Duration> {
        let mut metadata = tonic::metadata::MetadataMap::new();
        metadata.insert("grpc-timeout", text.parse().unwrap());
        client_deadline(&metadata)
    }

    #[test]
    fn the_servers_deadline_comes_a_tenth_before_the_clients() {
        assert_eq!(timeout("1S"), Some(Duration::from_millis(900)));
        assert_eq!(timeout("100m"), Some(Duration::from_millis(90)));
        assert_eq!(timeout("2M"), Some(Duration::from_secs(108)));
        assert_eq!(timeout("7"), None);
        assert_eq!(timeout("xS"), None);
        assert_eq!(client_deadline(&tonic::metadata::MetadataMap::new()), None);
    }
}
