//! `pixpress serve`: the engine as a stateless compression unit, over gRPC
//! (tonic) and HTTP (axum) in one process, for Kubernetes and friends.
//!
//! Both protocols share one [`work::Engine`]: a worker per compression, a
//! bounded queue, a deadline that cancels the work, the memory budget. On
//! SIGTERM or SIGINT the server turns not-ready (`/readyz`, gRPC health),
//! waits `shutdown_delay` for load balancers to notice, stops accepting,
//! and gives in-flight requests `drain_timeout` to finish.

mod auth;
mod config;
mod error;
mod grpc;
mod http;
mod metrics;
mod work;

use auth::Auth;
pub(crate) use config::ServeArgs;
use config::{LogFormat, Settings};
use pixpress::Error;
use std::process::ExitCode;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use tokio::sync::watch;
use work::Engine;

/// What every request handler shares.
pub(crate) struct Shared {
    /// The compression unit.
    engine: Arc<Engine>,
    /// The credentials accepted.
    auth: Auth,
}

/// Runs the server until SIGTERM or SIGINT, then drains it.
pub(crate) fn run(args: ServeArgs) -> Result<ExitCode, Error> {
    let settings = Settings::resolve(args)?;
    init_log(settings.log);
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .max_blocking_threads(settings.workers + 4)
        .build()
        .map_err(|e| Error::Internal(format!("the server runtime: {e}")))?;
    let result = runtime.block_on(serve(settings));
    // Compressions still running after the drain timeout stop at their next
    // stage; the process does not wait for them.
    runtime.shutdown_timeout(std::time::Duration::from_millis(100));
    result
}

async fn serve(settings: Settings) -> Result<ExitCode, Error> {
    let shared = Arc::new(Shared {
        auth: Auth::new(settings.tokens.clone(), settings.signing_keys.clone()),
        engine: Arc::new(Engine::new(settings.clone())),
    });
    let (stop_tx, stop_rx) = watch::channel(false);
    let stopped = |mut rx: watch::Receiver<bool>| async move {
        let _ = rx.wait_for(|stop| *stop).await;
    };
    let mut servers = tokio::task::JoinSet::new();
    let (health, health_service) = tonic_health::server::health_reporter();
    if let Some(addr) = settings.http_addr {
        let listener = tokio::net::TcpListener::bind(addr)
            .await
            .map_err(|e| bind_error(addr, e))?;
        let app = http::router(Arc::clone(&shared));
        let rx = stop_rx.clone();
        tracing::info!(address = %listener.local_addr().unwrap_or(addr), "HTTP listening");
        servers.spawn(async move {
            axum::serve(listener, app)
                .with_graceful_shutdown(stopped(rx))
                .await
                .map_err(|e| format!("HTTP: {e}"))
        });
    }
    if let Some(addr) = settings.grpc_addr {
        let listener = tokio::net::TcpListener::bind(addr)
            .await
            .map_err(|e| bind_error(addr, e))?;
        let bound = listener.local_addr().unwrap_or(addr);
        let incoming = tonic::transport::server::TcpIncoming::from(listener);
        health
            .set_serving::<grpc::pb::pixpress_server::PixpressServer<grpc::Service>>()
            .await;
        let reflection = tonic_reflection::server::Builder::configure()
            .register_encoded_file_descriptor_set(grpc::DESCRIPTOR_SET)
            .register_encoded_file_descriptor_set(tonic_health::pb::FILE_DESCRIPTOR_SET)
            .build_v1()
            .map_err(|e| Error::Internal(format!("gRPC reflection: {e}")))?;
        // grpcurl and most tools speak v1; grpcio's own client still v1alpha.
        let reflection_v1alpha = tonic_reflection::server::Builder::configure()
            .register_encoded_file_descriptor_set(grpc::DESCRIPTOR_SET)
            .register_encoded_file_descriptor_set(tonic_health::pb::FILE_DESCRIPTOR_SET)
            .build_v1alpha()
            .map_err(|e| Error::Internal(format!("gRPC reflection: {e}")))?;
        let streams = u32::try_from(settings.workers + settings.queue).unwrap_or(u32::MAX);
        let router = tonic::transport::Server::builder()
            // Per connection: a caller cannot open more calls than places.
            .max_concurrent_streams(Some(streams))
            // A backstop: no call outlives the deadline, whatever it waits on.
            .timeout(settings.deadline)
            .layer(tower::util::MapResponseLayer::new(grpc::oversized_as_limit))
            .add_service(health_service)
            .add_service(reflection)
            .add_service(reflection_v1alpha)
            .add_service(grpc::Service::server(Arc::clone(&shared)));
        let rx = stop_rx.clone();
        tracing::info!(address = %bound, "gRPC listening");
        servers.spawn(async move {
            router
                .serve_with_incoming_shutdown(incoming, stopped(rx))
                .await
                .map_err(|e| format!("gRPC: {e}"))
        });
    }
    let settings = &shared.engine.settings;
    tokio::select! {
        () = termination() => {}
        Some(ended) = servers.join_next() => {
            // A listener ended without being asked: report it and stop the rest.
            let why = match ended {
                Ok(Ok(())) => "a listener stopped".to_string(),
                Ok(Err(e)) => e,
                Err(e) => e.to_string(),
            };
            tracing::error!(error = %why, "server failed");
            return Err(Error::Internal(why));
        }
    }
    tracing::info!(
        delay_s = settings.shutdown_delay.as_secs_f64(),
        "draining: not ready"
    );
    shared.engine.start_draining();
    health
        .set_not_serving::<grpc::pb::pixpress_server::PixpressServer<grpc::Service>>()
        .await;
    // The server as a whole (service ""), which most probes ask about.
    health
        .set_service_status("", tonic_health::ServingStatus::NotServing)
        .await;
    tokio::time::sleep(settings.shutdown_delay).await;
    let _ = stop_tx.send(true);
    let drained = tokio::time::timeout(settings.drain_timeout, async {
        while servers.join_next().await.is_some() {}
    })
    .await;
    let (in_flight, queued) = shared.engine.load();
    match drained {
        Ok(()) => tracing::info!("drained; exiting"),
        Err(_) => tracing::warn!(in_flight, queued, "drain timeout passed; exiting"),
    }
    Ok(ExitCode::SUCCESS)
}

/// Resolves on SIGTERM or SIGINT.
async fn termination() {
    use tokio::signal::unix::{signal, SignalKind};
    match (
        signal(SignalKind::terminate()),
        signal(SignalKind::interrupt()),
    ) {
        (Ok(mut term), Ok(mut int)) => {
            tokio::select! {
                _ = term.recv() => {}
                _ = int.recv() => {}
            }
        }
        // Without signal handlers the server runs until killed.
        _ => std::future::pending().await,
    }
}

fn bind_error(addr: std::net::SocketAddr, source: std::io::Error) -> Error {
    Error::Io {
        path: format!("listen address {addr}"),
        source,
    }
}

/// The request log on stderr, in the configured form.
fn init_log(format: LogFormat) {
    let builder = tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_target(false);
    let _ = match format {
        LogFormat::Json => builder.json().flatten_event(true).try_init(),
        LogFormat::Text => builder.try_init(),
        LogFormat::Off => Ok(()),
    };
}

/// Counts and logs a request whose client left before its answer (its
/// future was dropped): status 499 over HTTP, as nginx names it, and
/// `Cancelled` over gRPC. [`Departure::answered`] disarms it. `started` is
/// the request's arrival; `armed` is true until the answer.
struct Departure<'a> {
    armed: bool,
    shared: &'a Shared,
    protocol: &'static str,
    route: String,
    status: &'static str,
    started: std::time::Instant,
    span: tracing::Span,
}

impl Departure<'_> {
    /// The request was answered: nothing to record here.
    fn answered(mut self) {
        self.armed = false;
    }
}

impl Drop for Departure<'_> {
    fn drop(&mut self) {
        if !self.armed {
            return;
        }
        let took = self.started.elapsed();
        self.shared
            .engine
            .metrics
            .observe(self.protocol, &self.route, self.status, took);
        self.span.in_scope(|| {
            tracing::info!(
                status = self.status,
                duration_ms = took.as_secs_f64() * 1e3,
                "client left"
            )
        });
    }
}

/// The request's id: the client's (`x-request-id`, when it is a short run of
/// visible ASCII), else a new one unique within this process and run.
fn request_id(given: Option<&str>) -> String {
    static NEXT: AtomicU64 = AtomicU64::new(0);
    if let Some(id) = given {
        if !id.is_empty() && id.len() <= 128 && id.bytes().all(|b| b.is_ascii_graphic()) {
            return id.to_string();
        }
    }
    let start = *PROCESS_TAG;
    format!("{start:08x}-{:08x}", NEXT.fetch_add(1, Ordering::Relaxed))
}

/// A tag of this process (its id and start time), so ids from replicas differ.
static PROCESS_TAG: std::sync::LazyLock<u32> = std::sync::LazyLock::new(|| {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos());
    let hash = blake3::hash(format!("{}:{now}", std::process::id()).as_bytes());
    u32::from_le_bytes(hash.as_bytes()[..4].try_into().expect("4 bytes"))
});
