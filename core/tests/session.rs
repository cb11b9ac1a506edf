//! Sessions: resume skips what is done and intact, redoes what changed or was
//! damaged, records failures, and honors cancellation.

use pixpress::{Session, SessionSpec, TaskOutcome};
use std::fs;
use std::path::{Path, PathBuf};
use std::sync::atomic::AtomicBool;

const HOPPER: &[u8] = include_bytes!("data/hopper.jpg");

/// A fresh directory with `n` inputs (hopper re-encoded at distinct
/// qualities, so each input differs) and one file that is not an image.
fn setup(name: &str, n: usize) -> (PathBuf, PathBuf) {
    let root = std::env::temp_dir().join(format!("pxp-session-{name}-{}", std::process::id()));
    let _ = fs::remove_dir_all(&root);
    let inputs = root.join("in");
    fs::create_dir_all(inputs.join("sub")).unwrap();
    for k in 0..n {
        let mut o = pixpress::Options::default();
        o.set("format", "png").unwrap();
        o.set("resize", &format!("{}x", 40 + k)).unwrap();
        let png = pixpress::compress(HOPPER, &o).unwrap().data;
        let dir = if k % 2 == 0 {
            inputs.clone()
        } else {
            inputs.join("sub")
        };
        fs::write(dir.join(format!("img{k:02}.png")), png).unwrap();
    }
    fs::write(inputs.join("broken.jpg"), b"\xff\xd8\xff\xe0 not really").unwrap();
    fs::write(inputs.join("notes.txt"), b"not an image, not taken").unwrap();
    (root.clone(), inputs)
}

fn spec(root: &Path, inputs: &Path) -> SessionSpec {
    SessionSpec {
        inputs: vec![inputs.to_path_buf()],
        output_dir: root.join("out"),
        options: vec![("format".into(), "webp".into())],
        jobs: 2,
        ..Default::default()
    }
}

/// Runs to the end and returns the outcome of each task by input file name.
fn run(session: &mut Session) -> Vec<(String, TaskOutcome)> {
    let mut seen = Vec::new();
    let result = session.run(
        &mut |p| {
            let name = p
                .task
                .input
                .file_name()
                .unwrap()
                .to_string_lossy()
                .into_owned();
            seen.push((name, p.task.outcome.clone()));
            true
        },
        &AtomicBool::new(false),
    );
    result.unwrap();
    seen.sort_by(|a, b| a.0.cmp(&b.0));
    seen
}

fn count(seen: &[(String, TaskOutcome)], want: fn(&TaskOutcome) -> bool) -> usize {
    seen.iter().filter(|(_, o)| want(o)).count()
}

#[test]
fn a_finished_job_resumes_as_verified_and_redoes_only_what_changed() {
    let (root, inputs) = setup("resume", 6);
    let mut session = Session::create(spec(&root, &inputs)).unwrap();
    let first = run(&mut session);
    assert_eq!(
        first.len(),
        7,
        "6 images and the broken file; notes.txt is not taken"
    );
    assert_eq!(count(&first, |o| *o == TaskOutcome::Compressed), 6);
    let status = session.status();
    assert_eq!((status.total, status.done, status.failed), (7, 6, 1));
    let failures = session.failures();
    assert_eq!(failures.len(), 1);
    assert!(failures[0].0.ends_with("broken.jpg"));
    let out = root.join("out");
    let original = fs::read(out.join("sub/img01.webp")).unwrap();
    assert!(pixpress::probe(&original).is_ok());
    drop(session);

    // Damage: an altered output, a missing one, a changed input, a stray temporary file.
    fs::write(out.join("sub/img01.webp"), b"torn").unwrap();
    fs::remove_file(out.join("img02.webp")).unwrap();
    let changed = fs::read(inputs.join("sub/img03.png")).unwrap();
    fs::write(inputs.join("img04.png"), &changed).unwrap();
    // Left by a process that no longer runs (no pid is that large); one of a
    // live process (this one) is its own and stays.
    let abandoned = out.join(".img00.webp.2147483646-1.pxp-tmp");
    fs::write(&abandoned, b"left over").unwrap();
    let live = out.join(format!(".img09.webp.{}-1.pxp-tmp", std::process::id()));
    fs::write(&live, b"being written").unwrap();

    let mut session = Session::open(&root.join("out/.pixpress-session")).unwrap();
    let second = run(&mut session);
    let redone: Vec<&str> = second
        .iter()
        .filter(|(_, o)| *o == TaskOutcome::Compressed)
        .map(|(n, _)| n.as_str())
        .collect();
    assert_eq!(redone, ["img01.png", "img02.png", "img04.png"]);
    assert_eq!(count(&second, |o| *o == TaskOutcome::Verified), 3);
    assert_eq!(
        count(&second, |o| matches!(o, TaskOutcome::Failed { .. })),
        0,
        "failed tasks wait for retry_failed"
    );
    assert_eq!(fs::read(out.join("sub/img01.webp")).unwrap(), original);
    assert_eq!(
        fs::read(out.join("img04.webp")).unwrap(),
        fs::read(out.join("sub/img03.webp")).unwrap()
    );
    assert!(!abandoned.exists());
    assert!(live.exists());
    fs::remove_file(&live).unwrap();

    // The failed task is retried on request, and fails again.
    assert_eq!(session.retry_failed().unwrap(), 1);
    let third = run(&mut session);
    assert_eq!(
        count(&third, |o| matches!(o, TaskOutcome::Failed { .. })),
        1
    );
    fs::remove_dir_all(&root).unwrap();
}

/// A 2x2 24-bit BMP whose first pixel is `(b, g, r)`.
fn tiny_bmp(b: u8, g: u8, r: u8) -> Vec<u8> {
    let mut out = b"BM".to_vec();
    out.extend_from_slice(&70u32.to_le_bytes()); // file size
    out.extend_from_slice(&[0; 4]);
    out.extend_from_slice(&54u32.to_le_bytes()); // pixel data offset
    out.extend_from_slice(&40u32.to_le_bytes()); // BITMAPINFOHEADER
    out.extend_from_slice(&2i32.to_le_bytes());
    out.extend_from_slice(&2i32.to_le_bytes());
    out.extend_from_slice(&1u16.to_le_bytes());
    out.extend_from_slice(&24u16.to_le_bytes());
    out.extend_from_slice(&[0; 24]);
    // Two rows of two pixels, each row padded to 8 bytes.
    out.extend_from_slice(&[b, g, r, 40, 50, 60, 0, 0, 70, 80, 90, 100, 110, 120, 0, 0]);
    out
}

#[test]
fn an_input_changed_in_place_with_the_same_size_and_mtime_is_redone() {
    let root = std::env::temp_dir().join(format!("pxp-session-inplace-{}", std::process::id()));
    let _ = fs::remove_dir_all(&root);
    let inputs = root.join("in");
    fs::create_dir_all(&inputs).unwrap();
    let input = inputs.join("tiny.bmp");
    fs::write(&input, tiny_bmp(0, 0, 0)).unwrap();
    let spec = SessionSpec {
        options: vec![("format".into(), "png".into())],
        ..spec(&root, &inputs)
    };
    let mut session = Session::create(spec).unwrap();
    assert_eq!(
        count(&run(&mut session), |o| *o == TaskOutcome::Compressed),
        1
    );
    let before = fs::read(root.join("out/tiny.png")).unwrap();
    drop(session);

    // The same length and the same modification time, different pixels.
    let mtime = fs::metadata(&input).unwrap().modified().unwrap();
    fs::write(&input, tiny_bmp(255, 255, 255)).unwrap();
    fs::File::options()
        .write(true)
        .open(&input)
        .unwrap()
        .set_modified(mtime)
        .unwrap();
    let mut session = Session::open(&root.join("out/.pixpress-session")).unwrap();
    assert_eq!(
        count(&run(&mut session), |o| *o == TaskOutcome::Compressed),
        1
    );
    assert_ne!(fs::read(root.join("out/tiny.png")).unwrap(), before);
    fs::remove_dir_all(&root).unwrap();
}

#[test]
fn open_or_create_resumes_the_same_job_and_refuses_another() {
    let (root, inputs) = setup("identity", 2);
    let mut session = Session::open_or_create(spec(&root, &inputs)).unwrap();
    run(&mut session);
    drop(session);
    let mut again = Session::open_or_create(spec(&root, &inputs)).unwrap();
    assert_eq!(again.status().done, 2);
    assert!(run(&mut again)
        .iter()
        .all(|(_, o)| *o != TaskOutcome::Compressed));
    // While one handle has it open, another is refused at once.
    let busy = Session::open_or_create(spec(&root, &inputs)).unwrap_err();
    assert!(busy.to_string().contains("in use by process"), "{busy}");
    drop(again);
    let mut other = spec(&root, &inputs);
    other.options = vec![("format".into(), "jpeg".into())];
    let err = Session::open_or_create(other).unwrap_err();
    assert!(err.to_string().contains("different job"), "{err}");
    fs::remove_dir_all(&root).unwrap();
}

#[test]
fn cancelling_stops_early_and_a_later_run_finishes() {
    let (root, inputs) = setup("cancel", 8);
    let mut s = spec(&root, &inputs);
    s.jobs = 1;
    let mut session = Session::create(s).unwrap();
    let mut reports = 0;
    let err = session
        .run(
            &mut |_| {
                reports += 1;
                reports < 2
            },
            &AtomicBool::new(false),
        )
        .unwrap_err();
    assert_eq!(err.kind(), pixpress::ErrorKind::Cancelled);
    let partial = session.status();
    assert!(
        partial.pending > 0 && partial.done + partial.failed >= 2,
        "{partial:?}"
    );
    drop(session);
    let mut session = Session::open(&root.join("out/.pixpress-session")).unwrap();
    run(&mut session);
    let status = session.status();
    assert_eq!((status.done, status.failed, status.pending), (8, 1, 0));
    fs::remove_dir_all(&root).unwrap();
}

#[test]
fn globs_naming_and_collisions() {
    let (root, inputs) = setup("naming", 4);
    fs::write(inputs.join("img00.jpg"), HOPPER).unwrap();
    let mut s = spec(&root, &inputs);
    s.exclude = vec!["sub/**".into()];
    let mut session = Session::create(s).unwrap();
    run(&mut session);
    // img00.png and img00.jpg both name img00.webp: both fail, neither overwrites.
    let failures = session.failures();
    let names: Vec<String> = failures
        .iter()
        .map(|f| f.0.file_name().unwrap().to_string_lossy().into_owned())
        .collect();
    assert_eq!(names, ["broken.jpg", "img00.jpg", "img00.png"]);
    assert!(
        failures[1].2.contains("output of several inputs"),
        "{}",
        failures[1].2
    );
    assert!(!root.join("out/sub").exists(), "sub/** was excluded");
    assert!(root.join("out/img02.webp").exists());
    fs::remove_dir_all(root.join("out")).unwrap();

    let mut s = spec(&root, &inputs);
    s.include = vec!["**/*.png".into()];
    s.naming = "{dir}/{name}-{srcext}.{ext}".into();
    let mut session = Session::create(s).unwrap();
    run(&mut session);
    assert_eq!(session.status().failed, 0);
    assert!(root.join("out/img00-png.webp").exists());
    assert!(root.join("out/sub/img01-png.webp").exists());
    fs::remove_dir_all(&root).unwrap();
}
