//! AVIF encoding through libheif with the aom encoder (the same encoder sharp
//! and libavif use by default). Decoding is libheif's too (see `heif`).

use super::heif::{self, CompressionFormat, EncodeSettings, EncoderParameterValue, EncoderQuality};
use crate::codecs::{EncodeParams, Subsampling};
use crate::error::{Error, Result};
use crate::format::Format;
use crate::metadata::Metadata;
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

/// aom's speed (9 fastest - 0 slowest) for an effort (0-10): effort 0-10
/// spread over speeds 9-0, so sharp's effort 4 (of 9) is effort 4 here and
/// aom speed 5 in both.
fn speed_for_effort(effort: u8) -> u8 {
    9 - (u16::from(effort.min(10)) * 9 + 5) as u8 / 10
}

/// The effort that gives aom `speed` (0-9; 10 counts as 9, as in Pillow):
/// the `avif_speed` option, as Pillow's `speed` names it (sharp's AVIF
/// `effort` is 9 minus it).
pub(crate) fn effort_for_speed(speed: u8) -> u8 {
    ((u16::from(9 - speed.min(9)) * 10 + 4) / 9) as u8
}

/// The effort that gives sharp's AVIF `effort` (0-9): the `avif_effort`
/// option. sharp passes aom the speed 9 minus it.
pub(crate) fn effort_for_sharp_effort(sharp_effort: u8) -> u8 {
    effort_for_speed(9 - sharp_effort.min(9))
}

pub(crate) fn encode(image: &Image, metadata: &Metadata, params: &EncodeParams) -> Result<Vec<u8>> {
    if params.lossless {
        return Err(Error::option(
            "lossless",
            "lossless AVIF is not supported yet; use png or webp for lossless output",
        ));
    }
    let quality = params.quality.unwrap_or(DEFAULT_QUALITY);
    let speed = params.effort.map_or(DEFAULT_SPEED, speed_for_effort);
    let chroma = params.subsampling.unwrap_or(Subsampling::S444).name();
    // aom writes other bytes on one thread than on several (the same for any
    // number from two up): at least two, so that an output does not depend
    // on the machine's cores or the host's RAYON_NUM_THREADS, and a batch, a
    // Ray task and a retry of either write the same file.
    let threads = rayon::current_num_threads().clamp(2, 64) as i32;
    let mut parameters = vec![
        ("speed", EncoderParameterValue::Int(i32::from(speed))),
        ("chroma", EncoderParameterValue::String(chroma.into())),
        ("threads", EncoderParameterValue::Int(threads)),
        (
            "alpha-quality",
            EncoderParameterValue::Int(i32::from(params.alpha_quality.unwrap_or(quality))),
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
            bit_depth: if params.bit_depth.unwrap_or(8) > 8 {
                10
            } else {
                8
            },
            parameters,
        },
    )
}

extern "C" {
    /// libaom's version as `0xMMmmpp` (linked for libheif's AV1 encoder).
    fn aom_codec_version() -> std::ffi::c_int;
}

/// Refuses an AVIF the linked aom cannot encode: aom 3.6.0 (Debian 12's)
/// corrupts large images, so libheif refuses past 16384x8704 or 8192x4352
/// pixels in all (libheif's encoder_aom.cc); fixed in 3.6.1.
pub(crate) fn check_output_size(width: u32, height: u32) -> Result<()> {
    // SAFETY: `aom_codec_version` takes nothing and returns a constant.
    let version = unsafe { aom_codec_version() };
    let (w, h) = (u64::from(width), u64::from(height));
    if version == 0x03_06_00 && !(w <= 16_384 && h <= 8_704 && w * h <= 8_192 * 4_352) {
        return Err(Error::InvalidArgument(format!(
            "the output would be {width}x{height} pixels; the AV1 encoder in this build \
             (aom 3.6.0) cannot encode more than 16384x8704 or {} pixels (fixed in aom 3.6.1): \
             resize it, or choose another format",
            8_192 * 4_352
        )));
    }
    Ok(())
}

#[cfg(test)]
mod speed_tests {
    use super::*;

    #[test]
    fn every_speed_has_an_effort_that_gives_it_back() {
        for speed in 0..=9 {
            assert_eq!(speed_for_effort(effort_for_speed(speed)), speed);
        }
        assert_eq!(effort_for_speed(10), effort_for_speed(9));
        assert_eq!(speed_for_effort(4), 5);
        assert_eq!(speed_for_effort(effort_for_sharp_effort(4)), 5);
    }
}
