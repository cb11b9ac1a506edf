//! A 100-megapixel JPEG recompressed within a bounded memory (issue 9): the
//! 12 MP Olympus corpus photo upscaled to 11547x8660 and stored as a
//! sequential JPEG q92, then, each in a fresh process, recompressed to JPEG
//! q80 at full size (the streaming path: strips of rows decoded and encoded
//! in turn) and fit into 4000x4000 (shrink-on-load: libjpeg decodes at half
//! scale, then the resize). Reports peak RSS, seconds and output size.
//!
//! `make bench-stream` (or `cargo bench -p pixpress --bench stream`).

#[path = "common/photos.rs"]
#[allow(dead_code)]
mod photos;
#[path = "common/rss.rs"]
mod rss;

use pixpress::{Metadata, Options};
use std::process::Command;
use std::time::Instant;

/// The input's size: 100 megapixels in the photo's 4:3.
const SIZE: (u32, u32) = (11547, 8660);

/// In a child process: writes the 100 MP input to `path`.
fn make_input(path: &str) {
    let photo = photos::load("jpeg/Olympus_E-P3_42_IndexError.jpg", None);
    let big = pixpress::resize(&photo, SIZE.0, SIZE.1).expect("resize");
    drop(photo);
    let options = Options::from_pairs([
        ("format", "jpeg"),
        ("quality", "92"),
        ("progressive", "false"),
        ("effort", "0"),
    ])
    .expect("options");
    let out = pixpress::encode_image(big, &Metadata::default(), &options).expect("encode");
    pixpress::write_atomic(std::path::Path::new(path), &out.data).expect("write");
}

/// In a child process: one recompression of `path` with `resize` (or none),
/// then "peak RSS KiB, seconds, output bytes, width, height" on stdout.
fn measure(path: &str, resize: Option<&str>) {
    let input = std::fs::read(path).expect("input");
    let mut options =
        Options::from_pairs([("format", "jpeg"), ("quality", "80")]).expect("options");
    if let Some(resize) = resize {
        options.set("resize", resize).expect("resize");
    }
    let started = Instant::now();
    let out = pixpress::compress(&input, &options).expect("compress");
    let seconds = started.elapsed().as_secs_f64();
    println!(
        "{} {seconds:.3} {} {} {}",
        rss::peak_rss_kb(),
        out.data.len(),
        out.width,
        out.height
    );
}

fn child(args: &[&str]) -> String {
    let out = Command::new(std::env::current_exe().expect("this bench"))
        .args(args)
        .output()
        .expect("child");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).trim().to_string()
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    if let Some(at) = args.iter().position(|a| a == "make") {
        return make_input(&args[at + 1]);
    }
    if let Some(at) = args.iter().position(|a| a == "measure") {
        return measure(&args[at + 1], args.get(at + 2).map(String::as_str));
    }
    let path = std::env::temp_dir().join(format!("pxp-bench-stream-{}.jpg", std::process::id()));
    let path = path.to_str().expect("a UTF-8 temp path");
    child(&["make", path]);
    let input_bytes = std::fs::metadata(path).expect("input").len();
    println!(
        "input: {}x{} sequential JPEG q92, {input_bytes} bytes (decoded RGB {} MiB)\n",
        SIZE.0,
        SIZE.1,
        (u64::from(SIZE.0) * u64::from(SIZE.1) * 3) >> 20
    );
    println!("| operation | output | peak RSS MiB | target | seconds | output bytes |");
    println!("|---|---|---:|---:|---:|---:|");
    for (name, resize) in [
        ("JPEG q80, full size (streamed)", None),
        (
            "fit 4000x4000 + JPEG q80 (shrink-on-load)",
            Some("4000x4000"),
        ),
    ] {
        let mut args = vec!["measure", path];
        args.extend(resize);
        let line = child(&args);
        let v: Vec<&str> = line.split_whitespace().collect();
        let kb: f64 = v[0].parse().expect("peak RSS");
        println!(
            "| {name} | {}x{} | {:.0} | 256 | {} | {} |",
            v[3],
            v[4],
            kb / 1024.0,
            v[1],
            v[2]
        );
    }
    let _ = std::fs::remove_file(path);
}
