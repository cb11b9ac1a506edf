//! Buffer pools: decoded pixels and metric scratch planes are reused across
//! calls instead of going back to the allocator after each image.
//!
//! Buffers of at least [`MIN_POOLED_BYTES`] are kept on shelves by size class
//! (four classes per doubling, so a buffer is at most 25% larger than asked
//! for), one pool per sample type (`u8`, `u16`, `f32`). The pools are bounded:
//! at most [`MAX_PER_CLASS`] buffers per class and [`buffer_pool_limit`] bytes held in
//! all, as [`set_buffer_pool_limit`] or `PIXPRESS_POOL_BYTES` says.
//!
//! Pooling is off by default (a limit of 0): with glibc's allocator it was
//! measured to save no time and to raise peak RSS by the bytes held
//! (BENCHMARKS.md, issue 9), so it is for hosts whose allocator is slow with
//! large blocks, or that want allocation volume down. A buffer unused for [`IDLE_RELEASE`] is
//! given back to the allocator by a background thread that exists only while
//! something is held. Every operation takes one mutex per pool, held for a
//! push or a pop; pixel buffers never cross between sample types.
//!
//! Pixel buffers come back by themselves: dropping [`Samples`] (so any
//! [`Image`](crate::Image)) shelves its buffer. Scratch buffers are [`Scratch`]
//! values, shelved when dropped.

use crate::pixels::Samples;
use std::ops::{Deref, DerefMut};
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Mutex, MutexGuard, OnceLock, PoisonError};
use std::time::{Duration, Instant};

/// Buffers smaller than this are left to the allocator, which serves them well.
pub const MIN_POOLED_BYTES: usize = 64 * 1024;
/// Buffers kept per size class and sample type.
pub const MAX_PER_CLASS: usize = 4;
/// A held buffer unused for this long is released.
pub const IDLE_RELEASE: Duration = Duration::from_secs(2);
/// The bound on held bytes unless set otherwise.
const DEFAULT_LIMIT: usize = 0;
/// log2 of [`MIN_POOLED_BYTES`].
const MIN_LOG2: u32 = MIN_POOLED_BYTES.trailing_zeros();
/// Size classes per doubling.
const CLASSES_PER_OCTAVE: usize = 4;
/// Classes from 64 KiB up to 2^56 bytes.
const CLASSES: usize = (56 - MIN_LOG2 as usize) * CLASSES_PER_OCTAVE;

/// How the pools have been used since the process started.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct BufferPoolStats {
    /// Requests served from a shelf.
    pub hits: u64,
    /// Requests of a poolable size that had to allocate.
    pub misses: u64,
    /// Bytes held on the shelves now.
    pub held_bytes: u64,
    /// Buffers given back to the allocator after [`IDLE_RELEASE`] unused.
    pub idle_releases: u64,
    /// The bound on held bytes (0: pooling off).
    pub limit_bytes: u64,
}

static HITS: AtomicU64 = AtomicU64::new(0);
static MISSES: AtomicU64 = AtomicU64::new(0);
static IDLE_RELEASES: AtomicU64 = AtomicU64::new(0);
static HELD_BYTES: AtomicUsize = AtomicUsize::new(0);
static REAPER_RUNNING: AtomicBool = AtomicBool::new(false);

fn limit_cell() -> &'static AtomicUsize {
    static LIMIT: OnceLock<AtomicUsize> = OnceLock::new();
    LIMIT.get_or_init(|| {
        let from_env = std::env::var("PIXPRESS_POOL_BYTES")
            .ok()
            .and_then(|v| v.trim().parse().ok());
        AtomicUsize::new(from_env.unwrap_or(DEFAULT_LIMIT))
    })
}

/// The bound on bytes the pools hold (0: pooling off).
pub fn buffer_pool_limit() -> usize {
    limit_cell().load(Ordering::Relaxed)
}

/// Sets the bound on bytes the pools hold; 0 turns pooling off. Held buffers
/// over a lower bound are released now.
pub fn set_buffer_pool_limit(bytes: usize) {
    limit_cell().store(bytes, Ordering::Relaxed);
    if HELD_BYTES.load(Ordering::Relaxed) > bytes {
        release_idle(Duration::ZERO);
    }
}

/// Gives every held buffer back to the allocator.
pub fn trim_buffer_pools() {
    release_idle(Duration::ZERO);
}

/// The pools' counters and what they hold now.
pub fn buffer_pool_stats() -> BufferPoolStats {
    BufferPoolStats {
        hits: HITS.load(Ordering::Relaxed),
        misses: MISSES.load(Ordering::Relaxed),
        held_bytes: HELD_BYTES.load(Ordering::Relaxed) as u64,
        idle_releases: IDLE_RELEASES.load(Ordering::Relaxed),
        limit_bytes: buffer_pool_limit() as u64,
    }
}

/// The class whose size is the largest at most `bytes` (`bytes` at least
/// [`MIN_POOLED_BYTES`]), and that size.
fn floor_class(bytes: usize) -> (usize, usize) {
    let log2 = usize::BITS - 1 - bytes.leading_zeros();
    let quarter = (bytes >> (log2 - 2)) & 3;
    let class = (log2 - MIN_LOG2) as usize * CLASSES_PER_OCTAVE + quarter;
    (class, (4 + quarter) << (log2 - 2))
}

/// The class whose size is the smallest at least `bytes`, and that size.
fn ceil_class(bytes: usize) -> (usize, usize) {
    let (class, size) = floor_class(bytes);
    if size == bytes {
        return (class, size);
    }
    let next = class + 1;
    let log2 = MIN_LOG2 as usize + next / CLASSES_PER_OCTAVE;
    (next, (4 + next % CLASSES_PER_OCTAVE) << (log2 - 2))
}

struct Held<T> {
    buffer: Vec<T>,
    since: Instant,
}

/// The shelves of one sample type.
pub(crate) struct Pool<T> {
    shelves: Mutex<Vec<Vec<Held<T>>>>,
}

impl<T: Copy + Default> Pool<T> {
    const fn new() -> Pool<T> {
        Pool {
            shelves: Mutex::new(Vec::new()),
        }
    }

    fn shelves(&self) -> MutexGuard<'_, Vec<Vec<Held<T>>>> {
        // A shelf is a plain list: consistent even if a holder panicked.
        let mut shelves = self.shelves.lock().unwrap_or_else(PoisonError::into_inner);
        if shelves.is_empty() {
            shelves.resize_with(CLASSES, Vec::new);
        }
        shelves
    }

    /// An empty buffer with room for at least `len` samples.
    fn take(&self, len: usize) -> Vec<T> {
        let bytes = len.saturating_mul(size_of::<T>());
        if bytes < MIN_POOLED_BYTES || buffer_pool_limit() == 0 {
            return Vec::with_capacity(len);
        }
        let (class, size) = ceil_class(bytes);
        if class >= CLASSES {
            return Vec::with_capacity(len);
        }
        if let Some(held) = self.shelves()[class].pop() {
            HELD_BYTES.fetch_sub(held.buffer.capacity() * size_of::<T>(), Ordering::Relaxed);
            HITS.fetch_add(1, Ordering::Relaxed);
            return held.buffer;
        }
        MISSES.fetch_add(1, Ordering::Relaxed);
        Vec::with_capacity(size / size_of::<T>())
    }

    /// `len` samples of `T::default()`.
    fn zeroed(&self, len: usize) -> Vec<T> {
        let mut buffer = self.take(len);
        buffer.resize(len, T::default());
        buffer
    }

    /// Shelves `buffer` if it is poolable and there is room; else frees it.
    fn give(&self, mut buffer: Vec<T>) {
        let bytes = buffer.capacity() * size_of::<T>();
        let limit = buffer_pool_limit();
        if bytes < MIN_POOLED_BYTES || limit == 0 {
            return;
        }
        let (class, _) = floor_class(bytes);
        if class >= CLASSES {
            return;
        }
        buffer.clear();
        let mut shelves = self.shelves();
        let shelf = &mut shelves[class];
        if shelf.len() >= MAX_PER_CLASS || HELD_BYTES.load(Ordering::Relaxed) + bytes > limit {
            return;
        }
        HELD_BYTES.fetch_add(bytes, Ordering::Relaxed);
        shelf.push(Held {
            buffer,
            since: Instant::now(),
        });
        drop(shelves);
        start_reaper();
    }

    /// Frees the buffers held at least `idle`; returns how many were freed.
    fn release_idle(&self, idle: Duration) -> u64 {
        let now = Instant::now();
        let mut freed = 0;
        for shelf in self.shelves().iter_mut() {
            shelf.retain(|held| {
                let keep = now.duration_since(held.since) < idle;
                if !keep {
                    HELD_BYTES
                        .fetch_sub(held.buffer.capacity() * size_of::<T>(), Ordering::Relaxed);
                    freed += 1;
                }
                keep
            });
        }
        freed
    }
}

static U8: Pool<u8> = Pool::new();
static U16: Pool<u16> = Pool::new();
static F32: Pool<f32> = Pool::new();

fn release_idle(idle: Duration) -> u64 {
    U8.release_idle(idle) + U16.release_idle(idle) + F32.release_idle(idle)
}

/// Starts the thread that releases idle buffers, unless it runs. It stops
/// once nothing is held.
fn start_reaper() {
    if REAPER_RUNNING.swap(true, Ordering::AcqRel) {
        return;
    }
    let spawned = std::thread::Builder::new()
        .name("pixpress-pool".into())
        .spawn(|| loop {
            std::thread::sleep(IDLE_RELEASE / 2);
            let freed = release_idle(IDLE_RELEASE);
            IDLE_RELEASES.fetch_add(freed, Ordering::Relaxed);
            if HELD_BYTES.load(Ordering::Relaxed) == 0 {
                REAPER_RUNNING.store(false, Ordering::Release);
                // A buffer shelved between the check and the store found the
                // reaper running and did not start one: look again.
                if HELD_BYTES.load(Ordering::Relaxed) == 0
                    || REAPER_RUNNING.swap(true, Ordering::AcqRel)
                {
                    return;
                }
            }
        });
    if spawned.is_err() {
        REAPER_RUNNING.store(false, Ordering::Release);
    }
}

/// A sample type with a pool.
pub(crate) trait Pooled: Copy + Default + 'static {
    /// The pool of this type.
    fn pool() -> &'static Pool<Self>;
}

impl Pooled for u8 {
    fn pool() -> &'static Pool<u8> {
        &U8
    }
}

impl Pooled for u16 {
    fn pool() -> &'static Pool<u16> {
        &U16
    }
}

impl Pooled for f32 {
    fn pool() -> &'static Pool<f32> {
        &F32
    }
}

/// An empty buffer with room for at least `len` samples, from the pool when
/// one is shelved.
pub(crate) fn take<T: Pooled>(len: usize) -> Vec<T> {
    T::pool().take(len)
}

/// `len` zero samples, in a pooled buffer when one is shelved.
pub(crate) fn zeroed<T: Pooled>(len: usize) -> Vec<T> {
    T::pool().zeroed(len)
}

/// Shelves `buffer` for reuse (or frees it when the pool is full or off).
pub(crate) fn give<T: Pooled>(buffer: Vec<T>) {
    T::pool().give(buffer);
}

/// Shelves the buffer of `samples`.
pub(crate) fn give_samples(samples: &mut Samples) {
    match samples {
        Samples::U8(v) => give(std::mem::take(v)),
        Samples::U16(v) => give(std::mem::take(v)),
    }
}

/// A zeroed scratch buffer that goes back to its pool when dropped.
pub(crate) struct Scratch<T: Pooled>(Vec<T>);

impl<T: Pooled> Scratch<T> {
    /// `len` zero samples.
    pub(crate) fn zeroed(len: usize) -> Scratch<T> {
        Scratch(zeroed(len))
    }
}

impl<T: Pooled> Deref for Scratch<T> {
    type Target = [T];
    fn deref(&self) -> &[T] {
        &self.0
    }
}

impl<T: Pooled> DerefMut for Scratch<T> {
    fn deref_mut(&mut self) -> &mut [T] {
        &mut self.0
    }
}

impl<T: Pooled> Drop for Scratch<T> {
    fn drop(&mut self) {
        give(std::mem::take(&mut self.0));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn classes_are_quarter_octaves_that_round_the_right_way() {
        assert_eq!(floor_class(64 * 1024), (0, 64 * 1024));
        assert_eq!(ceil_class(64 * 1024), (0, 64 * 1024));
        assert_eq!(floor_class(80 * 1024), (1, 80 * 1024));
        assert_eq!(floor_class(81 * 1024), (1, 80 * 1024));
        assert_eq!(ceil_class(81 * 1024), (2, 96 * 1024));
        assert_eq!(ceil_class(120 * 1024), (4, 128 * 1024));
        for bytes in [65_537usize, 1 << 20, 17_300_000, 3 << 30] {
            let (c, up) = ceil_class(bytes);
            let (f, down) = floor_class(up);
            assert_eq!((c, up), (f, down));
            assert!(
                up >= bytes && up <= bytes + bytes / 4 + 1,
                "{bytes} -> {up}"
            );
        }
    }

    #[test]
    fn a_given_buffer_serves_the_next_request_of_its_class() {
        set_buffer_pool_limit(64 << 20);
        let pool: Pool<u8> = Pool::new();
        let first = pool.zeroed(1_000_000);
        let address = first.as_ptr();
        assert!(first.capacity() >= 1_000_000);
        pool.give(first);
        let again = pool.zeroed(999_000);
        assert_eq!(again.as_ptr(), address);
        assert!(again.iter().all(|&v| v == 0));
        assert_eq!(pool.release_idle(Duration::ZERO), 0);
        pool.give(again);
        assert_eq!(pool.release_idle(Duration::ZERO), 1);
        set_buffer_pool_limit(0);
        pool.give(pool.zeroed(1_000_000));
        assert_eq!(pool.release_idle(Duration::ZERO), 0, "off: nothing kept");
    }
}
