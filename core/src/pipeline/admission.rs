//! What every compress and encode call runs inside: the fork check, the
//! memory budget's admission, the metrics and the panic boundary.

use super::Compressed;
use crate::codecs;
use crate::error::{catch_panic, Result};
use crate::format::sniff;
use crate::{budget, parallel, telemetry};

/// Runs one compress or encode call: admitted under the memory budget by
/// `estimate`, counted in the metrics with `bytes_in` encoded input bytes,
/// and behind the panic boundary.
pub(crate) fn admitted_and_counted(
    estimate: impl FnOnce() -> u64,
    bytes_in: usize,
    work: impl FnOnce() -> Result<Compressed>,
) -> Result<Compressed> {
    parallel::watch_forks();
    budget::admitted(estimate, || {
        telemetry::observe(
            bytes_in,
            || catch_panic(work),
            |out| (out.data.len(), out.timings),
        )
    })
}

/// The memory a compress of `input` is estimated to need: that of an encode
/// of the pixels its header promises, plus the input. An input whose header
/// does not read is estimated at its own size (its compress fails early).
pub(crate) fn estimate_input(input: &[u8]) -> u64 {
    let decoded = sniff(input)
        .and_then(|format| codecs::probe(format, input))
        .map(|info| {
            let channels = if info.has_alpha { 4 } else { 3 };
            let depth = if info.bit_depth > 8 { 2 } else { 1 };
            u64::from(info.width) * u64::from(info.height) * channels * depth
        })
        .unwrap_or(0);
    budget::estimate_pixels(decoded) + input.len() as u64
}
