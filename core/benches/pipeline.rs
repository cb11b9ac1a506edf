//! Pipeline benchmark: median wall time per operation on the corpus photos,
//! single-threaded (run with RAYON_NUM_THREADS=1 for codecs that use rayon).
//!
//! `cargo bench -p pixpress --bench pipeline` prints a Markdown table;
//! `cargo bench -p pixpress --bench pipeline -- rss` prints the peak RSS over
//! 20 JPEG q80 recompressions of the sharp benchmark photo, in a fresh process.

#[path = "common/rss.rs"]
mod rss;

use pixpress::{compress, decode, Options};
use rss::peak_rss_kb;
use std::path::PathBuf;
use std::time::Instant;

fn corpus() -> PathBuf {
    std::env::var_os("PIXPRESS_CORPUS")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../shared/corpus"))
}

fn opts(pairs: &[(&str, &str)]) -> Options {
    Options::from_pairs(pairs.iter().copied()).expect("valid options")
}

/// Median seconds of `runs` calls of `work`, after one warm-up call.
fn median(runs: usize, mut work: impl FnMut() -> usize) -> (f64, usize) {
    let bytes = work();
    let mut times: Vec<f64> = (0..runs)
        .map(|_| {
            let t = Instant::now();
            std::hint::black_box(work());
            t.elapsed().as_secs_f64()
        })
        .collect();
    times.sort_by(|a, b| a.total_cmp(b));
    (times[runs / 2], bytes)
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let sharp_photo = corpus().join("jpeg/flickr_2569067123_aca715a2ee_o.jpg");
    if args.iter().any(|a| a == "rss") {
        let input = std::fs::read(&sharp_photo).expect("corpus photo");
        let o = opts(&[
            ("format", "jpeg"),
            ("quality", "80"),
            ("never_larger", "false"),
        ]);
        for _ in 0..20 {
            std::hint::black_box(compress(&input, &o).expect("compress"));
        }
        println!(
            "peak RSS over 20 JPEG q80 recompressions: {} MB",
            peak_rss_kb() / 1024
        );
        return;
    }
    let photos = [
        "jpeg/flickr_2569067123_aca715a2ee_o.jpg",
        "jpeg/Olympus_E-P3_42_IndexError.jpg",
        "heic/iphone_13_pro_max.HEIC",
    ];
    let jpeg = |q: &str, effort: &str| {
        opts(&[
            ("format", "jpeg"),
            ("quality", q),
            ("effort", effort),
            ("never_larger", "false"),
        ])
    };
    let cases: Vec<(&str, Options, usize)> = vec![
        ("decode", Options::default(), 0),
        (
            "JPEG q80, effort 0 (libjpeg-turbo settings + optimized Huffman)",
            jpeg("80", "0"),
            7,
        ),
        (
            "JPEG q80, effort 0, baseline (progressive=false)",
            {
                let mut o = jpeg("80", "0");
                o.progressive = Some(false);
                o
            },
            7,
        ),
        (
            "JPEG q80, effort 4 (default: + trellis)",
            jpeg("80", "4"),
            7,
        ),
        (
            "JPEG q80, effort 8 (+ scan search, full mozjpeg)",
            jpeg("80", "8"),
            5,
        ),
        (
            "resize 720x588 + JPEG q80 (default effort)",
            opts(&[("format", "jpeg"), ("quality", "80"), ("resize", "720x588")]),
            9,
        ),
        (
            "WebP q80 (method 4)",
            opts(&[("format", "webp"), ("quality", "80")]),
            5,
        ),
        (
            "AVIF q60 speed 6",
            opts(&[("format", "avif"), ("quality", "60")]),
            1,
        ),
        (
            "lossless JPEG optimization",
            opts(&[
                ("format", "jpeg"),
                ("lossless", "true"),
                ("never_larger", "false"),
            ]),
            5,
        ),
    ];
    // `cargo bench --bench pipeline -- only TEXT` runs the rows whose name contains TEXT.
    let only = args
        .iter()
        .position(|a| a == "only")
        .and_then(|i| args.get(i + 1));
    println!("| photo | operation | median ms | output bytes |");
    println!("|---|---|---:|---:|");
    for photo in photos {
        let input = std::fs::read(corpus().join(photo)).expect("corpus photo");
        let heic = photo.starts_with("heic/");
        for (name, o, runs) in &cases {
            if heic && name.starts_with("lossless")
                || only.is_some_and(|t| !name.contains(t.as_str()))
            {
                continue;
            }
            let runs = (*runs).max(3) | 1;
            let (secs, bytes) = if name == &"decode" {
                median(runs, || {
                    decode(&input, o).expect("decode").image.pixel_count()
                })
            } else {
                median(if name.starts_with("AVIF") { 3 } else { runs }, || {
                    compress(&input, o).expect("compress").data.len()
                })
            };
            let shown = if name == &"decode" {
                "-".to_string()
            } else {
                bytes.to_string()
            };
            println!("| {photo} | {name} | {:.1} | {shown} |", secs * 1000.0);
        }
    }
}
