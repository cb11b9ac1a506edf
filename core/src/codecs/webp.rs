//! WebP through libwebp: decode (still images, and the first frame of an
//! animation), encode (lossy and lossless, with alpha), and metadata chunks
//! (EXIF, XMP, ICCP) through its demuxer and muxer.

use super::{check_limit, DecodeRequest, Decoded};
use crate::error::{Error, Result};
use crate::format::Format;
use crate::info::Info;
use crate::metadata::{Metadata, MetadataPolicy};
use crate::options::Options;
use crate::orient::Orientation;
use crate::pixels::{Image, Layout, PixelsRef};
use libwebp_sys::*;
use std::ffi::c_int;
use std::ptr;

/// WebP `method` (0-6) when the caller gives no effort; libwebp's own default.
const DEFAULT_METHOD: c_int = 4;

fn webp_data(data: &[u8]) -> WebPData {
    WebPData {
        bytes: data.as_ptr(),
        size: data.len(),
    }
}

/// A demuxer over borrowed bytes, deleted on drop.
struct Demuxer(*mut WebPDemuxer);

impl Demuxer {
    fn new(data: &[u8]) -> Result<Demuxer> {
        let input = webp_data(data);
        // SAFETY: `input` borrows `data`, which outlives the demuxer (it is used only inside this module's calls).
        let demux =
            unsafe { WebPDemuxInternal(&input, 0, ptr::null_mut(), WebPGetDemuxABIVersion()) };
        if demux.is_null() {
            return Err(Error::corrupt(
                Format::WebP,
                "libwebp could not parse the RIFF container",
            ));
        }
        Ok(Demuxer(demux))
    }

    fn get(&self, feature: WebPFormatFeature) -> u32 {
        unsafe { WebPDemuxGetI(self.0, feature) }
    }

    /// The payload of the first chunk named `fourcc`.
    fn chunk(&self, fourcc: &[u8; 4]) -> Option<Vec<u8>> {
        let mut iter: WebPChunkIterator = unsafe { std::mem::zeroed() };
        let found = unsafe { WebPDemuxGetChunk(self.0, fourcc.as_ptr().cast(), 1, &mut iter) } != 0;
        let payload = found.then(|| {
            unsafe { std::slice::from_raw_parts(iter.chunk.bytes, iter.chunk.size) }.to_vec()
        });
        unsafe { WebPDemuxReleaseChunkIterator(&mut iter) };
        payload
    }

    fn metadata(&self) -> Metadata {
        Metadata {
            exif: self
                .chunk(b"EXIF")
                .and_then(|d| Metadata::normalize_exif(&d)),
            xmp: self.chunk(b"XMP "),
            icc: self.chunk(b"ICCP"),
            iptc: None,
        }
    }
}

impl Drop for Demuxer {
    fn drop(&mut self) {
        unsafe { WebPDemuxDelete(self.0) };
    }
}

fn features(data: &[u8]) -> Result<WebPBitstreamFeatures> {
    let mut features: WebPBitstreamFeatures = unsafe { std::mem::zeroed() };
    let status = unsafe { WebPGetFeatures(data.as_ptr(), data.len(), &mut features) };
    match status {
        VP8StatusCode::VP8_STATUS_OK => Ok(features),
        other => Err(status_error(other)),
    }
}

/// What libwebp's refusal to allocate was, for [`super::limit_exceeded`]:
/// libwebp gives no numbers.
const MEMORY_LIMIT: &str = "memory libwebp's own limit allows";

/// The error a libwebp decoding status is: a WebP variant libwebp does not
/// decode (`UNSUPPORTED_FEATURE`, for example an animation given to the still
/// decoder) is an unsupported format, not a missing codec; an allocation
/// libwebp refuses (`OUT_OF_MEMORY`: its own cap on one image's memory, or
/// the system's) is a limit error; data ending early is truncated, anything
/// else corrupt.
fn status_error(status: VP8StatusCode) -> Error {
    let detail = format!("libwebp: {status:?}");
    match status {
        VP8StatusCode::VP8_STATUS_NOT_ENOUGH_DATA => Error::truncated(Format::WebP, detail),
        VP8StatusCode::VP8_STATUS_UNSUPPORTED_FEATURE => Error::UnsupportedFormat {
            detail: format!("a WebP variant libwebp does not decode ({detail})"),
        },
        VP8StatusCode::VP8_STATUS_OUT_OF_MEMORY => super::limit_exceeded(MEMORY_LIMIT, 0, 0),
        _ => Error::corrupt(Format::WebP, detail),
    }
}

pub(crate) fn probe(data: &[u8]) -> Result<Info> {
    let f = features(data)?;
    let demux = Demuxer::new(data)?;
    let metadata = demux.metadata();
    let mut info =
        Info::new(Format::WebP, f.width as u32, f.height as u32).with_metadata(&metadata);
    info.has_alpha = f.has_alpha != 0;
    info.frames = demux.get(WebPFormatFeature::WEBP_FF_FRAME_COUNT).max(1);
    Ok(info)
}

/// The metadata blocks of the container's chunks, which [`decode`] gives as they are.
pub(crate) fn header_metadata(data: &[u8]) -> Result<Metadata> {
    Ok(Demuxer::new(data)?.metadata())
}

pub(crate) fn decode(data: &[u8], request: &DecodeRequest) -> Result<Decoded> {
    let f = features(data)?;
    check_limit(f.width as u64, f.height as u64, request.max_pixels)?;
    let metadata = Demuxer::new(data)?.metadata();
    let alpha = f.has_alpha != 0;
    let image = if f.has_animation != 0 {
        decode_first_frame(data)?
    } else {
        decode_still(data, alpha)?
    };
    let orientation = Orientation::from_exif(metadata.exif_orientation().unwrap_or(1));
    Ok(Decoded {
        image,
        metadata,
        orientation,
        dropped_icc: None,
    })
}

fn decode_still(data: &[u8], alpha: bool) -> Result<Image> {
    let mut config =
        WebPDecoderConfig::new().map_err(|_| Error::Internal("libwebp version mismatch".into()))?;
    config.output.colorspace = if alpha {
        WEBP_CSP_MODE::MODE_RGBA
    } else {
        WEBP_CSP_MODE::MODE_RGB
    };
    let status = unsafe { WebPDecode(data.as_ptr(), data.len(), &mut config) };
    let result = if status == VP8StatusCode::VP8_STATUS_OK {
        let out = &config.output;
        // SAFETY: an RGB(A) colorspace was requested, so the RGBA member of the union is the live one.
        let rgba = unsafe { out.u.RGBA };
        let layout = if alpha { Layout::Rgba } else { Layout::Rgb };
        let row = out.width as usize * layout.channels();
        let bytes = unsafe { std::slice::from_raw_parts(rgba.rgba, rgba.size) };
        let pixels: Vec<u8> = bytes
            .chunks(rgba.stride as usize)
            .take(out.height as usize)
            .flat_map(|r| &r[..row])
            .copied()
            .collect();
        Image::from_u8(out.width as u32, out.height as u32, layout, pixels)
    } else {
        Err(status_error(status))
    };
    unsafe { WebPFreeDecBuffer(&mut config.output) };
    result
}

/// The first frame of an animation, composited on its canvas (RGBA).
fn decode_first_frame(data: &[u8]) -> Result<Image> {
    let input = webp_data(data);
    let mut options: WebPAnimDecoderOptions = unsafe { std::mem::zeroed() };
    unsafe { WebPAnimDecoderOptionsInit(&mut options) };
    options.color_mode = WEBP_CSP_MODE::MODE_RGBA;
    let decoder = unsafe { WebPAnimDecoderNew(&input, &options) };
    if decoder.is_null() {
        return Err(Error::corrupt(
            Format::WebP,
            "libwebp could not open the animation",
        ));
    }
    let mut info: WebPAnimInfo = WebPAnimInfo::default();
    let mut frame: *mut u8 = ptr::null_mut();
    let mut timestamp = 0;
    let ok = unsafe {
        WebPAnimDecoderGetInfo(decoder, &mut info) != 0
            && WebPAnimDecoderGetNext(decoder, &mut frame, &mut timestamp) != 0
    };
    let result = if ok && !frame.is_null() {
        let len = info.canvas_width as usize * info.canvas_height as usize * 4;
        let pixels = unsafe { std::slice::from_raw_parts(frame, len) }.to_vec();
        Image::from_u8(info.canvas_width, info.canvas_height, Layout::Rgba, pixels)
    } else {
        Err(Error::corrupt(
            Format::WebP,
            "libwebp could not decode the first animation frame",
        ))
    };
    unsafe { WebPAnimDecoderDelete(decoder) };
    result
}

pub(crate) fn encode(
    pixels: &PixelsRef,
    metadata: &Metadata,
    options: &Options,
) -> Result<Vec<u8>> {
    let channels = pixels.layout().channels();
    if !pixels.layout().is_color() {
        return Err(Error::Internal(format!(
            "WebP encoder given {:?}",
            pixels.layout()
        )));
    }
    let quality = f32::from(options.quality.unwrap_or(80));
    let mut config =
        WebPConfig::new().map_err(|_| Error::Internal("libwebp version mismatch".into()))?;
    if options.lossless {
        let level = c_int::from(options.effort.map_or(6, |e| (e * 9).div_ceil(10)));
        unsafe { WebPConfigLosslessPreset(&mut config, level) };
    } else {
        config.quality = quality;
        config.method = options
            .effort
            .map_or(DEFAULT_METHOD, |e| c_int::from((e * 6).div_ceil(10)));
        if let Some(sns) = options.sns {
            config.sns_strength = c_int::from(sns);
        }
    }
    config.use_sharp_yuv = c_int::from(options.sharp_yuv);
    // Lossless means every sample, including the color under fully transparent pixels.
    config.exact = c_int::from(options.lossless);
    config.alpha_quality = c_int::from(options.alpha_quality.unwrap_or(100));
    if unsafe { WebPValidateConfig(&config) } == 0 {
        return Err(Error::encode(
            Format::WebP,
            "libwebp rejected the configuration",
        ));
    }
    let mut picture =
        WebPPicture::new().map_err(|_| Error::Internal("libwebp version mismatch".into()))?;
    picture.use_argb = c_int::from(options.lossless);
    picture.width = pixels.width() as c_int;
    picture.height = pixels.height() as c_int;
    let stride = c_int::try_from(pixels.stride())
        .map_err(|_| Error::InvalidArgument("row stride above 2 GiB".into()))?;
    let mut writer: WebPMemoryWriter = unsafe { std::mem::zeroed() };
    unsafe { WebPMemoryWriterInit(&mut writer) };
    picture.writer = Some(WebPMemoryWrite);
    picture.custom_ptr = (&mut writer as *mut WebPMemoryWriter).cast();
    let imported = unsafe {
        if channels == 4 {
            WebPPictureImportRGBA(&mut picture, pixels.as_ptr(), stride)
        } else {
            WebPPictureImportRGB(&mut picture, pixels.as_ptr(), stride)
        }
    };
    let encoded = imported != 0 && unsafe { WebPEncode(&config, &mut picture) } != 0;
    let error_code = picture.error_code;
    let bitstream =
        encoded.then(|| unsafe { std::slice::from_raw_parts(writer.mem, writer.size) }.to_vec());
    unsafe {
        WebPPictureFree(&mut picture);
        WebPMemoryWriterClear(&mut writer);
    }
    let bitstream =
        bitstream.ok_or_else(|| Error::encode(Format::WebP, format!("libwebp: {error_code:?}")))?;
    add_metadata(bitstream, metadata)
}

/// Adds EXIF, XMP and ICCP chunks (and the VP8X header they need) through libwebp's muxer.
fn add_metadata(bitstream: Vec<u8>, metadata: &Metadata) -> Result<Vec<u8>> {
    if metadata.icc.is_none() && metadata.exif.is_none() && metadata.xmp.is_none() {
        return Ok(bitstream);
    }
    replace_metadata(&bitstream, metadata).map_err(|e| Error::encode(Format::WebP, e.to_string()))
}

/// [`replace_metadata_under`] with a policy that keeps everything: the chunks
/// pixpress does not model stay.
pub(crate) fn replace_metadata(bitstream: &[u8], metadata: &Metadata) -> Result<Vec<u8>> {
    replace_metadata_under(bitstream, metadata, &MetadataPolicy::KEEP)
}

/// The chunks libwebp's muxer knows: the image, animation and metadata chunks.
const KNOWN_CHUNKS: [&[u8; 4]; 9] = [
    b"VP8X", b"VP8 ", b"VP8L", b"ALPH", b"ANIM", b"ANMF", b"ICCP", b"EXIF", b"XMP ",
];

/// The FourCCs of the top-level chunks of a WebP file that are not
/// [`KNOWN_CHUNKS`], each once, as far as the chunk structure goes.
fn unknown_chunks(file: &[u8]) -> Vec<[u8; 4]> {
    let mut found: Vec<[u8; 4]> = Vec::new();
    // After "RIFF", the size and "WEBP".
    let mut at: usize = 12;
    while let Some(header) = file.get(at..at.saturating_add(8)) {
        let fourcc = [header[0], header[1], header[2], header[3]];
        let size = u32::from_le_bytes([header[4], header[5], header[6], header[7]]) as usize;
        if !KNOWN_CHUNKS.contains(&&fourcc) && !found.contains(&fourcc) {
            found.push(fourcc);
        }
        // Payloads are padded to an even size.
        let Some(next) = size
            .checked_add(size & 1)
            .and_then(|s| (at + 8).checked_add(s))
        else {
            break;
        };
        at = next;
    }
    found
}

/// `bitstream` with its ICCP, EXIF and XMP chunks replaced by
/// `metadata`'s (already filtered by `policy`; a block `metadata` lacks is
/// removed); the image chunks are copied as they are. A policy that keeps
/// everything leaves the chunks pixpress does not model as they are; any
/// other removes them (see [`unknown_chunks`]), as they are gone from
/// re-encoded pixels. A file libwebp's muxer cannot take apart is corrupt.
pub(crate) fn replace_metadata_under(
    bitstream: &[u8],
    metadata: &Metadata,
    policy: &MetadataPolicy,
) -> Result<Vec<u8>> {
    let chunks: [(&[u8; 5], Option<&[u8]>); 3] = [
        (b"ICCP\0", metadata.icc.as_deref()),
        (b"EXIF\0", metadata.exif.as_deref()),
        (b"XMP \0", metadata.xmp.as_deref()),
    ];
    let input = webp_data(bitstream);
    let mux = unsafe { WebPMuxCreateInternal(&input, 0, WebPGetMuxABIVersion()) };
    if mux.is_null() {
        return Err(Error::corrupt(
            Format::WebP,
            "libwebp's muxer cannot read the chunk structure",
        ));
    }
    let mut ok = true;
    for (name, data) in chunks {
        let status = match data {
            Some(data) => {
                let chunk = webp_data(data);
                unsafe { WebPMuxSetChunk(mux, name.as_ptr().cast(), &chunk, 1) }
            }
            None => match unsafe { WebPMuxDeleteChunk(mux, name.as_ptr().cast()) } {
                WebPMuxError::WEBP_MUX_NOT_FOUND => WebPMuxError::WEBP_MUX_OK,
                status => status,
            },
        };
        ok &= status == WebPMuxError::WEBP_MUX_OK;
    }
    if !policy.keeps_everything() {
        for fourcc in unknown_chunks(bitstream) {
            let status = unsafe { WebPMuxDeleteChunk(mux, fourcc.as_ptr().cast()) };
            ok &= matches!(
                status,
                WebPMuxError::WEBP_MUX_OK | WebPMuxError::WEBP_MUX_NOT_FOUND
            );
        }
    }
    let mut assembled = WebPData::default();
    ok &= unsafe { WebPMuxAssemble(mux, &mut assembled) } == WebPMuxError::WEBP_MUX_OK;
    let out =
        ok.then(|| unsafe { std::slice::from_raw_parts(assembled.bytes, assembled.size) }.to_vec());
    unsafe {
        WebPDataClear(&mut assembled);
        WebPMuxDelete(mux);
    }
    out.ok_or_else(|| {
        Error::corrupt(
            Format::WebP,
            "libwebp's muxer cannot write the metadata chunks into this file",
        )
    })
}

#[cfg(test)]
mod status_tests {
    use super::*;
    use crate::error::ErrorKind;

    #[test]
    fn libwebp_statuses_map_to_the_kind_the_caller_acts_on() {
        use libwebp_sys::VP8StatusCode as V;
        let cases = [
            (V::VP8_STATUS_NOT_ENOUGH_DATA, ErrorKind::Truncated),
            (
                V::VP8_STATUS_UNSUPPORTED_FEATURE,
                ErrorKind::UnsupportedFormat,
            ),
            (V::VP8_STATUS_OUT_OF_MEMORY, ErrorKind::LimitExceeded),
            (V::VP8_STATUS_BITSTREAM_ERROR, ErrorKind::Corrupt),
            (V::VP8_STATUS_INVALID_PARAM, ErrorKind::Corrupt),
            (V::VP8_STATUS_SUSPENDED, ErrorKind::Corrupt),
        ];
        for (status, kind) in cases {
            assert_eq!(status_error(status).kind(), kind, "{status:?}");
        }
        let unsupported = status_error(V::VP8_STATUS_UNSUPPORTED_FEATURE).to_string();
        assert!(unsupported.contains("UNSUPPORTED_FEATURE"), "{unsupported}");
        assert!(matches!(
            status_error(V::VP8_STATUS_OUT_OF_MEMORY),
            Error::ResourceLimit {
                what: MEMORY_LIMIT,
                amount: 0,
                limit: 0
            }
        ));
    }
}
