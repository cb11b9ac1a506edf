//! Target-search study: per-image search against exhaustive search and
//! against one fixed mozjpeg quality for the whole set.
//!
//! `cargo bench -p pixpress --bench search` (`make bench-search`) takes the
//! corpus photos (or the files named in `PXP_BENCH_IMAGES`, comma-separated,
//! relative to `PIXPRESS_CORPUS`), and for a SSIMULACRA2 target
//! (`PXP_BENCH_TARGET`, default 80) reports per image:
//! - exhaustive search: every JPEG quality 30-95 encoded and scored; the
//!   smallest file that meets the target;
//! - pixpress's search (`target=ssimulacra2=80`): its bytes against the
//!   exhaustive optimum (target: within 2 percent), its time in plain
//!   encodes at quality 80 (target: at most 3 on 12 MP photos), trials;
//!
//! For the set: total bytes at the single fixed quality that gets every
//! image to the target, against the total of per-image search.
//!
//! Candidates are scored against the decoded, upright pixels; no metadata is
//! written, so bytes are the image data alone.

use pixpress::{Image, Metadata, Metric, Options};
use std::time::Instant;

#[path = "common/photos.rs"]
mod photos;
const QUALITIES: std::ops::RangeInclusive<u8> = 30..=95;

fn options(pairs: &[(&str, &str)]) -> Options {
    // mozjpeg's tables throughout, what a search uses and `cjpeg -quality` writes.
    let mut all = vec![("format", "jpeg"), ("tables", "mozjpeg")];
    all.extend_from_slice(pairs);
    Options::from_pairs(all).expect("valid options")
}

/// Encodes at `quality`, returning bytes, seconds, and the score.
fn trial(image: &Image, quality: u8) -> (usize, f64, f64) {
    let q = quality.to_string();
    let started = Instant::now();
    let out = pixpress::encode_image(
        image.clone(),
        &Metadata::default(),
        &options(&[("quality", &q)]),
    )
    .expect("encode");
    let seconds = started.elapsed().as_secs_f64();
    let decoded = pixpress::decode(&out.data, &Options::default()).expect("decode");
    let score = pixpress::score_images(image, &decoded.image, Metric::Ssimulacra2).expect("score");
    (out.data.len(), seconds, score)
}

fn main() {
    let target: f64 = std::env::var("PXP_BENCH_TARGET")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(80.0);
    let names = photos::names();
    println!("target ssimulacra2 >= {target}; exhaustive = every JPEG quality {QUALITIES:?}");
    println!(
        "| image | MP | exhaustive q | exhaustive bytes | search q | search bytes | vs exhaustive | search time / encode | trials (full) |"
    );
    println!("|---|---|---|---|---|---|---|---|---|");
    let mut tables = Vec::new();
    let mut search_total = 0usize;
    for name in &names {
        let image = photos::load(name, None);
        let table: Vec<(u8, usize, f64, f64)> = QUALITIES
            .map(|q| {
                let (bytes, seconds, score) = trial(&image, q);
                (q, bytes, seconds, score)
            })
            .collect();
        let best = table
            .iter()
            .filter(|t| t.3 >= target)
            .min_by_key(|t| t.1)
            .copied();
        // A plain encode's time: the median of three at quality 80.
        let mut plain: Vec<f64> = (0..3).map(|_| trial(&image, 80).1).collect();
        plain.sort_by(f64::total_cmp);
        let plain = plain[1];
        let goal = format!("ssimulacra2={target}");
        let started = Instant::now();
        let searched = pixpress::encode_image(
            image.clone(),
            &Metadata::default(),
            &options(&[("target", &goal)]),
        );
        let search_time = started.elapsed().as_secs_f64();
        let mp = image.pixel_count() as f64 / 1e6;
        match (best, searched) {
            (Some(best), Ok(out)) => {
                let report = out.search.expect("search report");
                search_total += out.data.len();
                println!(
                    "| {name} | {mp:.1} | {} | {} | {} | {} | {:+.2}% | {:.2} | {} ({}) |",
                    best.0,
                    best.1,
                    report.quality.unwrap_or(0),
                    out.data.len(),
                    (out.data.len() as f64 / best.1 as f64 - 1.0) * 100.0,
                    search_time / plain,
                    report.trials,
                    report.full_encodes,
                );
            }
            (best, searched) => println!(
                "| {name} | {mp:.1} | {:?} | | {:?} | | | | |",
                best.map(|b| b.0),
                searched.err()
            ),
        }
        tables.push(table);
    }
    // The one quality that gets every image to the target.
    let fixed = QUALITIES.clone().find(|&q| {
        tables
            .iter()
            .all(|t| t.iter().any(|row| row.0 == q && row.3 >= target))
    });
    match fixed {
        Some(q) => {
            let total: usize = tables
                .iter()
                .map(|t| t.iter().find(|row| row.0 == q).expect("quality in table").1)
                .sum();
            println!(
                "\nfixed quality {q} (the lowest that meets the target on every image): {total} bytes; per-image search: {search_total} bytes ({:+.1}%)",
                (search_total as f64 / total as f64 - 1.0) * 100.0
            );
        }
        None => println!("\nno single quality in {QUALITIES:?} meets the target on every image"),
    }
}
