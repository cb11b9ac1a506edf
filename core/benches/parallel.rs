//! Work on one large image split over threads (issue 9): a 24-megapixel
//! photo (the 12 MP Olympus corpus photo upscaled, stored as JPEG q92,
//! sequential as cameras write it, and progressive)
//! compressed to JPEG q80, with and without a resize to half width, on a
//! rayon pool of 1 thread and of 2, run alternately. Reports the median of
//! 9 runs of each, the stage times of the median run, the speedup both as
//! the ratio of the medians and as the median of the 9 side-by-side ratios,
//! and the share of CPU time the hypervisor took for other guests meanwhile
//! (steal, from /proc/stat), which slows the 2-thread runs most.
//!
//! Then the peak RSS of one JPEG q80 recompression of that photo, in a fresh
//! process per pool size, against the bound of 2.5x the decoded RGB.
//!
//! `make bench-parallel` (or `cargo bench -p pixpress --bench parallel`).

#[path = "common/photos.rs"]
#[allow(dead_code)]
mod photos;
#[path = "common/rss.rs"]
mod rss;

use pixpress::{Compressed, Metadata, Options};
use std::time::Instant;

const RUNS: usize = 9;

/// The 24 MP input: the Olympus photo upscaled to 5657x4243 and stored as
/// JPEG q92, sequential as cameras write it, or progressive.
fn input(progressive: bool) -> Vec<u8> {
    let photo = photos::load("jpeg/Olympus_E-P3_42_IndexError.jpg", None);
    let big = pixpress::resize(&photo, 5657, 4243).expect("resize");
    let mut options = Options::default();
    options.set("format", "jpeg").unwrap();
    options.set("quality", "92").unwrap();
    options
        .set("progressive", &progressive.to_string())
        .unwrap();
    pixpress::encode_image(big, &Metadata::default(), &options)
        .expect("encode")
        .data
}

/// What [`median_runs`] measured: for each pool, the median run's seconds
/// and output; the median of the runs' side-by-side ratios (1-thread seconds
/// over the 2-thread seconds run next); the steal meanwhile, in percent.
struct Medians {
    runs: [(f64, Compressed); 2],
    paired_speedup: f64,
    steal_percent: f64,
}

/// Runs `compress` on pools of 1 and of 2 threads, alternately (so that the
/// machine's drift falls on both alike), [`RUNS`] times each.
fn median_runs(input: &[u8], options: &Options) -> Medians {
    let pools = [1, 2].map(|threads| {
        rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .build()
            .expect("pool")
    });
    let ticks_before = cpu_ticks();
    let mut runs: [Vec<(f64, Compressed)>; 2] = [Vec::new(), Vec::new()];
    for _ in 0..RUNS {
        for (pool, runs) in pools.iter().zip(runs.iter_mut()) {
            runs.push(pool.install(|| {
                let started = Instant::now();
                let out = pixpress::compress(input, options).expect("compress");
                (started.elapsed().as_secs_f64(), out)
            }));
        }
    }
    let ticks_after = cpu_ticks();
    let mut ratios: Vec<f64> = runs[0]
        .iter()
        .zip(&runs[1])
        .map(|(one, two)| one.0 / two.0)
        .collect();
    ratios.sort_by(f64::total_cmp);
    let (steal, total) = (
        ticks_after.0 - ticks_before.0,
        ticks_after.1 - ticks_before.1,
    );
    Medians {
        runs: runs.map(|mut runs| {
            runs.sort_by(|a, b| a.0.total_cmp(&b.0));
            runs.swap_remove(RUNS / 2)
        }),
        paired_speedup: ratios[RUNS / 2],
        steal_percent: 100.0 * steal as f64 / total.max(1) as f64,
    }
}

/// CPU time stolen by the hypervisor, and all CPU time, so far, in clock
/// ticks over every CPU (the `cpu` line of /proc/stat); zeros without it.
fn cpu_ticks() -> (u64, u64) {
    let stat = std::fs::read_to_string("/proc/stat").unwrap_or_default();
    // user nice system idle iowait irq softirq steal (guest time is in user).
    let ticks: Vec<u64> = stat
        .lines()
        .next()
        .unwrap_or_default()
        .split_whitespace()
        .skip(1)
        .take(8)
        .filter_map(|t| t.parse().ok())
        .collect();
    (ticks.get(7).copied().unwrap_or(0), ticks.iter().sum())
}

/// In a child process: one JPEG q80 recompression of the file `path` on a
/// pool of `threads`, then the peak RSS in KiB on stdout.
fn measure_rss(path: &str, threads: usize) {
    let input = std::fs::read(path).expect("input");
    let mut options = Options::default();
    options.set("format", "jpeg").unwrap();
    options.set("quality", "80").unwrap();
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .build()
        .expect("pool");
    pool.install(|| std::hint::black_box(pixpress::compress(&input, &options).expect("compress")));
    println!("{}", rss::peak_rss_kb());
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    if let Some(at) = args.iter().position(|a| a == "rss") {
        measure_rss(&args[at + 1], args[at + 2].parse().expect("threads"));
        return;
    }
    let progressive_input = input(true);
    let input = input(false);
    let info = pixpress::probe(&input).expect("probe");
    println!(
        "input: {}x{} JPEG q92, sequential {} bytes, progressive {} bytes; median of {RUNS}\n",
        info.width,
        info.height,
        input.len(),
        progressive_input.len()
    );
    println!(
        "| input | operation | threads | seconds | decode | transform | encode | output bytes | speedup | paired | steal |"
    );
    println!("|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
    for (kind, input) in [("sequential", &input), ("progressive", &progressive_input)] {
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
            let medians = median_runs(input, &options);
            let one = medians.runs[0].0;
            for (threads, (seconds, out)) in [1, 2].into_iter().zip(medians.runs) {
                let t = out.timings;
                let (paired, steal) = match threads {
                    1 => ("1.00x".to_string(), String::new()),
                    _ => (
                        format!("{:.2}x", medians.paired_speedup),
                        format!("{:.1}%", medians.steal_percent),
                    ),
                };
                println!(
                    "| {kind} | {name} | {threads} | {seconds:.3} | {:.3} | {:.3} | {:.3} | {} | {:.2}x | {paired} | {steal} |",
                    t.decode.as_secs_f64(),
                    t.transform.as_secs_f64(),
                    t.encode.as_secs_f64(),
                    out.data.len(),
                    one / seconds
                );
            }
        }
    }

    let path = std::env::temp_dir().join(format!("pxp-bench-parallel-{}.jpg", std::process::id()));
    std::fs::write(&path, &input).expect("write input");
    let decoded_mb = f64::from(info.width) * f64::from(info.height) * 3.0 / (1 << 20) as f64;
    println!("\n| peak RSS, one JPEG q80 recompression | threads | MiB | x decoded RGB ({decoded_mb:.0} MiB) | target |");
    println!("|---|---:|---:|---:|---:|");
    for threads in [1, 2] {
        let out = std::process::Command::new(std::env::current_exe().expect("this bench"))
            .args([
                "rss",
                path.to_str().expect("a UTF-8 temp path"),
                &threads.to_string(),
            ])
            .output()
            .expect("child");
        let kb: f64 = String::from_utf8_lossy(&out.stdout)
            .trim()
            .parse()
            .expect("peak RSS");
        let mb = kb / 1024.0;
        println!(
            "| {}x{} JPEG q92 -> q80 | {threads} | {mb:.0} | {:.2}x | 2.5x |",
            info.width,
            info.height,
            mb / decoded_mb
        );
    }
    let _ = std::fs::remove_file(&path);
}
