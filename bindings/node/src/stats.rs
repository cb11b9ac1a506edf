//! Process-wide statistics ([`Stats`], Prometheus text) and the knobs of
//! the buffer pools and the memory budget.

use napi_derive::napi;
use std::collections::HashMap;

/// Time spent in one stage since the process started.
#[napi(object)]
pub struct StageStats {
    /// How many times the stage ran.
    pub count: f64,
    /// Total seconds spent in it.
    pub seconds: f64,
}

/// Process-wide statistics of every compress and encode call so far.
#[napi(object)]
pub struct Stats {
    /// Images compressed or encoded successfully.
    pub images: f64,
    /// Encoded input bytes of the successful compress calls.
    pub bytes_in: f64,
    /// Output bytes of the successful calls.
    pub bytes_out: f64,
    /// Calls running now.
    pub in_flight: f64,
    /// Failed calls by status name (`PXP_ERR_CORRUPT`, ...).
    pub errors: HashMap<String, f64>,
    /// Per stage (`decode`, `transform`, `encode`, `search`, `metadata`, `checkpoint`).
    pub stages: HashMap<String, StageStats>,
    /// The memory budget in bytes (`setMemoryBudget`), if any.
    pub memory_budget: Option<f64>,
    /// Estimated bytes admitted to the calls running now.
    pub memory_admitted: f64,
    /// The most bytes ever admitted at once.
    pub memory_admitted_peak: f64,
    /// Calls that waited for the budget.
    pub admission_waits: f64,
    /// The buffer pools (`setBufferPoolLimit`).
    pub pool: BufferPoolStats,
}

/// How the buffer pools have been used.
#[napi(object)]
pub struct BufferPoolStats {
    /// Buffer requests served from the pools.
    pub hits: f64,
    /// Buffer requests of a poolable size that allocated.
    pub misses: f64,
    /// Bytes held in the pools now.
    pub held_bytes: f64,
    /// Pooled buffers given back to the allocator after idling.
    pub idle_releases: f64,
    /// The bound on held bytes (0: pooling off).
    pub limit_bytes: f64,
}

/// Sets the bound on bytes the buffer pools hold (default 0: off; or the
/// `PIXPRESS_POOL_BYTES` environment variable); 0 turns pooling off. Decoded
/// pixels and metric planes of 64 KiB and more are reused across calls, and
/// buffers unused for 2 s are freed.
#[napi]
pub fn set_buffer_pool_limit(bytes: f64) {
    engine::set_buffer_pool_limit(bytes.max(0.0) as usize);
}

/// Sets the process-wide memory budget in bytes (`undefined` or 0: none).
/// Under a budget each compression is admitted by its estimated memory (2.5
/// times the decoded pixels, plus the input) and waits on its pool thread
/// while admitting it would go over; one larger than the budget runs alone.
#[napi]
pub fn set_memory_budget(bytes: Option<f64>) {
    engine::set_memory_budget(bytes.filter(|b| *b > 0.0).map(|b| b as u64));
}

/// Reads the process-wide statistics.
#[napi]
pub fn stats() -> Stats {
    let s = engine::stats();
    Stats {
        images: s.images as f64,
        bytes_in: s.bytes_in as f64,
        bytes_out: s.bytes_out as f64,
        in_flight: s.in_flight as f64,
        errors: s
            .errors
            .iter()
            .map(|(kind, n)| (kind.code().to_string(), *n as f64))
            .collect(),
        stages: s
            .stages
            .iter()
            .map(|st| {
                let entry = StageStats {
                    count: st.count as f64,
                    seconds: st.seconds,
                };
                (st.stage.name().to_string(), entry)
            })
            .collect(),
        memory_budget: s.memory_budget.map(|b| b as f64),
        memory_admitted: s.memory_admitted as f64,
        memory_admitted_peak: s.memory_admitted_peak as f64,
        admission_waits: s.admission_waits as f64,
        pool: BufferPoolStats {
            hits: s.pool.hits as f64,
            misses: s.pool.misses as f64,
            held_bytes: s.pool.held_bytes as f64,
            idle_releases: s.pool.idle_releases as f64,
            limit_bytes: s.pool.limit_bytes as f64,
        },
    }
}

/// The statistics as Prometheus text exposition (names prefixed `pixpress_`).
#[napi]
pub fn metrics_prometheus() -> String {
    engine::metrics_prometheus()
}

/// One linked codec library.
#[napi(object)]
pub struct Library {
    /// The library's name (`libheif`, `libwebp`, `mozjpeg`, ...).
    pub name: String,
    /// Its version as it reports it (a Rust crate: as locked; empty when only its name says it).
    pub version: String,
    /// Its license, as an SPDX expression.
    pub license: String,
    /// What pixpress uses it for.
    pub role: String,
}

/// What this build decodes and encodes, and the libraries that do it.
#[napi(object)]
pub struct Capabilities {
    /// Formats this build decodes (`jpeg`, `png`, ...).
    pub decode: Vec<String>,
    /// Formats this build encodes.
    pub encode: Vec<String>,
    /// The codec libraries linked, with versions and licenses.
    pub libraries: Vec<Library>,
}

/// What this build decodes and encodes, probed from the linked libraries
/// (HEIC encoding only with the opt-in x265 build), with each library's
/// version and license.
#[napi]
pub fn capabilities() -> Capabilities {
    let c = engine::capabilities();
    let names = |formats: &[engine::Format]| formats.iter().map(|f| f.name().to_string()).collect();
    Capabilities {
        decode: names(&c.decode),
        encode: names(&c.encode),
        libraries: c
            .libraries
            .into_iter()
            .map(|l| Library {
                name: l.name,
                version: l.version,
                license: l.license.to_string(),
                role: l.role.to_string(),
            })
            .collect(),
    }
}
