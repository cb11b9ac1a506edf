//! AVIF encoding through libheif with the aom encoder (the same encoder sharp
//! and libavif use by default). Decoding is libheif's too (see `heif`).

use super::heif::{self, CompressionFormat, EncodeSettings, EncoderParameterValue, EncoderQuality};
use crate::error::{Error, Result};
use crate::format::Format;
use crate::metadata::Metadata;
use crate::options::{Options, Subsampling};
use crate::pixels::Image;

/// Quality when the caller gives none (libheif's scale, 1-100).
const DEFAULT_QUALITY: u8 = 60;
/// aom speed (0 slowest - 9 fastest) when the caller gives no effort, as
/// libavif's and Pillow's default.
const DEFAULT_SPEED: u8 = 6;
/// From this aom speed up, quantization matrices are on: on a 6 MP photo at
/// speed 6 they take 6% off the bytes at the same SSIMULACRA2 for 4.5% more
/// time; at speed 5, 3% for 20% more time (BENCHMARKS.md). Bytes at a given
/// score still fall with effort: speed 5 without them is 6% under speed 6
/// with them at SSIMULACRA2 73 on that photo.
const QM_FROM_SPEED: u8 = 6;

pub(crate) fn encode(image: &Image, metadata: &Metadata, options: &Options) -> Result<Vec<u8>> {
    if options.lossless {
        return Err(Error::option(
            "lossless",
            "lossless AVIF is not supported yet; use png or webp for lossless output",
        ));
    }
    let quality = options.quality.unwrap_or(DEFAULT_QUALITY);
    // Effort 0-10 spread over aom's speeds 9-0, so sharp's effort 4 (of 9) is
    // effort 4 here and aom speed 5 in both.
    let speed = options.effort.map_or(DEFAULT_SPEED, |e| {
        9 - (u16::from(e.min(10)) * 9 + 5) as u8 / 10
    });
    let chroma = options.subsampling.unwrap_or(Subsampling::S444).name();
    let threads = rayon::current_num_threads().clamp(1, 64) as i32;
    let mut parameters = vec![
        ("speed", EncoderParameterValue::Int(i32::from(speed))),
        ("chroma", EncoderParameterValue::String(chroma.into())),
        ("threads", EncoderParameterValue::Int(threads)),
        (
            "alpha-quality",
            EncoderParameterValue::Int(i32::from(options.alpha_quality.unwrap_or(quality))),
        ),
    ];
    if speed >= QM_FROM_SPEED {
        parameters.push(("aom:enable-qm", EncoderParameterValue::String("1".into())));
    }
    heif::encode_with(
        Format::Avif,
        CompressionFormat::Av1,
        image,
        metadata,
        EncodeSettings {
            quality: EncoderQuality::Lossy(quality),
            bit_depth: if options.bit_depth.unwrap_or(8) > 8 {
                10
            } else {
                8
            },
            parameters,
        },
    )
}
