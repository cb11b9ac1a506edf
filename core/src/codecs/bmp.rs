//! BMP decoding through the `image` crate.

use super::{raster, DecodeRequest, Decoded};
use crate::error::Result;
use crate::format::Format;
use crate::info::Info;
use image::codecs::bmp::BmpDecoder;
use std::io::Cursor;

fn decoder(data: &[u8]) -> Result<BmpDecoder<Cursor<&[u8]>>> {
    BmpDecoder::new(Cursor::new(data)).map_err(|e| raster::map_error(Format::Bmp, e))
}

pub(crate) fn probe(data: &[u8]) -> Result<Info> {
    raster::probe_with(Format::Bmp, decoder(data)?)
}

pub(crate) fn decode(data: &[u8], request: &DecodeRequest) -> Result<Decoded> {
    raster::decode_with(Format::Bmp, decoder(data)?, request)
}
