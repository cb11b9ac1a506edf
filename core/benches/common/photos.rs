//! The corpus photos the quality studies run on (paths below `PIXPRESS_CORPUS`):
//! a range of content (landscape, HDR, foliage, faces, night) and sizes up to
//! 12 MP, and how a study loads them.

use pixpress::{Image, Layout, Options, Rgba8};

/// Photos of the corpus, relative to its root.
pub const PHOTOS: &[&str] = &[
    "jpeg/xmp_test_adobergb.jpg",
    "jpeg/canon_hdr_NO.jpg",
    "jpeg/flickr_2569067123_aca715a2ee_o.jpg",
    "jpeg/jolla.jpg",
    "jpeg/gain-map.jpg",
    "jpeg/HMD_Nokia_8.3_5G.jpg",
    "jpeg/30-type_error.jpg",
    "jpeg/Olympus_E-P3_42_IndexError.jpg",
];

/// The photos a study runs on: `PXP_BENCH_IMAGES` (comma-separated, relative
/// to the corpus) or [`PHOTOS`].
pub fn names() -> Vec<String> {
    match std::env::var("PXP_BENCH_IMAGES") {
        Ok(list) => list.split(',').map(str::to_string).collect(),
        Err(_) => PHOTOS.iter().map(|s| s.to_string()).collect(),
    }
}

/// A corpus photo decoded upright as 8-bit RGB, fitted into `fit_box`
/// (`WxH`) when given.
pub fn load(name: &str, fit_box: Option<&str>) -> Image {
    let corpus = std::env::var("PIXPRESS_CORPUS").unwrap_or_else(|_| "../shared/corpus".into());
    let path = std::path::Path::new(&corpus).join(name);
    let input = std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let mut options = Options::default();
    if let Some(fit_box) = fit_box {
        options.set("resize", fit_box).expect("a WxH box");
    }
    let image = pixpress::decode(&input, &options).expect("decode").image;
    image.convert(Layout::Rgb, Rgba8::WHITE).into_u8()
}
