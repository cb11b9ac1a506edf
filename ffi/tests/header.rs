//! The committed include/pixpress.h is exactly what cbindgen generates from
//! ffi/src with ffi/cbindgen.toml. `PXP_UPDATE_HEADER=1 cargo test -p
//! pixpress-ffi --test header` (or `make header`) rewrites it.

use std::path::Path;

#[test]
fn committed_header_matches_a_fresh_generation() {
    let crate_dir = Path::new(env!("CARGO_MANIFEST_DIR"));
    let committed_path = crate_dir.join("../include/pixpress.h");
    let config =
        cbindgen::Config::from_file(crate_dir.join("cbindgen.toml")).expect("cbindgen.toml");
    let mut fresh = Vec::new();
    cbindgen::Builder::new()
        .with_crate(crate_dir)
        .with_config(config)
        .generate()
        .expect("cbindgen generates the header")
        .write(&mut fresh);
    if std::env::var_os("PXP_UPDATE_HEADER").is_some() {
        std::fs::write(&committed_path, &fresh).expect("write include/pixpress.h");
    }
    let committed = std::fs::read(&committed_path).unwrap_or_default();
    assert!(
        committed == fresh,
        "include/pixpress.h is stale: run `make header` and commit it"
    );
}
