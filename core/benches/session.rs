//! Checkpoint benchmark: the state cost of a large batch job.
//!
//! `cargo bench -p pixpress --bench session` builds a job of 100,000 tiny
//! files (`PXP_BENCH_FILES` to change), runs it to half, resumes it, and
//! reports: bytes written to the state per task completion, the time from
//! opening the half-done session to its first new task finished, and the
//! size of the state directory. Targets: under 256 bytes per completion,
//! under 2 s to the first new task, under 32 MB of state.

use pixpress::{Session, SessionSpec, TaskOutcome};
use std::path::Path;
use std::sync::atomic::AtomicBool;
use std::time::Instant;

fn dir_size(dir: &Path) -> u64 {
    std::fs::read_dir(dir)
        .map(|entries| {
            entries
                .flatten()
                .map(|e| {
                    let meta = e.metadata().expect("metadata");
                    if meta.is_dir() {
                        dir_size(&e.path())
                    } else {
                        meta.len()
                    }
                })
                .sum()
        })
        .unwrap_or(0)
}

fn main() {
    let files: usize = std::env::var("PXP_BENCH_FILES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(100_000);
    let root = std::env::temp_dir().join(format!("pxp-bench-session-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&root);
    let inputs = root.join("in");
    // A 4x4 gray PNG, distinct per file so that every input hash differs.
    let t = Instant::now();
    for k in 0..files {
        let dir = inputs.join(format!("d{:03}", k % 1000));
        if k < 1000 {
            std::fs::create_dir_all(&dir).expect("mkdir");
        }
        let pixels: Vec<u8> = (0..16)
            .map(|i| (k as u32).wrapping_mul(31).wrapping_add(i) as u8)
            .collect();
        let view =
            pixpress::PixelsRef::new(&pixels, 4, 4, 4, pixpress::Layout::Gray).expect("view");
        let options = pixpress::Options::from_pairs([("format", "png")]).expect("options");
        let png = pixpress::encode(view, &pixpress::Metadata::default(), &options).expect("png");
        std::fs::write(dir.join(format!("f{k:06}.png")), png.data).expect("write");
    }
    eprintln!(
        "{files} inputs written in {:.1} s",
        t.elapsed().as_secs_f64()
    );

    let spec = SessionSpec {
        inputs: vec![inputs.clone()],
        output_dir: root.join("out"),
        options: vec![
            ("format".into(), "png".into()),
            ("effort".into(), "0".into()),
        ],
        ..Default::default()
    };
    let t = Instant::now();
    let mut session = Session::create(spec).expect("create");
    let create_seconds = t.elapsed().as_secs_f64();
    let state_dir = root.join("out").join(pixpress::STATE_DIR_NAME);
    let state_after_create = dir_size(&state_dir);
    let half = files / 2;
    let before = session.state_bytes_written();
    let t = Instant::now();
    let result = session.run(&mut |p| p.status.done < half, &AtomicBool::new(false));
    assert!(result.is_err(), "stopped at half");
    let first_half_seconds = t.elapsed().as_secs_f64();
    let done = session.status().done;
    let per_completion = (session.state_bytes_written() - before) as f64 / done as f64;
    drop(session);

    let t = Instant::now();
    let mut session = Session::open(&state_dir).expect("open");
    let open_seconds = t.elapsed().as_secs_f64();
    let mut first_new = None;
    let before = session.state_bytes_written();
    session
        .run(
            &mut |p| {
                if first_new.is_none() && p.task.outcome == TaskOutcome::Compressed {
                    first_new = Some(t.elapsed().as_secs_f64());
                }
                true
            },
            &AtomicBool::new(false),
        )
        .expect("run");
    let status = session.status();
    let second_per_completion =
        (session.state_bytes_written() - before) as f64 / (status.done - done) as f64;
    let state_final = dir_size(&state_dir);
    println!("| files | {files} |");
    println!(
        "| create (walk + initial snapshot) | {create_seconds:.2} s, state {:.2} MB |",
        state_after_create as f64 / 1e6
    );
    println!("| first half: {done} completions in {first_half_seconds:.1} s | {per_completion:.0} bytes written to the state per completion |");
    println!("| open the half-done session | {open_seconds:.3} s |");
    println!(
        "| open to first new task finished | {:.3} s |",
        first_new.unwrap_or(f64::NAN)
    );
    println!("| second half (verify {done} done + {} new, with compactions) | {second_per_completion:.0} bytes per completion |", status.done - done);
    println!(
        "| state directory at the end | {:.2} MB |",
        state_final as f64 / 1e6
    );
    assert_eq!(status.done, files);
    let _ = std::fs::remove_dir_all(&root);
}
