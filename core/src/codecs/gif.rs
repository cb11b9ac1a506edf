//! GIF decoding through the `gif` crate (via `image`): the first frame, or
//! every frame ([`decode_frames`]), composited on the logical screen.

use super::Frame;
use super::{check_limit, raster, DecodeRequest, Decoded};
use crate::error::Result;
use crate::format::Format;
use crate::info::Info;
use crate::metadata::Metadata;
use crate::pixels::{Image, Layout};
use image::codecs::gif::GifDecoder;
use image::{AnimationDecoder, ImageDecoder};
use std::io::Cursor;

fn decoder(data: &[u8]) -> Result<GifDecoder<Cursor<&[u8]>>> {
    GifDecoder::new(Cursor::new(data)).map_err(|e| raster::map_error(Format::Gif, e))
}

/// The metadata blocks, as [`decode`] gives them, without decoding pixels.
pub(crate) fn header_metadata(data: &[u8]) -> Result<Metadata> {
    raster::metadata_of(Format::Gif, &mut decoder(data)?)
}

pub(crate) fn probe(data: &[u8]) -> Result<Info> {
    let mut info = raster::probe_with(Format::Gif, decoder(data)?)?;
    info.frames = (frame_extents(data).len() as u32).max(1);
    Ok(info)
}

pub(crate) fn decode(data: &[u8], request: &DecodeRequest) -> Result<Decoded> {
    // A frame may declare a size or position far beyond the logical screen (a
    // decompression bomb); its extent is what a decoder would have to cover.
    for (width, height) in frame_extents(data) {
        check_limit(width.into(), height.into(), request.max_pixels)?;
    }
    raster::decode_with(Format::Gif, decoder(data)?, request)
}

/// Calls `each` with the first `limit` frames of `data`, each the whole
/// logical screen after it (RGBA), as `image` composites them.
pub(crate) fn decode_frames(
    data: &[u8],
    limit: u32,
    request: &DecodeRequest,
    each: &mut dyn FnMut(Frame) -> Result<()>,
) -> Result<()> {
    // Each frame is decoded at its own extent and composited on the whole
    // logical screen: the larger of the two, over all frames, passes the limit.
    let decoder = decoder(data)?;
    let (screen_width, screen_height) = decoder.dimensions();
    let screen = u64::from(screen_width) * u64::from(screen_height);
    let mut total = 0u64;
    for (width, height) in frame_extents(data).into_iter().take(limit as usize) {
        check_limit(width.into(), height.into(), request.max_pixels)?;
        total = total.saturating_add(screen.max(u64::from(width) * u64::from(height)));
    }
    crate::error::Error::check_pixels("animation size (all frames)", total, 1, request.max_pixels)?;
    let loop_count = webp_loop_count(data);
    for (index, frame) in decoder.into_frames().take(limit as usize).enumerate() {
        let frame = match frame {
            Ok(frame) => frame,
            // A damaged later frame ends the animation there when asked to
            // decode as far as it goes.
            Err(_) if index > 0 && request.accept_truncated => break,
            Err(e) => return Err(raster::map_error(Format::Gif, e)),
        };
        let (numerator, denominator) = frame.delay().numer_denom_ms();
        let buffer = frame.into_buffer();
        let (width, height) = buffer.dimensions();
        each(Frame {
            image: Image::from_u8(width, height, Layout::Rgba, buffer.into_raw())?,
            duration_ms: numerator / denominator.max(1),
            loop_count,
        })?;
    }
    Ok(())
}

/// How many times a WebP of this GIF's frames plays, as gif2webp counts it:
/// 0 (forever) for a loop block of 0, its count plus one (the first play)
/// for another, and 1 without a loop block, where browsers play a GIF once.
fn webp_loop_count(data: &[u8]) -> u32 {
    let mut options = gif::DecodeOptions::new();
    options.set_color_output(gif::ColorOutput::Indexed);
    let repeat = options
        .read_info(Cursor::new(data))
        .ok()
        .and_then(|mut decoder| {
            // The loop block comes before the first frame.
            decoder.next_frame_info().ok()?;
            Some(decoder.repeat())
        });
    match repeat {
        Some(gif::Repeat::Infinite) => 0,
        Some(gif::Repeat::Finite(n)) => u32::from(n) + 1,
        None => 1,
    }
}

/// The extent of every frame (left + width, top + height), found by walking
/// the block structure without decoding LZW data. Stops quietly at malformed data.
fn frame_extents(data: &[u8]) -> Vec<(u32, u32)> {
    let mut sizes = Vec::new();
    walk_frames(data, &mut sizes);
    sizes
}

fn walk_frames(data: &[u8], sizes: &mut Vec<(u32, u32)>) -> Option<()> {
    let table_len = |flags: u8| {
        if flags & 0x80 != 0 {
            3usize << ((flags & 7) + 1)
        } else {
            0
        }
    };
    let u16_at = |at: usize| -> Option<u16> {
        Some(u16::from_le_bytes([*data.get(at)?, *data.get(at + 1)?]))
    };
    let skip_sub_blocks = |mut at: usize| -> Option<usize> {
        loop {
            let len = *data.get(at)? as usize;
            at += 1 + len;
            if len == 0 {
                return Some(at);
            }
        }
    };
    let mut at = 13 + table_len(*data.get(10)?);
    loop {
        match *data.get(at)? {
            0x2C => {
                let (left, top) = (u32::from(u16_at(at + 1)?), u32::from(u16_at(at + 3)?));
                let (width, height) = (u32::from(u16_at(at + 5)?), u32::from(u16_at(at + 7)?));
                sizes.push((left + width, top + height));
                at += 10 + table_len(*data.get(at + 9)?) + 1;
                at = skip_sub_blocks(at)?;
            }
            0x21 => at = skip_sub_blocks(at + 2)?,
            _ => return Some(()),
        }
    }
}
