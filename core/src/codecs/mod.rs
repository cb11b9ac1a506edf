//! One module per format. Every decoder module offers `probe` and `decode`
//! with the same signatures; every encoder module offers `encode`. This
//! module dispatches on [`Format`] and holds what they share.

pub(crate) mod avif;
pub(crate) mod bmp;
pub(crate) mod gif;
pub(crate) mod heif;
mod isobmff;
pub(crate) mod jpeg;
mod params;
pub(crate) mod png;
pub(crate) mod raster;
pub(crate) mod tiff;
pub(crate) mod webp;

pub use jpeg::{vision_tables, QuantTables, ANNEX_K_CHROMA, ANNEX_K_LUMA, DEFAULT_PPD};
pub use params::{EncodeParams, Subsampling};

use crate::error::{Error, Result};
use crate::format::Format;
use crate::info::Info;
use crate::metadata::{Metadata, MetadataPolicy};
use crate::orient::Orientation;
use crate::pixels::{Image, Layout, PixelsRef};

/// What a decoder is asked for.
#[derive(Debug, Clone, Copy)]
pub(crate) struct DecodeRequest {
    /// Largest `width * height` accepted, checked from the header.
    pub max_pixels: u64,
    /// Decode truncated or damaged data as far as it goes instead of failing.
    pub accept_truncated: bool,
    /// The smallest size (in stored orientation) the caller needs; a decoder
    /// that can shrink while decoding (JPEG) may return anything at least this large.
    pub min_size: Option<(u32, u32)>,
}

/// A decoded image with what the container said about it.
#[derive(Debug)]
pub(crate) struct Decoded {
    /// The pixels as stored (HEIF transforms already applied by libheif).
    pub image: Image,
    /// Metadata blocks found in the container.
    pub metadata: Metadata,
    /// The orientation still to apply to `image` to show it upright.
    pub orientation: Orientation,
    /// The container's ICC profile when decoding dropped it from `metadata`
    /// because it does not describe `image` (a CMYK profile once CMYK
    /// samples are converted to RGB): the report lists it as removed.
    pub dropped_icc: Option<Vec<u8>>,
}

impl Decoded {
    /// Moves a CMYK profile from `metadata` to `dropped_icc`: decoded pixels
    /// are never CMYK (a decoder converts CMYK samples to RGB), so the
    /// profile would give them wrong colors in every viewer.
    pub(crate) fn drop_cmyk_profile(&mut self) {
        if self.metadata.has_cmyk_profile() {
            self.dropped_icc = self.metadata.icc.take();
        }
    }
}

/// Refuses `width x height` above `max_pixels`, before anything is allocated.
pub(crate) fn check_limit(width: u64, height: u64, max_pixels: u64) -> Result<()> {
    Error::check_pixels("declared image size", width, height, max_pixels)
}

/// Refuses `amount` of `what` above a cap other than the pixel count (bytes
/// an ICC profile inflates to, scans of a JPEG, saved marker bytes), as
/// [`Error::ResourceLimit`]; `what` names the quantity and its unit. An
/// `amount` and `limit` of 0 mean the codec did not say (its own memory limit).
pub(crate) fn limit_exceeded(what: &'static str, amount: u64, limit: u64) -> Error {
    Error::ResourceLimit {
        what,
        amount,
        limit,
    }
}

/// Reads the header of `data` (already sniffed as `format`) without decoding pixels.
pub(crate) fn probe(format: Format, data: &[u8]) -> Result<Info> {
    match format {
        Format::Jpeg => jpeg::probe(data),
        Format::Png => png::probe(data),
        Format::WebP => webp::probe(data),
        Format::Avif | Format::Heic => heif::probe(format, data),
        Format::Gif => gif::probe(data),
        Format::Tiff => tiff::probe(data),
        Format::Bmp => bmp::probe(data),
    }
}

/// The metadata blocks of `data` (already sniffed as `format`), as stored or
/// (`as_decoded`) as decoding would give them (a CMYK JPEG's profile
/// dropped, HEIF orientation reset), read from the container without
/// decoding pixels where the format allows (JPEG, WebP, AVIF, HEIC); `None`
/// for the formats that must be decoded.
pub(crate) fn header_metadata(
    format: Format,
    data: &[u8],
    as_decoded: bool,
) -> Option<Result<Metadata>> {
    let read = match format {
        Format::Jpeg => jpeg::header_metadata(data, as_decoded),
        Format::WebP => webp::header_metadata(data),
        Format::Avif | Format::Heic => heif::header_metadata(format, data, as_decoded),
        Format::Png | Format::Gif | Format::Tiff | Format::Bmp => return None,
    };
    Some(read.map(|mut metadata| {
        // As decoded: [`decode`] drops a CMYK profile whatever the format.
        if as_decoded && metadata.has_cmyk_profile() {
            metadata.icc = None;
        }
        metadata
    }))
}

/// Decodes `data` (already sniffed as `format`). A CMYK profile is dropped
/// ([`Decoded::drop_cmyk_profile`]): the `image` crate's TIFF decoder, for
/// one, turns CMYK samples into RGB and leaves the profile attached.
pub(crate) fn decode(format: Format, data: &[u8], request: &DecodeRequest) -> Result<Decoded> {
    let mut decoded = match format {
        Format::Jpeg => jpeg::decode(data, request),
        Format::Png => png::decode(data, request),
        Format::WebP => webp::decode(data, request),
        Format::Avif | Format::Heic => heif::decode(format, data, request),
        Format::Gif => gif::decode(data, request),
        Format::Tiff => tiff::decode(data, request),
        Format::Bmp => bmp::decode(data, request),
    }?;
    decoded.drop_cmyk_profile();
    Ok(decoded)
}

/// One frame of an animation: the whole canvas after it, and how long it shows.
#[derive(Debug)]
pub(crate) struct Frame {
    /// The canvas after this frame, 8-bit RGBA.
    pub(crate) image: Image,
    /// How long it shows, in milliseconds.
    pub(crate) duration_ms: u32,
    /// How many times the animation plays (0: forever), the same for every frame.
    pub(crate) loop_count: u32,
}

/// The number of frames of `data`, read from the headers: above 1 for an
/// animated GIF, WebP or PNG (APNG) and for a HEIF or AVIF file of several
/// top-level images; 1 for every other image, and for headers that do not read (the
/// decoder then says what is wrong).
pub(crate) fn frame_count(format: Format, data: &[u8]) -> u32 {
    match format {
        Format::Gif | Format::WebP | Format::Png | Format::Heic | Format::Avif => {
            probe(format, data).map_or(1, |info| info.frames.max(1))
        }
        _ => 1,
    }
}

/// Frames an animation may have: each costs libwebp a walk of the frame
/// list (when decoding and muxing), so the work grows with their square.
pub(crate) const MAX_FRAMES: u32 = 10_000;

/// Calls `each` with the first `limit` frames of an animated GIF or WebP,
/// each composited on the canvas (RGBA); refused when the frames together
/// have more than `request.max_pixels`.
pub(crate) fn decode_frames(
    format: Format,
    data: &[u8],
    limit: u32,
    request: &DecodeRequest,
    each: &mut dyn FnMut(Frame) -> Result<()>,
) -> Result<()> {
    match format {
        Format::Gif => gif::decode_frames(data, limit, request, each),
        Format::WebP => webp::decode_frames(data, limit, request.max_pixels, each),
        _ => Err(Error::Internal(format!(
            "{format} has no animation decoder"
        ))),
    }
}

/// Encodes `image` (already in a layout `format` accepts, see [`encodable_layout`]).
pub(crate) fn encode(
    format: Format,
    image: &Image,
    metadata: &Metadata,
    params: &EncodeParams,
) -> Result<Vec<u8>> {
    check_output_size(format, image.width, image.height)?;
    if let Some(pixels) = image
        .pixels_ref()
        .filter(|p| reads_in_place(format, p.layout()))
    {
        return encode_in_place(format, &pixels, metadata, params);
    }
    match format {
        Format::Jpeg | Format::WebP => Err(Error::Internal(format!(
            "{format} encoder given {:?} {}-bit samples",
            image.layout,
            image.bit_depth()
        ))),
        Format::Png => png::encode(image, metadata, params),
        Format::Avif => avif::encode(image, metadata, params),
        Format::Heic => heif::encode(image, metadata, params),
        Format::Gif | Format::Tiff | Format::Bmp => Err(Error::CodecUnavailable {
            detail: format!("pixpress does not write {format}"),
        }),
    }
}

/// `file` with its metadata replaced by `metadata` (already filtered by
/// `policy`), image data untouched. Unless `policy` keeps everything, what
/// pixpress does not model goes from JPEG, PNG and WebP files too.
pub(crate) fn replace_metadata(
    format: Format,
    file: &[u8],
    metadata: &Metadata,
    policy: &MetadataPolicy,
) -> Result<Vec<u8>> {
    match format {
        Format::Jpeg => jpeg::replace_metadata_under(file, metadata, policy),
        Format::Png => png::replace_metadata_under(file, metadata, policy),
        Format::WebP => webp::replace_metadata_under(file, metadata, policy),
        Format::Avif | Format::Heic => isobmff::replace_metadata(
            format,
            file,
            metadata.exif.as_deref(),
            metadata.xmp.as_deref(),
            metadata.icc.as_deref(),
        ),
        _ => Err(Error::CodecUnavailable {
            detail: format!("pixpress cannot rewrite the metadata of a {format} file in place"),
        }),
    }
}

/// Whether `format`'s encoder reads 8-bit pixels of `layout` in place, from borrowed rows.
pub(crate) fn reads_in_place(format: Format, layout: Layout) -> bool {
    match format {
        Format::Jpeg => matches!(layout, Layout::Gray | Layout::Rgb),
        Format::WebP => layout.is_color(),
        _ => false,
    }
}

/// Encodes borrowed pixels with an encoder for which [`reads_in_place`] holds.
pub(crate) fn encode_in_place(
    format: Format,
    pixels: &PixelsRef,
    metadata: &Metadata,
    params: &EncodeParams,
) -> Result<Vec<u8>> {
    check_output_size(format, pixels.width(), pixels.height())?;
    match format {
        Format::Jpeg => jpeg::encode(pixels, metadata, params),
        Format::WebP => webp::encode(pixels, metadata, params),
        _ => Err(Error::Internal(format!(
            "{format} cannot read pixels in place"
        ))),
    }
}

/// Refuses an output larger than `format` can hold on a side (JPEG 65500,
/// WebP 16383; AVIF: what the linked encoder can make), before the encoder
/// fails on it with its own message: the caller asked for something the
/// format cannot store, not a codec fault.
pub(crate) fn check_output_size(format: Format, width: u32, height: u32) -> Result<()> {
    if format == Format::Avif {
        return avif::check_output_size(width, height);
    }
    let most = match format {
        Format::Jpeg => 65_500,
        Format::WebP => 16_383,
        _ => return Ok(()),
    };
    if width > most || height > most {
        return Err(Error::InvalidArgument(format!(
            "the output would be {width}x{height} pixels; {format} holds at most {most} a side \
             (resize it, or choose another format)"
        )));
    }
    Ok(())
}

/// Whether this build can encode `format`.
pub(crate) fn can_encode(format: Format) -> bool {
    match format {
        Format::Jpeg | Format::Png | Format::WebP | Format::Avif => true,
        Format::Heic => heif::CAN_ENCODE,
        Format::Gif | Format::Tiff | Format::Bmp => false,
    }
}

/// Whether `format`'s encoder keeps samples above 8 bits.
pub(crate) fn keeps_high_bit_depth(format: Format) -> bool {
    matches!(format, Format::Png)
}

/// Whether `format`'s encoder can store an alpha channel.
pub(crate) fn keeps_alpha(format: Format) -> bool {
    !matches!(format, Format::Jpeg)
}

/// Whether `format`'s encoder can store a one-channel gray image.
pub(crate) fn keeps_gray(format: Format) -> bool {
    matches!(format, Format::Jpeg | Format::Png)
}
