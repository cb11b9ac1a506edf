//! JPEG through mozjpeg (libjpeg-turbo's decoder, mozjpeg's encoder).
//!
//! libjpeg reports errors by calling `error_exit`, which must not return; we
//! unwind out of it with a [`LibjpegFailure`](libjpeg::LibjpegFailure)
//! payload and catch that at the edge of this module ([`run_libjpeg`]). Every
//! libjpeg object lives in a guard whose `Drop` destroys it, so unwinding
//! frees everything.
//!
//! The module is split by concern: [`libjpeg`] (the error manager and the
//! guards), [`segments`] (marker segments and metadata), [`decompress`]
//! (probe and decode), [`compress`] (encoding and its parameters),
//! [`huffman`] (Huffman tables planned from samples),
//! [`lossless`] (coefficient recompression), [`markers`] and [`scans`]
//! (limits and scan scripts), [`strips`] and [`stream`] (striped, parallel
//! and streamed encoding).

mod compress;
mod dc;
mod decompress;
mod huffman;
mod libjpeg;
mod lossless;
mod markers;
mod scans;
mod segments;
pub(crate) mod stream;
pub(crate) mod strips;
mod tables;

#[cfg(test)]
pub(crate) use compress::encode_whole;
use compress::{
    configure, is_gray, planned_huffman, set_output_scans, use_planned_huffman, write_rows, Effort,
};
pub(crate) use compress::{encode, encode_ycbcr420, encodes_whole, Ycbcr420, SEARCH_EFFORT};
pub(crate) use dc::{read_luma_dc, rewrite_luma_dc, LumaDc};
pub(crate) use decompress::{decode, header_metadata, probe};
use decompress::{read_rows, shrink_numerator};
use libjpeg::{run_libjpeg, Compressor, Decompressor};
pub(crate) use lossless::optimize_lossless;
pub(crate) use segments::replace_metadata_under;
use segments::{is_adobe, metadata_of, write_metadata};
pub use tables::{vision_tables, QuantTables, ANNEX_K_CHROMA, ANNEX_K_LUMA, DEFAULT_PPD};

#[cfg(test)]
mod tests;
