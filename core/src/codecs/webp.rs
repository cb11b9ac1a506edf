//! WebP through libwebp: decode (still images, and the first frame of an
//! animation), encode (lossy and lossless, with alpha), and metadata chunks
//! (EXIF, XMP, ICCP) through its demuxer and muxer.

use super::EncodeParams;
use super::{check_limit, DecodeRequest, Decoded};
use crate::error::{Error, Result};
use crate::format::Format;
use crate::info::Info;
use crate::metadata::{Metadata, MetadataPolicy};
use crate::orient::Orientation;
use crate::pixels::{Image, Layout, PixelsRef};
use libwebp_sys::*;
use std::ffi::c_int;
use std::ptr;

mod animation;
pub(crate) use animation::{decode_frames, AnimationEncoder};

/// WebP `method` (0-6) when the caller gives no effort; libwebp's own default.
const DEFAULT_METHOD: u8 = 4;

/// libwebp's `method` (0 fastest - 6 smallest) for an effort (0-10).
fn method_for_effort(effort: u8) -> u8 {
    (effort.min(10) * 6).div_ceil(10)
}

/// The lowest effort that gives WebP `method` (0-6): the `webp_method`
/// option, as Pillow's `method` and sharp's WebP `effort` name it.
pub(crate) fn effort_for_method(method: u8) -> u8 {
    method.min(6) * 10 / 6
}

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
        let demux =
            // SAFETY: `input` is a valid `WebPData` over `data`; libwebp copies the
            // struct's fields and keeps (without copying) a pointer to the bytes,
            // so `data` must outlive the demuxer: every caller in this module
            // drops the `Demuxer` before the function that borrowed `data`
            // returns (`Demuxer` itself carries no lifetime to enforce it).
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
        // SAFETY: `self.0` is the non-null demuxer `new` checked, not yet
        // deleted (only `Drop` deletes it), and its input bytes are alive (see `new`).
        unsafe { WebPDemuxGetI(self.0, feature) }
    }

    /// The payload of the first chunk named `fourcc`.
    fn chunk(&self, fourcc: &[u8; 4]) -> Option<Vec<u8>> {
        // SAFETY: `WebPChunkIterator` is a plain C struct of integers and
        // pointers, for which all-zero bytes are a valid value.
        let mut iter: WebPChunkIterator = unsafe { std::mem::zeroed() };
        // SAFETY: `self.0` is the live demuxer (see `get`); `fourcc` is 4
        // readable bytes, all libwebp reads of it; `iter` is writable.
        let found = unsafe { WebPDemuxGetChunk(self.0, fourcc.as_ptr().cast(), 1, &mut iter) } != 0;
        let payload = found.then(|| {
            // SAFETY: on success libwebp set `iter.chunk` to `size` bytes inside
            // the demuxer's input (`data`, alive, see `new`), non-null.
            unsafe { std::slice::from_raw_parts(iter.chunk.bytes, iter.chunk.size) }.to_vec()
        });
        // SAFETY: `iter` was zeroed or filled by `WebPDemuxGetChunk`; releasing
        // it frees nothing it does not own (it is a no-op in libwebp).
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
        // SAFETY: `self.0` is the non-null demuxer made by `new`, owned by this
        // value alone (not `Clone`, never handed out), deleted only here, once.
        unsafe { WebPDemuxDelete(self.0) };
    }
}

fn features(data: &[u8]) -> Result<WebPBitstreamFeatures> {
    // SAFETY: `WebPBitstreamFeatures` is a plain C struct of integers; all-zero
    // bytes are a valid value.
    let mut features: WebPBitstreamFeatures = unsafe { std::mem::zeroed() };
    // SAFETY: `data.as_ptr()` and `data.len()` describe one live slice that
    // libwebp only reads during the call; `features` is writable.
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
        animation::first_frame(data)?
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
    // SAFETY: `data` is a live slice read only during the call; `config` was
    // initialised by `WebPDecoderConfig::new` (WebPInitDecoderConfig), so its
    // output buffer is internal: libwebp allocates it, freed below.
    let status = unsafe { WebPDecode(data.as_ptr(), data.len(), &mut config) };
    let result = if status == VP8StatusCode::VP8_STATUS_OK {
        let out = &config.output;
        // SAFETY: an RGB(A) colorspace was requested, so the RGBA member of the
        // union is the live one (both members are plain pointers and integers).
        let rgba = unsafe { out.u.RGBA };
        let layout = if alpha { Layout::Rgba } else { Layout::Rgb };
        let row = out.width as usize * layout.channels();
        // SAFETY: after `VP8_STATUS_OK` libwebp's internal output buffer holds
        // `rgba.size` (stride * height) bytes at the non-null `rgba.rgba`; it
        // lives until `WebPFreeDecBuffer` below, after the copy is made.
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
    // SAFETY: `config.output` was initialised by `WebPDecoderConfig::new` and
    // only filled by `WebPDecode`; freeing is valid on success or failure, and
    // `bytes` (the only borrow of it) is gone by now.
    unsafe { WebPFreeDecBuffer(&mut config.output) };
    result
}

/// libwebp's configuration for `params`, validated.
fn config_for(params: &EncodeParams) -> Result<WebPConfig> {
    let quality = f32::from(params.quality.unwrap_or(80));
    let mut config =
        WebPConfig::new().map_err(|_| Error::Internal("libwebp version mismatch".into()))?;
    if params.lossless {
        let level = c_int::from(params.effort.map_or(6, |e| (e * 9).div_ceil(10)));
        // SAFETY: `config` was initialised by `WebPConfig::new`; libwebp
        // checks `level` (0-9) itself and leaves `config` as it was if not.
        unsafe { WebPConfigLosslessPreset(&mut config, level) };
    } else {
        config.quality = quality;
        config.method = c_int::from(params.effort.map_or(DEFAULT_METHOD, method_for_effort));
        if let Some(sns) = params.sns {
            config.sns_strength = c_int::from(sns);
        }
    }
    config.use_sharp_yuv = c_int::from(params.sharp_yuv);
    // Lossless means every sample, including the color under fully transparent pixels.
    config.exact = c_int::from(params.lossless);
    config.alpha_quality = c_int::from(params.alpha_quality.unwrap_or(100));
    // SAFETY: `config` is an initialised `WebPConfig` that libwebp only reads.
    if unsafe { WebPValidateConfig(&config) } == 0 {
        return Err(Error::encode(
            Format::WebP,
            "libwebp rejected the configuration",
        ));
    }
    Ok(config)
}

pub(crate) fn encode(
    pixels: &PixelsRef,
    metadata: &Metadata,
    params: &EncodeParams,
) -> Result<Vec<u8>> {
    let channels = pixels.layout().channels();
    if !pixels.layout().is_color() {
        return Err(Error::Internal(format!(
            "WebP encoder given {:?}",
            pixels.layout()
        )));
    }
    let config = config_for(params)?;
    let mut picture =
        WebPPicture::new().map_err(|_| Error::Internal("libwebp version mismatch".into()))?;
    picture.use_argb = c_int::from(params.lossless);
    picture.width = pixels.width() as c_int;
    picture.height = pixels.height() as c_int;
    let stride = c_int::try_from(pixels.stride())
        .map_err(|_| Error::InvalidArgument("row stride above 2 GiB".into()))?;
    // SAFETY: `WebPMemoryWriter` is a plain C struct (pointer and sizes);
    // all-zero bytes are a valid value.
    let mut writer: WebPMemoryWriter = unsafe { std::mem::zeroed() };
    // SAFETY: `writer` is a valid, writable struct; Init only resets it.
    unsafe { WebPMemoryWriterInit(&mut writer) };
    picture.writer = Some(WebPMemoryWrite);
    picture.custom_ptr = (&mut writer as *mut WebPMemoryWriter).cast();
    // SAFETY: `picture` was initialised by `WebPPicture::new`; `PixelsRef::new`
    // guarantees `pixels` holds `height` rows of `stride` bytes (the last
    // row at least width * channels), which is all libwebp reads, and
    // `channels` (4 or 3, `is_color` checked) picks the matching importer;
    // the pixels are 8-bit (`PixelsRef` is a `&[u8]`).
    let imported = unsafe {
        if channels == 4 {
            WebPPictureImportRGBA(&mut picture, pixels.as_ptr(), stride)
        } else {
            WebPPictureImportRGB(&mut picture, pixels.as_ptr(), stride)
        }
    };
    // SAFETY: `config` was validated above; `picture` holds the imported
    // pixels, and its `custom_ptr` points at `writer`, a local that is not
    // moved and lives until `WebPMemoryWriterClear` below.
    let encoded = imported != 0 && unsafe { WebPEncode(&config, &mut picture) } != 0;
    let error_code = picture.error_code;
    let bitstream =
        // SAFETY: only after a successful encode, when `writer.mem` is the
        // non-null buffer libwebp grew to hold `writer.size` written bytes;
        // copied before `WebPMemoryWriterClear` frees it.
        encoded.then(|| unsafe { std::slice::from_raw_parts(writer.mem, writer.size) }.to_vec());
    // SAFETY: `picture` and `writer` were initialised above and each is freed
    // once here; the bitstream was copied out of `writer` already.
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
    // SAFETY: `input` describes `bitstream`, which libwebp references without
    // copying (copy_data = 0) and which outlives `mux` (deleted at the end of
    // this function).
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
                // SAFETY: `mux` was checked non-null; `name` has the 4 bytes
                // (plus NUL) libwebp reads; `chunk` describes the live `data`,
                // which libwebp copies (copy_data = 1).
                unsafe { WebPMuxSetChunk(mux, name.as_ptr().cast(), &chunk, 1) }
            }
            // SAFETY: `mux` was checked non-null; `name` has the 4 bytes libwebp reads.
            None => match unsafe { WebPMuxDeleteChunk(mux, name.as_ptr().cast()) } {
                WebPMuxError::WEBP_MUX_NOT_FOUND => WebPMuxError::WEBP_MUX_OK,
                status => status,
            },
        };
        ok &= status == WebPMuxError::WEBP_MUX_OK;
    }
    if !policy.keeps_everything() {
        for fourcc in unknown_chunks(bitstream) {
            // SAFETY: `mux` was checked non-null; `fourcc` is a `[u8; 4]` and
            // libwebp reads exactly 4 bytes of it (no NUL needed).
            let status = unsafe { WebPMuxDeleteChunk(mux, fourcc.as_ptr().cast()) };
            ok &= matches!(
                status,
                WebPMuxError::WEBP_MUX_OK | WebPMuxError::WEBP_MUX_NOT_FOUND
            );
        }
    }
    let mut assembled = WebPData::default();
    // SAFETY: `mux` was checked non-null and its borrowed input (`bitstream`)
    // is alive; `assembled` is a writable, empty `WebPData`.
    ok &= unsafe { WebPMuxAssemble(mux, &mut assembled) } == WebPMuxError::WEBP_MUX_OK;
    let out =
        // SAFETY: only when assembly succeeded, so `assembled` is a non-null
        // libwebp allocation of `size` bytes; copied before `WebPDataClear`.
        ok.then(|| unsafe { std::slice::from_raw_parts(assembled.bytes, assembled.size) }.to_vec());
    // SAFETY: `assembled` is either libwebp's allocation or empty (null, which
    // `WebPDataClear` accepts); `mux` is non-null and deleted once, here.
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

#[cfg(test)]
mod method_tests {
    use super::*;

    #[test]
    fn every_method_has_an_effort_that_gives_it_back() {
        for method in 0..=6 {
            assert_eq!(method_for_effort(effort_for_method(method)), method);
        }
        assert_eq!(method_for_effort(4), 3);
        assert_eq!(effort_for_method(4), 6);
    }
}
