//! TIFF decoding (strips and tiles; LZW, Deflate, PackBits, JPEG, CCITT;
//! 8/16-bit) through the `tiff` crate via `image`. CCITT Group 3 (fax),
//! which the `tiff` crate lacks, is decoded here with the `fax` crate.
//! The first page is decoded.

use super::{check_limit, raster, DecodeRequest, Decoded};
use crate::error::{Error, Result};
use crate::format::Format;
use crate::info::Info;
use crate::metadata::Metadata;
use crate::orient::Orientation;
use crate::pixels::{Image, Layout};
use image::codecs::tiff::TiffDecoder;
use std::io::Cursor;
use tiff::tags::Tag;

/// TIFF Compression value for CCITT Group 3 (T.4).
const COMPRESSION_CCITT_T4: u32 = 3;

fn decoder(data: &[u8]) -> Result<TiffDecoder<Cursor<&[u8]>>> {
    TiffDecoder::new(Cursor::new(data)).map_err(|e| raster::map_error(Format::Tiff, e))
}

/// Maps a `tiff` crate error as [`raster::map_error`] maps the `image`
/// crate's: a variant the crate does not handle (CIELab, say) is
/// [`Error::UnsupportedFormat`], its own limits [`Error::LimitExceeded`].
fn tiff_error(e: tiff::TiffError) -> Error {
    match e {
        tiff::TiffError::IoError(io) if io.kind() == std::io::ErrorKind::UnexpectedEof => {
            Error::truncated(Format::Tiff, io.to_string())
        }
        tiff::TiffError::UnsupportedError(unsupported) => Error::UnsupportedFormat {
            detail: format!("TIFF variant not supported: {unsupported}"),
        },
        tiff::TiffError::LimitsExceeded => {
            super::limit_exceeded(raster::codec_limit(Format::Tiff, false), 0, 0)
        }
        other => Error::corrupt(Format::Tiff, other.to_string()),
    }
}

/// The first page's compression, read from its IFD.
fn compression(data: &[u8]) -> Result<u32> {
    let mut d = tiff::decoder::Decoder::new(Cursor::new(data)).map_err(tiff_error)?;
    Ok(d.find_tag_unsigned::<u32>(Tag::Compression)
        .map_err(tiff_error)?
        .unwrap_or(1))
}

pub(crate) fn probe(data: &[u8]) -> Result<Info> {
    if compression(data)? == COMPRESSION_CCITT_T4 {
        let mut d = tiff::decoder::Decoder::new(Cursor::new(data)).map_err(tiff_error)?;
        let (w, h) = d.dimensions().map_err(tiff_error)?;
        let mut info = Info::new(Format::Tiff, w, h);
        info.bit_depth = 1;
        return Ok(info);
    }
    let mut info = raster::probe_with(Format::Tiff, decoder(data)?)?;
    // EXIF, GPS and IPTC live in the TIFF structure itself.
    let mut d = tiff::decoder::Decoder::new(Cursor::new(data)).map_err(tiff_error)?;
    let mut has = |tag: u16| {
        d.find_tag(Tag::Unknown(tag))
            .map(|v| v.is_some())
            .unwrap_or(false)
    };
    info.has_exif |= has(34665) || has(34853);
    info.has_iptc |= has(33723);
    Ok(info)
}

pub(crate) fn decode(data: &[u8], request: &DecodeRequest) -> Result<Decoded> {
    if compression(data)? == COMPRESSION_CCITT_T4 {
        return decode_fax(data, request);
    }
    let mut decoded = raster::decode_with(Format::Tiff, decoder(data)?, request)?;
    if associated_alpha(data)? {
        decoded.image.unpremultiply();
    }
    decoded.metadata = Metadata::from_tiff_file(data, decoded.metadata);
    Ok(decoded)
}

/// Whether the first page's extra sample is premultiplied alpha (ExtraSamples = 1).
fn associated_alpha(data: &[u8]) -> Result<bool> {
    let mut d = tiff::decoder::Decoder::new(Cursor::new(data)).map_err(tiff_error)?;
    let extra = d
        .find_tag(Tag::ExtraSamples)
        .map_err(tiff_error)?
        .and_then(|v| v.into_u16_vec().ok());
    Ok(extra.is_some_and(|v| v.first() == Some(&1)))
}

/// Decodes a one-dimensional CCITT Group 3 page to 8-bit gray.
fn decode_fax(data: &[u8], request: &DecodeRequest) -> Result<Decoded> {
    let mut d = tiff::decoder::Decoder::new(Cursor::new(data)).map_err(tiff_error)?;
    let (width, height) = d.dimensions().map_err(tiff_error)?;
    check_limit(width.into(), height.into(), request.max_pixels)?;
    let tag = |d: &mut tiff::decoder::Decoder<Cursor<&[u8]>>, t: Tag| {
        d.find_tag_unsigned::<u32>(t).map_err(tiff_error)
    };
    let t4_options = tag(&mut d, Tag::Unknown(292))?.unwrap_or(0);
    if t4_options & 1 != 0 {
        // A valid file in a variant no build decodes: not a missing codec.
        return Err(Error::UnsupportedFormat {
            detail: "TIFF variant not supported: two-dimensional CCITT Group 3".into(),
        });
    }
    let lsb_first = tag(&mut d, Tag::FillOrder)?.unwrap_or(1) == 2;
    let offsets = d.get_tag_u64_vec(Tag::StripOffsets).map_err(tiff_error)?;
    let counts = d
        .get_tag_u64_vec(Tag::StripByteCounts)
        .map_err(tiff_error)?;
    let width16 = u16::try_from(width)
        .map_err(|_| Error::corrupt(Format::Tiff, "fax page wider than 65535"))?;
    let (w, h) = (width as usize, height as usize);
    let mut pixels = Vec::with_capacity(w * h);
    for (&offset, &count) in offsets.iter().zip(&counts) {
        let strip = usize::try_from(offset)
            .ok()
            .zip(usize::try_from(count).ok())
            .and_then(|(o, c)| data.get(o..o.checked_add(c)?))
            .ok_or_else(|| Error::truncated(Format::Tiff, "fax strip lies outside the file"))?;
        let bytes = strip
            .iter()
            .map(|&b| if lsb_first { b.reverse_bits() } else { b });
        // The result is None when a strip ends without an RTC marker, which fax
        // writers often omit; the row count below decides whether data is missing.
        let _ = fax::decoder::decode_g3(bytes, |transitions| {
            if pixels.len() < w * h {
                pixels.extend(fax::decoder::pels(transitions, width16).map(|c| match c {
                    fax::Color::White => 255u8,
                    fax::Color::Black => 0,
                }));
            }
        });
    }
    // A page exactly one row short of its declared height (a common fax writer
    // quirk; libtiff and Pillow show it) gets a white last row. More is truncation.
    if pixels.len() + w == w * h {
        pixels.resize(w * h, 255);
    }
    if pixels.len() < w * h {
        return Err(Error::truncated(
            Format::Tiff,
            format!("fax data ends after {} of {h} rows", pixels.len() / w),
        ));
    }
    // The fax code names colors, so PhotometricInterpretation does not change the mapping.
    let image = Image::from_u8(width, height, Layout::Gray, pixels)?;
    Ok(Decoded {
        image,
        metadata: Metadata::default(),
        orientation: Orientation::Normal,
        dropped_icc: None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::ErrorKind;

    /// A one-pixel, uncompressed, 8-bit, three-sample little-endian TIFF
    /// with PhotometricInterpretation `photometric` and sample values `pixel`.
    fn tiff_1x1(photometric: u16, pixel: [u8; 3]) -> Vec<u8> {
        tiff_1x1_with_icc(photometric, pixel, None)
    }

    /// [`tiff_1x1`] with an ICC profile (tag 34675) after the pixel, if given.
    fn tiff_1x1_with_icc(photometric: u16, pixel: [u8; 3], icc: Option<&[u8]>) -> Vec<u8> {
        let entry_count = 9 + u32::from(icc.is_some());
        let bits_at = 8 + 2 + entry_count * 12 + 4;
        let pixel_at = bits_at + 6;
        // (tag, type, count, value); type 3 is SHORT, 4 LONG, 7 UNDEFINED.
        let mut entries: Vec<(u16, u16, u32, u32)> = vec![
            (256, 3, 1, 1),                      // ImageWidth
            (257, 3, 1, 1),                      // ImageLength
            (258, 3, 3, bits_at),                // BitsPerSample: 8, 8, 8, out of line
            (259, 3, 1, 1),                      // Compression: none
            (262, 3, 1, u32::from(photometric)), // PhotometricInterpretation
            (273, 4, 1, pixel_at),               // StripOffsets
            (277, 3, 1, 3),                      // SamplesPerPixel
            (278, 3, 1, 1),                      // RowsPerStrip
            (279, 4, 1, 3),                      // StripByteCounts
        ];
        if let Some(icc) = icc {
            // Out of line, at the even offset after the pixel.
            entries.push((34675, 7, icc.len() as u32, pixel_at + 4));
        }
        let mut file = b"II*\0".to_vec();
        file.extend(8u32.to_le_bytes());
        file.extend((entry_count as u16).to_le_bytes());
        for (tag, kind, count, value) in entries {
            file.extend(tag.to_le_bytes());
            file.extend(kind.to_le_bytes());
            file.extend(count.to_le_bytes());
            file.extend(value.to_le_bytes());
        }
        file.extend(0u32.to_le_bytes()); // no next IFD
        assert_eq!(file.len(), bits_at as usize);
        file.extend([8, 0, 8, 0, 8, 0]);
        file.extend(pixel);
        if let Some(icc) = icc {
            file.push(0);
            file.extend(icc);
        }
        file
    }

    fn request() -> DecodeRequest {
        DecodeRequest {
            max_pixels: u64::MAX,
            accept_truncated: false,
            min_size: None,
        }
    }

    #[test]
    fn a_cielab_tiff_is_an_unsupported_variant_not_a_corrupt_file() {
        // The same file as RGB decodes: only the color space differs.
        let rgb = decode(&tiff_1x1(2, [50, 0, 0]), &request()).unwrap();
        assert_eq!((rgb.image.width, rgb.image.height), (1, 1));
        let lab = tiff_1x1(8, [50, 0, 0]);
        let err = probe(&lab).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::UnsupportedFormat, "{err}");
        let err = decode(&lab, &request()).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::UnsupportedFormat, "{err}");
        assert!(err.to_string().contains("CIELab"), "{err}");
    }

    #[test]
    fn a_cmyk_profile_on_rgb_pixels_is_dropped_and_kept_aside() {
        // The image crate's decoder turns CMYK samples into RGB and leaves the
        // profile attached; RGB samples tagged with a CMYK profile stand for that.
        let mut profile = vec![0u8; 132];
        profile[..4].copy_from_slice(&132u32.to_be_bytes());
        profile[16..20].copy_from_slice(b"CMYK");
        let file = tiff_1x1_with_icc(2, [10, 20, 30], Some(&profile[..]));
        let decoded = super::super::decode(Format::Tiff, &file, &request()).unwrap();
        assert_eq!(decoded.metadata.icc, None);
        assert_eq!(decoded.dropped_icc, Some(profile.clone()));
        // A profile of RGB data stays.
        profile[16..20].copy_from_slice(b"RGB ");
        let file = tiff_1x1_with_icc(2, [10, 20, 30], Some(&profile[..]));
        let decoded = super::super::decode(Format::Tiff, &file, &request()).unwrap();
        assert_eq!(decoded.metadata.icc, Some(profile));
        assert_eq!(decoded.dropped_icc, None);
    }

    #[test]
    fn tiff_errors_map_to_their_kinds() {
        let unsupported = tiff::TiffUnsupportedError::UnknownCompressionMethod;
        let kind = |e: tiff::TiffError| tiff_error(e).kind();
        assert_eq!(
            kind(tiff::TiffError::UnsupportedError(unsupported)),
            ErrorKind::UnsupportedFormat
        );
        assert_eq!(
            kind(tiff::TiffError::LimitsExceeded),
            ErrorKind::LimitExceeded
        );
        let eof = std::io::Error::from(std::io::ErrorKind::UnexpectedEof);
        assert_eq!(kind(tiff::TiffError::IoError(eof)), ErrorKind::Truncated);
        let format = tiff::TiffFormatError::TiffSignatureNotFound;
        assert_eq!(
            kind(tiff::TiffError::FormatError(format)),
            ErrorKind::Corrupt
        );
    }
}
