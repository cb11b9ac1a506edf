//! Striped JPEG encoding: an image encoded as independent horizontal strips
//! joined by restart markers, so that each finished strip can be kept and an
//! interrupted encode resumes at the next strip.
//!
//! Each strip is exactly one restart interval: the encoder starts every strip
//! with DC predictions at zero and ends it byte-aligned, which is what a
//! decoder does at a restart marker. Each strip is encoded as a JPEG of its
//! own, as the parameters say (trellis quantization included), and its
//! coefficients are then re-encoded losslessly with Huffman tables shared by
//! all strips. Those tables are planned before the first strip from the
//! optimal tables of up to [`SAMPLED_STRIPS`] strips spread over the image,
//! with every symbol given a code so that no strip can meet one they lack.
//! The output is a baseline JPEG, a little larger than the optimized
//! progressive one (see BENCHMARKS.md), and identical whether it was encoded
//! in one go or resumed from saved strips: the planning is deterministic and
//! is done again on resume.

use super::huffman::{band_jpeg, install_huffman, plan_huffman, Frequencies};
use super::scans::SplitScript;
use super::{
    configure, is_gray, run_libjpeg, write_metadata, write_rows, Compressor, Decompressor,
};
use crate::codecs::EncodeParams;
use crate::error::{Error, Result};
use crate::metadata::Metadata;
use crate::pixels::{Layout, PixelsRef};
use mozjpeg_sys::*;

/// Pixels per strip the layout aims for: small enough that a crash loses
/// little, large enough that the per-strip overhead (a restart marker, the
/// encoder's set-up) does not matter.
const STRIP_PIXELS: u64 = 1 << 20;
/// Pixels per strip of a [`gathered`] encode: nothing is kept between runs
/// there, so the strips are smaller, which spreads them more evenly over
/// the threads (the last strips of a call keep one thread busy alone).
const GATHERED_STRIP_PIXELS: u64 = 1 << 18;
/// The largest restart interval a DRI segment can state, in MCUs.
const MAX_RESTART_INTERVAL: u32 = 65535;
/// Strips encoded with optimal Huffman tables to plan the shared ones.
pub(crate) const SAMPLED_STRIPS: usize = 8;

/// Where the strips of a striped encode are kept between runs.
pub(crate) trait StripStore {
    /// Whether an output of `width` x `height` pixels is to be striped.
    fn wants(&self, width: u32, height: u32) -> bool;
    /// The entropy-coded bytes of strip `index` kept by an earlier run.
    fn load(&self, index: usize) -> Option<Vec<u8>>;
    /// Keeps the entropy-coded bytes of strip `index`, just encoded.
    fn save(&mut self, index: usize, bytes: &[u8]) -> Result<()>;
}

/// How an image is cut into strips.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct StripLayout {
    /// Rows per strip (a whole number of MCU rows); the last strip may be shorter.
    pub(crate) rows: u32,
    /// Number of strips.
    pub(crate) count: usize,
    /// MCUs per strip, the restart interval.
    restart_interval: u32,
}

impl StripLayout {
    /// The layout for a `width` x `height` image, gray or color with the
    /// chroma subsampling of `params`.
    pub(crate) fn new(width: u32, height: u32, gray: bool, params: &EncodeParams) -> StripLayout {
        StripLayout::of(width, height, gray, params, STRIP_PIXELS)
    }

    /// [`StripLayout::new`] for strips of about `strip_pixels` pixels.
    fn of(
        width: u32,
        height: u32,
        gray: bool,
        params: &EncodeParams,
        strip_pixels: u64,
    ) -> StripLayout {
        let (mcu_width, mcu_height) = if gray {
            (8, 8)
        } else {
            let (h, v) = params.subsampling.unwrap_or_default().chroma_span();
            (8 * h, 8 * v)
        };
        // Both divisors at least 1: a zero width must not divide by zero.
        let mcus_per_row = width.div_ceil(mcu_width).max(1);
        let wanted =
            (strip_pixels / (u64::from(width) * u64::from(mcu_height)).max(1)).max(1) as u32;
        let mcu_rows = wanted.min(MAX_RESTART_INTERVAL / mcus_per_row).max(1);
        let rows = mcu_rows * mcu_height;
        StripLayout {
            rows,
            count: height.div_ceil(rows) as usize,
            restart_interval: mcu_rows * mcus_per_row,
        }
    }
}

/// Where a striped encode reads its rows from: pixels in memory, or a
/// decoder producing them in order ([`super::stream`]).
pub(crate) trait StripSource {
    /// Width and height in pixels, and whether the rows are gray (else RGB).
    fn shape(&self) -> (u32, u32, bool);
    /// Rows `first..first + count` (`count` at least 1, within the image).
    /// Within one pass the rows are asked for top to bottom; an encode makes
    /// at most two passes (the sampled strips, then every strip).
    fn rows(&mut self, first: u32, count: u32) -> Result<PixelsRef<'_>>;
}

impl StripSource for PixelsRef<'_> {
    fn shape(&self) -> (u32, u32, bool) {
        (self.width(), self.height(), self.layout() == Layout::Gray)
    }

    fn rows(&mut self, first: u32, count: u32) -> Result<PixelsRef<'_>> {
        is_gray(self)?;
        Ok(self.rows_from(first, count))
    }
}

/// Encodes the rows of `source` strip by strip, taking strips that `store`
/// kept and giving it each one newly encoded.
pub(crate) fn encode_striped(
    source: &mut dyn StripSource,
    metadata: &Metadata,
    params: &EncodeParams,
    store: &mut dyn StripStore,
) -> Result<Vec<u8>> {
    let (width, height, gray) = source.shape();
    let layout = StripLayout::new(width, height, gray, params);
    let strip = |source: &mut dyn StripSource, index: usize| -> Result<Vec<u8>> {
        let first = index as u32 * layout.rows;
        band_jpeg(
            &source.rows(first, layout.rows.min(height - first))?,
            gray,
            params,
        )
    };
    let sampled = layout.count.min(SAMPLED_STRIPS);
    let mut samples = std::collections::BTreeMap::new();
    for k in 0..sampled {
        let index = k * layout.count / sampled;
        samples.insert(index, strip(source, index)?);
    }
    let tables = plan_huffman(samples.values())?;
    let mut out = header((width, height), gray, layout, &tables, metadata, params)?;
    for index in 0..layout.count {
        let bytes = match store.load(index) {
            Some(bytes) => bytes,
            None => {
                let jpeg = match samples.remove(&index) {
                    Some(jpeg) => jpeg,
                    None => strip(source, index)?,
                };
                let bytes = retable(&jpeg, &tables)?;
                store.save(index, &bytes)?;
                bytes
            }
        };
        out.extend_from_slice(&bytes);
        if index + 1 < layout.count {
            out.extend_from_slice(&[0xFF, 0xD0 + (index % 8) as u8]);
        }
    }
    out.extend_from_slice(&[0xFF, 0xD9]);
    Ok(out)
}

/// Encodes `pixels` (8-bit gray or RGB) with its strips encoded in parallel
/// on the rayon pool and gathered into one file ([`gathered`]).
pub(crate) fn encode_parallel(
    pixels: &PixelsRef,
    metadata: &Metadata,
    params: &EncodeParams,
) -> Result<Vec<u8>> {
    use rayon::prelude::*;
    let gray = is_gray(pixels)?;
    let shape = (pixels.width(), pixels.height(), gray);
    gathered(shape, metadata, params, |strips| {
        (0..strips.layout.count)
            .into_par_iter()
            .try_for_each(|index| {
                strips.put(
                    index,
                    &pixels.rows_from(strips.first_row(index), strips.layout.rows),
                )
            })
    })
}

/// Encodes an image of `width` x `height` gray or RGB pixels whose strips
/// `fill` hands to [`GatheredStrips::put`], each once, in any order and from
/// any thread. Each strip's quantized coefficients are copied straight into
/// the whole image's coefficient arrays, which are then written as
/// [`super::encode`] would: progressive when `params.progressive`, with
/// Huffman tables optimized for the whole image. Only the quantization
/// (trellis included) works strip by strip, so the file is within a fraction
/// of a per cent of the single-piece one, and the same whatever the number
/// of threads or the order of the strips. Memory: one coefficient image,
/// and the strips in flight.
pub(crate) fn gathered(
    (width, height, gray): (u32, u32, bool),
    metadata: &Metadata,
    params: &EncodeParams,
    fill: impl FnOnce(&GatheredStrips) -> Result<()>,
) -> Result<Vec<u8>> {
    let layout = StripLayout::of(width, height, gray, params, GATHERED_STRIP_PIXELS);
    // A one-row image encoded like the strips: the source of the parameters
    // (components, sampling, quantization tables) the whole image shares.
    let mut blank = Vec::new();
    let template = band_jpeg(&one_row(&mut blank, width, gray)?, gray, params)?;
    run_libjpeg(|| {
        let template = Decompressor::new(&template, true, false);
        let mut c = Compressor::new();
        // SAFETY: `template` has read its header and `c` is freshly created;
        // libjpeg copies the parameters, keeping no pointer into `template`.
        unsafe { jpeg_copy_critical_parameters(&template.cinfo, &mut c.cinfo) };
        c.cinfo.image_height = height;
        let max_h = template.cinfo.max_h_samp_factor as u32;
        let max_v = template.cinfo.max_v_samp_factor as u32;
        let components = template.cinfo.num_components as usize;
        let sampling: Vec<(u32, u32)> =
            // SAFETY: after the header, `comp_info` holds `num_components`
            // entries in the decompressor's pool, alive while `template` is
            // and not written while this shared slice is used.
            unsafe { std::slice::from_raw_parts(template.cinfo.comp_info, components) }
                .iter()
                .map(|comp| (comp.h_samp_factor as u32, comp.v_samp_factor as u32))
                .collect();
        let mem = c.cinfo.common.mem;
        // Blocks per row and block rows of each component.
        let sizes: Vec<(u32, u32)> = sampling
            .iter()
            .map(|&(h, v)| {
                (
                    (width * h).div_ceil(8 * max_h),
                    (height * v).div_ceil(8 * max_v),
                )
            })
            .collect();
        let mut arrays: Vec<*mut jvirt_barray_control> = sampling
            .iter()
            .zip(&sizes)
            .map(|(&(h, v), &(width, height))| {
                // SAFETY: `mem` is `c`'s memory manager, valid while `c` lives;
                // virtual arrays may be requested (in JPOOL_IMAGE) until
                // jpeg_write_coefficients realizes them, below; `maxaccess`
                // `v` covers every access made (1 row here, `v` rows by libjpeg).
                unsafe {
                    ((*mem).request_virt_barray.expect("libjpeg memory manager"))(
                        &mut c.cinfo.common,
                        JPOOL_IMAGE,
                        1,
                        width.next_multiple_of(h),
                        height.next_multiple_of(v),
                        v,
                    )
                }
            })
            .collect();
        super::set_output_scans(&mut c, params);
        // With threads to spare, a progressive script is written in two
        // parts at once, by two encoders reading `c`'s arrays (`c`, which
        // frees them when it finishes, then only holds them); not a script
        // mozjpeg searches.
        let split =
            (rayon::current_num_threads() > 1 && c.cinfo.num_scans > 0 && !c.searches_scans())
                .then(|| {
                    // SAFETY: set_output_scans left `scan_info` pointing to a
                    // script of `num_scans` (> 0, checked) scans in `c`'s pool,
                    // not changed while `script` is used (SplitScript copies it).
                    let script = unsafe {
                        std::slice::from_raw_parts(c.cinfo.scan_info, c.cinfo.num_scans as usize)
                    };
                    let blocks: Vec<u64> = sizes
                        .iter()
                        .map(|&(w, h)| u64::from(w) * u64::from(h))
                        .collect();
                    SplitScript::new(script, &blocks)
                })
                .flatten();
        // Read before this: for a sequential file libjpeg sets `num_scans`
        // to 1 here, with no script behind it.
        // SAFETY: `arrays` holds one requested array per component of `c`
        // (copied from `template`); libjpeg keeps the pointer to the `arrays`
        // buffer, which is neither changed nor moved afterwards; `c` reads it
        // only in `finish`, made while `arrays` lives, and its `Drop` (which
        // may run after `arrays` is dropped, on an error) does not read it.
        unsafe { jpeg_write_coefficients(&mut c.cinfo, arrays.as_mut_ptr()) };
        let mut writers = split.as_ref().map(|split| {
            [0, 1].map(|part| {
                let mut writer = Compressor::new();
                // SAFETY: as for `c` above: a header-read template, a fresh compressor.
                unsafe { jpeg_copy_critical_parameters(&template.cinfo, &mut writer.cinfo) };
                writer.cinfo.image_height = height;
                super::set_output_scans(&mut writer, params);
                writer.cinfo.scan_info = split.part(part).as_ptr();
                writer.cinfo.num_scans = split.part(part).len() as c_int;
                // SAFETY: `arrays` (realized by `c`, which frees them only when
                // dropped, after both writers finished) has one array per
                // component; `scan_info` points into `split`'s heap data, which
                // lives until after the writers finish. Each writer only reads
                // the arrays through libjpeg's access_virt_barray (writable =
                // FALSE); see the note at `Apart` on the padding rows.
                unsafe { jpeg_write_coefficients(&mut writer.cinfo, arrays.as_mut_ptr()) };
                writer
            })
        });
        match &mut writers {
            Some([first, _]) => write_metadata(first, metadata),
            None => write_metadata(&mut c, metadata),
        }
        // libjpeg's memory manager here has no backing store: realized arrays
        // live wholly in memory, so each row keeps one address, and strips
        // write disjoint rows.
        let rows: Vec<Vec<usize>> = arrays
            .iter()
            .zip(&sizes)
            .map(|(&array, &(_, height))| {
                (0..height)
                    // SAFETY: `array` was realized by `c`'s jpeg_write_coefficients
                    // and `row` < `height` <= its rows; with no backing store
                    // (jmemnobs) a realized array is wholly in memory, so the
                    // returned row address stays valid until `c` is destroyed.
                    .map(|row| unsafe {
                        *((*mem).access_virt_barray.expect("libjpeg memory manager"))(
                            &mut c.cinfo.common,
                            array,
                            row,
                            1,
                            1,
                        ) as usize
                    })
                    .collect()
            })
            .collect();
        fill(&GatheredStrips {
            layout,
            gray,
            params,
            components: sampling
                .iter()
                .zip(sizes)
                .zip(rows)
                .map(|((&(_, v), size), rows)| GatheredComponent {
                    rows_per_strip: layout.rows * v / (8 * max_v),
                    size,
                    rows,
                })
                .collect(),
            put: (0..layout.count).map(|_| Default::default()).collect(),
        })?;
        match (split, writers) {
            (Some(split), Some([first, second])) => {
                let (first, second) = (Apart(first), Apart(second));
                let (first, second) = rayon::join(
                    move || run_libjpeg(|| Ok(first.finish())),
                    move || run_libjpeg(|| Ok(second.finish())),
                );
                let file = split.join([&first?, &second?]);
                // Only now may the arrays go.
                drop(c);
                file
            }
            _ => Ok(c.finish()),
        }
    })
}

/// An encoder handed to another thread to finish.
struct Apart(Compressor);

impl Apart {
    /// [`Compressor::finish`], taking the whole wrapper (so that a closure
    /// calling it captures the wrapper, not the encoder inside).
    fn finish(self) -> Vec<u8> {
        self.0.finish()
    }
}

// SAFETY: a libjpeg object belongs to no thread (no thread-local state; its
// memory comes from malloc) and its error manager moves with it; an `Apart`
// is used by one thread at a time (moved into one `rayon::join` closure).
// The coefficient arrays the two encoders of a split script share are owned
// by `c`, which outlives both and is not used meanwhile, and the encoders
// only read their rows. Caveat: libjpeg's access_virt_barray re-zeroes a
// component's padding block rows (past the image's, up to a multiple of its
// v_samp_factor), never touched by the `rows` loop above, on every read
// access, so both encoders may write those zeros at the same time: a
// formal data race, though every write stores the same zeros.
unsafe impl Send for Apart {}

/// The whole image's coefficient arrays as the strips of a [`gathered`]
/// encode fill them.
pub(crate) struct GatheredStrips<'a> {
    /// How the image is cut into strips.
    pub(crate) layout: StripLayout,
    gray: bool,
    params: &'a EncodeParams,
    components: Vec<GatheredComponent>,
    /// Whether each strip was put, so that none is written twice.
    put: Vec<std::sync::atomic::AtomicBool>,
}

/// One component's coefficient array in a [`GatheredStrips`].
struct GatheredComponent {
    /// Block rows per strip.
    rows_per_strip: u32,
    /// Blocks per row and block rows.
    size: (u32, u32),
    /// The address of each block row (of at least `size.0` blocks).
    rows: Vec<usize>,
}

impl GatheredStrips<'_> {
    /// The first pixel row of strip `index`.
    pub(crate) fn first_row(&self, index: usize) -> u32 {
        index as u32 * self.layout.rows
    }

    /// Quantizes `pixels`, the rows of strip `index` (gray or RGB as the
    /// image is), as the parameters say, into the image's coefficient arrays.
    pub(crate) fn put(&self, index: usize, pixels: &PixelsRef) -> Result<()> {
        let first_time = self
            .put
            .get(index)
            .is_some_and(|put| !put.swap(true, std::sync::atomic::Ordering::Relaxed));
        if !first_time {
            return Err(Error::Internal(format!(
                "strip {index} put twice or out of range"
            )));
        }
        let jpeg = band_jpeg(pixels, self.gray, self.params)?;
        run_libjpeg(|| {
            let mut d = Decompressor::new(&jpeg, true, false);
            // SAFETY: `d` read its header from a memory source (non-suspending):
            // the call returns the arrays, owned by `d`, or unwinds.
            let source = unsafe { jpeg_read_coefficients(&mut d.cinfo) };
            let source_mem = d.cinfo.common.mem;
            for (k, component) in self.components.iter().enumerate() {
                let (width, height) = component.size;
                let first_row = index as u32 * component.rows_per_strip;
                // SAFETY: the strip was encoded by `strip_jpeg` with the same
                // gray flag and parameters as the template, so it has as many
                // components (`comp_info` entries) as `self.components`, k < that.
                let comp = unsafe { &*d.cinfo.comp_info.add(k) };
                let count = comp.height_in_blocks.min(height.saturating_sub(first_row));
                let blocks = comp.width_in_blocks.min(width) as usize;
                for row in 0..count {
                    // SAFETY: `source` has an array per component (as above) and
                    // `row` < the strip's height_in_blocks, so libjpeg returns a
                    // row of the strip's own array, read only here. `to` is row
                    // `first_row + row` (< `height`, so in `rows`) of the image's
                    // array, kept alive by the `c` of `gathered` for the whole
                    // fill. Strips are whole iMCU rows, so strip `index` covers
                    // block rows first_row..first_row + rows_per_strip, which no
                    // other strip writes (each strip is put at most once,
                    // checked above) and nothing reads during the fill;
                    // provided `pixels` has at most `layout.rows` rows, which
                    // both callers ensure (`rows_from` clamps, `output_rows`)
                    // but this safe fn does not check. Both rows hold at least
                    // `blocks` blocks.
                    unsafe {
                        let from = *((*source_mem).access_virt_barray.expect("memory manager"))(
                            &mut d.cinfo.common,
                            *source.add(k),
                            row,
                            1,
                            0,
                        );
                        let to = component.rows[(first_row + row) as usize] as *mut JBLOCK;
                        std::ptr::copy_nonoverlapping(from, to, blocks);
                    }
                }
            }
            Ok(())
        })
    }
}

/// One blank row of `width` gray or RGB pixels, its samples held in
/// `samples` (zeroed and sized by the row's real length: no fixed buffer
/// bounds the width, which libjpeg checks and refuses past its limit).
fn one_row(samples: &mut Vec<u8>, width: u32, gray: bool) -> Result<PixelsRef<'_>> {
    let layout = if gray { Layout::Gray } else { Layout::Rgb };
    let row = (width as usize)
        .checked_mul(layout.channels())
        .ok_or_else(|| Error::InvalidArgument(format!("a row of {width} pixels is too long")))?;
    samples.clear();
    samples.resize(row, 0);
    PixelsRef::new(samples, width, 1, row, layout)
}

/// The entropy-coded bytes of a strip JPEG re-encoded, coefficient for
/// coefficient, with the shared Huffman tables.
fn retable(jpeg: &[u8], tables: &Frequencies) -> Result<Vec<u8>> {
    let out = run_libjpeg(|| {
        let mut d = Decompressor::new(jpeg, true, false);
        // SAFETY: `d` read its header from a memory source: the call returns
        // the arrays, owned by `d`, or unwinds.
        let coefficients = unsafe { jpeg_read_coefficients(&mut d.cinfo) };
        let mut c = Compressor::new();
        // SAFETY: `d` has read its coefficients; `c` is freshly created.
        unsafe { jpeg_copy_critical_parameters(&d.cinfo, &mut c.cinfo) };
        c.cinfo.optimize_coding = 0;
        c.cinfo.num_scans = 0;
        c.cinfo.scan_info = std::ptr::null();
        install_huffman(&mut c, tables);
        // SAFETY: `coefficients` are `d`'s arrays; `d`, declared before `c`,
        // outlives it, and is finished only after `c.finish()`.
        unsafe { jpeg_write_coefficients(&mut c.cinfo, coefficients) };
        let out = c.finish();
        // SAFETY: `d` read all its coefficients and `c`, their user, is finished.
        unsafe { jpeg_finish_decompress(&mut d.cinfo) };
        Ok(out)
    })?;
    let (scan_start, _) = scan_bounds(&out)?;
    Ok(out[scan_start..out.len() - 2].to_vec())
}

/// Everything before the entropy-coded data: the markers of an encoder set up
/// like the strips' (metadata included), with the frame's height set to the
/// whole image's and a restart interval of one strip.
fn header(
    (width, height): (u32, u32),
    gray: bool,
    layout: StripLayout,
    tables: &Frequencies,
    metadata: &Metadata,
    params: &EncodeParams,
) -> Result<Vec<u8>> {
    let mut samples = Vec::new();
    let blank = one_row(&mut samples, width, gray)?;
    let jpeg = run_libjpeg(|| {
        let mut c = Compressor::new();
        configure(&mut c, width, 1, gray, params);
        // No trellis here: it would replace the tables installed.
        c.set_bool(J_BOOLEAN_PARAM::JBOOLEAN_TRELLIS_QUANT, false);
        c.set_bool(J_BOOLEAN_PARAM::JBOOLEAN_TRELLIS_QUANT_DC, false);
        install_huffman(&mut c, tables);
        // SAFETY: a created compressor configured for `blank`, a one-row
        // image of the same width and gray/RGB layout.
        unsafe { jpeg_start_compress(&mut c.cinfo, 1) };
        write_metadata(&mut c, metadata);
        write_rows(&mut c, blank.rows());
        Ok(c.finish())
    })?;
    let (scan_start, sos) = scan_bounds(&jpeg)?;
    let mut out = jpeg[..sos].to_vec();
    let sof = find_marker(&out, 0xC0)
        .ok_or_else(|| Error::Internal("striped JPEG header has no SOF0".into()))?;
    // SOF0: marker, length (2), precision (1), height (2), width (2), ...
    let height =
        u16::try_from(height).map_err(|_| Error::Internal("JPEG height over 65535".into()))?;
    out[sof + 5..sof + 7].copy_from_slice(&height.to_be_bytes());
    let interval = layout.restart_interval as u16;
    out.extend_from_slice(&[0xFF, 0xDD, 0, 4]);
    out.extend_from_slice(&interval.to_be_bytes());
    out.extend_from_slice(&jpeg[sos..scan_start]);
    Ok(out)
}

/// Where the SOS marker starts and where its scan data starts.
pub(super) fn scan_bounds(jpeg: &[u8]) -> Result<(usize, usize)> {
    let sos = find_marker(jpeg, 0xDA)
        .ok_or_else(|| Error::Internal("encoded strip has no SOS".into()))?;
    let len = usize::from(u16::from_be_bytes([jpeg[sos + 2], jpeg[sos + 3]]));
    if !jpeg.ends_with(&[0xFF, 0xD9]) || sos + 2 + len > jpeg.len() - 2 {
        return Err(Error::Internal("encoded strip is not a whole JPEG".into()));
    }
    Ok((sos + 2 + len, sos))
}

/// The offset of the first `marker` segment before the scan data, walking
/// the segments from SOI.
fn find_marker(jpeg: &[u8], marker: u8) -> Option<usize> {
    let mut pos = 2;
    while pos + 4 <= jpeg.len() && jpeg[pos] == 0xFF {
        if jpeg[pos + 1] == marker {
            return Some(pos);
        }
        if jpeg[pos + 1] == 0xDA {
            return None;
        }
        pos += 2 + usize::from(u16::from_be_bytes([jpeg[pos + 2], jpeg[pos + 3]]));
    }
    None
}

/// A strip store that keeps nothing (a streamed encode, a worker without a
/// session's state): every strip is encoded, for images of at least
/// `min_pixels` pixels.
pub(crate) struct UnkeptStrips {
    /// The fewest pixels an image it wants strips of has.
    pub(crate) min_pixels: u64,
}

impl StripStore for UnkeptStrips {
    fn wants(&self, width: u32, height: u32) -> bool {
        u64::from(width) * u64::from(height) >= self.min_pixels
    }

    fn load(&self, _index: usize) -> Option<Vec<u8>> {
        None
    }

    fn save(&mut self, _index: usize, _bytes: &[u8]) -> Result<()> {
        Ok(())
    }
}

#[cfg(test)]
pub(crate) mod tests;
