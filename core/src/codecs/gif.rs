//! GIF decoding through the `gif` crate (via `image`): the first frame,
//! composited on the logical screen.

use super::{raster, DecodeRequest, Decoded};
use crate::error::Result;
use crate::format::Format;
use crate::info::Info;
use image::codecs::gif::GifDecoder;
use std::io::Cursor;

fn decoder(data: &[u8]) -> Result<GifDecoder<Cursor<&[u8]>>> {
    GifDecoder::new(Cursor::new(data)).map_err(|e| raster::map_error(Format::Gif, e))
}

pub(crate) fn probe(data: &[u8]) -> Result<Info> {
    let mut info = raster::probe_with(Format::Gif, decoder(data)?)?;
    info.frames = count_frames(data).unwrap_or(1).max(1);
    Ok(info)
}

pub(crate) fn decode(data: &[u8], request: &DecodeRequest) -> Result<Decoded> {
    raster::decode_with(Format::Gif, decoder(data)?, request)
}

/// Counts image descriptors by walking the block structure, without decoding LZW data.
fn count_frames(data: &[u8]) -> Option<u32> {
    let table_len = |flags: u8| if flags & 0x80 != 0 { 3usize << ((flags & 7) + 1) } else { 0 };
    let mut at = 13 + table_len(*data.get(10)?);
    let skip_sub_blocks = |mut at: usize| -> Option<usize> {
        loop {
            let len = *data.get(at)? as usize;
            at += 1 + len;
            if len == 0 {
                return Some(at);
            }
        }
    };
    let mut frames = 0;
    loop {
        match *data.get(at)? {
            0x2C => {
                frames += 1;
                at += 10 + table_len(*data.get(at + 9)?) + 1;
                at = skip_sub_blocks(at)?;
            }
            0x21 => at = skip_sub_blocks(at + 2)?,
            0x3B => return Some(frames),
            _ => return Some(frames),
        }
    }
}
