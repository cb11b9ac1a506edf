//! The compression unit both protocols share: admission (a worker per
//! compression, a bounded queue, then refusal), the deadline and the client's
//! departure cancelling the work, and the engine's options with the server's
//! limits applied. Each call runs on a blocking thread that holds its worker
//! slot until the engine returns, so a cancelled call still counts until it
//! really stops (the engine stops at its next stage).

use super::config::Settings;
use super::error::ServeError;
use super::metrics::Metrics;
use axum::body::Bytes;
use pixpress::{Compressed, Info, Options};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::sync::Semaphore;

/// The shared state of one server process.
pub(crate) struct Engine {
    /// The settings in force.
    pub(crate) settings: Settings,
    /// Request counters and latencies.
    pub(crate) metrics: Metrics,
    workers: Arc<Semaphore>,
    intake: Arc<Semaphore>,
    queued: AtomicUsize,
    in_flight: AtomicUsize,
    draining: AtomicBool,
}

/// A finished compression and how long it waited for a worker.
pub(crate) struct Done {
    /// What the engine made.
    pub(crate) output: Compressed,
    /// Time spent in the queue.
    pub(crate) queued: Duration,
}

impl Engine {
    /// The engine for `settings`, with its memory budget set.
    pub(crate) fn new(settings: Settings) -> Engine {
        if settings.memory_budget.is_some() {
            pixpress::set_memory_budget(settings.memory_budget);
        }
        Engine {
            workers: Arc::new(Semaphore::new(settings.workers)),
            intake: Arc::new(Semaphore::new(
                settings
                    .workers
                    .saturating_add(settings.queue)
                    .min(Semaphore::MAX_PERMITS),
            )),
            settings,
            metrics: Metrics::default(),
            queued: AtomicUsize::new(0),
            in_flight: AtomicUsize::new(0),
            draining: AtomicBool::new(false),
        }
    }

    /// The engine's options from `pairs`, with the server's caps: a request
    /// may lower `max_pixels`, never raise it, and an `effort` above
    /// `max_effort` gets `max_effort` (an encode stage is not cancelled once
    /// started, so effort is what bounds a worker's time past the deadline).
    pub(crate) fn options<'a>(
        &self,
        pairs: impl IntoIterator<Item = (&'a str, &'a str)>,
    ) -> Result<Options, ServeError> {
        let mut options = Options::from_pairs(pairs)?;
        options.max_pixels = options.max_pixels.min(self.settings.max_pixels);
        options.effort = options.effort.map(|e| e.min(self.settings.max_effort));
        Ok(options)
    }

    /// A place for one HTTP request from its arrival to its answer, taken
    /// before its body is read: at most one per worker and queue place, so
    /// the HTTP bodies being read or waiting stay within `(workers + queue) *
    /// max_request_bytes` (gRPC messages are bounded per connection by its
    /// stream limit instead). Refused (503) when every place is taken.
    pub(crate) fn intake(&self) -> Result<tokio::sync::OwnedSemaphorePermit, ServeError> {
        Arc::clone(&self.intake).try_acquire_owned().map_err(|_| {
            self.metrics.count_refused();
            ServeError::Overloaded {
                retry_after: Duration::from_secs(1),
            }
        })
    }

    /// Refuses a body over the size limit.
    pub(crate) fn check_size(&self, len: usize) -> Result<(), ServeError> {
        if len > self.settings.max_request_bytes {
            return Err(ServeError::TooLarge {
                limit: self.settings.max_request_bytes,
            });
        }
        Ok(())
    }

    /// The deadline of a request that arrived at `arrival`, sooner if the client asked.
    pub(crate) fn deadline(&self, arrival: Instant, client: Option<Duration>) -> Instant {
        let budget = client.map_or(self.settings.deadline, |c| c.min(self.settings.deadline));
        let now = arrival;
        // A deadline past what `Instant` holds is no deadline: a day will do.
        now.checked_add(budget)
            .unwrap_or_else(|| now + Duration::from_secs(86_400))
    }

    /// Compresses `input` once a worker is free, by `deadline`. Dropping the
    /// returned future (the client left) cancels the work.
    pub(crate) async fn compress(
        self: &Arc<Self>,
        input: Bytes,
        options: Options,
        deadline: Instant,
    ) -> Result<Done, ServeError> {
        self.check_size(input.len())?;
        let arrived = Instant::now();
        let permit = match Arc::clone(&self.workers).try_acquire_owned() {
            Ok(permit) => permit,
            Err(_) => self.wait_for_worker(deadline).await?,
        };
        let queued = arrived.elapsed();
        let cancelled = Arc::new(AtomicBool::new(false));
        let _cancel_on_drop = CancelOnDrop(Arc::clone(&cancelled));
        let engine = Arc::clone(self);
        let flag = Arc::clone(&cancelled);
        let work = tokio::task::spawn_blocking(move || {
            let _permit = permit;
            engine.in_flight.fetch_add(1, Ordering::SeqCst);
            let _done = Defer(|| {
                engine.in_flight.fetch_sub(1, Ordering::SeqCst);
            });
            let result = pixpress::compress_with_progress(&input, &options, &mut |_| {
                !flag.load(Ordering::SeqCst) && Instant::now() < deadline
            });
            if matches!(&result, Err(e) if e.kind() == pixpress::ErrorKind::Cancelled) {
                engine.metrics.count_cancelled();
            }
            result
        });
        match tokio::time::timeout_at(deadline.into(), work).await {
            Ok(Ok(result)) => Ok(Done {
                output: result?,
                queued,
            }),
            Ok(Err(join)) => Err(ServeError::Engine(pixpress::Error::Internal(format!(
                "the compression thread failed: {join}"
            )))),
            Err(_) => Err(ServeError::DeadlineExceeded),
        }
    }

    /// Waits in the queue for a worker, or refuses when the queue is full.
    async fn wait_for_worker(
        &self,
        deadline: Instant,
    ) -> Result<tokio::sync::OwnedSemaphorePermit, ServeError> {
        if self.queued.fetch_add(1, Ordering::SeqCst) >= self.settings.queue {
            self.queued.fetch_sub(1, Ordering::SeqCst);
            self.metrics.count_refused();
            return Err(ServeError::Overloaded {
                retry_after: Duration::from_secs(1),
            });
        }
        let _leave_queue = Defer(|| {
            self.queued.fetch_sub(1, Ordering::SeqCst);
        });
        let acquire = Arc::clone(&self.workers).acquire_owned();
        match tokio::time::timeout_at(deadline.into(), acquire).await {
            Ok(Ok(permit)) => Ok(permit),
            // The semaphore is never closed.
            Ok(Err(closed)) => Err(ServeError::Engine(pixpress::Error::Internal(
                closed.to_string(),
            ))),
            Err(_) => Err(ServeError::DeadlineExceeded),
        }
    }

    /// What the headers of `input` say.
    pub(crate) fn probe(&self, input: &[u8]) -> Result<Info, ServeError> {
        self.check_size(input.len())?;
        Ok(pixpress::probe(input)?)
    }

    /// Whether the server is draining.
    pub(crate) fn draining(&self) -> bool {
        self.draining.load(Ordering::SeqCst)
    }

    /// Marks the server as draining: not ready from now on.
    pub(crate) fn start_draining(&self) {
        self.draining.store(true, Ordering::SeqCst);
    }

    /// Whether the server should get new requests: not draining, and the
    /// memory budget (if any) not used to the full. A full queue does not
    /// count: under load every replica's queue fills, and readiness flapping
    /// would only move the load around.
    pub(crate) fn ready(&self) -> Result<(), &'static str> {
        if self.draining.load(Ordering::SeqCst) {
            return Err("draining");
        }
        if let (Some(budget), admitted, _, _) = pixpress::memory_budget() {
            if admitted >= budget {
                return Err("memory budget in use");
            }
        }
        Ok(())
    }

    /// Compressions running now, and requests waiting for a worker.
    pub(crate) fn load(&self) -> (usize, usize) {
        (
            self.in_flight.load(Ordering::SeqCst),
            self.queued.load(Ordering::SeqCst),
        )
    }
}

/// Sets the flag when dropped: the request's future is gone.
struct CancelOnDrop(Arc<AtomicBool>);

impl Drop for CancelOnDrop {
    fn drop(&mut self) {
        self.0.store(true, Ordering::SeqCst);
    }
}

/// Runs a closure when dropped.
struct Defer<F: FnMut()>(F);

impl<F: FnMut()> Drop for Defer<F> {
    fn drop(&mut self) {
        (self.0)()
    }
}
