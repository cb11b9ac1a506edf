//! Encoding: 8-bit gray or RGB pixels in one piece (or handed to the strip
//! encoder), YCbCr 4:2:0 planes through the raw-data interface, and the
//! encoder parameters (compression profile, quantization tables, chroma
//! subsampling, scans) every encode path sets up.

use super::huffman::{
    install_huffman, plan_huffman, sampled_bands, sampled_tables, Frequencies, SAMPLED_MIN_PIXELS,
};
use super::libjpeg::{run_libjpeg, Compressor};
use super::segments::write_metadata;
use super::strips;
use super::strips::StripSource;
use super::tables::{vision_tables, QuantTables};
use crate::codecs::EncodeParams;
use crate::error::{Error, Result};
use crate::metadata::Metadata;
use crate::pixels::{Layout, PixelsRef};
use mozjpeg_sys::*;
use std::ffi::{c_int, c_uint};

/// Images of at least this many pixels are quantized strip by strip on the
/// rayon pool ([`strips::encode_parallel`]) when trellis quantization is on;
/// smaller ones, and faster efforts (where the extra coefficient copy and
/// Huffman pass cost more than the parallel DCT saves), in one piece.
const PARALLEL_MIN_PIXELS: u64 = 2_000_000;
/// Effort at a fixed quality when the caller gives none: baseline with
/// Huffman tables planned from sampled bands, the bytes of sharp's default
/// and Pillow's `optimize=True` in one pass (BENCHMARKS.md, "JPEG effort
/// ladder", for the numbers that chose it).
pub(crate) const DEFAULT_EFFORT: u8 = 1;
/// The effort from which trellis quantization is used.
const TRELLIS_EFFORT: u8 = 4;
/// Effort of a quality search (`target`) when the caller gives none: a
/// stated score or budget is to be met with the fewest bytes, so trellis.
pub(crate) const SEARCH_EFFORT: u8 = 4;

/// What a JPEG encode does at each `effort` (0-10):
///
/// | effort | Huffman tables | scans | quantization |
/// |---|---|---|---|
/// | 0 | standard (Annex K) | one, baseline | rounded |
/// | 1 (default) | planned from sampled bands ([`Huffman::Sampled`]) | one, baseline | rounded |
/// | 2 | optimized for the whole image | one, baseline | rounded |
/// | 3 | optimized | progressive | rounded |
/// | 4-7 (search default) | optimized | progressive | trellis |
/// | 8-10 | optimized | progressive, script searched | trellis |
///
/// `progressive`, when given, overrides the scans column (progressive scans
/// always get optimized tables). BENCHMARKS.md, "JPEG effort ladder", has
/// the time and bytes of each rung.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Effort {
    /// How the Huffman tables are made.
    pub(crate) huffman: Huffman,
    /// Progressive scans (mozjpeg's script).
    pub(crate) progressive: bool,
    /// Trellis quantization (rate-distortion optimized coefficients).
    pub(crate) trellis: bool,
    /// mozjpeg's search over progressive scan scripts.
    pub(crate) scan_search: bool,
}

/// How the Huffman tables of an encode are made.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Huffman {
    /// The standard tables of Annex K: one pass, as Pillow's default and
    /// sharp's `optimiseCoding: false`.
    Standard,
    /// Planned from a sample of bands of the image
    /// ([`super::huffman::sampled_tables`]): one pass over the image after
    /// a small one over the sample. Images under [`SAMPLED_MIN_PIXELS`] get
    /// `Optimized` instead, and striped encodes their own shared tables.
    Sampled,
    /// Optimized for the whole image: libjpeg keeps every coefficient and
    /// counts the symbols in a second pass, as sharp's default and
    /// Pillow's `optimize=True`.
    Optimized,
}

impl Effort {
    /// The rung of the ladder `params` asks for.
    pub(crate) fn of(params: &EncodeParams) -> Effort {
        let level = params.effort.unwrap_or(DEFAULT_EFFORT);
        let progressive = params.progressive.unwrap_or(level >= 3);
        let huffman = match level {
            _ if progressive || level >= 2 => Huffman::Optimized,
            1 => Huffman::Sampled,
            _ => Huffman::Standard,
        };
        Effort {
            huffman,
            progressive,
            trellis: level >= TRELLIS_EFFORT,
            scan_search: progressive && level >= 8,
        }
    }
}

/// Whether a `width` x `height` encode with `params` plans its Huffman
/// tables from sampled bands: [`Huffman::Sampled`], from
/// [`SAMPLED_MIN_PIXELS`] up.
fn samples_huffman(params: &EncodeParams, width: u32, height: u32) -> bool {
    Effort::of(params).huffman == Huffman::Sampled
        && u64::from(width) * u64::from(height) >= SAMPLED_MIN_PIXELS
}

/// The Huffman tables [`Huffman::Sampled`] asks for, planned from `source`
/// (the rows the encode will read), or `None` when the encode is to use
/// libjpeg's (standard or optimized) as [`set_output_scans`] sets them.
pub(super) fn planned_huffman(
    source: &mut dyn StripSource,
    params: &EncodeParams,
) -> Result<Option<Frequencies>> {
    let (width, height, gray) = source.shape();
    if !samples_huffman(params, width, height) {
        return Ok(None);
    }
    let mcu_rows = if gray {
        8
    } else {
        8 * params.subsampling.unwrap_or_default().chroma_span().1
    };
    sampled_tables(source, mcu_rows, params).map(Some)
}

/// Puts `planned` tables (from [`planned_huffman`]) in `c` in place of
/// libjpeg's optimization; after [`set_output_scans`], before the start.
pub(super) fn use_planned_huffman(c: &mut Compressor, planned: Option<&Frequencies>) {
    if let Some(tables) = planned {
        c.cinfo.optimize_coding = 0;
        install_huffman(c, tables);
    }
}

/// Encodes 8-bit Gray or Rgb pixels, reading the caller's rows in place.
pub(crate) fn encode(
    pixels: &PixelsRef,
    metadata: &Metadata,
    params: &EncodeParams,
) -> Result<Vec<u8>> {
    let pixel_count = u64::from(pixels.width()) * u64::from(pixels.height());
    if encodes_whole(params, pixel_count) {
        encode_whole(pixels, metadata, params)
    } else {
        crate::parallel::run(|| strips::encode_parallel(pixels, metadata, params))
    }
}

/// Whether [`encode`] writes an image of `pixel_count` pixels in one piece
/// on the calling thread (else in strips on the rayon pool).
pub(crate) fn encodes_whole(params: &EncodeParams, pixel_count: u64) -> bool {
    // Not `Effort::of(params).trellis`: compiled that way, the comparison
    // reads the byte of an unset `effort` (valgrind reports the branch).
    params.effort.unwrap_or(DEFAULT_EFFORT) < TRELLIS_EFFORT || pixel_count < PARALLEL_MIN_PIXELS
}

/// [`encode`] in one piece, on the calling thread.
pub(crate) fn encode_whole(
    pixels: &PixelsRef,
    metadata: &Metadata,
    params: &EncodeParams,
) -> Result<Vec<u8>> {
    let gray = is_gray(pixels)?;
    let planned = planned_huffman(&mut { *pixels }, params)?;
    run_libjpeg(|| {
        let mut c = Compressor::new();
        configure(&mut c, pixels.width(), pixels.height(), gray, params);
        set_output_scans(&mut c, params);
        use_planned_huffman(&mut c, planned.as_ref());
        // SAFETY: `c` is a created compressor with its image and parameters
        // set by `configure`; a state error unwinds to `run_libjpeg`.
        unsafe { jpeg_start_compress(&mut c.cinfo, 1) };
        write_metadata(&mut c, metadata);
        write_rows(&mut c, pixels.rows());
        Ok(c.finish())
    })
}

/// An 8-bit YCbCr 4:2:0 image as JPEG codes it (BT.601 matrix, full range):
/// each plane as (samples, row stride); the luma plane `width` x `height`,
/// the chroma planes half that, rounded up.
pub(crate) struct Ycbcr420<'a> {
    /// Width in pixels.
    pub(crate) width: u32,
    /// Height in pixels.
    pub(crate) height: u32,
    /// Y, Cb and Cr, each with its row stride in bytes.
    pub(crate) planes: [(&'a [u8], usize); 3],
}

/// Encodes YCbCr 4:2:0 planes as they are, through libjpeg's raw-data
/// interface: no colour conversion or chroma downsampling, so a 4:2:0 source
/// (HEIC, AVIF) reaches the DCT without the round trip through RGB that a
/// pixel encode makes it take. The caller has checked that `params` asks
/// for 4:2:0.
pub(crate) fn encode_ycbcr420(
    image: &Ycbcr420,
    metadata: &Metadata,
    params: &EncodeParams,
) -> Result<Vec<u8>> {
    let (width, height) = (image.width as usize, image.height as usize);
    let chroma = (width.div_ceil(2), height.div_ceil(2));
    let sizes = [(width, height), chroma, chroma];
    for ((samples, stride), (w, h)) in image.planes.iter().zip(sizes) {
        if w == 0 || h == 0 || *stride < w || samples.len() < stride * (h - 1) + w {
            return Err(Error::Internal("YCbCr plane smaller than its image".into()));
        }
    }
    let planned = planned_huffman_ycbcr420(image, params)?;
    run_libjpeg(|| {
        let mut c = Compressor::new();
        configure(&mut c, image.width, image.height, false, params);
        c.cinfo.in_color_space = J_COLOR_SPACE::JCS_YCbCr;
        c.cinfo.raw_data_in = 1;
        set_output_scans(&mut c, params);
        use_planned_huffman(&mut c, planned.as_ref());
        // SAFETY: as in `encode_whole`: a created, configured compressor.
        unsafe { jpeg_start_compress(&mut c.cinfo, 1) };
        write_metadata(&mut c, metadata);
        // One iMCU row at a time (16 luma rows, 8 chroma rows), copied into
        // buffers padded to whole blocks by repeating the last column and
        // row, as libjpeg's raw interface reads whole blocks.
        let rows = [16, 8, 8];
        let padded_widths = sizes.map(|(w, _)| w.next_multiple_of(16));
        let mut buffers: Vec<Vec<u8>> = padded_widths
            .iter()
            .zip(rows)
            .map(|(&w, rows)| vec![0; w * rows])
            .collect();
        for imcu in 0..height.div_ceil(16) {
            for (k, buffer) in buffers.iter_mut().enumerate() {
                let (samples, stride) = image.planes[k];
                let (w, h) = sizes[k];
                for (r, dest) in buffer.chunks_exact_mut(padded_widths[k]).enumerate() {
                    let source_row = (imcu * rows[k] + r).min(h - 1);
                    let source = &samples[source_row * stride..source_row * stride + w];
                    dest[..w].copy_from_slice(source);
                    dest[w..].fill(source[w - 1]);
                }
            }
            // Taken after the rows are written, from the buffers as they are now.
            let row_pointers: Vec<Vec<*const u8>> = buffers
                .iter()
                .zip(padded_widths)
                .map(|(buffer, w)| buffer.chunks_exact(w).map(<[u8]>::as_ptr).collect())
                .collect();
            let mut planes: [*const *const u8; 3] = [
                row_pointers[0].as_ptr(),
                row_pointers[1].as_ptr(),
                row_pointers[2].as_ptr(),
            ];
            // SAFETY: three components of 16, 8 and 8 rows (4:2:0, which the
            // caller checked `params` asks for) of padded_widths samples each,
            // at least width_in_blocks * 8 per component, as
            // jpeg_write_raw_data reads; the row pointers point into
            // `buffers`, not touched again until the call returns, and libjpeg
            // only reads through them (so the cast from `*const` is harmless).
            unsafe {
                jpeg_write_raw_data(&mut c.cinfo, planes.as_mut_ptr().cast(), 16);
            }
        }
        Ok(c.finish())
    })
}

/// [`planned_huffman`] for YCbCr 4:2:0 planes: each band (16 luma rows)
/// encoded on its own by [`encode_ycbcr420`] with the standard tables, for
/// its coefficients.
fn planned_huffman_ycbcr420(
    image: &Ycbcr420,
    params: &EncodeParams,
) -> Result<Option<Frequencies>> {
    if !samples_huffman(params, image.width, image.height) {
        return Ok(None);
    }
    let band_options = EncodeParams {
        effort: Some(0),
        progressive: Some(false),
        ..*params
    };
    let mut samples = Vec::new();
    for first in sampled_bands(image.height, 16) {
        let rows = 16.min(image.height - first);
        let band = Ycbcr420 {
            width: image.width,
            height: rows,
            planes: std::array::from_fn(|k| {
                let (samples, stride) = image.planes[k];
                let skip = if k == 0 { first } else { first / 2 } as usize * stride;
                (&samples[skip.min(samples.len())..], stride)
            }),
        };
        samples.push(encode_ycbcr420(&band, &Metadata::default(), &band_options)?);
    }
    plan_huffman(samples.iter()).map(Some)
}

/// Whether the encoder is given gray (else RGB) pixels; other layouts are refused.
pub(super) fn is_gray(pixels: &PixelsRef) -> Result<bool> {
    match pixels.layout() {
        Layout::Gray => Ok(true),
        Layout::Rgb => Ok(false),
        other => Err(Error::Internal(format!("JPEG encoder given {other:?}"))),
    }
}

/// Sets up `c` for a `width` x `height` gray or RGB image: the effort's
/// compression profile, the quantization tables for `params.quality` and
/// `params.tables`, and the chroma subsampling. The result is a single
/// sequential scan with standard Huffman tables; callers switch on Huffman
/// optimization and progression.
pub(super) fn configure(
    c: &mut Compressor,
    width: u32,
    height: u32,
    gray: bool,
    params: &EncodeParams,
) {
    let effort = Effort::of(params);
    let quality = params.quality.unwrap_or(80);
    let cinfo = &mut *c.cinfo;
    cinfo.image_width = width;
    cinfo.image_height = height;
    cinfo.input_components = if gray { 1 } else { 3 };
    cinfo.in_color_space = if gray {
        J_COLOR_SPACE::JCS_GRAYSCALE
    } else {
        J_COLOR_SPACE::JCS_RGB
    };
    let profile = if effort.trellis {
        JINT_COMPRESS_PROFILE_VALUE::JCP_MAX_COMPRESSION
    } else {
        JINT_COMPRESS_PROFILE_VALUE::JCP_FASTEST
    };
    // SAFETY: `cinfo` is a created compressor (`Compressor::new`) with
    // `in_color_space` set, as jpeg_set_defaults needs; these calls only
    // store parameters and allocate tables in its pools, and an invalid
    // value errors by unwinding.
    unsafe {
        jpeg_c_set_int_param(cinfo, J_INT_PARAM::JINT_COMPRESS_PROFILE, profile as c_int);
        jpeg_set_defaults(cinfo);
        // Annex K by default, so that `quality` means what it means in libjpeg, Pillow and sharp.
        let base = params.tables.mozjpeg_index();
        jpeg_c_set_int_param(cinfo, J_INT_PARAM::JINT_BASE_QUANT_TBL_IDX, base);
        // Steps clamped to 255 (force_baseline), as Pillow and sharp ask: a
        // larger step (low qualities, or Klein's base table) would need
        // 16-bit tables, which make the file extended sequential, not baseline.
        jpeg_set_quality(cinfo, c_int::from(quality), 1);
    }
    if let QuantTables::Vision { ppd } = params.tables {
        let (luma, chroma) =
            vision_tables(ppd, params.subsampling.unwrap_or_default().chroma_span());
        // SAFETY: a pure function of an integer; it touches no memory.
        let scale = unsafe { jpeg_quality_scaling(c_int::from(quality)) };
        for (slot, table) in [luma, chroma].iter().enumerate() {
            let table = table.map(c_uint::from);
            // SAFETY: `table` is a 64-entry array (DCTSIZE2, all libjpeg reads)
            // that libjpeg copies into a table of its own; `slot` is 0 or 1.
            unsafe { jpeg_add_quant_table(cinfo, slot as c_int, table.as_ptr(), scale, 1) };
        }
    }
    cinfo.optimize_coding = 0;
    // A JFIF APP0 would state nothing (no density is known here, and decoders
    // take 1 and 3 components as gray and YCbCr without it): 18 bytes saved.
    cinfo.write_JFIF_header = 0;
    c.set_bool(J_BOOLEAN_PARAM::JBOOLEAN_OPTIMIZE_SCANS, false);
    if !gray {
        let (h, v) = params.subsampling.unwrap_or_default().chroma_span();
        // SAFETY: jpeg_set_defaults (above) allocated MAX_COMPONENTS entries
        // at `comp_info` and, for RGB input, set up three YCbCr components;
        // no other reference to them exists while `comps` lives.
        let comps = unsafe { std::slice::from_raw_parts_mut(c.cinfo.comp_info, 3) };
        comps[0].h_samp_factor = h as c_int;
        comps[0].v_samp_factor = v as c_int;
        for comp in &mut comps[1..] {
            comp.h_samp_factor = 1;
            comp.v_samp_factor = 1;
        }
    }
    c.cinfo.num_scans = 0;
    c.cinfo.scan_info = std::ptr::null();
}

/// Sets up the scans of a whole-image output as the effort says: Huffman
/// tables optimized for the image (or the standard ones at effort 0;
/// [`use_planned_huffman`] then puts sampled ones in their place), and
/// progressive scans (mozjpeg's script, searched from effort 8) or one
/// baseline scan. The compression profile is set to mozjpeg's here at every
/// effort (after the effort's defaults were applied): it picks mozjpeg's
/// scan script over libjpeg's and writes the DQT and DHT tables as single
/// segments, both smaller files.
pub(super) fn set_output_scans(c: &mut Compressor, params: &EncodeParams) {
    let effort = Effort::of(params);
    c.cinfo.optimize_coding = (effort.huffman != Huffman::Standard).into();
    // SAFETY: `c` is a created compressor; the call only stores a parameter.
    unsafe {
        jpeg_c_set_int_param(
            &mut c.cinfo,
            J_INT_PARAM::JINT_COMPRESS_PROFILE,
            JINT_COMPRESS_PROFILE_VALUE::JCP_MAX_COMPRESSION as c_int,
        )
    };
    c.set_bool(J_BOOLEAN_PARAM::JBOOLEAN_OPTIMIZE_SCANS, effort.scan_search);
    if effort.progressive {
        // SAFETY: `c` is a created compressor with its components set; the
        // script is allocated in its own pool and stays with it.
        unsafe { jpeg_simple_progression(&mut c.cinfo) };
    } else {
        c.cinfo.num_scans = 0;
        c.cinfo.scan_info = std::ptr::null();
    }
}

/// Feeds `rows` to a started compressor, 16 at a time.
pub(super) fn write_rows<'a>(c: &mut Compressor, rows: impl Iterator<Item = &'a [u8]>) {
    let mut rows = rows;
    let mut ptrs: Vec<*const u8> = Vec::with_capacity(16);
    loop {
        ptrs.clear();
        ptrs.extend(rows.by_ref().take(16).map(<[u8]>::as_ptr));
        if ptrs.is_empty() {
            break;
        }
        // SAFETY: `c` is started; each pointer is the start of a row borrowed
        // from `rows` for 'a, alive during the call, and libjpeg only reads
        // through it. libjpeg reads image_width * input_components bytes per
        // row: every caller passes rows of exactly that length (`configure`
        // with the rows' width and gray/RGB layout); this function cannot check it.
        unsafe { jpeg_write_scanlines(&mut c.cinfo, ptrs.as_mut_ptr(), ptrs.len() as JDIMENSION) };
    }
}
