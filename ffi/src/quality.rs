//! Quality metrics and the report of a target search.

use crate::boundary::{self, arg_mut, bytes, invalid};
use crate::buffer::pxp_buffer;
use crate::status::pxp_status;
use engine::Metric;

/// A full-reference quality metric. Functions that take one accept it as a `uint32_t`.
#[repr(C)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum pxp_metric {
    /// Peak signal-to-noise ratio over R, G and B in dB (infinite for identical images).
    PXP_METRIC_PSNR = 0,
    /// SSIM of luma, Gaussian window (sigma 1.5); 1.0 is identical.
    PXP_METRIC_SSIM = 1,
    /// SSIMULACRA2: 100 is identical, 90 visually lossless, 80 very high, 70 high, 50 medium.
    PXP_METRIC_SSIMULACRA2 = 2,
}

impl From<Metric> for pxp_metric {
    fn from(metric: Metric) -> Self {
        match metric {
            Metric::Psnr => pxp_metric::PXP_METRIC_PSNR,
            Metric::Ssim => pxp_metric::PXP_METRIC_SSIM,
            Metric::Ssimulacra2 => pxp_metric::PXP_METRIC_SSIMULACRA2,
        }
    }
}

fn metric_from_c(value: u32) -> Option<Metric> {
    Metric::ALL
        .into_iter()
        .find(|m| pxp_metric::from(*m) as u32 == value)
}

/// Scores the image in `distorted` against the one in `reference` (both
/// encoded files of any supported format, compared upright at the same
/// displayed size) with `metric` (a pxp_metric value), into `*score`.
///
/// # Safety
/// `reference` and `distorted` point to their lengths in readable bytes;
/// `score` is NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn pxp_score(
    reference: *const u8,
    reference_len: usize,
    distorted: *const u8,
    distorted_len: usize,
    metric: u32,
    score: *mut f64,
) -> pxp_status {
    boundary::status(|| {
        // SAFETY: by this export's contract `score` is NULL (refused) or a
        // writable, aligned `f64` the caller does not touch during the call.
        let score = unsafe { arg_mut(score, "score") }?;
        // SAFETY: by this export's contract `reference` points to `reference_len` readable bytes
        // (or is NULL with 0) that stay valid and unchanged during the call,
        // the only time the slice is used.
        let reference = unsafe { bytes(reference, reference_len, "reference") }?;
        // SAFETY: by this export's contract `distorted` points to `distorted_len` readable bytes
        // (or is NULL with 0) that stay valid and unchanged during the call,
        // the only time the slice is used.
        let distorted = unsafe { bytes(distorted, distorted_len, "distorted") }?;
        let metric = metric_from_c(metric)
            .ok_or_else(|| invalid(format!("{metric} is not a pxp_metric value")))?;
        *score = engine::score(reference, distorted, metric)?;
        Ok(())
    })
}

/// What a search for the `target` option did. The caller sets `struct_size`
/// to `sizeof(pxp_search_report)`; fields past it are not written.
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct pxp_search_report {
    /// Set by the caller to `sizeof(pxp_search_report)`.
    pub struct_size: usize,
    /// The metric `score` is in (a pxp_metric value): the target's, or
    /// SSIMULACRA2 for a size target.
    pub metric: u32,
    /// The returned file's score against the pixels before encoding.
    pub score: f64,
    /// The returned file's size in bytes.
    pub bytes: usize,
    /// The encoder quality setting chosen; 0 for lossless output.
    pub quality: u32,
    /// Encodes tried in all.
    pub trials: u32,
    /// Of those, encodes of the whole image (the rest ran on a tile mosaic).
    pub full_encodes: u32,
    /// Whether the search ran on a tile mosaic first.
    pub sampled: bool,
    /// Seconds the search took.
    pub seconds: f64,
    /// The score searched for: the target plus the margin that keeps it for
    /// other scorers and decoders (the target's own when the format could
    /// reach no more; the score itself for lossless output and size targets).
    pub aim: f64,
}

/// Fills `*report` with what the target search behind `b` did. Returns
/// false (and leaves `*report` alone) when `b` is NULL or was made without
/// a `target` option, or `report` is NULL or its `struct_size` is not set.
///
/// # Safety
/// `b` is NULL or a live buffer; `report` is NULL or points to
/// `report->struct_size` writable bytes.
#[no_mangle]
pub unsafe extern "C" fn pxp_buffer_search(
    b: *const pxp_buffer,
    report: *mut pxp_search_report,
) -> bool {
    boundary::value(false, || {
        // SAFETY: by this export's contract `b` is NULL (`None`) or a live,
        // immutable buffer.
        let Some(buffer) = (unsafe { b.as_ref() }) else {
            return false;
        };
        let Some(search) = &buffer.compressed.search else {
            return false;
        };
        // SAFETY: by this export's contract `report` is NULL or a caller's
        // pxp_search_report, which begins with its `size_t struct_size`.
        let Ok(len) = (unsafe { boundary::sized_len(report, "report", "pxp_search_report") })
        else {
            return false;
        };
        let full = pxp_search_report {
            struct_size: len,
            metric: pxp_metric::from(search.metric) as u32,
            score: search.score,
            bytes: search.bytes,
            quality: search.quality.map_or(0, u32::from),
            trials: search.trials,
            full_encodes: search.full_encodes,
            sampled: search.sampled,
            seconds: search.time.as_secs_f64(),
            aim: search.aim,
        };
        // SAFETY: `report` is non-null (sized_len checked) with
        // `struct_size` writable bytes (contract), and `len` is
        // min(struct_size, size_of::<pxp_search_report>()).
        unsafe { boundary::write_prefix(report, &full, len) };
        true
    })
}
