//! AVIF and HEIC/HEIF decoding, and encoding (AVIF with aom; HEIC with the
//! opt-in x265), through libheif.
//!
//! libheif applies the mandatory `irot`, `imir` and `clap` transforms while
//! decoding, as the HEIF standard requires, so the EXIF orientation these
//! files also carry is never applied a second time.

use super::jpeg::Ycbcr420;
use super::EncodeParams;
use super::{check_limit, DecodeRequest, Decoded};
use crate::error::{Error, Result};
use crate::format::Format;
use crate::info::Info;
use crate::metadata::Metadata;
use crate::orient::Orientation;
use crate::pixels::{Image, Layout, Samples};
use libheif_rs::{
    color_profile_types, Channel, Chroma, ColorProfileRaw, ColorSpace, DecodingOptions,
    HeifContext, HeifError, HeifErrorCode, HeifErrorSubCode, ImageHandle, LibHeif,
    MatrixCoefficients, RgbChroma,
};
pub(crate) use libheif_rs::{CompressionFormat, EncoderParameterValue, EncoderQuality};

/// Whether this build encodes HEIC (the GPL x265 encoder is opt-in).
pub(crate) const CAN_ENCODE: bool = cfg!(feature = "heic-encode");

/// What a libheif security limit refused, for [`super::limit_exceeded`]:
/// libheif gives no numbers, and its message names the limit.
const SECURITY_LIMIT: &str = "sizes and counts libheif's security limits allow";

/// The error a libheif failure on `format` input is:
///
/// - a security limit of libheif's (image size, item and box counts, memory)
///   is a limit error, [`Error::ResourceLimit`];
/// - a decoder or decompressor this build of libheif lacks is
///   [`Error::CodecUnavailable`]: no decoder plugin for the compression
///   format (`PluginLoadingError`, sub-code `No_matching_decoder_installed`,
///   which the libheif-rs version feature in use cannot name), or zlib or
///   brotli not built in for compressed header boxes or item data;
/// - any other unsupported feature or file type (an item type, construction
///   method, content encoding, essential property or color conversion
///   libheif does not have) is an unsupported variant of a valid file,
///   [`Error::UnsupportedFormat`];
/// - an unsupported box version is corrupt: the boxes define version 0
///   (some 1 or 2), and another is what damaged and fuzzed files carry (the
///   corpus's `meta` boxes of version 32 and 63);
/// - data ending early is truncated, anything else corrupt.
fn map_error(format: Format, e: HeifError) -> Error {
    let detail = format!("libheif: {} ({:?}/{:?})", e.message, e.code, e.sub_code);
    match (e.code, e.sub_code) {
        (_, HeifErrorSubCode::EndOfData) => Error::truncated(format, detail),
        (_, HeifErrorSubCode::SecurityLimitExceeded) => {
            tracing::debug!(%detail, "libheif security limit");
            super::limit_exceeded(SECURITY_LIMIT, 0, 0)
        }
        (HeifErrorCode::PluginLoadingError, _)
        | (
            HeifErrorCode::UnsupportedFeature,
            HeifErrorSubCode::UnsupportedHeaderCompressionMethod,
        ) => Error::CodecUnavailable {
            detail: format!("this build's libheif cannot decode this {format} file: {detail}"),
        },
        (HeifErrorCode::UnsupportedFeature, HeifErrorSubCode::UnsupportedDataVersion) => {
            Error::corrupt(format, detail)
        }
        (HeifErrorCode::UnsupportedFileType | HeifErrorCode::UnsupportedFeature, _) => {
            Error::UnsupportedFormat {
                detail: format!("{format} file libheif does not support: {detail}"),
            }
        }
        _ => Error::corrupt(format, detail),
    }
}

/// The interleaved RGB layout libheif reads and writes: with or without
/// alpha, 8-bit or (`high`) 16-bit little-endian samples.
fn interleaved_chroma(alpha: bool, high: bool) -> RgbChroma {
    match (alpha, high) {
        (false, false) => RgbChroma::Rgb,
        (true, false) => RgbChroma::Rgba,
        (false, true) => RgbChroma::HdrRgbLe,
        (true, true) => RgbChroma::HdrRgbaLe,
    }
}

/// How the primary image is turned upright when pixpress rather than
/// libheif applies its transforms: when its only transform is a rotation
/// (`irot`, which libheif applies one sample at a time, an eighth of the
/// time of converting an iPhone photo to JPEG), the orientation that
/// applies it and the decoding options that leave it to pixpress; `None`
/// when libheif must apply them (a mirror or a crop).
fn own_rotation(data: &[u8]) -> Result<Option<(Orientation, DecodingOptions)>> {
    let Some(quarter_turns) = super::isobmff::primary_rotation(data) else {
        return Ok(None);
    };
    let mut options = DecodingOptions::new()
        .ok_or_else(|| Error::Internal("libheif allocated no decoding options".into()))?;
    options.set_ignore_transformations(true);
    // irot turns anticlockwise; the orientations name clockwise turns.
    let turn = match quarter_turns {
        1 => Orientation::Rotate270,
        2 => Orientation::Rotate180,
        3 => Orientation::Rotate90,
        _ => Orientation::Normal,
    };
    Ok(Some((turn, options)))
}

/// Parses the container and returns the primary image's handle. Grid tiles
/// are decoded on as many threads as the rayon pool has (on the calling
/// thread when it has one), so `RAYON_NUM_THREADS` bounds libheif's threads
/// as it bounds pixpress's own and a host running one call per core is not
/// oversubscribed; libheif's default is four.
fn open(format: Format, data: &[u8]) -> Result<(HeifContext<'_>, ImageHandle)> {
    let mut context = HeifContext::read_from_bytes(data).map_err(|e| map_error(format, e))?;
    let threads = rayon::current_num_threads();
    context.set_max_decoding_threads(if threads > 1 { threads as u32 } else { 0 });
    let handle = context
        .primary_image_handle()
        .map_err(|e| map_error(format, e))?;
    Ok((context, handle))
}

fn metadata_of(handle: &ImageHandle) -> Metadata {
    let mut meta = Metadata::default();
    for block in handle.all_metadata() {
        match &block.item_type.to_string()[..] {
            // The Exif item starts with a 4-byte offset to the TIFF header.
            "Exif" if meta.exif.is_none() => {
                let data = &block.raw_data;
                let skip = data
                    .get(..4)
                    .map(|b| u32::from_be_bytes(b.try_into().unwrap_or_default()) as usize);
                let body = skip.and_then(|s| data.get(4 + s..)).unwrap_or_default();
                meta.exif =
                    Metadata::normalize_exif(body).or_else(|| Metadata::normalize_exif(data));
            }
            "mime" if block.content_type.contains("rdf+xml") && meta.xmp.is_none() => {
                meta.xmp = Some(block.raw_data.clone())
            }
            _ => {}
        }
    }
    meta.icc = handle
        .color_profile_raw()
        .map(|p| p.data)
        .filter(|d| !d.is_empty());
    meta
}

pub(crate) fn probe(format: Format, data: &[u8]) -> Result<Info> {
    let (context, handle) = open(format, data)?;
    let metadata = metadata_of(&handle);
    let mut info = Info::new(format, handle.width(), handle.height()).with_metadata(&metadata);
    info.bit_depth = handle.luma_bits_per_pixel();
    info.has_alpha = handle.has_alpha_channel();
    info.frames = context.top_level_image_handles().len() as u32;
    // libheif applies irot/imir; the EXIF value no longer describes the decoded pixels.
    info.orientation = 1;
    Ok(info)
}

/// The metadata blocks of the container, as stored or (`as_decoded`) as
/// [`decode`] gives them.
pub(crate) fn header_metadata(format: Format, data: &[u8], as_decoded: bool) -> Result<Metadata> {
    let (_context, handle) = open(format, data)?;
    let mut metadata = metadata_of(&handle);
    if as_decoded {
        metadata.reset_orientation();
    }
    Ok(metadata)
}

pub(crate) fn decode(format: Format, data: &[u8], request: &DecodeRequest) -> Result<Decoded> {
    let (_context, handle) = open(format, data)?;
    check_limit(
        handle.width().into(),
        handle.height().into(),
        request.max_pixels,
    )?;
    let mut metadata = metadata_of(&handle);
    let alpha = handle.has_alpha_channel();
    let bits = handle.luma_bits_per_pixel();
    let high = bits > 8;
    let chroma = interleaved_chroma(alpha, high);
    let (turn, options) = own_rotation(data)?.unzip();
    let decoded = LibHeif::new()
        .decode(&handle, ColorSpace::Rgb(chroma), options)
        .map_err(|e| map_error(format, e))?;
    let planes = decoded.planes();
    let plane = planes
        .interleaved
        .ok_or_else(|| Error::Internal("libheif returned no interleaved plane".into()))?;
    let layout = if alpha { Layout::Rgba } else { Layout::Rgb };
    let (w, h) = (plane.width, plane.height);
    let row_samples = w as usize * layout.channels();
    let image = if high {
        let max = (1u32 << plane.bits_per_pixel.clamp(9, 16)) - 1;
        let mut out = crate::buffer_pool::take(row_samples * h as usize);
        for row in plane.data.chunks(plane.stride).take(h as usize) {
            out.extend(row[..row_samples * 2].chunks_exact(2).map(|b| {
                let v = u32::from(u16::from_le_bytes([b[0], b[1]])).min(max);
                ((v * 65535 + max / 2) / max) as u16
            }));
        }
        Image::from_u16(w, h, layout, out)?
    } else {
        // Turned (or copied) straight out of libheif's rows: one pass.
        turn.unwrap_or_default()
            .apply_to_rows(plane.data, plane.stride, w, h, layout)?
    };
    let image = if high {
        turn.unwrap_or_default().apply(image)
    } else {
        image
    };
    // The transforms are applied: the EXIF orientation must not be applied again.
    metadata.reset_orientation();
    Ok(Decoded {
        image,
        metadata,
        orientation: Orientation::Normal,
        dropped_icc: None,
    })
}

/// A HEIF or AVIF image decoded to 8-bit YCbCr 4:2:0 as JPEG codes it,
/// turned upright: what [`decode`] gives before libheif converts it to RGB.
/// See [`decode_ycbcr420`].
pub(crate) struct DecodedYcbcr {
    planes: YcbcrStorage,
    /// The metadata blocks, as [`decode`] gives them.
    pub(crate) metadata: Metadata,
}

/// Where the planes of a [`DecodedYcbcr`] live.
enum YcbcrStorage {
    /// libheif's planes, as decoded.
    Decoded(libheif_rs::Image),
    /// Turned planes: Y, Cb and Cr as gray images.
    Turned([Image; 3]),
}

impl DecodedYcbcr {
    /// The three planes.
    pub(crate) fn planes(&self) -> Ycbcr420<'_> {
        match &self.planes {
            YcbcrStorage::Decoded(image) => {
                fn plane(p: Option<libheif_rs::Plane<&[u8]>>) -> (&[u8], usize) {
                    p.map_or((&[][..], 0), |p| (p.data, p.stride))
                }
                let planes = image.planes();
                let luma = planes.y.as_ref().map_or((0, 0), |p| (p.width, p.height));
                Ycbcr420 {
                    width: luma.0,
                    height: luma.1,
                    planes: [plane(planes.y), plane(planes.cb), plane(planes.cr)],
                }
            }
            YcbcrStorage::Turned(planes) => {
                fn plane(p: &Image) -> (&[u8], usize) {
                    match &p.samples {
                        Samples::U8(samples) => (&samples[..], p.width as usize),
                        Samples::U16(_) => (&[][..], 0),
                    }
                }
                Ycbcr420 {
                    width: planes[0].width,
                    height: planes[0].height,
                    planes: [plane(&planes[0]), plane(&planes[1]), plane(&planes[2])],
                }
            }
        }
    }
}

/// Decodes the primary image to YCbCr 4:2:0 planes JPEG can code as they
/// are: `None` (nothing decoded, or the decode discarded) when the image has
/// alpha or more than 8 bits, is mirrored or cropped, or its planes are not
/// 8-bit 4:2:0 in the BT.601 matrix at full range (the iPhone's HEIC is all
/// of these). A rotation is applied to the planes ([`own_rotation`]); an
/// odd-sized rotated image is left to the pixel path, where chroma siting
/// cannot shift. `accepts` sees the size and metadata before anything is
/// decoded, and declines with `false`.
pub(crate) fn decode_ycbcr420(
    format: Format,
    data: &[u8],
    max_pixels: u64,
    accepts: impl FnOnce(u32, u32, &Metadata) -> bool,
) -> Result<Option<DecodedYcbcr>> {
    let (_context, handle) = open(format, data)?;
    let (width, height) = (handle.width(), handle.height());
    check_limit(width.into(), height.into(), max_pixels)?;
    if handle.has_alpha_channel() || handle.luma_bits_per_pixel() != 8 {
        return Ok(None);
    }
    let Some((turn, options)) = own_rotation(data)? else {
        return Ok(None);
    };
    let even = width % 2 == 0 && height % 2 == 0;
    let mut metadata = metadata_of(&handle);
    if (turn != Orientation::Normal && !even) || !accepts(width, height, &metadata) {
        return Ok(None);
    }
    let image = LibHeif::new()
        .decode(&handle, ColorSpace::YCbCr(Chroma::C420), Some(options))
        .map_err(|e| map_error(format, e))?;
    let jpeg_matrix = image.color_profile_nclx().is_some_and(|nclx| {
        nclx.full_range_flag() != 0
            && matches!(
                nclx.matrix_coefficients(),
                // Unspecified converts as BT.601 in libheif too.
                MatrixCoefficients::ITU_R_BT_601_6
                    | MatrixCoefficients::ITU_R_BT_470_6_System_B_G
                    | MatrixCoefficients::Unspecified
            )
    });
    let planes = image.planes();
    let (Some(y), Some(cb), Some(cr)) = (&planes.y, &planes.cb, &planes.cr) else {
        return Ok(None);
    };
    let halves = (y.width.div_ceil(2), y.height.div_ceil(2));
    let eight_bit_420 = [y, cb, cr]
        .iter()
        .all(|p| p.bits_per_pixel == 8 && p.storage_bits_per_pixel == 8)
        && (cb.width, cb.height) == halves
        && (cr.width, cr.height) == halves;
    if !jpeg_matrix || !eight_bit_420 {
        return Ok(None);
    }
    let planes = if turn == Orientation::Normal {
        YcbcrStorage::Decoded(image)
    } else {
        let turned = [y, cb, cr].map(|p| {
            let row = p.width as usize;
            let mut samples = crate::buffer_pool::take(row * p.height as usize);
            for line in p.data.chunks(p.stride).take(p.height as usize) {
                samples.extend_from_slice(&line[..row]);
            }
            Image::from_u8(p.width, p.height, Layout::Gray, samples).map(|i| turn.apply(i))
        });
        let [y, cb, cr] = turned;
        YcbcrStorage::Turned([y?, cb?, cr?])
    };
    // The transforms are applied, as in `decode`.
    metadata.reset_orientation();
    Ok(Some(DecodedYcbcr { planes, metadata }))
}

#[cfg(not(feature = "heic-encode"))]
pub(crate) fn encode(
    _image: &Image,
    _metadata: &Metadata,
    _params: &EncodeParams,
) -> Result<Vec<u8>> {
    Err(Error::CodecUnavailable {
        detail: "HEIC encoding needs the x265 encoder (GPL); build pixpress with the `heic-encode` feature".into(),
    })
}

#[cfg(feature = "heic-encode")]
pub(crate) fn encode(image: &Image, metadata: &Metadata, params: &EncodeParams) -> Result<Vec<u8>> {
    let quality = if params.lossless {
        EncoderQuality::LossLess
    } else {
        EncoderQuality::Lossy(params.quality.unwrap_or(60))
    };
    encode_with(
        Format::Heic,
        CompressionFormat::Hevc,
        image,
        metadata,
        EncodeSettings {
            quality,
            bit_depth: 8,
            parameters: Vec::new(),
        },
    )
}

/// What [`encode_with`] hands the libheif encoder.
pub(crate) struct EncodeSettings {
    /// Lossy quality (libheif's 0-100 scale) or lossless.
    pub quality: EncoderQuality,
    /// Bits per sample of the coded image: 8, or 10 (8-bit samples widened).
    pub bit_depth: u8,
    /// Encoder parameters by their libheif names (`speed`, `chroma`, ...).
    /// Those named `aom:...` go to aom as they are: libheif takes any such
    /// name and aom applies it while encoding (an option it refuses fails the
    /// encode); they are skipped only where libheif cannot pass options to
    /// aom at all.
    pub parameters: Vec<(&'static str, EncoderParameterValue)>,
}

/// Encodes 8-bit RGB or RGBA through libheif (AVIF with aom, HEIC with x265),
/// with EXIF and XMP as items and the ICC profile as a `colr` property.
pub(crate) fn encode_with(
    format: Format,
    compression: CompressionFormat,
    image: &Image,
    metadata: &Metadata,
    settings: EncodeSettings,
) -> Result<Vec<u8>> {
    let fail = |e: HeifError| Error::encode(format, e.message);
    let Samples::U8(pixels) = &image.samples else {
        return Err(Error::Internal(format!(
            "{format} encoder given 16-bit samples"
        )));
    };
    let wide = settings.bit_depth > 8;
    let chroma = interleaved_chroma(image.layout == Layout::Rgba, wide);
    let mut heif_image =
        libheif_rs::Image::new(image.width, image.height, ColorSpace::Rgb(chroma)).map_err(fail)?;
    heif_image
        .create_plane(
            Channel::Interleaved,
            image.width,
            image.height,
            settings.bit_depth,
        )
        .map_err(fail)?;
    let mut planes = heif_image.planes_mut();
    let plane = planes
        .interleaved
        .as_mut()
        .ok_or_else(|| Error::Internal("no interleaved plane".into()))?;
    let row = image.width as usize * image.layout.channels();
    for (dst, src) in plane
        .data
        .chunks_mut(plane.stride)
        .zip(pixels.chunks_exact(row))
    {
        if wide {
            // 8 to 10 bits by bit replication, so 255 becomes 1023.
            for (d, &v) in dst.chunks_exact_mut(2).zip(src) {
                let v = u16::from(v);
                d.copy_from_slice(&((v << 2) | (v >> 6)).to_le_bytes());
            }
        } else {
            dst[..row].copy_from_slice(src);
        }
    }
    if let Some(icc) = metadata.icc.as_deref() {
        heif_image
            .set_color_profile_raw(&ColorProfileRaw::new(
                color_profile_types::PROF,
                icc.to_vec(),
            ))
            .map_err(fail)?;
    }
    let lib = LibHeif::new();
    let mut encoder = lib.encoder_for_format(compression).map_err(fail)?;
    encoder.set_quality(settings.quality).map_err(fail)?;
    for (name, value) in settings.parameters {
        match encoder.set_parameter_value(name, value) {
            Err(e) if !name.starts_with("aom:") => return Err(fail(e)),
            _ => {}
        }
    }
    let mut context = HeifContext::new().map_err(fail)?;
    let handle = context
        .encode_image(&heif_image, &mut encoder, None)
        .map_err(fail)?;
    if let Some(exif) = metadata.exif.as_deref() {
        context.add_exif_metadata(&handle, exif).map_err(fail)?;
    }
    if let Some(xmp) = metadata.xmp.as_deref() {
        context.add_xmp_metadata(&handle, xmp).map_err(fail)?;
    }
    context.write_to_bytes().map_err(fail)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::ErrorKind;

    fn kind_of(code: HeifErrorCode, sub_code: HeifErrorSubCode) -> ErrorKind {
        let error = HeifError {
            code,
            sub_code,
            message: "libheif's message".into(),
        };
        map_error(Format::Heic, error).kind()
    }

    #[test]
    fn libheif_errors_map_to_the_kind_the_caller_acts_on() {
        use libheif_rs::{HeifErrorCode as C, HeifErrorSubCode as S};
        let truncated = [(C::InvalidInput, S::EndOfData)];
        // libheif's own limits, whatever the code they come with.
        let limits = [
            (C::MemoryAllocationError, S::SecurityLimitExceeded),
            (C::UnsupportedFileType, S::SecurityLimitExceeded),
            (C::InvalidInput, S::SecurityLimitExceeded),
        ];
        // A decoder or decompressor this build lacks.
        let unavailable = [
            (C::PluginLoadingError, S::Unknown),
            (C::PluginLoadingError, S::Unspecified),
            (C::UnsupportedFeature, S::UnsupportedHeaderCompressionMethod),
        ];
        // Variants of valid files libheif does not handle.
        let unsupported = [
            (C::UnsupportedFileType, S::Unspecified),
            (C::UnsupportedFeature, S::UnsupportedCodec),
            (C::UnsupportedFeature, S::UnsupportedImageType),
            (C::UnsupportedFeature, S::UnsupportedItemConstructionMethod),
            (C::UnsupportedFeature, S::UnsupportedColorConversion),
            (C::UnsupportedFeature, S::Unspecified),
            (C::UnsupportedFeature, S::Unknown),
        ];
        let corrupt = [
            (C::InvalidInput, S::NoFtypBox),
            (C::InvalidInput, S::Unspecified),
            (C::InvalidInput, S::NonExistingItemReferenced),
            // A box version no valid file has (the corpus's fuzzed `meta` boxes).
            (C::UnsupportedFeature, S::UnsupportedDataVersion),
            (C::DecoderPluginError, S::Unspecified),
        ];
        for (kind, cases) in [
            (ErrorKind::Truncated, &truncated[..]),
            (ErrorKind::LimitExceeded, &limits[..]),
            (ErrorKind::CodecUnavailable, &unavailable[..]),
            (ErrorKind::UnsupportedFormat, &unsupported[..]),
            (ErrorKind::Corrupt, &corrupt[..]),
        ] {
            for &(code, sub_code) in cases {
                assert_eq!(kind_of(code, sub_code), kind, "{code:?}/{sub_code:?}");
            }
        }
    }

    #[test]
    fn mapped_errors_keep_libheif_s_message() {
        let error = |code, sub_code| HeifError {
            code,
            sub_code,
            message: "libheif's message".into(),
        };
        for e in [
            error(HeifErrorCode::PluginLoadingError, HeifErrorSubCode::Unknown),
            error(
                HeifErrorCode::UnsupportedFeature,
                HeifErrorSubCode::UnsupportedImageType,
            ),
            error(HeifErrorCode::InvalidInput, HeifErrorSubCode::NoFtypBox),
        ] {
            let mapped = map_error(Format::Avif, e).to_string();
            assert!(mapped.contains("libheif's message"), "{mapped}");
            assert!(mapped.contains("avif"), "{mapped}");
        }
        let limit = map_error(
            Format::Heic,
            error(
                HeifErrorCode::MemoryAllocationError,
                HeifErrorSubCode::SecurityLimitExceeded,
            ),
        );
        assert!(matches!(
            limit,
            Error::ResourceLimit {
                what: SECURITY_LIMIT,
                amount: 0,
                limit: 0
            }
        ));
    }
}
