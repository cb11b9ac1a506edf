//! Animated GIF or WebP to animated WebP: each frame decoded onto the canvas,
//! turned upright, through the operations and the resize, and added to
//! libwebp's animation encoder, so that one frame is in memory at a time;
//! the metadata as for a still image.

use super::meta::{output_metadata, report_dropped_icc};
use super::stages::{edit_and_resize, to_srgb_where_needed};
use super::Compressed;
use crate::codecs::{self, webp::AnimationEncoder, DecodeRequest};
use crate::error::{Error, Result};
use crate::format::Format;
use crate::options::{Options, OrientationMode};
use crate::orient::Orientation;
use crate::pixels::Layout;
use crate::progress::{Reporter, Stage, Timings};
use std::time::Instant;

/// Compresses the animated `input` (GIF or WebP, of `input_frames` frames)
/// to an animated WebP of its first `options.pages` frames (all by default).
pub(super) fn compress_animated(
    (input, in_format, input_frames): (&[u8], Format, u32),
    options: &Options,
    progress: &mut Reporter,
    started: Instant,
) -> Result<Compressed> {
    let frames = options
        .pages
        .map_or(input_frames, |pages| pages.min(input_frames));
    if frames > codecs::MAX_FRAMES {
        return Err(codecs::limit_exceeded(
            "frames of an animation (pages=N keeps the first N)",
            frames.into(),
            codecs::MAX_FRAMES.into(),
        ));
    }
    let source = match in_format {
        Format::Gif => codecs::gif::header_metadata(input)?,
        _ => codecs::webp::header_metadata(input)?,
    };
    let orientation = match options.orientation {
        OrientationMode::Apply => Orientation::from_exif(source.exif_orientation().unwrap_or(1)),
        OrientationMode::Keep => Orientation::Normal,
    };
    let mut upright = source.clone();
    if options.orientation == OrientationMode::Apply {
        upright.reset_orientation();
    }
    let params = options.encode_params();
    let mut encoder: Option<AnimationEncoder> = None;
    let mut metadata = upright.clone();
    let mut dropped_icc = false;
    let mut timings = Timings::default();
    let mut done = 0u32;
    let request = DecodeRequest {
        max_pixels: options.max_pixels,
        accept_truncated: options.accept_truncated,
        min_size: None,
    };
    progress.enter(Stage::Transform)?;
    // Every frame is decoded: their pixels pass the limit together, as sharp counts them.
    codecs::decode_frames(in_format, input, frames, &request, &mut |frame| {
        // A report per frame, each a chance to cancel.
        progress.at(Stage::Transform, 0.4 + 0.5 * done as f32 / frames as f32)?;
        done += 1;
        let transform_started = Instant::now();
        let mut image = orientation.apply(frame.image);
        // Each frame's colors as the first frame's: the same profile, the same conversion.
        let mut frame_metadata = upright.clone();
        dropped_icc = to_srgb_where_needed(&mut image, &mut frame_metadata, options);
        metadata = frame_metadata;
        let image = edit_and_resize(image, None, options)?
            .convert(Layout::Rgba, options.background)
            .into_u8();
        timings.transform += transform_started.elapsed();
        let encode_started = Instant::now();
        let encoder = match &mut encoder {
            Some(encoder) => encoder,
            None => {
                // The frames as written pass the limit together too (a resize may enlarge them).
                Error::check_pixels(
                    "animation output size (all frames)",
                    image.width.into(),
                    u64::from(image.height) * u64::from(frames),
                    options.max_pixels,
                )?;
                encoder.insert(AnimationEncoder::new(
                    (image.width, image.height),
                    &params,
                    frame.loop_count,
                )?)
            }
        };
        encoder.add(&image, frame.duration_ms)?;
        timings.encode += encode_started.elapsed();
        Ok(())
    })?;
    let encoder = encoder.ok_or_else(|| Error::corrupt(in_format, "the animation has no frame"))?;
    progress.enter(Stage::Encode)?;
    let encode_started = Instant::now();
    let size = encoder.size();
    let (out_metadata, mut report) = output_metadata(
        &metadata,
        options,
        Format::WebP,
        size.0,
        size.1,
        Some(input),
    )?;
    report_dropped_icc(&mut report, dropped_icc);
    let data = encoder.finish(&out_metadata)?;
    timings.encode += encode_started.elapsed();
    timings.decode = started
        .elapsed()
        .saturating_sub(timings.transform + timings.encode);
    progress.enter(Stage::Done)?;
    // A WebP animation re-encoded whole and as it was: the input when not
    // smaller (`never_larger`).
    let same_content = options.resize.is_none()
        && !options.has_edits()
        && options.metadata.keeps_everything()
        && done == input_frames;
    Ok(Compressed {
        timings,
        frames: done,
        ..Compressed::new(data, Format::WebP, size, report)
    }
    .or_input(input, in_format, same_content, options))
}
