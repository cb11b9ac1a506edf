//! The HTTP face, for curl and CDNs:
//!
//! | route | what |
//! |---|---|
//! | `POST /v1/compress?format=webp&quality=80&resize=800x` | the image as the body; the output as the response body, the report in headers |
//! | `POST /v1/probe` | the image as the body; its header facts as JSON |
//! | `GET /v1/capabilities` | what this build decodes and encodes, as JSON |
//! | `GET /healthz`, `GET /readyz` | alive; ready for new work (not while draining or with the memory budget in use to the full) |
//! | `GET /metrics` | Prometheus text |
//!
//! The query parameters are the engine's options. With `format=auto` and no
//! `formats`, the candidates come from `Accept` when the request has one (JPEG
//! always; WebP and AVIF when named; a wildcard names neither; without
//! `Accept`, the engine's default candidates) and the answer says `Vary: Accept`.
//! The `ETag` is a hash of the input and the options, so a repeated request
//! with `If-None-Match` is answered 304 without compressing.

use super::error::ServeError;
use super::Shared;
use crate::capabilities::capabilities_json;
use crate::info::info_json;
use axum::body::{Body, Bytes};
use axum::extract::{MatchedPath, RawQuery, Request, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use std::sync::Arc;
use std::time::Instant;
use tracing::Instrument;

/// The routes, with request ids, logs and metrics around each.
pub(crate) fn router(shared: Arc<Shared>) -> Router {
    Router::new()
        .route("/v1/compress", post(compress))
        .route("/v1/probe", post(probe))
        .route("/v1/capabilities", get(capabilities))
        .route("/healthz", get(|| async { "ok\n" }))
        .route("/readyz", get(readyz))
        .route("/metrics", get(metrics))
        .route_layer(axum::middleware::from_fn_with_state(
            Arc::clone(&shared),
            observe,
        ))
        .with_state(shared)
}

/// Gives the request an id (its `X-Request-Id`, or a new one), runs it in a
/// span carrying that id, logs its answer and counts it in the metrics.
async fn observe(State(shared): State<Arc<Shared>>, request: Request, next: Next) -> Response {
    let started = Instant::now();
    let route = request.extensions().get::<MatchedPath>().map_or_else(
        || request.uri().path().to_string(),
        |p| p.as_str().to_string(),
    );
    let id = super::request_id(
        request
            .headers()
            .get("x-request-id")
            .and_then(|v| v.to_str().ok()),
    );
    let span = tracing::info_span!("request", request_id = %id, protocol = "http", route = %route);
    let departure = super::Departure {
        armed: true,
        shared: &shared,
        protocol: "http",
        route: route.clone(),
        status: "499",
        started,
        span: span.clone(),
    };
    let mut response = next.run(request).instrument(span.clone()).await;
    departure.answered();
    let status = response.status();
    let took = started.elapsed();
    shared
        .engine
        .metrics
        .observe("http", &route, status.as_str(), took);
    span.in_scope(|| {
        tracing::info!(
            status = status.as_u16(),
            duration_ms = took.as_secs_f64() * 1e3,
            code = response
                .headers()
                .get("x-pixpress-error")
                .and_then(|v| v.to_str().ok()),
            "answered"
        )
    });
    if let Ok(value) = HeaderValue::from_str(&id) {
        response.headers_mut().insert("x-request-id", value);
    }
    if shared.engine.draining() {
        // A keep-alive client must not send its next request to a closing server.
        response
            .headers_mut()
            .insert(header::CONNECTION, HeaderValue::from_static("close"));
    }
    response
}

/// `POST /v1/compress`.
async fn compress(
    State(shared): State<Arc<Shared>>,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
    body: Body,
) -> Result<Response, ServeError> {
    let query = query.unwrap_or_default();
    let (input, deadline, _place) =
        receive(&shared, &headers, "/v1/compress", &query, body).await?;
    let mut pairs: Vec<(String, String)> = form_urlencoded::parse(query.as_bytes())
        .into_owned()
        .filter(|(key, _)| key != "sig" && key != "expires")
        .collect();
    // The engine reads keys case-sensitively and values case-insensitively;
    // the last of a repeated key wins.
    let auto = pairs
        .iter()
        .rev()
        .find(|(k, _)| k == "format")
        .is_some_and(|(_, v)| v.eq_ignore_ascii_case("auto"));
    if auto && !pairs.iter().any(|(k, _)| k == "formats") {
        if let Some(accept) = headers.get(header::ACCEPT).and_then(|v| v.to_str().ok()) {
            pairs.push(("formats".into(), accepted_formats(accept)));
        }
    }
    // Validated before anything is answered, 304 included.
    let options = shared
        .engine
        .options(pairs.iter().map(|(k, v)| (k.as_str(), v.as_str())))?;
    let etag = entity_tag(&input, &options);
    let mut answer_headers = HeaderMap::new();
    answer_headers.insert(header::ETAG, etag.clone());
    if auto {
        answer_headers.insert(header::VARY, HeaderValue::from_static("Accept"));
    }
    if let Ok(value) = HeaderValue::from_str(&shared.engine.settings.cache_control) {
        answer_headers.insert(header::CACHE_CONTROL, value);
    }
    let matches_etag = headers
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|tags| tags.split(',').any(|t| t.trim() == etag || t.trim() == "*"));
    if matches_etag {
        return Ok((StatusCode::NOT_MODIFIED, answer_headers).into_response());
    }
    let input_len = input.len();
    let done = shared.engine.compress(input, options, deadline).await?;
    let out = &done.output;
    let t = &out.timings;
    let mut put = |name: &'static str, value: String| {
        if let Ok(value) = HeaderValue::from_str(&value) {
            answer_headers.insert(name, value);
        }
    };
    put("content-type", out.format.mime_type().to_string());
    put("x-pixpress-format", out.format.name().to_string());
    put("x-pixpress-width", out.width.to_string());
    put("x-pixpress-height", out.height.to_string());
    put("x-pixpress-input-bytes", input_len.to_string());
    put("x-pixpress-unchanged", out.unchanged.to_string());
    if let Some(search) = &out.search {
        put("x-pixpress-score", format!("{:.3}", search.score));
    }
    for (name, fields) in [
        ("x-pixpress-metadata-removed", &out.metadata.removed),
        ("x-pixpress-metadata-moved", &out.metadata.moved),
        ("x-pixpress-metadata-changed", &out.metadata.changed),
    ] {
        if !fields.is_empty() {
            put(name, fields.join(", "));
        }
    }
    let ms = |d: std::time::Duration| d.as_secs_f64() * 1e3;
    put(
        "server-timing",
        format!(
            "queue;dur={:.2}, decode;dur={:.2}, transform;dur={:.2}, encode;dur={:.2}",
            ms(done.queued),
            ms(t.decode),
            ms(t.transform),
            ms(t.encode)
        ),
    );
    let data = Bytes::from(done.output.data);
    Ok((StatusCode::OK, answer_headers, data).into_response())
}

/// `POST /v1/probe`.
async fn probe(
    State(shared): State<Arc<Shared>>,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
    body: Body,
) -> Result<Response, ServeError> {
    let query = query.unwrap_or_default();
    let (input, _, _place) = receive(&shared, &headers, "/v1/probe", &query, body).await?;
    let info = shared.engine.probe(&input)?;
    Ok(Json(info_json(&info)).into_response())
}

/// `GET /v1/capabilities`.
async fn capabilities() -> Response {
    Json(capabilities_json(&pixpress::capabilities())).into_response()
}

/// `GET /readyz`: 200 while new work is welcome, else 503 saying why.
async fn readyz(State(shared): State<Arc<Shared>>) -> Response {
    match shared.engine.ready() {
        Ok(()) => (StatusCode::OK, "ready\n").into_response(),
        Err(why) => (
            StatusCode::SERVICE_UNAVAILABLE,
            format!("not ready: {why}\n"),
        )
            .into_response(),
    }
}

/// `GET /metrics`.
async fn metrics(State(shared): State<Arc<Shared>>) -> Response {
    let engine = &shared.engine;
    let text = engine
        .metrics
        .prometheus(engine.load(), engine.ready().is_ok());
    ([(header::CONTENT_TYPE, "text/plain; version=0.0.4")], text).into_response()
}

/// What every POST route does before its own work: refuses a request
/// without an accepted token or signature, or whose declared length is over
/// the limit; takes one of the places (see [`Engine::intake`]); reads the
/// body by the request's deadline. Returns the body, the deadline and the
/// place, held until the answer.
///
/// [`Engine::intake`]: super::work::Engine::intake
async fn receive(
    shared: &Shared,
    headers: &HeaderMap,
    path: &str,
    query: &str,
    body: Body,
) -> Result<(Bytes, Instant, tokio::sync::OwnedSemaphorePermit), ServeError> {
    let authorization = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok());
    shared
        .auth
        .http(authorization, "POST", path, query)
        .map_err(ServeError::Unauthenticated)?;
    let deadline = shared.engine.deadline(Instant::now(), None);
    check_declared_length(shared, headers)?;
    let place = shared.engine.intake()?;
    let input = read_body(shared, body, deadline).await?;
    Ok((input, deadline, place))
}

/// Refuses a body whose declared length is over the limit, before any of it
/// is read (and before it waits for a place).
fn check_declared_length(shared: &Shared, headers: &HeaderMap) -> Result<(), ServeError> {
    let limit = shared.engine.settings.max_request_bytes;
    let declared = headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|n| n > limit as u64) {
        return Err(ServeError::TooLarge { limit });
    }
    Ok(())
}

/// The whole body by `deadline`, refused when it turns out to be over the limit.
async fn read_body(shared: &Shared, body: Body, deadline: Instant) -> Result<Bytes, ServeError> {
    let limit = shared.engine.settings.max_request_bytes;
    let read = tokio::time::timeout_at(deadline.into(), axum::body::to_bytes(body, limit));
    match read.await {
        Ok(Ok(bytes)) => Ok(bytes),
        Ok(Err(e)) => {
            let cause = e.into_inner();
            if cause.is::<http_body_util::LengthLimitError>() {
                Err(ServeError::TooLarge { limit })
            } else {
                Err(ServeError::Engine(pixpress::Error::InvalidArgument(
                    format!("the request body could not be read: {cause}"),
                )))
            }
        }
        Err(_) => Err(ServeError::DeadlineExceeded),
    }
}

/// The `formats` an `Accept` header allows: JPEG always, WebP and AVIF when
/// the client names them (`image/*` and `*/*` do not say a browser decodes them).
fn accepted_formats(accept: &str) -> String {
    let named = |mime: &str| {
        accept.split(',').any(|part| {
            let mut fields = part.split(';');
            let type_matches = fields
                .next()
                .is_some_and(|t| t.trim().eq_ignore_ascii_case(mime));
            let refused =
                fields.any(|f| matches!(f.trim(), "q=0" | "q=0.0" | "q=0.00" | "q=0.000"));
            type_matches && !refused
        })
    };
    let mut formats = vec!["jpeg"];
    for (mime, name) in [("image/webp", "webp"), ("image/avif", "avif")] {
        if named(mime) {
            formats.push(name);
        }
    }
    formats.join(",")
}

/// A strong entity tag from the input and the options as the engine parsed
/// them (after negotiation and the server's caps), so spellings that mean the
/// same (repeated keys, aliases such as `effort` and `webp_method`) share a
/// tag and outputs that differ never do.
fn entity_tag(input: &[u8], options: &pixpress::Options) -> HeaderValue {
    let mut hasher = blake3::Hasher::new();
    hasher.update(pixpress::VERSION.as_bytes());
    let parsed = format!("{options:?}");
    hasher.update(&(parsed.len() as u64).to_le_bytes());
    hasher.update(parsed.as_bytes());
    hasher.update(input);
    let hex = hasher.finalize().to_hex();
    HeaderValue::from_str(&format!("\"{}\"", &hex[..32])).expect("hex is a valid header value")
}
