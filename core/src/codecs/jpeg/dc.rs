//! The luma DC coefficients of a JPEG, read and rewritten without decoding
//! the pixels: what the coefficient watermark ([`crate::watermark`]) is
//! carried by.

use super::libjpeg::Decompressor;
use super::lossless::{with_coefficients, write_coefficients};
use crate::error::{Error, Result};
use crate::format::Format;
use mozjpeg_sys::*;

/// The luma (first component) DC coefficients of a JPEG, one per 8x8 block
/// in raster order.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct LumaDc {
    /// Each block's DC coefficient in DCT units: the quantized value times
    /// its quantization step, 8 times the block's mean sample minus 128.
    pub(crate) values: Vec<i32>,
    /// The DC quantization step of the luma table.
    pub(crate) step: i32,
    /// Blocks per row: block `i` is at column `i % columns`, row `i / columns`.
    pub(crate) columns: usize,
    /// Each block's texture: the sum of its AC magnitudes in DCT units
    /// (quantized values times their steps), whatever the file's quality.
    pub(crate) texture: Vec<u32>,
}

/// Reads the luma DC coefficients of the JPEG `data`.
pub(crate) fn read_luma_dc(data: &[u8], max_pixels: u64) -> Result<LumaDc> {
    with_coefficients(data, false, max_pixels, |d, arrays| {
        let dc = visit_luma_dc(d, arrays, None)?;
        // SAFETY: `d` read all its coefficients.
        unsafe { jpeg_finish_decompress(&mut d.cinfo) };
        Ok(dc)
    })
}

/// The JPEG `data` with its luma DC coefficients rewritten, decoded once:
/// `choose` sees them all ([`LumaDc`]) and returns, per block, the new
/// quantized value or `None` to keep it. Every other coefficient, the
/// markers and the scan structure (baseline or progressive) are kept; the
/// Huffman tables are optimized.
pub(crate) fn rewrite_luma_dc(
    data: &[u8],
    max_pixels: u64,
    choose: impl FnOnce(&LumaDc) -> Result<Vec<Option<i32>>>,
) -> Result<Vec<u8>> {
    with_coefficients(data, true, max_pixels, |d, arrays| {
        let dc = visit_luma_dc(d, arrays, None)?;
        let edits = choose(&dc)?;
        if edits.len() != dc.values.len() {
            return Err(Error::Internal(format!(
                "{} DC edits for {} blocks",
                edits.len(),
                dc.values.len()
            )));
        }
        visit_luma_dc(d, arrays, Some(&edits))?;
        // SAFETY: `d` has read its coefficients (libjpeg's state allows the
        // call from the header on).
        let progressive = unsafe { jpeg_has_multiple_scans(&d.cinfo) } != 0;
        Ok(write_coefficients(d, arrays, progressive, true))
    })
}

/// Reads every luma DC coefficient of `d` (whose coefficients `arrays` are),
/// replacing block `i`'s quantized DC by `edits[i]` where that is given
/// (`edits` holds one entry per block).
fn visit_luma_dc(
    d: &mut Decompressor,
    arrays: *mut *mut jvirt_barray_control,
    edits: Option<&[Option<i32>]>,
) -> Result<LumaDc> {
    let writable = edits.is_some();
    let cinfo = &mut d.cinfo;
    if cinfo.num_components < 1 || arrays.is_null() {
        return Err(Error::corrupt(Format::Jpeg, "no components"));
    }
    // SAFETY: after jpeg_read_coefficients `comp_info` holds
    // `num_components` (at least one, checked) entries owned by `d`.
    let luma = unsafe { &*cinfo.comp_info };
    if luma.quant_table.is_null() {
        return Err(Error::corrupt(Format::Jpeg, "no luma quantization table"));
    }
    // SAFETY: non-null (checked), set by jpeg_read_coefficients, owned by `d`.
    let steps = unsafe { (*luma.quant_table).quantval };
    let step = i32::from(steps[0]).max(1);
    let (width, height) = (luma.width_in_blocks, luma.height_in_blocks);
    let mut values = Vec::with_capacity(width as usize * height as usize);
    let mut texture = Vec::with_capacity(values.capacity());
    // SAFETY: `mem` is the memory manager jpeg_create_decompress set up,
    // alive while `d` is.
    let access = unsafe { (*cinfo.common.mem).access_virt_barray }.expect("libjpeg memory manager");
    for row in 0..height {
        // SAFETY: `arrays[0]` is the luma array, realized by
        // jpeg_read_coefficients with at least `height_in_blocks` rows; one
        // row is asked. With no backing store (jmemnobs) a realized array is
        // wholly in memory, and the row holds `width_in_blocks` blocks.
        let blocks = unsafe {
            let rows = access(&mut cinfo.common, *arrays, row, 1, writable.into());
            std::slice::from_raw_parts_mut(*rows, width as usize)
        };
        for block in blocks {
            let index = values.len();
            let value = i32::from(block[0]) * step;
            if let Some(Some(quantized)) = edits.map(|e| e[index]) {
                block[0] = quantized.clamp(-2047, 2047) as JCOEF;
            }
            values.push(value);
            texture.push(
                block[1..]
                    .iter()
                    .zip(&steps[1..])
                    .map(|(c, &q)| u32::from(c.unsigned_abs()) * u32::from(q))
                    .fold(0u32, u32::saturating_add),
            );
        }
    }
    Ok(LumaDc {
        values,
        step,
        columns: width as usize,
        texture,
    })
}
