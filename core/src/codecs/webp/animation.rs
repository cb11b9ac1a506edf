//! Animated WebP: the frames of an animation, each composited on the canvas
//! ([`decode_frames`], through libwebp's `WebPAnimDecoder`), and frames made
//! into one ([`AnimationEncoder`], through `WebPAnimEncoder`).

use super::{add_metadata, config_for, webp_data, EncodeParams};
use crate::codecs::{check_limit, Frame};
use crate::error::{Error, Result};
use crate::format::Format;
use crate::metadata::Metadata;
use crate::pixels::{Image, Layout, Samples};
use libwebp_sys::*;
use std::ffi::c_int;
use std::ptr;

/// libwebp's animation decoder over borrowed bytes, deleted on drop.
struct AnimDecoder(*mut WebPAnimDecoder);

impl Drop for AnimDecoder {
    fn drop(&mut self) {
        // SAFETY: the pointer came non-null from `WebPAnimDecoderNew` and is
        // deleted once, here; no canvas borrowed from it outlives `self`.
        unsafe { WebPAnimDecoderDelete(self.0) };
    }
}

/// Calls `each` with the first `limit` frames of the animated WebP `data`,
/// each composited on the canvas as RGBA; refused when those canvases
/// together have more than `max_pixels`.
pub(crate) fn decode_frames(
    data: &[u8],
    limit: u32,
    max_pixels: u64,
    each: &mut dyn FnMut(Frame) -> Result<()>,
) -> Result<()> {
    let input = webp_data(data);
    // SAFETY: `WebPAnimDecoderOptions` is a plain C struct of an enum whose
    // zero value (`MODE_RGB`) is valid and integers; all-zero is valid.
    let mut options: WebPAnimDecoderOptions = unsafe { std::mem::zeroed() };
    // SAFETY: `options` is a valid, writable struct of the ABI version the
    // wrapper passes.
    unsafe { WebPAnimDecoderOptionsInit(&mut options) };
    options.color_mode = WEBP_CSP_MODE::MODE_RGBA;
    // SAFETY: `input` describes `data`, which libwebp references without
    // copying and which outlives the decoder (deleted when `decoder` drops,
    // before this function returns); `options` was initialised just above.
    let decoder = AnimDecoder(unsafe { WebPAnimDecoderNew(&input, &options) });
    if decoder.0.is_null() {
        return Err(Error::corrupt(
            Format::WebP,
            "libwebp could not open the animation",
        ));
    }
    let mut info = WebPAnimInfo::default();
    // SAFETY: `decoder.0` is non-null (checked) and live; `info` is writable.
    if unsafe { WebPAnimDecoderGetInfo(decoder.0, &mut info) } == 0 {
        return Err(Error::corrupt(
            Format::WebP,
            "libwebp could not read the animation",
        ));
    }
    let (width, height) = (info.canvas_width, info.canvas_height);
    // Every frame is a whole canvas: they pass the limit together.
    let frames = limit.min(info.frame_count);
    check_limit(width.into(), height.into(), max_pixels)?;
    Error::check_pixels(
        "animation size (all frames)",
        width.into(),
        u64::from(height) * u64::from(frames),
        max_pixels,
    )?;
    let mut previous = 0;
    for index in 0..frames {
        let mut canvas: *mut u8 = ptr::null_mut();
        let mut timestamp: c_int = 0;
        // SAFETY: `decoder.0` is live; `canvas` and `timestamp` are writable locals.
        let ok = unsafe { WebPAnimDecoderGetNext(decoder.0, &mut canvas, &mut timestamp) } != 0;
        if !ok || canvas.is_null() {
            return Err(Error::corrupt(
                Format::WebP,
                format!("libwebp could not decode animation frame {}", index + 1),
            ));
        }
        let len = width as usize * height as usize * 4;
        // SAFETY: `canvas` is non-null (checked) and, with `MODE_RGBA`, is the
        // decoder's canvas of width * height * 4 bytes, valid until the next
        // `GetNext` or the decoder's deletion; it is copied before either.
        let pixels = unsafe { std::slice::from_raw_parts(canvas, len) }.to_vec();
        // The timestamp is the end of the frame.
        let duration_ms = u32::try_from(timestamp.saturating_sub(previous)).unwrap_or(0);
        previous = timestamp;
        each(Frame {
            image: Image::from_u8(width, height, Layout::Rgba, pixels)?,
            duration_ms,
            loop_count: info.loop_count,
        })?;
    }
    Ok(())
}

/// The first frame of an animated WebP, composited on its canvas (RGBA).
pub(crate) fn first_frame(data: &[u8]) -> Result<Image> {
    let mut first = None;
    decode_frames(data, 1, u64::MAX, &mut |frame| {
        first = Some(frame.image);
        Ok(())
    })?;
    first.ok_or_else(|| Error::corrupt(Format::WebP, "the animation has no frame"))
}

/// An animated WebP being made: frames added in order, then [`finish`](Self::finish).
pub(crate) struct AnimationEncoder {
    encoder: *mut WebPAnimEncoder,
    config: WebPConfig,
    size: (u32, u32),
    /// When the next frame starts, in milliseconds.
    timestamp: c_int,
}

impl Drop for AnimationEncoder {
    fn drop(&mut self) {
        // SAFETY: `encoder` came non-null from `WebPAnimEncoderNew` and is
        // deleted once, here.
        unsafe { WebPAnimEncoderDelete(self.encoder) };
    }
}

impl AnimationEncoder {
    /// An encoder of `width` x `height` frames with the still encoder's
    /// settings for `params`, playing `loop_count` times (0: forever).
    pub(crate) fn new(
        (width, height): (u32, u32),
        params: &EncodeParams,
        loop_count: u32,
    ) -> Result<AnimationEncoder> {
        crate::codecs::check_output_size(Format::WebP, width, height)?;
        let config = config_for(params)?;
        // SAFETY: `WebPAnimEncoderOptions` is a plain C struct of integers;
        // all-zero bytes are a valid value, then set by Init.
        let mut options: WebPAnimEncoderOptions = unsafe { std::mem::zeroed() };
        // SAFETY: `options` is valid and writable; the ABI version is the
        // one the bindings were made for.
        let ready = unsafe {
            WebPAnimEncoderOptionsInitInternal(&mut options, WEBP_MUX_ABI_VERSION as c_int)
        };
        if ready == 0 {
            return Err(Error::Internal("libwebp version mismatch".into()));
        }
        options.anim_params.loop_count = c_int::try_from(loop_count).unwrap_or(0);
        // Keyframe search at the top efforts, as `img2webp -min_size`.
        options.minimize_size = c_int::from(params.effort.is_some_and(|e| e >= 9));
        // SAFETY: `options` was initialised above; the sizes were checked
        // against WebP's limit, so they fit a c_int.
        let encoder = unsafe {
            WebPAnimEncoderNewInternal(
                width as c_int,
                height as c_int,
                &options,
                WEBP_MUX_ABI_VERSION as c_int,
            )
        };
        if encoder.is_null() {
            return Err(Error::encode(
                Format::WebP,
                "libwebp could not start an animation",
            ));
        }
        Ok(AnimationEncoder {
            encoder,
            config,
            size: (width, height),
            timestamp: 0,
        })
    }

    /// Adds `image` (8-bit RGBA of the encoder's size) for `duration_ms`.
    pub(crate) fn add(&mut self, image: &Image, duration_ms: u32) -> Result<()> {
        let Samples::U8(pixels) = &image.samples else {
            return Err(Error::Internal(
                "an animation frame of 16-bit samples".into(),
            ));
        };
        if image.layout != Layout::Rgba || (image.width, image.height) != self.size {
            return Err(Error::Internal(format!(
                "an animation frame of {}x{} {:?} for a {}x{} RGBA animation",
                image.width, image.height, image.layout, self.size.0, self.size.1
            )));
        }
        let mut picture =
            WebPPicture::new().map_err(|_| Error::Internal("libwebp version mismatch".into()))?;
        picture.use_argb = 1;
        picture.width = image.width as c_int;
        picture.height = image.height as c_int;
        // SAFETY: `picture` was initialised by `WebPPicture::new`; `pixels`
        // holds width * height RGBA samples (checked by `Image`'s
        // constructors and the layout test above), rows `width * 4` apart,
        // which fits a c_int as the width is within WebP's limit.
        let imported = unsafe {
            WebPPictureImportRGBA(&mut picture, pixels.as_ptr(), image.width as c_int * 4)
        };
        // SAFETY: `self.encoder` is live; `picture` holds the imported
        // frame; `self.config` was validated by `config_for`.
        let added = imported != 0
            && unsafe {
                WebPAnimEncoderAdd(self.encoder, &mut picture, self.timestamp, &self.config)
            } != 0;
        // SAFETY: `picture` was initialised above and is freed once, here.
        unsafe { WebPPictureFree(&mut picture) };
        if !added {
            return Err(Error::encode(Format::WebP, self.error()));
        }
        self.timestamp = c_int::try_from(duration_ms)
            .ok()
            .and_then(|d| self.timestamp.checked_add(d))
            .ok_or_else(|| Error::encode(Format::WebP, "the animation lasts over 24 days"))?;
        Ok(())
    }

    /// The animation, with `metadata`'s blocks.
    pub(crate) fn finish(self, metadata: &Metadata) -> Result<Vec<u8>> {
        let mut assembled = WebPData {
            bytes: ptr::null(),
            size: 0,
        };
        // SAFETY: `self.encoder` is live; a null frame marks the end of the
        // last frame at `self.timestamp`; `assembled` is a writable, empty
        // WebPData that libwebp fills with memory it allocates.
        let ok = unsafe {
            WebPAnimEncoderAdd(self.encoder, ptr::null_mut(), self.timestamp, ptr::null()) != 0
                && WebPAnimEncoderAssemble(self.encoder, &mut assembled) != 0
        };
        let file = (ok && !assembled.bytes.is_null()).then(|| {
            // SAFETY: on success `assembled` holds `size` bytes that libwebp
            // allocated; they are copied before `WebPDataClear` frees them.
            unsafe { std::slice::from_raw_parts(assembled.bytes, assembled.size) }.to_vec()
        });
        // SAFETY: `assembled` is empty or owns libwebp's allocation; cleared once.
        unsafe { WebPDataClear(&mut assembled) };
        let file = file.ok_or_else(|| Error::encode(Format::WebP, self.error()))?;
        add_metadata(file, metadata)
    }

    /// The frames' width and height.
    pub(crate) fn size(&self) -> (u32, u32) {
        self.size
    }

    /// libwebp's description of the encoder's last error.
    fn error(&self) -> String {
        // SAFETY: `self.encoder` is live; libwebp returns null or a
        // NUL-terminated string it owns, read before any other call.
        let text = unsafe { WebPAnimEncoderGetError(self.encoder) };
        if text.is_null() {
            return "libwebp could not encode the animation".into();
        }
        // SAFETY: non-null (checked) and NUL-terminated, as libwebp documents.
        let text = unsafe { std::ffi::CStr::from_ptr(text) };
        format!("libwebp: {}", text.to_string_lossy())
    }
}
