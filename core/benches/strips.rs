//! What checkpointed strips cost: each study photo compressed to JPEG q80 by a
//! one-file batch session, once as a striped JPEG (`strip_pixels = 1`) and
//! once as the usual progressive one (`strip_pixels = 0`), side by side.
//! Reports bytes, seconds (median of 3) and SSIMULACRA2 against the source.
//!
//! `make bench-strips` (or `cargo bench -p pixpress --bench strips`).

#[path = "common/photos.rs"]
#[allow(dead_code)]
mod photos;

use pixpress::{Metric, Session, SessionSpec};
use std::path::Path;
use std::sync::atomic::AtomicBool;
use std::time::Instant;

const RUNS: usize = 3;

/// Runs a fresh one-file session over `input` and returns (output bytes, seconds).
fn run(input: &Path, work: &Path, strip_pixels: u64) -> (Vec<u8>, f64) {
    let out = work.join(format!("out-{strip_pixels}"));
    let _ = std::fs::remove_dir_all(&out);
    let spec = SessionSpec {
        inputs: vec![input.to_path_buf()],
        output_dir: out.clone(),
        options: vec![
            ("format".into(), "jpeg".into()),
            ("quality".into(), "80".into()),
        ],
        strip_pixels,
        jobs: 1,
        ..Default::default()
    };
    let started = Instant::now();
    let mut session = Session::create(spec).expect("create");
    session
        .run(&mut |_| true, &AtomicBool::new(false))
        .expect("run");
    let seconds = started.elapsed().as_secs_f64();
    let name = input.file_stem().expect("a file name").to_string_lossy();
    let data = std::fs::read(out.join(format!("{name}.jpg"))).expect("output");
    (data, seconds)
}

fn median(mut values: Vec<f64>) -> f64 {
    values.sort_by(f64::total_cmp);
    values[values.len() / 2]
}

fn main() {
    let corpus = std::env::var("PIXPRESS_CORPUS").unwrap_or_else(|_| "../shared/corpus".into());
    let work = std::env::temp_dir().join(format!("pxp-bench-strips-{}", std::process::id()));
    std::fs::create_dir_all(&work).expect("work dir");
    println!(
        "| photo | pixels | progressive bytes | striped bytes | size | progressive s | striped s | SSIMULACRA2 progressive | striped |"
    );
    println!("|---|---|---|---|---|---|---|---|---|");
    let mut ratios = Vec::new();
    for name in photos::names() {
        let input = Path::new(&corpus).join(&name);
        let source = std::fs::read(&input).expect("read");
        let info = pixpress::probe(&source).expect("probe");
        let mut results = Vec::new();
        for strip_pixels in [0, 1] {
            let mut seconds = Vec::new();
            let mut data = Vec::new();
            for _ in 0..RUNS {
                let (d, s) = run(&input, &work, strip_pixels);
                seconds.push(s);
                data = d;
            }
            let score = pixpress::score(&source, &data, Metric::Ssimulacra2).expect("score");
            results.push((data.len(), median(seconds), score));
        }
        let (plain, striped) = (results[0], results[1]);
        let ratio = striped.0 as f64 / plain.0 as f64;
        ratios.push(ratio);
        println!(
            "| {} | {:.1} MP | {} | {} | {:+.1}% | {:.2} | {:.2} | {:.2} | {:.2} |",
            name.rsplit('/').next().unwrap_or(&name),
            f64::from(info.width) * f64::from(info.height) / 1e6,
            plain.0,
            striped.0,
            (ratio - 1.0) * 100.0,
            plain.1,
            striped.1,
            plain.2,
            striped.2
        );
    }
    println!(
        "\nmedian size of striped over progressive: {:+.1}%",
        (median(ratios) - 1.0) * 100.0
    );
    let _ = std::fs::remove_dir_all(&work);
}
