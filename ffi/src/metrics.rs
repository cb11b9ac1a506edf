//! Process-wide statistics: a snapshot into a caller-sized struct, and the
//! Prometheus text exposition.

use crate::boundary;
use crate::status::pxp_status;
use std::ffi::{c_char, CString};
use std::sync::OnceLock;

/// The stages whose durations are measured, indexing the `stage_*` arrays
/// of pxp_stats.
#[repr(C)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum pxp_stat_stage {
    /// Sniffing, header parsing and decoding.
    PXP_STAT_DECODE = 0,
    /// Orientation, resizing and sample conversion.
    PXP_STAT_TRANSFORM = 1,
    /// Encoding (a target search's trial encodes included).
    PXP_STAT_ENCODE = 2,
    /// A quality or size target search (part of encoding).
    PXP_STAT_SEARCH = 3,
    /// Applying the metadata policy.
    PXP_STAT_METADATA = 4,
    /// Writing a batch session's checkpoint after a task.
    PXP_STAT_CHECKPOINT = 5,
}

/// The name of a measured stage (a pxp_stat_stage value: `"decode"`, ...),
/// as the Prometheus text labels it; a static string, NULL out of range.
#[no_mangle]
pub extern "C" fn pxp_stat_stage_name(stage: u32) -> *const c_char {
    // The core's names, NUL-terminated once for the life of the process.
    static NAMES: OnceLock<Vec<CString>> = OnceLock::new();
    NAMES
        .get_or_init(|| {
            engine::StatStage::ALL
                .iter()
                .filter_map(|s| CString::new(s.name()).ok())
                .collect()
        })
        .get(stage as usize)
        .map_or(std::ptr::null(), |name| name.as_ptr())
}

/// How many stages pxp_stats counts.
pub const PXP_STAT_STAGES: usize = 6;
/// The size of pxp_stats' `errors` array: one slot per pxp_status value.
pub const PXP_STATUS_SLOTS: usize = 16;

/// The process-wide statistics, as pxp_stats_snapshot fills them. The caller
/// sets `struct_size` to `sizeof(pxp_stats)`; fields past it are not written.
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct pxp_stats {
    /// Set by the caller to `sizeof(pxp_stats)`.
    pub struct_size: usize,
    /// Images compressed or encoded successfully.
    pub images: u64,
    /// Encoded input bytes of the successful compress calls.
    pub bytes_in: u64,
    /// Output bytes of the successful calls.
    pub bytes_out: u64,
    /// Failed calls, indexed by their pxp_status value.
    pub errors: [u64; PXP_STATUS_SLOTS],
    /// Compress and encode calls running now.
    pub in_flight: u64,
    /// Runs of each stage, indexed by pxp_stat_stage.
    pub stage_count: [u64; PXP_STAT_STAGES],
    /// Seconds spent in each stage, indexed by pxp_stat_stage.
    pub stage_seconds: [f64; PXP_STAT_STAGES],
    /// The memory budget in bytes (pxp_set_memory_budget); 0 for none.
    pub memory_budget: u64,
    /// Estimated bytes admitted to the calls running now (under a budget).
    pub memory_admitted: u64,
    /// The most bytes ever admitted at once.
    pub memory_admitted_peak: u64,
    /// Calls that waited for the budget.
    pub admission_waits: u64,
    /// Buffer requests served from the pools.
    pub pool_hits: u64,
    /// Buffer requests of a poolable size that allocated.
    pub pool_misses: u64,
    /// Bytes held in the buffer pools now.
    pub pool_held_bytes: u64,
    /// Pooled buffers given back to the allocator after idling.
    pub pool_idle_releases: u64,
}

/// Sets the bound on bytes the buffer pools hold (default 0: off; or the
/// `PIXPRESS_POOL_BYTES` environment variable); 0 turns pooling off. Decoded
/// pixels and metric planes of 64 KiB and more are reused across calls, and
/// buffers unused for 2 s are freed.
#[no_mangle]
pub extern "C" fn pxp_set_buffer_pool_limit(bytes: u64) {
    boundary::value((), || {
        engine::set_buffer_pool_limit(usize::try_from(bytes).unwrap_or(usize::MAX));
    })
}

/// Sets the process-wide memory budget in bytes (0: none, the default).
/// Under a budget, each compress and encode call is admitted by its
/// estimated memory (2.5 times the decoded pixels, plus the input) and waits
/// while admitting it would go over; a call larger than the budget runs
/// alone.
#[no_mangle]
pub extern "C" fn pxp_set_memory_budget(bytes: u64) {
    boundary::value((), || {
        engine::set_memory_budget((bytes > 0).then_some(bytes));
    })
}

/// Fills `*out` with the statistics of every compress and encode call made in
/// this process so far (from any face, batch sessions included).
///
/// # Safety
/// `out` is NULL or points to `out->struct_size` writable bytes.
#[no_mangle]
pub unsafe extern "C" fn pxp_stats_snapshot(out: *mut pxp_stats) -> pxp_status {
    boundary::status(|| {
        // SAFETY: by this export's contract `out` is NULL or a caller's
        // pxp_stats, which begins with its `size_t struct_size`.
        let len = unsafe { boundary::sized_len(out, "out", "pxp_stats") }?;
        let stats = engine::stats();
        let mut full = pxp_stats {
            struct_size: len,
            images: stats.images,
            bytes_in: stats.bytes_in,
            bytes_out: stats.bytes_out,
            errors: [0; PXP_STATUS_SLOTS],
            in_flight: stats.in_flight,
            stage_count: [0; PXP_STAT_STAGES],
            stage_seconds: [0.0; PXP_STAT_STAGES],
            memory_budget: stats.memory_budget.unwrap_or(0),
            memory_admitted: stats.memory_admitted,
            memory_admitted_peak: stats.memory_admitted_peak,
            admission_waits: stats.admission_waits,
            pool_hits: stats.pool.hits,
            pool_misses: stats.pool.misses,
            pool_held_bytes: stats.pool.held_bytes,
            pool_idle_releases: stats.pool.idle_releases,
        };
        for (kind, count) in stats.errors {
            if let Some(slot) = full.errors.get_mut(kind as usize) {
                *slot = count;
            }
        }
        for (k, stage) in stats.stages.iter().take(PXP_STAT_STAGES).enumerate() {
            full.stage_count[k] = stage.count;
            full.stage_seconds[k] = stage.seconds;
        }
        // SAFETY: `out` is non-null (sized_len checked) with `struct_size`
        // writable bytes (contract), and `len` is
        // min(struct_size, size_of::<pxp_stats>()).
        unsafe { boundary::write_prefix(out, &full, len) };
        Ok(())
    })
}

/// The statistics as Prometheus text exposition (version 0.0.4; names prefixed
/// `pixpress_`): a new NUL-terminated string to free with pxp_string_free,
/// or NULL on failure.
#[no_mangle]
pub extern "C" fn pxp_metrics_prometheus() -> *mut c_char {
    boundary::value(std::ptr::null_mut(), || {
        CString::new(engine::metrics_prometheus()).map_or(std::ptr::null_mut(), CString::into_raw)
    })
}

/// Frees a string the library returned as owned (pxp_metrics_prometheus).
/// NULL is ignored.
///
/// # Safety
/// `s` is NULL or a string from pxp_metrics_prometheus, not yet freed.
#[no_mangle]
pub unsafe extern "C" fn pxp_string_free(s: *mut c_char) {
    boundary::value((), || {
        if !s.is_null() {
            // SAFETY: `s` is non-null (checked) and, by this export's contract,
            // a string the library returned as owned (made by
            // `CString::into_raw`), not yet freed and not used afterwards.
            drop(unsafe { CString::from_raw(s) });
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use engine::StatStage;

    #[test]
    fn the_header_stages_are_the_cores() {
        assert_eq!(PXP_STAT_STAGES, StatStage::ALL.len());
        let values = [
            (pxp_stat_stage::PXP_STAT_DECODE, StatStage::Decode),
            (pxp_stat_stage::PXP_STAT_TRANSFORM, StatStage::Transform),
            (pxp_stat_stage::PXP_STAT_ENCODE, StatStage::Encode),
            (pxp_stat_stage::PXP_STAT_SEARCH, StatStage::Search),
            (pxp_stat_stage::PXP_STAT_METADATA, StatStage::Metadata),
            (pxp_stat_stage::PXP_STAT_CHECKPOINT, StatStage::Checkpoint),
        ];
        for (value, stage) in values {
            assert_eq!(StatStage::ALL[value as usize], stage);
            // SAFETY: a non-null result is a static NUL-terminated string.
            let name = unsafe { std::ffi::CStr::from_ptr(pxp_stat_stage_name(value as u32)) };
            assert_eq!(name.to_str().unwrap(), stage.name());
        }
        assert!(pxp_stat_stage_name(PXP_STAT_STAGES as u32).is_null());
    }
}
