//! The server's own metrics, appended to the engine's Prometheus text:
//! requests and their latency per protocol, route and status, requests
//! refused for a full queue, compressions cancelled, and the load now.

use std::collections::BTreeMap;
use std::fmt::Write;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, PoisonError};
use std::time::Duration;

/// One series of request latencies.
#[derive(Default)]
struct Latencies {
    /// Requests at or under each bound of [`pixpress::BUCKET_BOUNDS`].
    buckets: [u64; pixpress::BUCKET_BOUNDS.len()],
    count: u64,
    sum_seconds: f64,
}

/// Counters and histograms, shared by every request.
#[derive(Default)]
pub(crate) struct Metrics {
    /// Keyed by (protocol, route, status).
    requests: Mutex<BTreeMap<(&'static str, String, String), Latencies>>,
    refused: AtomicU64,
    cancelled: AtomicU64,
}

impl Metrics {
    /// Records one finished request.
    pub(crate) fn observe(
        &self,
        protocol: &'static str,
        route: &str,
        status: &str,
        took: Duration,
    ) {
        let mut requests = self.requests.lock().unwrap_or_else(PoisonError::into_inner);
        let series = requests
            .entry((protocol, route.to_string(), status.to_string()))
            .or_default();
        let seconds = took.as_secs_f64();
        for (bucket, bound) in series.buckets.iter_mut().zip(pixpress::BUCKET_BOUNDS) {
            if seconds <= bound {
                *bucket += 1;
            }
        }
        series.count += 1;
        series.sum_seconds += seconds;
    }

    /// Counts a request refused because the queue was full.
    pub(crate) fn count_refused(&self) {
        self.refused.fetch_add(1, Ordering::Relaxed);
    }

    /// Counts a compression stopped by its deadline or its client leaving.
    pub(crate) fn count_cancelled(&self) {
        self.cancelled.fetch_add(1, Ordering::Relaxed);
    }

    /// The engine's metrics, then the server's, in the Prometheus text format.
    pub(crate) fn prometheus(&self, (in_flight, queued): (usize, usize), ready: bool) -> String {
        let mut out = pixpress::metrics_prometheus();
        let requests = self.requests.lock().unwrap_or_else(PoisonError::into_inner);
        let _ = writeln!(
            out,
            "# HELP pixpress_serve_requests_total Requests answered, by protocol, route and status.\n\
             # TYPE pixpress_serve_requests_total counter"
        );
        for ((protocol, route, status), series) in requests.iter() {
            let _ = writeln!(
                out,
                "pixpress_serve_requests_total{{protocol=\"{protocol}\",route=\"{route}\",status=\"{status}\"}} {}",
                series.count
            );
        }
        let _ = writeln!(
            out,
            "# HELP pixpress_serve_request_duration_seconds Time from a request's arrival to its answer.\n\
             # TYPE pixpress_serve_request_duration_seconds histogram"
        );
        for ((protocol, route, status), series) in requests.iter() {
            let labels = format!("protocol=\"{protocol}\",route=\"{route}\",status=\"{status}\"");
            for (count, bound) in series.buckets.iter().zip(pixpress::BUCKET_BOUNDS) {
                let _ = writeln!(
                    out,
                    "pixpress_serve_request_duration_seconds_bucket{{{labels},le=\"{bound}\"}} {count}"
                );
            }
            let _ = writeln!(
                out,
                "pixpress_serve_request_duration_seconds_bucket{{{labels},le=\"+Inf\"}} {}\n\
                 pixpress_serve_request_duration_seconds_sum{{{labels}}} {}\n\
                 pixpress_serve_request_duration_seconds_count{{{labels}}} {}",
                series.count, series.sum_seconds, series.count
            );
        }
        let gauges: [(&str, &str, &str, f64); 5] = [
            (
                "pixpress_serve_refused_total",
                "counter",
                "Requests refused because every worker was busy and the queue full.",
                self.refused.load(Ordering::Relaxed) as f64,
            ),
            (
                "pixpress_serve_cancelled_total",
                "counter",
                "Compressions stopped by their deadline or their client leaving.",
                self.cancelled.load(Ordering::Relaxed) as f64,
            ),
            (
                "pixpress_serve_in_flight",
                "gauge",
                "Compressions running now.",
                in_flight as f64,
            ),
            (
                "pixpress_serve_queued",
                "gauge",
                "Requests waiting for a worker now.",
                queued as f64,
            ),
            (
                "pixpress_serve_ready",
                "gauge",
                "1 while the server takes new work, 0 while draining or full.",
                f64::from(u8::from(ready)),
            ),
        ];
        for (name, kind, help, value) in gauges {
            let _ = writeln!(
                out,
                "# HELP {name} {help}\n# TYPE {name} {kind}\n{name} {value}"
            );
        }
        out
    }
}
