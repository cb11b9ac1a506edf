//! Multi-parameter search study: bytes and cost of searching encoder
//! parameters besides quality, for a SSIMULACRA2 target.
//!
//! `cargo bench -p pixpress --bench multisearch` (`make bench-multisearch`)
//! takes the corpus photos (or `PXP_BENCH_IMAGES`) fitted into
//! `PXP_BENCH_BOX` (default 1024x1024, so every search runs on the full
//! image), target `PXP_BENCH_TARGET` (default 80), and for JPEG and WebP:
//! - quality only: the `target` option alone;
//! - coordinate descent: `tune=all` (what pixpress ships);
//! - exhaustive grid: every combination of the tuned values, each with its
//!   own quality search, the smallest kept;
//! - WebP only, finite-difference gradient descent on `sns` (0-100, the one
//!   near-continuous parameter besides quality): central differences of
//!   bytes-at-target, a step against the slope, halved when it does not help.
//!
//! Reported per image: bytes against quality-only, and encodes tried.

#[path = "common/photos.rs"]
mod photos;

use pixpress::{Format, Image, Metadata, Options, TuneParam};
use std::time::Instant;

/// One target search: bytes, encodes tried, seconds.
fn search(image: &Image, pairs: &[(&str, String)]) -> Option<(usize, u32, f64)> {
    let options =
        Options::from_pairs(pairs.iter().map(|(k, v)| (*k, v.as_str()))).expect("options");
    let started = Instant::now();
    let out = pixpress::encode_image(image.clone(), &Metadata::default(), &options).ok()?;
    let report = out.search.expect("a search");
    Some((
        out.data.len(),
        report.trials,
        started.elapsed().as_secs_f64(),
    ))
}

/// Every combination of the tuned values for `format`.
fn grid(format: Format) -> Vec<Vec<(&'static str, String)>> {
    let mut combos: Vec<Vec<(&'static str, String)>> = vec![Vec::new()];
    for param in TuneParam::ALL {
        let values = param.values(format);
        if values.is_empty() {
            continue;
        }
        combos = combos
            .into_iter()
            .flat_map(|combo| {
                values.iter().map(move |v| {
                    let mut next = combo.clone();
                    next.push((param.key(), v.to_string()));
                    next
                })
            })
            .collect();
    }
    combos
}

fn main() {
    let names = photos::names();
    let fit_box = std::env::var("PXP_BENCH_BOX").unwrap_or_else(|_| "1024x1024".into());
    let target = format!(
        "ssimulacra2={}",
        std::env::var("PXP_BENCH_TARGET").unwrap_or_else(|_| "80".into())
    );
    println!("target {target}, photos fitted into {fit_box}");
    println!("| image | format | quality only bytes | coordinate descent | (encodes, s) | exhaustive grid | (encodes, s) | gradient on sns | (encodes, s) | chosen by descent |");
    println!("|---|---|---:|---:|---:|---:|---:|---:|---:|---|");
    let mut totals = [[0f64; 4]; 2];
    let mut costs = [[0f64; 4]; 2];
    for name in &names {
        let image = photos::load(name, Some(&fit_box));
        for (f, format) in [Format::Jpeg, Format::WebP].into_iter().enumerate() {
            let base = vec![
                ("format", format.name().to_string()),
                ("target", target.clone()),
            ];
            let (b0, _, t0) = search(&image, &base).expect("quality-only search");
            let mut tuned = base.clone();
            tuned.push(("tune", "all".into()));
            let options =
                Options::from_pairs(tuned.iter().map(|(k, v)| (*k, v.as_str()))).expect("options");
            let started = Instant::now();
            let out = pixpress::encode_image(image.clone(), &Metadata::default(), &options)
                .expect("tuned search");
            let t1 = started.elapsed().as_secs_f64();
            let report = out.search.expect("a search");
            let (b1, n1) = (out.data.len(), report.trials);
            let chosen: Vec<String> = report
                .tuned
                .iter()
                .map(|(k, v)| format!("{k}={v}"))
                .collect();
            // Exhaustive grid.
            let (mut b2, mut n2, mut t2) = (usize::MAX, 0u32, 0f64);
            for combo in grid(format) {
                let mut pairs = base.clone();
                pairs.extend(combo);
                if let Some((b, n, t)) = search(&image, &pairs) {
                    b2 = b2.min(b);
                    n2 += n;
                    t2 += t;
                }
            }
            // Finite-difference descent on sns (WebP).
            let gradient = (format == Format::WebP).then(|| {
                let (mut n3, mut t3) = (0u32, 0f64);
                let mut at = |sns: i32| -> f64 {
                    let mut pairs = base.clone();
                    pairs.push(("sns", sns.clamp(0, 100).to_string()));
                    let (b, n, t) = search(&image, &pairs).expect("sns search");
                    n3 += n;
                    t3 += t;
                    b as f64
                };
                let (mut x, mut step) = (50i32, 20i32);
                let mut fx = at(x);
                while step >= 5 {
                    let slope = (at(x + 5) - at(x - 5)) / 10.0;
                    let next = (x - step * slope.signum() as i32).clamp(0, 100);
                    let fnext = at(next);
                    if fnext < fx {
                        (x, fx) = (next, fnext);
                    } else {
                        step /= 2;
                    }
                }
                (fx as usize, n3, t3, x)
            });
            let pct = |b: usize| format!("{:+.2}%", (b as f64 / b0 as f64 - 1.0) * 100.0);
            let (g_bytes, g_cost) = match gradient {
                Some((b, n, t, sns)) => (format!("{} (sns={sns})", pct(b)), format!("{n}, {t:.1}")),
                None => ("-".into(), "-".into()),
            };
            println!(
                "| {} | {} | {b0} | {} | {n1}, {t1:.1} | {} | {n2}, {t2:.1} | {g_bytes} | {g_cost} | {} |",
                name.trim_start_matches("jpeg/"),
                format.name(),
                pct(b1),
                pct(b2),
                chosen.join(" ")
            );
            totals[f][0] += b0 as f64;
            totals[f][1] += b1 as f64;
            totals[f][2] += b2 as f64;
            costs[f][0] += t0;
            costs[f][1] += t1;
            costs[f][2] += t2;
            if let Some((b, _, t, _)) = gradient {
                totals[f][3] += b as f64;
                costs[f][3] += t;
            }
        }
    }
    println!();
    println!("| format | method | total bytes vs quality only | time vs quality only |");
    println!("|---|---|---:|---:|");
    for (f, format) in ["jpeg", "webp"].iter().enumerate() {
        for (m, method) in ["coordinate descent", "exhaustive grid", "gradient on sns"]
            .iter()
            .enumerate()
        {
            if totals[f][m + 1] == 0.0 {
                continue;
            }
            println!(
                "| {format} | {method} | {:+.2}% | {:.1}x |",
                (totals[f][m + 1] / totals[f][0] - 1.0) * 100.0,
                costs[f][m + 1] / costs[f][0]
            );
        }
    }
}
