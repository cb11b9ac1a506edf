//! Decoding through the `image` crate's decoders (PNG, GIF, TIFF, BMP):
//! limits, metadata, sample layout and error mapping shared by those modules.

use super::{check_limit, DecodeRequest, Decoded};
use crate::error::{Error, Result};
use crate::format::Format;
use crate::info::Info;
use crate::metadata::Metadata;
use crate::orient::Orientation;
use crate::pixels::{Image, Layout};
use image::error::{ImageError, LimitErrorKind};
use image::{ColorType, ImageDecoder, Limits};

/// Maps an `image` crate error, keeping the codec's own message: a variant
/// of a valid file the codec does not handle (a CIELab TIFF, a 4-bit gray
/// one) is [`Error::UnsupportedFormat`], a limit the codec enforces is
/// [`Error::LimitExceeded`], data that ends early is [`Error::Truncated`] and
/// anything else malformed is [`Error::Corrupt`].
pub(crate) fn map_error(format: Format, e: ImageError) -> Error {
    let detail = e.to_string();
    let truncated = |text: &str| {
        let t = text.to_ascii_lowercase();
        t.contains("eof")
            || t.contains("end of file")
            || t.contains("unexpected end")
            || t.contains("truncat")
    };
    match e {
        ImageError::IoError(io) if io.kind() == std::io::ErrorKind::UnexpectedEof => {
            Error::truncated(format, detail)
        }
        ImageError::Limits(l) => {
            let dimensions = matches!(l.kind(), LimitErrorKind::DimensionError);
            super::limit_exceeded(codec_limit(format, dimensions), 0, 0)
        }
        ImageError::Unsupported(_) => Error::UnsupportedFormat {
            detail: format!("{format} variant not supported: {detail}"),
        },
        _ if truncated(&detail) => Error::truncated(format, detail),
        _ => Error::corrupt(format, detail),
    }
}

/// What a codec's own limit (dimensions, else memory) refused, for
/// [`super::limit_exceeded`]: the codec gives no numbers.
pub(crate) fn codec_limit(format: Format, dimensions: bool) -> &'static str {
    match (format, dimensions) {
        (Format::Png, false) => "memory the PNG decoder's own limit allows",
        (Format::Gif, false) => "memory the GIF decoder's own limit allows",
        (Format::Tiff, false) => "memory the TIFF decoder's own limits allow",
        (Format::Bmp, false) => "memory the BMP decoder's own limit allows",
        (_, false) => "memory the decoder's own limit allows",
        (_, true) => "image dimensions the decoder's own limit allows",
    }
}

/// Memory the decoder may allocate beyond the output buffer, for an image of `pixels`.
fn alloc_limit(pixels: u64) -> u64 {
    // Room for 16-bit RGBA output plus an equal working buffer, and a floor for small files.
    pixels.saturating_mul(16).max(64 << 20)
}

/// Header facts from a decoder, without decoding pixels.
pub(crate) fn probe_with(format: Format, mut decoder: impl ImageDecoder) -> Result<Info> {
    let (width, height) = decoder.dimensions();
    let metadata = metadata_of(format, &mut decoder)?;
    let color = decoder.original_color_type();
    let mut info = Info::new(format, width, height).with_metadata(&metadata);
    info.bit_depth = (color.bits_per_pixel() / u16::from(color.channel_count())) as u8;
    info.has_alpha = decoder.color_type().has_alpha();
    Ok(info)
}

/// The metadata blocks a decoder reads from the headers.
pub(crate) fn metadata_of(format: Format, decoder: &mut impl ImageDecoder) -> Result<Metadata> {
    let map = |e| map_error(format, e);
    Ok(Metadata {
        exif: decoder
            .exif_metadata()
            .map_err(map)?
            .and_then(|d| Metadata::normalize_exif(&d)),
        xmp: match decoder.xmp_metadata() {
            Ok(xmp) => xmp,
            // The png crate inflates a compressed XMP chunk only up to 2 MiB;
            // png.rs reads the packet itself, up to its own cap, with a typed error past it.
            Err(_) if format == Format::Png => None,
            Err(e) => return Err(map(e)),
        },
        icc: decoder
            .icc_profile()
            .map_err(map)?
            .filter(|d| !d.is_empty()),
        iptc: None,
    })
}

/// Decodes the (first) image of `decoder` into pixels.
pub(crate) fn decode_with(
    format: Format,
    mut decoder: impl ImageDecoder,
    request: &DecodeRequest,
) -> Result<Decoded> {
    let map = |e| map_error(format, e);
    let (width, height) = decoder.dimensions();
    check_limit(width.into(), height.into(), request.max_pixels)?;
    if width == 0 || height == 0 {
        return Err(Error::corrupt(
            format,
            format!("image has zero size ({width}x{height})"),
        ));
    }
    // The tiff crate sizes its strip buffers from the output alone, which
    // JPEG-compressed and 16-bit files exceed; its own default limits apply.
    if format != Format::Tiff {
        let mut limits = Limits::default();
        limits.max_alloc = Some(alloc_limit(u64::from(width) * u64::from(height)));
        decoder.set_limits(limits).map_err(map)?;
    }
    let metadata = metadata_of(format, &mut decoder)?;
    let stored_orientation = match format {
        Format::Tiff => decoder.orientation().map_err(map)?,
        _ => image::metadata::Orientation::NoTransforms,
    };
    let color = decoder.color_type();
    let mut buffer = vec![
        0u8;
        usize::try_from(decoder.total_bytes())
            .map_err(|_| Error::Internal("size".into()))?
    ];
    decoder.read_image(&mut buffer).map_err(map)?;
    let image = into_image(width, height, color, buffer)?;
    let exif_value = metadata
        .exif_orientation()
        .unwrap_or(match stored_orientation {
            image::metadata::Orientation::NoTransforms => 1,
            other => u16::from(other.to_exif()),
        });
    Ok(Decoded {
        image,
        metadata,
        orientation: Orientation::from_exif(exif_value),
        dropped_icc: None,
    })
}

fn into_image(width: u32, height: u32, color: ColorType, buffer: Vec<u8>) -> Result<Image> {
    let layout = match color.channel_count() {
        1 => Layout::Gray,
        2 => Layout::GrayAlpha,
        3 => Layout::Rgb,
        _ => Layout::Rgba,
    };
    match color {
        ColorType::L8 | ColorType::La8 | ColorType::Rgb8 | ColorType::Rgba8 => {
            Image::from_u8(width, height, layout, buffer)
        }
        ColorType::L16 | ColorType::La16 | ColorType::Rgb16 | ColorType::Rgba16 => {
            let samples = buffer
                .chunks_exact(2)
                .map(|b| u16::from_ne_bytes([b[0], b[1]]))
                .collect();
            Image::from_u16(width, height, layout, samples)
        }
        ColorType::Rgb32F | ColorType::Rgba32F => {
            let samples = buffer
                .chunks_exact(4)
                .map(|b| {
                    (f32::from_ne_bytes([b[0], b[1], b[2], b[3]]).clamp(0.0, 1.0) * 65535.0).round()
                        as u16
                })
                .collect();
            Image::from_u16(width, height, layout, samples)
        }
        other => Err(Error::Internal(format!(
            "unexpected decoder color type {other:?}"
        ))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::ErrorKind;
    use image::error::{
        DecodingError, ImageFormatHint, LimitError, UnsupportedError, UnsupportedErrorKind,
    };

    #[test]
    fn image_errors_map_to_their_kinds() {
        let kind = |e: ImageError| map_error(Format::Tiff, e).kind();
        let unsupported = UnsupportedError::from_format_and_kind(
            ImageFormatHint::Unknown,
            UnsupportedErrorKind::GenericFeature("CIELab".into()),
        );
        assert_eq!(
            kind(ImageError::Unsupported(unsupported)),
            ErrorKind::UnsupportedFormat
        );
        for limit in [
            LimitErrorKind::InsufficientMemory,
            LimitErrorKind::DimensionError,
        ] {
            let limits = ImageError::Limits(LimitError::from_kind(limit));
            assert_eq!(kind(limits), ErrorKind::LimitExceeded);
        }
        let bad = DecodingError::new(ImageFormatHint::Unknown, "bad Huffman code");
        assert_eq!(kind(ImageError::Decoding(bad)), ErrorKind::Corrupt);
        let cut = DecodingError::new(ImageFormatHint::Unknown, "unexpected end of file");
        assert_eq!(kind(ImageError::Decoding(cut)), ErrorKind::Truncated);
    }
}
