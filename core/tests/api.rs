//! The library API beyond `compress`: encoding caller-owned pixels, progress and cancellation.

use pixpress::{Error, Layout, Metadata, Options, PixelsRef, Samples, Stage};

const HOPPER: &[u8] = include_bytes!("data/hopper.jpg");

fn options(pairs: &[(&str, &str)]) -> Options {
    let mut o = Options::default();
    for (k, v) in pairs {
        o.set(k, v).unwrap();
    }
    o
}

#[test]
fn pixels_with_padded_rows_encode_like_packed_pixels() {
    let decoded = pixpress::decode(HOPPER, &Options::default()).unwrap();
    let image = decoded.image;
    let packed = image.pixels_ref().unwrap();
    let row = image.width as usize * 3;
    let stride = row + 13;
    let mut padded = vec![0xAAu8; stride * image.height as usize];
    for (y, src) in packed.rows().enumerate() {
        padded[y * stride..y * stride + row].copy_from_slice(src);
    }
    let view = PixelsRef::new(&padded, image.width, image.height, stride, Layout::Rgb).unwrap();
    for format in ["jpeg", "webp", "png", "avif"] {
        let o = options(&[("format", format), ("effort", "0")]);
        let a = pixpress::encode(packed, &Metadata::default(), &o).unwrap();
        let b = pixpress::encode(view, &Metadata::default(), &o).unwrap();
        assert_eq!(a.data, b.data, "{format}: stride changed the output");
        assert_eq!((b.width, b.height), (image.width, image.height));
        let back = pixpress::probe(&b.data).unwrap();
        assert_eq!(
            (back.width, back.height),
            (image.width, image.height),
            "{format}"
        );
    }
}

#[test]
fn bad_pixel_buffers_are_invalid_arguments() {
    let data = [0u8; 30];
    assert!(matches!(
        PixelsRef::new(&data, 4, 3, 11, Layout::Rgb),
        Err(Error::InvalidArgument(_))
    ));
    assert!(matches!(
        PixelsRef::new(&data, 0, 3, 12, Layout::Rgb),
        Err(Error::InvalidArgument(_))
    ));
    assert!(matches!(
        PixelsRef::new(&data, 4, 3, 12, Layout::Rgb),
        Err(Error::InvalidArgument(_))
    ));
    // The last row may end right after its pixels.
    assert!(PixelsRef::new(&data, 2, 3, 12, Layout::Rgb).is_ok());
    let view = PixelsRef::new(&data, 2, 2, 6, Layout::Rgb).unwrap();
    let same = pixpress::encode(view, &Metadata::default(), &Options::default());
    assert!(matches!(same, Err(Error::InvalidOption { key, .. }) if key == "format"));
}

#[test]
fn progress_reports_every_stage_in_order_and_cancels() {
    let o = options(&[("format", "webp")]);
    let mut seen = Vec::new();
    pixpress::compress_with_progress(HOPPER, &o, &mut |p| {
        seen.push((p.stage, p.fraction));
        true
    })
    .unwrap();
    let stages: Vec<Stage> = seen.iter().map(|s| s.0).collect();
    assert_eq!(
        stages,
        [Stage::Decode, Stage::Transform, Stage::Encode, Stage::Done]
    );
    assert!(seen.windows(2).all(|w| w[0].1 < w[1].1));
    for stop_at in [Stage::Decode, Stage::Encode, Stage::Done] {
        let result = pixpress::compress_with_progress(HOPPER, &o, &mut |p| p.stage != stop_at);
        assert!(matches!(result, Err(Error::Cancelled)), "{stop_at:?}");
    }
}

#[test]
fn png_quality_below_100_writes_a_smaller_indexed_png() {
    let lossless = pixpress::compress(HOPPER, &options(&[("format", "png")])).unwrap();
    let lossy =
        pixpress::compress(HOPPER, &options(&[("format", "png"), ("quality", "60")])).unwrap();
    // IHDR color type (byte 25): 3 is indexed color.
    assert_eq!(lossy.data[25], 3, "not a palette PNG");
    assert_ne!(lossless.data[25], 3);
    assert!(
        lossy.data.len() * 2 < lossless.data.len(),
        "{} vs {}",
        lossy.data.len(),
        lossless.data.len()
    );
    let back = pixpress::decode(&lossy.data, &Options::default()).unwrap();
    let orig = pixpress::decode(HOPPER, &Options::default()).unwrap();
    let (Samples::U8(a), Samples::U8(b)) = (&back.image.samples, &orig.image.samples) else {
        panic!("8-bit expected")
    };
    let mad = a
        .iter()
        .zip(b)
        .map(|(x, y)| x.abs_diff(*y) as f64)
        .sum::<f64>()
        / a.len() as f64;
    assert!(mad < 6.0, "mean abs diff {mad}");
    let colors: std::collections::HashSet<&[u8]> = a.chunks_exact(3).collect();
    assert!(
        colors.len() <= 153,
        "{} colors for quality 60",
        colors.len()
    );
}

#[test]
fn truncated_png_is_an_error_unless_accepted() {
    let full = pixpress::compress(HOPPER, &options(&[("format", "png")]))
        .unwrap()
        .data;
    let cut = &full[..full.len() * 2 / 3];
    assert!(matches!(
        pixpress::decode(cut, &Options::default()),
        Err(Error::Truncated { .. }) | Err(Error::Corrupt { .. })
    ));
    let partial = pixpress::decode(cut, &options(&[("accept_truncated", "true")])).unwrap();
    let whole = pixpress::decode(&full, &Options::default()).unwrap();
    assert_eq!((partial.image.width, partial.image.height), (128, 128));
    let (Samples::U8(a), Samples::U8(b)) = (&partial.image.samples, &whole.image.samples) else {
        panic!("8-bit expected")
    };
    // The first rows are decoded exactly; the last row was never reached and stays zero.
    let row = 128 * 3;
    assert_eq!(a[..row * 8], b[..row * 8]);
    assert!(a[a.len() - row..].iter().all(|&v| v == 0));
}
