//! Huffman tables planned from a sample of an image: a few bands of rows,
//! each encoded as a JPEG of its own, their symbols counted from the
//! coefficients, and tables built from the counts that give every symbol a
//! baseline scan can hold a code. The
//! striped encoder ([`super::strips`]) shares such tables between its
//! strips; the whole-image encoder uses them at effort 1 ([`sampled_tables`]),
//! where they save the second pass over the image's coefficients that
//! libjpeg's own optimization makes, for a file a fraction of a per cent
//! larger (BENCHMARKS.md, "JPEG effort ladder").

use super::strips::StripSource;
use super::{configure, run_libjpeg, write_rows, Compressor, Decompressor, Effort};
use crate::codecs::EncodeParams;
use crate::error::Result;
use crate::pixels::PixelsRef;
use mozjpeg_sys::*;

/// Bands of rows [`sampled_tables`] encodes, spread evenly over the image.
const SAMPLED_BANDS: u32 = 8;
/// Images under this many pixels get libjpeg's exact optimization instead
/// of [`sampled_tables`]: the bands would cover most of them.
pub(crate) const SAMPLED_MIN_PIXELS: u64 = 1 << 20;

extern "C-unwind" {
    /// libjpeg's Huffman table builder (jchuff.c): code lengths limited to
    /// 16 bits from 257 symbol frequencies (the last one reserved, set to 1).
    fn jpeg_gen_optimal_table(
        cinfo: *mut jpeg_compress_struct,
        htbl: *mut JHUFF_TBL,
        freq: *mut std::ffi::c_long,
    );
}

/// Symbol frequencies for the four Huffman tables, in the order DC luma,
/// DC chroma, AC luma, AC chroma (index `class * 2 + id`).
pub(super) type Frequencies = [[std::ffi::c_long; 257]; 4];

/// `rows` as a baseline JPEG of their own, encoded as the parameters say
/// (trellis quantization included), for its coefficients. Its Huffman
/// tables are optimized only under trellis quantization, which weighs each
/// coefficient's cost by them; otherwise they would change no coefficient.
pub(super) fn band_jpeg(rows: &PixelsRef, gray: bool, params: &EncodeParams) -> Result<Vec<u8>> {
    run_libjpeg(|| {
        let mut c = Compressor::new();
        configure(&mut c, rows.width(), rows.height(), gray, params);
        c.cinfo.optimize_coding = Effort::of(params).trellis.into();
        // SAFETY: a created, configured compressor. `write_rows` then gets
        // rows of `width` * 1 or 3 bytes as `configure` declared, provided
        // `gray` matches `rows.layout()`, which every caller ensures (gray
        // comes from `is_gray` or the same shape the rows were built with).
        unsafe { jpeg_start_compress(&mut c.cinfo, 1) };
        write_rows(&mut c, rows.rows());
        Ok(c.finish())
    })
}

/// Plans Huffman tables from sample JPEGs (each a sequential JPEG of one
/// scan, as [`band_jpeg`] writes): their symbols counted exactly, as
/// libjpeg's optimization counts them, plus one count for every symbol a
/// baseline scan can hold, so that no part of the image meets a symbol the
/// tables lack.
pub(super) fn plan_huffman<'a>(samples: impl Iterator<Item = &'a Vec<u8>>) -> Result<Frequencies> {
    let mut freq: Frequencies = [[0; 257]; 4];
    for jpeg in samples {
        count_symbols(jpeg, &mut freq)?;
    }
    for (table, counts) in freq.iter_mut().enumerate() {
        let is_ac = table >= 2;
        for (symbol, count) in counts.iter_mut().take(256).enumerate() {
            let (run, size) = (symbol >> 4, symbol & 15);
            let possible = if is_ac {
                (1..=10).contains(&size) || symbol == 0x00 || symbol == 0xF0
            } else {
                run == 0 && size <= 11
            };
            if possible {
                // Scaled so that a symbol seen once still counts far above
                // one never seen.
                *count = *count * 16 + 1;
            }
        }
        counts[256] = 1;
    }
    Ok(freq)
}

/// The zigzag order of an 8x8 block's coefficients: `ZIGZAG[k]` is the
/// natural (row-major) index of the `k`th coefficient coded.
const ZIGZAG: [usize; 64] = [
    0, 1, 8, 16, 9, 2, 3, 10, 17, 24, 32, 25, 18, 11, 4, 5, 12, 19, 26, 33, 40, 48, 41, 34, 27, 20,
    13, 6, 7, 14, 21, 28, 35, 42, 49, 56, 57, 50, 43, 36, 29, 22, 15, 23, 30, 37, 44, 51, 58, 59,
    52, 45, 38, 31, 39, 46, 53, 60, 61, 54, 47, 55, 62, 63,
];

/// Adds the Huffman symbols of the one scan of `jpeg` to `freq`: for each
/// block in scan order, the size category of its DC difference and the
/// run/size pairs (with ZRL and EOB) of its AC coefficients, as jchuff.c's
/// `htest_one_block` counts them.
fn count_symbols(jpeg: &[u8], freq: &mut Frequencies) -> Result<()> {
    run_libjpeg(|| {
        let mut d = Decompressor::new(jpeg, true, false);
        // SAFETY: `d` read its header from a memory source: the call returns
        // the arrays, owned by `d`, or unwinds.
        let arrays = unsafe { jpeg_read_coefficients(&mut d.cinfo) };
        let cinfo = &mut d.cinfo;
        let count = cinfo.num_components as usize;
        // SAFETY: after jpeg_read_coefficients, `comp_info` holds
        // `num_components` entries, owned by `d` and not changed while read.
        let comps = unsafe { std::slice::from_raw_parts(cinfo.comp_info, count) };
        let interleaved = count > 1;
        let (mcus_x, mcus_y) = if interleaved {
            let (mh, mv) = (
                cinfo.max_h_samp_factor as u32,
                cinfo.max_v_samp_factor as u32,
            );
            (
                cinfo.image_width.div_ceil(8 * mh),
                cinfo.image_height.div_ceil(8 * mv),
            )
        } else {
            (comps[0].width_in_blocks, comps[0].height_in_blocks)
        };
        // SAFETY: `mem` is the memory manager jpeg_create_decompress set up,
        // alive while `d` is.
        let access =
            unsafe { (*cinfo.common.mem).access_virt_barray }.expect("libjpeg memory manager");
        let sampling: Vec<(u32, u32, usize, usize)> = comps
            .iter()
            .map(|comp| {
                let (h, v) = if interleaved {
                    (comp.h_samp_factor as u32, comp.v_samp_factor as u32)
                } else {
                    (1, 1)
                };
                (
                    h,
                    v,
                    comp.dc_tbl_no as usize & 1,
                    2 + (comp.ac_tbl_no as usize & 1),
                )
            })
            .collect();
        let mut last_dc = vec![0i32; count];
        let mut rows: Vec<Vec<*const JBLOCK>> = vec![Vec::new(); count];
        for mcu_row in 0..mcus_y {
            for (ci, &(_, v, _, _)) in sampling.iter().enumerate() {
                rows[ci] = (0..v)
                    .map(|r| {
                        // SAFETY: `arrays` has one array per component,
                        // realized by jpeg_read_coefficients with rows up to a
                        // multiple of v_samp_factor past those the scan coded,
                        // so `mcu_row * v + r` is within it; one row is asked,
                        // within the access height, read only. With no backing
                        // store (jmemnobs) a realized array is wholly in
                        // memory, so the row's address stays valid while `d`
                        // lives.
                        let row = unsafe {
                            *access(&mut cinfo.common, *arrays.add(ci), mcu_row * v + r, 1, 0)
                        };
                        row as *const JBLOCK
                    })
                    .collect();
            }
            // Blocks in scan order: MCU by MCU, each component's h x v
            // blocks in raster order within it.
            for mcu in 0..mcus_x {
                for (ci, &(h, _, dc, ac)) in sampling.iter().enumerate() {
                    for &row in &rows[ci] {
                        for b in 0..h {
                            // SAFETY: the row holds `width_in_blocks` rounded up
                            // to h_samp_factor blocks, every block the scan
                            // coded, and `mcu * h + b` is one of them.
                            let block = unsafe { &*row.add((mcu * h + b) as usize) };
                            count_block(block, &mut last_dc[ci], freq, (dc, ac));
                        }
                    }
                }
            }
        }
        Ok(())
    })
}

/// Counts one block's symbols into `freq` (tables `dc` and `ac`), its DC
/// coded as the difference from `last_dc`, which it updates.
fn count_block(
    block: &JBLOCK,
    last_dc: &mut i32,
    freq: &mut Frequencies,
    (dc, ac): (usize, usize),
) {
    let bits = |value: i32| (32 - value.unsigned_abs().leading_zeros()) as usize;
    let value = i32::from(block[0]);
    freq[dc][bits(value - *last_dc)] += 1;
    *last_dc = value;
    let mut run = 0;
    for &natural in &ZIGZAG[1..] {
        let value = i32::from(block[natural]);
        if value == 0 {
            run += 1;
            continue;
        }
        while run > 15 {
            freq[ac][0xF0] += 1;
            run -= 16;
        }
        freq[ac][(run << 4) + bits(value)] += 1;
        run = 0;
    }
    if run > 0 {
        freq[ac][0] += 1;
    }
}

/// Replaces the Huffman tables `c` holds with ones built from `tables`.
pub(super) fn install_huffman(c: &mut Compressor, tables: &Frequencies) {
    for (table, freq) in tables.iter().enumerate() {
        let slots = if table < 2 {
            &mut c.cinfo.dc_huff_tbl_ptrs
        } else {
            &mut c.cinfo.ac_huff_tbl_ptrs
        };
        let htbl = slots[table % 2];
        if htbl.is_null() {
            continue;
        }
        let mut freq = *freq;
        // SAFETY: `htbl` is non-null (checked), a table jpeg_set_defaults
        // allocated in `c`'s pool; `freq` is a local array of the 257
        // frequencies libjpeg reads and overwrites; it writes the table's
        // bits and values. It may call error_exit (JERR_HUFF_CLEN_OVERFLOW),
        // whose unwind crosses it soundly: it is declared "C-unwind" (above).
        unsafe { jpeg_gen_optimal_table(&mut *c.cinfo, htbl, freq.as_mut_ptr()) };
    }
}

/// The first rows of the [`SAMPLED_BANDS`] bands of one MCU row
/// (`mcu_rows` pixel rows) that sample an image `height` rows tall, spread
/// evenly from top to bottom, in that order.
pub(super) fn sampled_bands(height: u32, mcu_rows: u32) -> impl Iterator<Item = u32> {
    let bands = height.div_ceil(mcu_rows).min(SAMPLED_BANDS);
    (0..bands).map(move |k| {
        (u64::from(k) * u64::from(height) / u64::from(bands)) as u32 / mcu_rows * mcu_rows
    })
}

/// Huffman tables for the whole of `source`, planned from its
/// [`sampled_bands`], asked for top to bottom.
pub(super) fn sampled_tables(
    source: &mut dyn StripSource,
    mcu_rows: u32,
    params: &EncodeParams,
) -> Result<Frequencies> {
    let (_, height, gray) = source.shape();
    let mut samples = Vec::new();
    for first in sampled_bands(height, mcu_rows) {
        let rows = source.rows(first, mcu_rows.min(height - first))?;
        samples.push(band_jpeg(&rows, gray, params)?);
    }
    plan_huffman(samples.iter())
}
