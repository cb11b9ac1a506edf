//! The server's settings: flags, then environment variables, then an optional
//! TOML file (`--config`), then defaults. Every setting has all three names:
//! `--max-request-bytes`, `PIXPRESS_MAX_REQUEST_BYTES`, `max_request_bytes`.

use pixpress::Error;
use serde::Deserialize;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

/// `pixpress serve`'s arguments. Each is optional here; [`Settings::resolve`]
/// fills what flags and environment leave open from the file, then defaults.
#[derive(clap::Args, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct ServeArgs {
    /// A TOML file with any of the settings below, named with underscores.
    #[arg(long, env = "PIXPRESS_CONFIG")]
    #[serde(skip)]
    config: Option<PathBuf>,
    /// HTTP listen address, or `off` [default: 127.0.0.1:8080].
    #[arg(long, env = "PIXPRESS_HTTP_ADDR")]
    http_addr: Option<String>,
    /// gRPC listen address, or `off` [default: 127.0.0.1:50051].
    #[arg(long, env = "PIXPRESS_GRPC_ADDR")]
    grpc_addr: Option<String>,
    /// Largest request body (the encoded input), e.g. `64MB` [default: 64MB].
    #[arg(long, env = "PIXPRESS_MAX_REQUEST_BYTES")]
    max_request_bytes: Option<String>,
    /// Largest `width * height` decoded; a request may lower it, not raise it
    /// [default: the engine's, 268 million].
    #[arg(long, env = "PIXPRESS_MAX_PIXELS")]
    max_pixels: Option<u64>,
    /// Highest `effort` a request may ask for (0-10); higher asks get this
    /// one. The engine's per-format default applies when a request names none
    /// [default: 10, no cap].
    #[arg(long, env = "PIXPRESS_MAX_EFFORT")]
    max_effort: Option<u8>,
    /// Seconds a request may take, queueing included; the work is cancelled
    /// when they pass [default: 30].
    #[arg(long, env = "PIXPRESS_DEADLINE")]
    deadline: Option<f64>,
    /// Compressions run at once [default: one per core].
    #[arg(long, env = "PIXPRESS_WORKERS")]
    workers: Option<usize>,
    /// Requests waiting for a worker before more are refused with 503 /
    /// RESOURCE_EXHAUSTED [default: 4 per worker].
    #[arg(long, env = "PIXPRESS_QUEUE")]
    queue: Option<usize>,
    /// Memory the compressions in flight may hold, e.g. `2GB`; readiness is
    /// false while it is in use to the full [default: none].
    #[arg(long, env = "PIXPRESS_MEMORY_BUDGET")]
    memory_budget: Option<String>,
    /// Seconds between SIGTERM (readiness turns false) and closing the
    /// listeners, for load balancers to notice [default: 0].
    #[arg(long, env = "PIXPRESS_SHUTDOWN_DELAY")]
    shutdown_delay: Option<f64>,
    /// Seconds in-flight requests get to finish after the listeners close [default: 30].
    #[arg(long, env = "PIXPRESS_DRAIN_TIMEOUT")]
    drain_timeout: Option<f64>,
    /// `Cache-Control` of HTTP outputs [default: public, max-age=31536000, immutable].
    #[arg(long, env = "PIXPRESS_CACHE_CONTROL")]
    cache_control: Option<String>,
    /// Bearer tokens accepted, comma-separated; none means no token is asked for.
    #[arg(
        long,
        env = "PIXPRESS_TOKENS",
        value_delimiter = ',',
        hide_env_values = true
    )]
    #[serde(default)]
    tokens: Vec<String>,
    /// Keys for HMAC-SHA256 signed URLs, comma-separated; several are accepted
    /// at once, for rotation.
    #[arg(
        long,
        env = "PIXPRESS_SIGNING_KEYS",
        value_delimiter = ',',
        hide_env_values = true
    )]
    #[serde(default)]
    signing_keys: Vec<String>,
    /// Request log on stderr: `json`, `text` or `off` [default: json].
    #[arg(long, env = "PIXPRESS_LOG")]
    log: Option<String>,
}

/// How requests are logged.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum LogFormat {
    /// One JSON object per line.
    Json,
    /// Human-readable lines.
    Text,
    /// Nothing.
    Off,
}

/// The settings in force, every default filled in.
#[derive(Debug, Clone)]
pub(crate) struct Settings {
    /// Where HTTP listens (`None`: off).
    pub(crate) http_addr: Option<SocketAddr>,
    /// Where gRPC listens (`None`: off).
    pub(crate) grpc_addr: Option<SocketAddr>,
    /// Largest encoded input accepted.
    pub(crate) max_request_bytes: usize,
    /// Largest `width * height` decoded.
    pub(crate) max_pixels: u64,
    /// Highest `effort` a request gets.
    pub(crate) max_effort: u8,
    /// Time a request may take.
    pub(crate) deadline: Duration,
    /// Compressions at once.
    pub(crate) workers: usize,
    /// Requests waiting for a worker, at most.
    pub(crate) queue: usize,
    /// The engine's memory budget.
    pub(crate) memory_budget: Option<u64>,
    /// Time between SIGTERM and closing the listeners.
    pub(crate) shutdown_delay: Duration,
    /// Time in-flight work gets after the listeners close.
    pub(crate) drain_timeout: Duration,
    /// `Cache-Control` of HTTP outputs.
    pub(crate) cache_control: String,
    /// Bearer tokens accepted.
    pub(crate) tokens: Vec<String>,
    /// HMAC keys for signed URLs.
    pub(crate) signing_keys: Vec<Vec<u8>>,
    /// The request log's form.
    pub(crate) log: LogFormat,
}

impl Settings {
    /// Flags and environment (in `args`), then the TOML file, then defaults.
    pub(crate) fn resolve(args: ServeArgs) -> Result<Settings, Error> {
        let file = match &args.config {
            Some(path) => {
                let text = std::fs::read_to_string(path).map_err(|source| Error::Io {
                    path: path.display().to_string(),
                    source,
                })?;
                toml::from_str::<ServeArgs>(&text).map_err(|e| {
                    option_error("config", format!("{}: {}", path.display(), e.message()))
                })?
            }
            None => ServeArgs::default(),
        };
        let pick = |flag: Option<String>, from_file: Option<String>| flag.or(from_file);
        let workers = args
            .workers
            .or(file.workers)
            .unwrap_or_else(|| {
                std::thread::available_parallelism().map_or(1, std::num::NonZeroUsize::get)
            })
            .max(1);
        let seconds = |key: &str, value: Option<f64>, default: f64| -> Result<Duration, Error> {
            let s = value.unwrap_or(default);
            Duration::try_from_secs_f64(s)
                .map_err(|_| option_error(key, format!("`{s}` is not a number of seconds")))
        };
        let settings = Settings {
            http_addr: address(
                "http_addr",
                pick(args.http_addr, file.http_addr),
                "127.0.0.1:8080",
            )?,
            grpc_addr: address(
                "grpc_addr",
                pick(args.grpc_addr, file.grpc_addr),
                "127.0.0.1:50051",
            )?,
            max_request_bytes: byte_size(
                "max_request_bytes",
                pick(args.max_request_bytes, file.max_request_bytes),
            )?
            .unwrap_or(64 << 20)
            .try_into()
            .unwrap_or(usize::MAX),
            max_pixels: args
                .max_pixels
                .or(file.max_pixels)
                .unwrap_or(pixpress::Options::default().max_pixels),
            max_effort: match args.max_effort.or(file.max_effort) {
                Some(e) if e > 10 => {
                    return Err(option_error("max_effort", format!("`{e}` is not 0-10")))
                }
                e => e.unwrap_or(10),
            },
            deadline: seconds("deadline", args.deadline.or(file.deadline), 30.0)?,
            workers,
            queue: args.queue.or(file.queue).unwrap_or(4 * workers),
            memory_budget: byte_size(
                "memory_budget",
                pick(args.memory_budget, file.memory_budget),
            )?,
            shutdown_delay: seconds(
                "shutdown_delay",
                args.shutdown_delay.or(file.shutdown_delay),
                0.0,
            )?,
            drain_timeout: seconds(
                "drain_timeout",
                args.drain_timeout.or(file.drain_timeout),
                30.0,
            )?,
            cache_control: pick(args.cache_control, file.cache_control)
                .unwrap_or_else(|| "public, max-age=31536000, immutable".into()),
            tokens: non_empty(if args.tokens.is_empty() {
                file.tokens
            } else {
                args.tokens
            }),
            signing_keys: non_empty(if args.signing_keys.is_empty() {
                file.signing_keys
            } else {
                args.signing_keys
            })
            .into_iter()
            .map(String::into_bytes)
            .collect(),
            log: match pick(args.log, file.log).as_deref() {
                None | Some("json") => LogFormat::Json,
                Some("text") => LogFormat::Text,
                Some("off") => LogFormat::Off,
                Some(other) => {
                    return Err(option_error(
                        "log",
                        format!("`{other}` is not json, text or off"),
                    ))
                }
            },
        };
        if !settings.signing_keys.is_empty()
            && settings.tokens.is_empty()
            && settings.grpc_addr.is_some()
        {
            // Signed URLs are HTTP's; gRPC would refuse every call.
            return Err(option_error(
                "signing_keys",
                "gRPC accepts bearer tokens only: set tokens too, or grpc_addr = off",
            ));
        }
        if settings.http_addr.is_none() && settings.grpc_addr.is_none() {
            return Err(option_error("http_addr", "both listeners are off"));
        }
        Ok(settings)
    }
}

/// A listen address, `off` for none.
fn address(key: &str, value: Option<String>, default: &str) -> Result<Option<SocketAddr>, Error> {
    let text = value.unwrap_or_else(|| default.into());
    if text == "off" {
        return Ok(None);
    }
    text.parse().map(Some).map_err(|_| {
        option_error(
            key,
            format!("`{text}` is not an address like 127.0.0.1:8080 or off"),
        )
    })
}

/// A byte size in the engine's notation (`64MB`, `1.5GiB`, `1000000`).
fn byte_size(key: &str, value: Option<String>) -> Result<Option<u64>, Error> {
    value
        .map(|text| pixpress::parse_byte_size(&text).map_err(|e| option_error(key, e.to_string())))
        .transpose()
}

/// The entries that are not empty (a trailing comma names no token).
fn non_empty(values: Vec<String>) -> Vec<String> {
    values
        .into_iter()
        .map(|v| v.trim().to_string())
        .filter(|v| !v.is_empty())
        .collect()
}

/// The engine's error for a bad setting, named as in the TOML file.
fn option_error(key: &str, reason: impl Into<String>) -> Error {
    Error::InvalidOption {
        key: key.to_string(),
        reason: reason.into(),
    }
}
