//! Allocations per operation in steady state (issue 9), counted by a global
//! allocator that wraps the system one: how many heap allocations each
//! compress makes, how many bytes they ask for, and how many of those are
//! large (1 MiB or more: pixel and scratch buffers, what a buffer pool would
//! reuse). Each operation runs 3 times to warm up, then 10 times counted;
//! the table gives the mean per operation, with the buffer pools off
//! (`set_buffer_pool_limit(0)`, the default) and on (64 MiB).
//!
//! `make bench-alloc` (or `cargo bench -p pixpress --bench alloc`).
//! Allocations made by C libraries (mozjpeg, libwebp, libaom) through
//! `malloc` are not seen; those through Rust's allocator are.

use pixpress::Options;
use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicU64, Ordering};

/// Allocations of at least this many bytes count as large.
const LARGE: usize = 1 << 20;

struct Counting;

static COUNT: AtomicU64 = AtomicU64::new(0);
static BYTES: AtomicU64 = AtomicU64::new(0);
static LARGE_COUNT: AtomicU64 = AtomicU64::new(0);
static LARGE_BYTES: AtomicU64 = AtomicU64::new(0);

fn record(size: usize) {
    COUNT.fetch_add(1, Ordering::Relaxed);
    BYTES.fetch_add(size as u64, Ordering::Relaxed);
    if size >= LARGE {
        LARGE_COUNT.fetch_add(1, Ordering::Relaxed);
        LARGE_BYTES.fetch_add(size as u64, Ordering::Relaxed);
    }
}

// SAFETY: every method forwards its arguments unchanged to `System`, which
// upholds the `GlobalAlloc` contract; `record` only bumps atomics and never
// allocates, so it cannot re-enter the allocator or unwind.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        record(layout.size());
        // SAFETY: the caller of `alloc` guarantees `layout` has non-zero size,
        // which is all `System.alloc` requires.
        unsafe { System.alloc(layout) }
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        record(layout.size());
        // SAFETY: as for `alloc`, the caller guarantees a non-zero-size `layout`.
        unsafe { System.alloc_zeroed(layout) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        record(new_size);
        // SAFETY: the caller guarantees `ptr` came from this allocator with
        // `layout` and `new_size` is valid; this allocator hands out only
        // `System` blocks, so `ptr` is a `System` block with that layout.
        unsafe { System.realloc(ptr, layout, new_size) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: the caller guarantees `ptr` was allocated by this allocator
        // with `layout`, i.e. by `System` (every block here comes from it).
        unsafe { System.dealloc(ptr, layout) }
    }
}

#[global_allocator]
static ALLOCATOR: Counting = Counting;

/// One operation: its name, input and options.
type Case<'a> = (&'a str, &'a [u8], &'a [(&'a str, &'a str)]);

fn counters() -> [u64; 4] {
    [&COUNT, &BYTES, &LARGE_COUNT, &LARGE_BYTES].map(|c| c.load(Ordering::Relaxed))
}

fn main() {
    let corpus = std::env::var("PIXPRESS_CORPUS").unwrap_or_else(|_| "../shared/corpus".into());
    let read = |rel: &str| std::fs::read(format!("{corpus}/{rel}")).expect("corpus file");
    let photo = read("jpeg/flickr_2569067123_aca715a2ee_o.jpg");
    let png = read("png/hopper.png");
    let cases: [Case; 5] = [
        (
            "JPEG recompress q80",
            &photo,
            &[("format", "jpeg"), ("quality", "80")],
        ),
        (
            "JPEG resize 720x588 + q80",
            &photo,
            &[("format", "jpeg"), ("quality", "80"), ("resize", "720x588")],
        ),
        (
            "JPEG to WebP q80",
            &photo,
            &[("format", "webp"), ("quality", "80")],
        ),
        (
            "PNG to JPEG q80",
            &png,
            &[("format", "jpeg"), ("quality", "80")],
        ),
        (
            "JPEG to JPEG, target ssimulacra2=80",
            &photo,
            &[
                ("format", "jpeg"),
                ("target", "ssimulacra2=80"),
                ("resize", "1600x1600"),
            ],
        ),
    ];
    println!("| operation | pools | allocations / op | MiB allocated / op | large (>= 1 MiB) allocations / op | MiB in large / op | pool hits / op |");
    println!("|---|---|---:|---:|---:|---:|---:|");
    for ((name, input, pairs), pools) in cases.iter().flat_map(|case| [(case, false), (case, true)])
    {
        pixpress::set_buffer_pool_limit(if pools { 64 << 20 } else { 0 });
        let options = Options::from_pairs(pairs.iter().copied()).expect("options");
        for _ in 0..3 {
            pixpress::compress(input, &options).expect("compress");
        }
        let runs = 10;
        let before = counters();
        let hits_before = pixpress::buffer_pool_stats().hits;
        for _ in 0..runs {
            pixpress::compress(input, &options).expect("compress");
        }
        let after = counters();
        let hits = (pixpress::buffer_pool_stats().hits - hits_before) as f64 / runs as f64;
        let per = |i: usize| (after[i] - before[i]) as f64 / runs as f64;
        let mib = |v: f64| v / f64::from(1u32 << 20);
        println!(
            "| {name} | {} | {:.0} | {:.1} | {:.1} | {:.1} | {hits:.1} |",
            if pools { "on" } else { "off" },
            per(0),
            mib(per(1)),
            per(2),
            mib(per(3))
        );
    }
}
