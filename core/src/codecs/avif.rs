//! AVIF encoding through ravif (rav1e). Decoding is libheif's (see `heif`).

use crate::error::{Error, Result};
use crate::format::Format;
use crate::metadata::Metadata;
use crate::options::Options;
use crate::pixels::{Image, Layout, Samples};
use imgref::Img;
use ravif::{BitDepth, Encoder};

/// Quality when the caller gives none (ravif's scale, 1-100).
const DEFAULT_QUALITY: u8 = 60;
/// rav1e speed (1 slowest - 10 fastest) when the caller gives no effort.
const DEFAULT_SPEED: u8 = 6;

pub(crate) fn encode(image: &Image, metadata: &Metadata, options: &Options) -> Result<Vec<u8>> {
    if options.lossless {
        return Err(Error::option(
            "lossless",
            "ravif has no lossless AVIF mode; use png or webp for lossless output",
        ));
    }
    let Samples::U8(pixels) = &image.samples else {
        return Err(Error::Internal("AVIF encoder given 16-bit samples".into()));
    };
    let quality = f32::from(options.quality.unwrap_or(DEFAULT_QUALITY));
    let speed = options.effort.map_or(DEFAULT_SPEED, |e| 10 - e.min(9));
    let depth = match options.bit_depth {
        Some(8) => BitDepth::Eight,
        Some(_) => BitDepth::Ten,
        None => BitDepth::Eight,
    };
    let mut encoder = Encoder::new()
        .with_quality(quality)
        .with_alpha_quality(f32::from(
            options
                .alpha_quality
                .unwrap_or(options.quality.unwrap_or(DEFAULT_QUALITY)),
        ))
        .with_speed(speed)
        .with_bit_depth(depth);
    if let Some(exif) = metadata.exif.as_deref() {
        encoder = encoder.with_exif(exif);
    }
    let (w, h) = (image.width as usize, image.height as usize);
    let encoded = match image.layout {
        Layout::Rgb => encoder.encode_rgb(Img::new(
            bytemuck::cast_slice::<u8, rgb::RGB8>(pixels),
            w,
            h,
        )),
        Layout::Rgba => encoder.encode_rgba(Img::new(
            bytemuck::cast_slice::<u8, rgb::RGBA8>(pixels),
            w,
            h,
        )),
        other => return Err(Error::Internal(format!("AVIF encoder given {other:?}"))),
    };
    let file = encoded
        .map(|e| e.avif_file)
        .map_err(|e| Error::encode(Format::Avif, e.to_string()))?;
    super::isobmff::add_metadata(
        Format::Avif,
        file,
        metadata.xmp.as_deref(),
        metadata.icc.as_deref(),
    )
}
