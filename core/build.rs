//! Records the versions of the codec crates this build links, from the
//! workspace's Cargo.lock, for `capabilities()` (`PIXPRESS_CRATE_VERSIONS`:
//! `name=version` pairs separated by `;`, empty outside the workspace).

use std::{env, fs, path::Path};

/// The crates whose versions `capabilities()` reports.
const CRATES: &[&str] = &[
    "mozjpeg-sys",
    "png",
    "oxipng",
    "gif",
    "tiff",
    "image",
    "fast_image_resize",
    "libwebp-sys",
    "lcms2-sys",
    "libheif-sys",
];

fn main() {
    let lock = Path::new(&env::var("CARGO_MANIFEST_DIR").unwrap_or_default()).join("../Cargo.lock");
    println!("cargo:rerun-if-changed={}", lock.display());
    let text = fs::read_to_string(&lock).unwrap_or_default();
    let mut found: Vec<(String, String)> = Vec::new();
    for package in text.split("[[package]]") {
        let field = |key: &str| {
            package.lines().find_map(|l| {
                l.strip_prefix(key)
                    .and_then(|rest| rest.trim().strip_prefix('='))
                    .map(|v| v.trim().trim_matches('"').to_string())
            })
        };
        if let (Some(name), Some(version)) = (field("name "), field("version ")) {
            if CRATES.contains(&name.as_str()) {
                // With two versions of one crate locked, the later (newer) one is kept.
                found.retain(|(n, _)| *n != name);
                found.push((name, version));
            }
        }
    }
    let pairs: Vec<String> = found.iter().map(|(n, v)| format!("{n}={v}")).collect();
    println!(
        "cargo:rustc-env=PIXPRESS_CRATE_VERSIONS={}",
        pairs.join(";")
    );
}
