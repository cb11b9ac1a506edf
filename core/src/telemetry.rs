//! Process-wide statistics: how many images went through, bytes in and out,
//! errors by kind, time spent per stage, and the work in flight, kept in
//! atomics (a few relaxed increments per operation) and readable at any time
//! as a [`Stats`] snapshot or as Prometheus text ([`metrics_prometheus`]).
//!
//! Every compress and encode call of the library counts, from every face and
//! from batch sessions; `decode`, `probe` and `score` do not.

use crate::error::{ErrorKind, Result};
use crate::progress::Timings;
use std::fmt::Write;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

/// A stage whose durations are measured.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum StatStage {
    /// Sniffing, header parsing and decoding.
    Decode,
    /// Orientation, resizing and sample conversion.
    Transform,
    /// Encoding (including a target search's trial encodes).
    Encode,
    /// A quality or size target search (part of `Encode`).
    Search,
    /// Applying the metadata policy for the output.
    Metadata,
    /// Writing a batch session's checkpoint after a task.
    Checkpoint,
}

impl StatStage {
    /// Every stage, in the order reports list them.
    pub const ALL: [StatStage; 6] = [
        StatStage::Decode,
        StatStage::Transform,
        StatStage::Encode,
        StatStage::Search,
        StatStage::Metadata,
        StatStage::Checkpoint,
    ];

    /// The stage's name as reports give it: `decode`, `transform`, ...
    pub fn name(self) -> &'static str {
        match self {
            StatStage::Decode => "decode",
            StatStage::Transform => "transform",
            StatStage::Encode => "encode",
            StatStage::Search => "search",
            StatStage::Metadata => "metadata",
            StatStage::Checkpoint => "checkpoint",
        }
    }
}

/// Upper bounds of the duration histogram's buckets, in seconds (the last
/// bucket, `+Inf`, is implied).
pub const BUCKET_BOUNDS: [f64; 14] = [
    0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
];

struct Histogram {
    /// Non-cumulative counts per bucket; the last is above every bound.
    buckets: [AtomicU64; BUCKET_BOUNDS.len() + 1],
    sum_nanos: AtomicU64,
    count: AtomicU64,
}

impl Histogram {
    const fn new() -> Histogram {
        Histogram {
            buckets: [const { AtomicU64::new(0) }; BUCKET_BOUNDS.len() + 1],
            sum_nanos: AtomicU64::new(0),
            count: AtomicU64::new(0),
        }
    }

    fn observe(&self, duration: Duration) {
        let seconds = duration.as_secs_f64();
        let bucket = BUCKET_BOUNDS
            .iter()
            .position(|&bound| seconds <= bound)
            .unwrap_or(BUCKET_BOUNDS.len());
        self.buckets[bucket].fetch_add(1, Ordering::Relaxed);
        self.sum_nanos.fetch_add(
            u64::try_from(duration.as_nanos()).unwrap_or(u64::MAX),
            Ordering::Relaxed,
        );
        self.count.fetch_add(1, Ordering::Relaxed);
    }

    fn snapshot(&self, stage: StatStage) -> StageStats {
        let mut cumulative = 0;
        let buckets = self
            .buckets
            .iter()
            .map(|b| {
                cumulative += b.load(Ordering::Relaxed);
                cumulative
            })
            .collect();
        StageStats {
            stage,
            count: self.count.load(Ordering::Relaxed),
            seconds: self.sum_nanos.load(Ordering::Relaxed) as f64 / 1e9,
            buckets,
        }
    }
}

struct Registry {
    images: AtomicU64,
    bytes_in: AtomicU64,
    bytes_out: AtomicU64,
    errors: [AtomicU64; ErrorKind::ALL.len()],
    in_flight: AtomicU64,
    stages: [Histogram; StatStage::ALL.len()],
}

static REGISTRY: Registry = Registry {
    images: AtomicU64::new(0),
    bytes_in: AtomicU64::new(0),
    bytes_out: AtomicU64::new(0),
    errors: [const { AtomicU64::new(0) }; ErrorKind::ALL.len()],
    in_flight: AtomicU64::new(0),
    stages: [const { Histogram::new() }; StatStage::ALL.len()],
};

/// Time spent in one stage since the process started.
#[derive(Debug, Clone, PartialEq)]
pub struct StageStats {
    /// The stage.
    pub stage: StatStage,
    /// How many times it ran.
    pub count: u64,
    /// Total seconds spent in it.
    pub seconds: f64,
    /// Cumulative counts: entry `i` counts runs of at most
    /// `BUCKET_BOUNDS[i]` seconds; the last entry counts all runs.
    pub buckets: Vec<u64>,
}

/// A snapshot of the process-wide statistics.
#[derive(Debug, Clone, PartialEq)]
pub struct Stats {
    /// Images compressed or encoded successfully.
    pub images: u64,
    /// Encoded input bytes of the successful compress calls.
    pub bytes_in: u64,
    /// Output bytes of the successful calls.
    pub bytes_out: u64,
    /// Failed calls by kind, for every kind (zero included).
    pub errors: Vec<(ErrorKind, u64)>,
    /// Calls running now.
    pub in_flight: u64,
    /// Per-stage timings, for every stage in [`StatStage::ALL`] order.
    pub stages: Vec<StageStats>,
    /// The memory budget in bytes ([`crate::set_memory_budget`]), if any.
    pub memory_budget: Option<u64>,
    /// Estimated bytes admitted to the calls running now.
    pub memory_admitted: u64,
    /// The most bytes ever admitted at once.
    pub memory_admitted_peak: u64,
    /// Calls that waited for the budget.
    pub admission_waits: u64,
    /// The buffer pools ([`crate::set_buffer_pool_limit`]): hits, misses and bytes held.
    pub pool: crate::BufferPoolStats,
}

/// Reads the process-wide statistics.
pub fn stats() -> Stats {
    let r = &REGISTRY;
    let (memory_budget, memory_admitted, memory_admitted_peak, admission_waits) =
        crate::budget::memory_budget();
    Stats {
        memory_budget,
        memory_admitted,
        memory_admitted_peak,
        admission_waits,
        pool: crate::buffer_pool::buffer_pool_stats(),
        images: r.images.load(Ordering::Relaxed),
        bytes_in: r.bytes_in.load(Ordering::Relaxed),
        bytes_out: r.bytes_out.load(Ordering::Relaxed),
        errors: ErrorKind::ALL
            .iter()
            .zip(&r.errors)
            .map(|(kind, n)| (*kind, n.load(Ordering::Relaxed)))
            .collect(),
        in_flight: r.in_flight.load(Ordering::Relaxed),
        stages: StatStage::ALL
            .iter()
            .zip(&r.stages)
            .map(|(stage, h)| h.snapshot(*stage))
            .collect(),
    }
}

/// Adds one run of `stage` lasting `duration`.
pub(crate) fn record_stage(stage: StatStage, duration: Duration) {
    // `ALL` lists the stages in declaration order, so the discriminant indexes it.
    REGISTRY.stages[stage as usize].observe(duration);
}

/// Runs one compress or encode call, counting it: in flight while it runs,
/// then the bytes and stage times `outcome` reads from its result, or its
/// error kind.
pub(crate) fn observe<T>(
    bytes_in: usize,
    work: impl FnOnce() -> Result<T>,
    outcome: impl FnOnce(&T) -> (usize, Timings),
) -> Result<T> {
    let _span = tracing::debug_span!("pixpress.compress", bytes_in).entered();
    REGISTRY.in_flight.fetch_add(1, Ordering::Relaxed);
    let result = work();
    REGISTRY.in_flight.fetch_sub(1, Ordering::Relaxed);
    match &result {
        Ok(out) => {
            let (bytes_out, t) = outcome(out);
            REGISTRY.images.fetch_add(1, Ordering::Relaxed);
            REGISTRY
                .bytes_in
                .fetch_add(bytes_in as u64, Ordering::Relaxed);
            REGISTRY
                .bytes_out
                .fetch_add(bytes_out as u64, Ordering::Relaxed);
            if !t.decode.is_zero() {
                record_stage(StatStage::Decode, t.decode);
            }
            record_stage(StatStage::Transform, t.transform);
            record_stage(StatStage::Encode, t.encode);
        }
        Err(e) => {
            let index = ErrorKind::ALL
                .iter()
                .position(|k| *k == e.kind())
                .expect("every kind is listed");
            REGISTRY.errors[index].fetch_add(1, Ordering::Relaxed);
        }
    }
    result
}

/// The statistics in the Prometheus text exposition format (version 0.0.4):
/// names prefixed `pixpress_`, units in the names, counters ending `_total`.
pub fn metrics_prometheus() -> String {
    let s = stats();
    let mut out = String::new();
    write_family(
        &mut out,
        "pixpress_images_total",
        "counter",
        "Images compressed or encoded successfully.",
        &[(String::new(), s.images as f64)],
    );
    write_family(
        &mut out,
        "pixpress_input_bytes_total",
        "counter",
        "Encoded input bytes of successful compress calls.",
        &[(String::new(), s.bytes_in as f64)],
    );
    write_family(
        &mut out,
        "pixpress_output_bytes_total",
        "counter",
        "Output bytes of successful calls.",
        &[(String::new(), s.bytes_out as f64)],
    );
    let errors: Vec<(String, f64)> = s
        .errors
        .iter()
        .map(|(kind, n)| (format!("kind=\"{}\"", kind.code()), *n as f64))
        .collect();
    write_family(
        &mut out,
        "pixpress_errors_total",
        "counter",
        "Failed calls by error kind (the C status name).",
        &errors,
    );
    write_family(
        &mut out,
        "pixpress_operations_in_flight",
        "gauge",
        "Compress and encode calls running now.",
        &[(String::new(), s.in_flight as f64)],
    );
    write_family(
        &mut out,
        "pixpress_memory_budget_bytes",
        "gauge",
        "The memory budget calls are admitted under (0: none).",
        &[(String::new(), s.memory_budget.unwrap_or(0) as f64)],
    );
    write_family(
        &mut out,
        "pixpress_memory_admitted_bytes",
        "gauge",
        "Estimated memory admitted to the calls running now.",
        &[(String::new(), s.memory_admitted as f64)],
    );
    write_family(
        &mut out,
        "pixpress_admission_waits_total",
        "counter",
        "Calls that waited for the memory budget.",
        &[(String::new(), s.admission_waits as f64)],
    );
    write_family(
        &mut out,
        "pixpress_pool_hits_total",
        "counter",
        "Buffer requests served from the pools.",
        &[(String::new(), s.pool.hits as f64)],
    );
    write_family(
        &mut out,
        "pixpress_pool_misses_total",
        "counter",
        "Buffer requests of a poolable size that allocated.",
        &[(String::new(), s.pool.misses as f64)],
    );
    write_family(
        &mut out,
        "pixpress_pool_held_bytes",
        "gauge",
        "Bytes held in the buffer pools for reuse.",
        &[(String::new(), s.pool.held_bytes as f64)],
    );
    write_family(
        &mut out,
        "pixpress_pool_idle_releases_total",
        "counter",
        "Pooled buffers given back to the allocator after idling.",
        &[(String::new(), s.pool.idle_releases as f64)],
    );
    let name = "pixpress_stage_duration_seconds";
    let _ = writeln!(
        out,
        "# HELP {name} Time spent per stage.\n# TYPE {name} histogram"
    );
    for stage in &s.stages {
        let label = format!("stage=\"{}\"", stage.stage.name());
        for (bound, count) in BUCKET_BOUNDS.iter().zip(&stage.buckets) {
            let _ = writeln!(out, "{name}_bucket{{{label},le=\"{bound}\"}} {count}");
        }
        let all = stage.buckets.last().copied().unwrap_or(0);
        let _ = writeln!(out, "{name}_bucket{{{label},le=\"+Inf\"}} {all}");
        let _ = writeln!(out, "{name}_sum{{{label}}} {}", stage.seconds);
        let _ = writeln!(out, "{name}_count{{{label}}} {}", stage.count);
    }
    out
}

/// Writes one metric family: its HELP and TYPE lines and a sample per
/// `(labels, value)`, labels given as `key="value"` text (empty for none).
fn write_family(out: &mut String, name: &str, kind: &str, help: &str, samples: &[(String, f64)]) {
    let _ = writeln!(out, "# HELP {name} {help}\n# TYPE {name} {kind}");
    for (labels, value) in samples {
        if labels.is_empty() {
            let _ = writeln!(out, "{name} {value}");
        } else {
            let _ = writeln!(out, "{name}{{{labels}}} {value}");
        }
    }
}
