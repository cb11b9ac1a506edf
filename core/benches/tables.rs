//! JPEG table study: bytes at equal SSIMULACRA2 for the vision-model tables
//! against mozjpeg's default tables and the standard Annex K tables.
//!
//! `cargo bench -p pixpress --bench tables` (`make bench-tables`) takes the
//! corpus photos (or `PXP_BENCH_IMAGES`, comma-separated, relative to
//! `PIXPRESS_CORPUS`), fitted into `PXP_BENCH_BOX` (default 2048x2048) to
//! keep the sweep short, and encodes each at JPEG qualities 30-95 (step 5)
//! with every table set of `PXP_BENCH_TABLES` (default
//! `annexk,mozjpeg,klein,vision:30,vision:40,vision:60`), 4:2:0, default
//! effort (trellis) or the options of `PXP_BENCH_OPTIONS` (such as
//! `effort=0,progressive=false`, the fastest encode), no metadata. For each SSIMULACRA2 level (60, 70, 80, 85, 90) it
//! interpolates log-bytes linearly in score between the sweep points around
//! the level, and reports each table set's bytes relative to Annex K, per
//! image and as the geometric mean over the set (lower is better). The tables
//! themselves are printed at quality 50 for the record.

use pixpress::{Image, Metadata, Metric, Options, QuantTables};

#[path = "common/photos.rs"]
mod photos;
const LEVELS: [f64; 5] = [60.0, 70.0, 80.0, 85.0, 90.0];

/// (quality, bytes, score) for every quality 30-95 in steps of 5, with the
/// `extra` options (`key=value`, comma-separated) besides.
fn sweep(image: &Image, tables: &str, extra: &str) -> Vec<(u8, f64, f64)> {
    (30..=95)
        .step_by(5)
        .map(|quality: u8| {
            let quality_text = quality.to_string();
            let extra = extra.split(',').filter_map(|pair| pair.split_once('='));
            let options = Options::from_pairs(
                [
                    ("format", "jpeg"),
                    ("quality", quality_text.as_str()),
                    ("tables", tables),
                ]
                .into_iter()
                .chain(extra),
            )
            .expect("valid options");
            let out = pixpress::encode_image(image.clone(), &Metadata::default(), &options)
                .expect("encode");
            let decoded = pixpress::decode(&out.data, &Options::default()).expect("decode");
            let score =
                pixpress::score_images(image, &decoded.image, Metric::Ssimulacra2).expect("score");
            (quality, out.data.len() as f64, score)
        })
        .collect()
}

/// Bytes at `level`, interpolating log-bytes between the first pair of sweep
/// points (by quality) that brackets it; `None` when none does.
fn bytes_at(points: &[(u8, f64, f64)], level: f64) -> Option<f64> {
    points.windows(2).find_map(|w| {
        let ((_, b0, s0), (_, b1, s1)) = (w[0], w[1]);
        if s0 <= level && level <= s1 && s1 > s0 {
            let t = (level - s0) / (s1 - s0);
            Some((b0.ln() + t * (b1.ln() - b0.ln())).exp())
        } else {
            None
        }
    })
}

fn print_table(name: &str, table: &[u16; 64]) {
    println!("{name}:");
    for row in table.chunks(8) {
        let cells: Vec<String> = row.iter().map(|q| format!("{q:>3}")).collect();
        println!("    {}", cells.join(" "));
    }
}

fn main() {
    let names = photos::names();
    let fit_box = std::env::var("PXP_BENCH_BOX").unwrap_or_else(|_| "2048x2048".into());
    let extra = std::env::var("PXP_BENCH_OPTIONS").unwrap_or_default();
    let table_sets: Vec<String> = std::env::var("PXP_BENCH_TABLES")
        .unwrap_or_else(|_| "annexk,mozjpeg,klein,vision:30,vision:40,vision:60".into())
        .split(',')
        .map(str::to_string)
        .collect();
    for set in &table_sets {
        if let QuantTables::Vision { ppd } = QuantTables::parse(set).expect("table set") {
            let (luma, chroma) = pixpress::vision_tables(ppd, (2, 2));
            print_table(&format!("{set} luma (quality 50)"), &luma);
            print_table(&format!("{set} chroma, 4:2:0 (quality 50)"), &chroma);
        }
    }
    // ratios[set][level] over images
    let mut ratios = vec![vec![Vec::<f64>::new(); LEVELS.len()]; table_sets.len()];
    println!();
    print!("| image | size |");
    for level in LEVELS {
        print!(" s{level} annexk bytes |");
        for set in &table_sets[1..] {
            print!(" {set} |");
        }
    }
    println!();
    for name in &names {
        let image = photos::load(name, Some(&fit_box));
        let sweeps: Vec<Vec<(u8, f64, f64)>> = table_sets
            .iter()
            .map(|set| sweep(&image, set, &extra))
            .collect();
        print!("| {name} | {}x{} |", image.width, image.height);
        for (l, &level) in LEVELS.iter().enumerate() {
            let base = bytes_at(&sweeps[0], level);
            print!(" {} |", base.map_or("-".into(), |b| format!("{b:.0}")));
            for (s, points) in sweeps.iter().enumerate().skip(1) {
                match (base, bytes_at(points, level)) {
                    (Some(base), Some(bytes)) => {
                        ratios[s][l].push(bytes / base);
                        print!(" {:+.1}% |", (bytes / base - 1.0) * 100.0);
                    }
                    _ => print!(" - |"),
                }
            }
        }
        println!();
    }
    println!();
    println!("geometric mean of bytes against Annex K at equal SSIMULACRA2 (lower is better):");
    print!("| tables |");
    for level in LEVELS {
        print!(" at {level} |");
    }
    println!();
    for (s, set) in table_sets.iter().enumerate().skip(1) {
        print!("| {set} |");
        for per_level in &ratios[s] {
            if per_level.is_empty() {
                print!(" - |");
                continue;
            }
            let mean =
                (per_level.iter().map(|r| r.ln()).sum::<f64>() / per_level.len() as f64).exp();
            print!(" {:+.1}% (n={}) |", (mean - 1.0) * 100.0, per_level.len());
        }
        println!();
    }
}
