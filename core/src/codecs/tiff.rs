//! TIFF decoding (strips and tiles; LZW, Deflate, PackBits, JPEG; 8/16-bit)
//! through the `tiff` crate via `image`. The first page is decoded.

use super::{raster, DecodeRequest, Decoded};
use crate::error::Result;
use crate::format::Format;
use crate::info::Info;
use image::codecs::tiff::TiffDecoder;
use std::io::Cursor;

fn decoder(data: &[u8]) -> Result<TiffDecoder<Cursor<&[u8]>>> {
    TiffDecoder::new(Cursor::new(data)).map_err(|e| raster::map_error(Format::Tiff, e))
}

pub(crate) fn probe(data: &[u8]) -> Result<Info> {
    raster::probe_with(Format::Tiff, decoder(data)?)
}

pub(crate) fn decode(data: &[u8], request: &DecodeRequest) -> Result<Decoded> {
    raster::decode_with(Format::Tiff, decoder(data)?, request)
}
