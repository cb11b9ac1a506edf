//! The memory budget: with [`set_memory_budget`], compress and encode calls
//! are admitted by the memory they are estimated to need, and wait (in
//! arrival order of wake-ups, not strictly FIFO) while admitting them would
//! go over the budget. A call that alone needs more than the budget runs when
//! nothing else is admitted, so nothing waits forever.
//!
//! Without a budget (the default) calls are neither estimated nor counted.
//! The estimate is the measured peak of a JPEG recompression: 2.5 times the
//! decoded RGB(A) size from the header, plus the input (BENCHMARKS.md, issue 9).

use std::sync::{Condvar, Mutex, MutexGuard, PoisonError};

/// Peak memory of a call, in units of its decoded pixel bytes (tenths).
const PEAK_PER_DECODED_BYTE_TENTHS: u64 = 25;

#[derive(Default)]
struct State {
    /// The budget in bytes; `None` admits everything at once.
    limit: Option<u64>,
    /// Bytes admitted to the calls running now.
    admitted: u64,
    /// The most ever admitted at once.
    peak: u64,
    /// Calls admitted now.
    running: u64,
    /// Calls that had to wait.
    waits: u64,
}

static STATE: Mutex<State> = Mutex::new(State {
    limit: None,
    admitted: 0,
    peak: 0,
    running: 0,
    waits: 0,
});
static RELEASED: Condvar = Condvar::new();

fn state() -> MutexGuard<'static, State> {
    // The state stays consistent under a panic (plain counters).
    STATE.lock().unwrap_or_else(PoisonError::into_inner)
}

/// Sets the process-wide memory budget in bytes (`None`: no budget). Calls
/// already admitted are not affected; waiting calls are re-examined.
pub fn set_memory_budget(bytes: Option<u64>) {
    state().limit = bytes;
    RELEASED.notify_all();
}

/// The budget and how it is used: `(budget, admitted now, most admitted at
/// once, calls that waited)`, in bytes and counts.
pub fn memory_budget() -> (Option<u64>, u64, u64, u64) {
    let s = state();
    (s.limit, s.admitted, s.peak, s.waits)
}

/// The memory an encode of `pixel_bytes` of pixels (or a compress of an input
/// that decodes to them) is estimated to need.
pub(crate) fn estimate_pixels(pixel_bytes: u64) -> u64 {
    pixel_bytes * PEAK_PER_DECODED_BYTE_TENTHS / 10
}

thread_local! {
    /// How many admissions the calling thread holds (calls nested in admitted work).
    static HELD_HERE: std::cell::Cell<u32> = const { std::cell::Cell::new(0) };
}

/// Runs `work` on a thread that counts as holding what the thread that made
/// `held` (with [`held_here`]) holds: work it does on that thread's behalf
/// (a metadata interceptor) is admitted as nested.
pub(crate) fn holding<T>(held: u32, work: impl FnOnce() -> T) -> T {
    HELD_HERE.with(|h| h.set(h.get() + held));
    let result = work();
    HELD_HERE.with(|h| h.set(h.get() - held));
    result
}

/// How many admissions the calling thread holds.
pub(crate) fn held_here() -> u32 {
    HELD_HERE.with(|h| h.get())
}

/// Runs `work` once the bytes `estimate` gives fit in the budget, holding
/// them until it returns. Without a budget nothing is estimated or held.
pub(crate) fn admitted<T>(estimate: impl FnOnce() -> u64, work: impl FnOnce() -> T) -> T {
    if state().limit.is_none() {
        return work();
    }
    let estimate = estimate();
    // A call made from inside admitted work on the same thread (a metadata
    // interceptor that compresses) is admitted at once: waiting for the
    // budget its own caller holds would wait forever.
    let nested = HELD_HERE.with(|held| held.get() > 0);
    {
        let mut s = state();
        let mut waited = false;
        while let Some(limit) = s.limit {
            if nested || s.running == 0 || s.admitted + estimate <= limit {
                break;
            }
            waited = true;
            s = RELEASED.wait(s).unwrap_or_else(PoisonError::into_inner);
        }
        s.waits += u64::from(waited);
        s.admitted += estimate;
        s.running += 1;
        s.peak = s.peak.max(s.admitted);
    }
    struct Release(u64);
    impl Drop for Release {
        fn drop(&mut self) {
            HELD_HERE.with(|held| held.set(held.get() - 1));
            let mut s = state();
            s.admitted -= self.0;
            s.running -= 1;
            drop(s);
            RELEASED.notify_all();
        }
    }
    HELD_HERE.with(|held| held.set(held.get() + 1));
    let _release = Release(estimate);
    work()
}
