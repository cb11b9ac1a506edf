//! Tests of streaming JPEG to JPEG (strip-by-strip decode and encode).

use super::*;
use crate::codecs::jpeg::strips::{encode_striped, UnkeptStrips};
use crate::codecs::DecodeRequest;
use crate::resize::Fit;

/// A 1000x3000 gradient stored as a sequential JPEG q92.
fn input() -> Vec<u8> {
    let data = jpeg::strips::tests::gradient(1000, 3000);
    let pixels = PixelsRef::new(&data, 1000, 3000, 3000, Layout::Rgb).unwrap();
    let options = Options::from_pairs([("quality", "92"), ("progressive", "false")]).unwrap();
    jpeg::encode_whole(&pixels, &Metadata::default(), &options.encode_params()).unwrap()
}

#[test]
fn streamed_file_is_the_striped_encode_of_the_whole_decoded_image() {
    let jpeg = input();
    let options = Options::default();
    let streamed = recompress(&jpeg, &options, |_| {
        Ok(Some((Metadata::default(), Mode::Striped)))
    })
    .unwrap()
    .unwrap();
    assert_eq!(streamed.size, (1000, 3000));
    let request = DecodeRequest {
        max_pixels: u64::MAX,
        accept_truncated: false,
        min_size: None,
    };
    let decoded = jpeg::decode(&jpeg, &request).unwrap().image;
    let mut pixels = decoded.pixels_ref().unwrap();
    let whole = encode_striped(
        &mut pixels,
        &Metadata::default(),
        &options.encode_params(),
        &mut UnkeptStrips { min_pixels: 0 },
    );
    assert_eq!(streamed.data, whole.unwrap());
}

#[test]
fn a_declined_plan_decodes_nothing_and_a_cut_file_is_an_error() {
    let jpeg = input();
    let options = Options::default();
    assert!(recompress(&jpeg, &options, |_| Ok(None)).unwrap().is_none());
    let cut = &jpeg[..jpeg.len() / 2];
    let parallel = Mode::Parallel {
        output: (1000, 3000),
        min_size: None,
        fit: Fit::Inside,
    };
    for mode in [Mode::Striped, Mode::Overlapped, parallel] {
        let err = recompress(cut, &options, |_| Ok(Some((Metadata::default(), mode))));
        let err = err.unwrap_err();
        assert_eq!(err.kind(), crate::ErrorKind::Truncated, "{mode:?}: {err}");
    }
}

#[test]
fn overlapped_file_is_the_whole_image_encode_of_the_decoded_pixels() {
    let jpeg = input();
    for effort in ["0", "3"] {
        let options = Options::from_pairs([("effort", effort)]).unwrap();
        let overlapped = recompress(&jpeg, &options, |_| {
            Ok(Some((Metadata::default(), Mode::Overlapped)))
        })
        .unwrap()
        .unwrap();
        let request = DecodeRequest {
            max_pixels: u64::MAX,
            accept_truncated: false,
            min_size: None,
        };
        let decoded = jpeg::decode(&jpeg, &request).unwrap().image;
        let pixels = decoded.pixels_ref().unwrap();
        let whole = jpeg::encode_whole(&pixels, &Metadata::default(), &options.encode_params());
        assert_eq!(overlapped.data, whole.unwrap(), "effort {effort}");
    }
}

/// The whole-image path's file for `jpeg`: decoded (shrunk towards
/// `min_size`), resized to `output` and encoded by the parallel strip encoder.
fn whole_image_parallel(
    jpeg: &[u8],
    output: (u32, u32),
    min_size: Option<(u32, u32)>,
    options: &Options,
) -> Vec<u8> {
    let request = DecodeRequest {
        max_pixels: u64::MAX,
        accept_truncated: false,
        min_size,
    };
    let mut decoded = jpeg::decode(jpeg, &request).unwrap().image;
    if (decoded.width, decoded.height) != output {
        decoded = crate::resize::resize(&decoded, output, Fit::Inside).unwrap();
    }
    let pixels = decoded.pixels_ref().unwrap();
    jpeg::strips::encode_parallel(&pixels, &Metadata::default(), &options.encode_params()).unwrap()
}

#[test]
fn parallel_file_is_the_whole_image_parallel_encode_on_any_pool() {
    let jpeg = input();
    let options = Options::default();
    let whole = whole_image_parallel(&jpeg, (1000, 3000), None, &options);
    for threads in [1, 2, 3] {
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .build()
            .unwrap();
        let streamed = pool.install(|| {
            recompress(&jpeg, &options, |_| {
                let mode = Mode::Parallel {
                    output: (1000, 3000),
                    min_size: None,
                    fit: Fit::Inside,
                };
                Ok(Some((Metadata::default(), mode)))
            })
        });
        let streamed = streamed.unwrap().unwrap();
        assert_eq!(streamed.size, (1000, 3000));
        assert_eq!(streamed.data, whole, "{threads} threads");
    }
}

#[test]
fn parallel_resized_file_matches_the_whole_image_resize() {
    let jpeg = input();
    let options = Options::default();
    // Shrunk by the decoder to 500x1500, then resized; and resized from full size.
    for (output, min_size) in [((480, 1440), Some((480, 1440))), ((777, 2331), None)] {
        let whole = whole_image_parallel(&jpeg, output, min_size, &options);
        let files: Vec<Vec<u8>> = [1, 2]
            .into_iter()
            .map(|threads| {
                let pool = rayon::ThreadPoolBuilder::new()
                    .num_threads(threads)
                    .build()
                    .unwrap();
                let mode = Mode::Parallel {
                    output,
                    min_size,
                    fit: Fit::Inside,
                };
                let streamed = pool
                    .install(|| {
                        recompress(&jpeg, &options, |_| Ok(Some((Metadata::default(), mode))))
                    })
                    .unwrap()
                    .unwrap();
                assert_eq!(streamed.size, output);
                streamed.data
            })
            .collect();
        assert_eq!(
            files[0], files[1],
            "{output:?}: the same file on 1 and 2 threads"
        );
        let request = DecodeRequest {
            max_pixels: u64::MAX,
            accept_truncated: false,
            min_size: None,
        };
        let decode = |file: &[u8]| {
            let image = jpeg::decode(file, &request).unwrap().image;
            image
                .pixels_ref()
                .unwrap()
                .rows()
                .flatten()
                .copied()
                .collect::<Vec<u8>>()
        };
        let (banded, whole) = (decode(&files[0]), decode(&whole));
        assert_eq!(banded.len(), whole.len());
        let total: u64 = banded
            .iter()
            .zip(&whole)
            .map(|(a, b)| u64::from(a.abs_diff(*b)))
            .sum();
        let mean = total as f64 / whole.len() as f64;
        assert!(mean < 0.05, "{output:?}: mean difference {mean}");
    }
}
