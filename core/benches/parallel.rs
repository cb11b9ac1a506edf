//! Work on one large image split over threads (issue 9): a 24-megapixel
//! photo (the 12 MP Olympus corpus photo upscaled, stored as JPEG q92)
//! compressed to JPEG q80, with and without a resize to half width, on a
//! rayon pool of 1 thread and of 2, side by side. Reports the median of 5
//! runs of each and the stage times of the median run.
//!
//! `make bench-parallel` (or `cargo bench -p pixpress --bench parallel`).

#[path = "common/photos.rs"]
#[allow(dead_code)]
mod photos;

use pixpress::{Compressed, Metadata, Options};
use std::time::Instant;

const RUNS: usize = 5;

/// The 24 MP input: the Olympus photo upscaled to 5657x4243 and stored as JPEG q92.
fn input() -> Vec<u8> {
    let photo = photos::load("jpeg/Olympus_E-P3_42_IndexError.jpg", None);
    let big = pixpress::resize(&photo, 5657, 4243).expect("resize");
    let mut options = Options::default();
    options.set("format", "jpeg").unwrap();
    options.set("quality", "92").unwrap();
    pixpress::encode_image(big, &Metadata::default(), &options)
        .expect("encode")
        .data
}

fn median_run(input: &[u8], options: &Options, threads: usize) -> (f64, Compressed) {
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .build()
        .expect("pool");
    let mut runs: Vec<(f64, Compressed)> = (0..RUNS)
        .map(|_| {
            pool.install(|| {
                let started = Instant::now();
                let out = pixpress::compress(input, options).expect("compress");
                (started.elapsed().as_secs_f64(), out)
            })
        })
        .collect();
    runs.sort_by(|a, b| a.0.total_cmp(&b.0));
    runs.swap_remove(RUNS / 2)
}

fn main() {
    let input = input();
    let info = pixpress::probe(&input).expect("probe");
    println!(
        "input: {}x{} JPEG q92, {} bytes; median of {RUNS}\n",
        info.width,
        info.height,
        input.len()
    );
    println!(
        "| operation | threads | seconds | decode | transform | encode | output bytes | speedup |"
    );
    println!("|---|---:|---:|---:|---:|---:|---:|---:|");
    for (name, resize) in [
        ("resize to 2828 wide + JPEG q80", Some("2828x")),
        ("JPEG q80, full size", None),
    ] {
        let mut options = Options::default();
        options.set("format", "jpeg").unwrap();
        options.set("quality", "80").unwrap();
        if let Some(resize) = resize {
            options.set("resize", resize).unwrap();
        }
        let mut one = 0.0;
        for threads in [1, 2] {
            let (seconds, out) = median_run(&input, &options, threads);
            if threads == 1 {
                one = seconds;
            }
            let t = out.timings;
            println!(
                "| {name} | {threads} | {seconds:.3} | {:.3} | {:.3} | {:.3} | {} | {:.2}x |",
                t.decode.as_secs_f64(),
                t.transform.as_secs_f64(),
                t.encode.as_secs_f64(),
                out.data.len(),
                one / seconds
            );
        }
    }
}
