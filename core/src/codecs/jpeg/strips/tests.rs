//! Tests of striped JPEG encoding and resumption; also the test images (`gradient`) other JPEG tests share.

use super::*;
use crate::options::Options;
use std::collections::BTreeMap;

/// Strips kept in memory; counts the strips encoded.
#[derive(Default)]
struct Kept {
    strips: BTreeMap<usize, Vec<u8>>,
    encoded: usize,
}

impl StripStore for Kept {
    fn wants(&self, _: u32, _: u32) -> bool {
        true
    }
    fn load(&self, index: usize) -> Option<Vec<u8>> {
        self.strips.get(&index).cloned()
    }
    fn save(&mut self, index: usize, bytes: &[u8]) -> Result<()> {
        self.encoded += 1;
        self.strips.insert(index, bytes.to_vec());
        Ok(())
    }
}

pub(crate) fn gradient(width: u32, height: u32) -> Vec<u8> {
    (0..height)
        .flat_map(|y| {
            (0..width).flat_map(move |x| [(x / 4) as u8, (y / 12) as u8, ((x + y) / 16) as u8])
        })
        .collect()
}

/// Decodes a JPEG to its 8-bit samples.
fn decode(jpeg: &[u8]) -> Vec<u8> {
    let request = crate::codecs::DecodeRequest {
        max_pixels: u64::MAX,
        accept_truncated: false,
        min_size: None,
    };
    crate::codecs::jpeg::decode(jpeg, &request)
        .unwrap()
        .image
        .samples
        .into_u8_vec()
        .expect("8-bit samples")
}

/// Mean absolute difference between two sample buffers.
fn mean_difference(a: &[u8], b: &[u8]) -> f64 {
    a.iter()
        .zip(b)
        .map(|(x, y)| (f64::from(*x) - f64::from(*y)).abs())
        .sum::<f64>()
        / a.len() as f64
}

#[test]
fn resumed_encode_is_identical_and_decodes_like_the_whole() {
    let (width, height) = (1000, 3000);
    let data = gradient(width, height);
    let mut pixels = PixelsRef::new(&data, width, height, width as usize * 3, Layout::Rgb).unwrap();
    let options = EncodeParams::default();
    let mut whole = Kept::default();
    let one_go = encode_striped(&mut pixels, &Metadata::default(), &options, &mut whole).unwrap();
    let layout = StripLayout::new(width, height, false, &options);
    assert!(layout.count > 2, "{layout:?}");
    assert_eq!(whole.encoded, layout.count);

    // Interrupted after two strips: the rest are encoded, the file is the same.
    let mut resumed = Kept {
        strips: whole.strips.clone().into_iter().take(2).collect(),
        encoded: 0,
    };
    let again = encode_striped(&mut pixels, &Metadata::default(), &options, &mut resumed).unwrap();
    assert_eq!(again, one_go);
    assert_eq!(resumed.encoded, layout.count - 2);

    // A libjpeg decoder reads it as one image close to the source.
    let samples = decode(&one_go);
    assert_eq!(samples.len(), data.len());
    let error = mean_difference(&samples, &data);
    assert!(error < 1.5, "mean absolute error {error}");
}

#[test]
fn parallel_encode_matches_the_whole_image_encode_on_any_pool() {
    let (width, height) = (1000, 3000);
    let data = gradient(width, height);
    let pixels = PixelsRef::new(&data, width, height, width as usize * 3, Layout::Rgb).unwrap();
    // Progressive (its scans written in two parts on two threads),
    // sequential, and progressive with mozjpeg's scan search (never split).
    for (progressive, effort) in [("true", "4"), ("false", "4"), ("true", "9")] {
        let options = Options::from_pairs([("progressive", progressive), ("effort", effort)])
            .unwrap()
            .encode_params();
        let on = |threads| {
            rayon::ThreadPoolBuilder::new()
                .num_threads(threads)
                .build()
                .unwrap()
                .install(|| encode_parallel(&pixels, &Metadata::default(), &options).unwrap())
        };
        let parallel = on(2);
        assert_eq!(
            on(1),
            parallel,
            "progressive={progressive} effort={effort}: the output does not depend on the pool"
        );
        let whole = super::super::encode_whole(&pixels, &Metadata::default(), &options).unwrap();
        let ratio = parallel.len() as f64 / whole.len() as f64;
        assert!(
            ratio < 1.02,
            "progressive={progressive} effort={effort}: {} vs {}",
            parallel.len(),
            whole.len()
        );
        let error = mean_difference(&decode(&parallel), &decode(&whole));
        assert!(
            error < 0.5,
            "progressive={progressive} effort={effort}: mean absolute difference {error}"
        );
    }
}

#[test]
fn layouts_respect_the_restart_interval_limit() {
    let options = EncodeParams::default();
    let wide = StripLayout::new(65535, 100, false, &options);
    assert!(wide.restart_interval <= MAX_RESTART_INTERVAL);
    assert_eq!(wide.rows % 16, 0);
    let gray = StripLayout::new(20000, 20000, true, &options);
    assert_eq!(gray.rows % 8, 0);
    assert_eq!(gray.count, 20000usize.div_ceil(gray.rows as usize));
    assert_eq!(StripLayout::new(0, 100, false, &options).rows % 16, 0);
}

#[test]
fn blank_rows_wider_than_65535_pixels_fit() {
    let mut samples = Vec::new();
    let row = one_row(&mut samples, 70_000, false).unwrap();
    assert_eq!(row.rows().next().map(<[u8]>::len), Some(210_000));
    let row = one_row(&mut samples, 3, true).unwrap();
    assert_eq!(row.rows().next(), Some(&[0u8; 3][..]));
    assert!(one_row(&mut samples, 0, false).is_err());
    // Past libjpeg's limit the encode fails with an error, not a panic.
    let shape = (70_000, 16, false);
    let options = EncodeParams::default();
    assert!(gathered(shape, &Metadata::default(), &options, |_| Ok(())).is_err());
}
