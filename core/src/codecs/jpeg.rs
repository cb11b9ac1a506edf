//! JPEG through mozjpeg (libjpeg-turbo's decoder, mozjpeg's encoder).
//!
//! libjpeg reports errors by calling `error_exit`, which must not return; we
//! unwind out of it with a [`LibjpegFailure`] payload and catch that at the
//! edge of this module ([`run_libjpeg`]). Every libjpeg object lives in a guard
//! whose `Drop` destroys it, so unwinding frees everything.

mod markers;
mod scans;
pub(crate) mod stream;
pub(crate) mod strips;

use super::{check_limit, DecodeRequest, Decoded};
use crate::error::{panic_message, Error, Result};
use crate::format::Format;
use crate::info::Info;
use crate::metadata::{Metadata, MetadataPolicy, EXIF_PREFIX};
use crate::options::Options;
use crate::orient::Orientation;
use crate::pixels::{Image, Layout, PixelsRef};
use crate::quality::{vision_tables, QuantTables};
use mozjpeg_sys::*;
use std::borrow::Cow;
use std::ffi::{c_int, c_uint, c_ulong, c_void};
use std::mem;
use std::panic::{catch_unwind, resume_unwind, AssertUnwindSafe};

const XMP_PREFIX: &[u8] = b"http://ns.adobe.com/xap/1.0/\0";
const ICC_PREFIX: &[u8] = b"ICC_PROFILE\0";
const IPTC_PREFIX: &[u8] = b"Photoshop 3.0\0";
const APP0: c_int = 0xE0;
const COM: c_int = 0xFE;
/// Payload bytes that fit in one marker segment.
const MAX_MARKER_PAYLOAD: usize = 65533;

/// The effort at and above which trellis quantization is used.
const TRELLIS_EFFORT: u8 = 4;
/// The effort at and above which mozjpeg searches progressive scan scripts.
const SCAN_SEARCH_EFFORT: u8 = 8;
/// Images of at least this many pixels are quantized strip by strip on the
/// rayon pool ([`strips::encode_parallel`]) when trellis quantization is on;
/// smaller ones, and faster efforts (where the extra coefficient copy and
/// Huffman pass cost more than the parallel DCT saves), in one piece.
const PARALLEL_MIN_PIXELS: u64 = 2_000_000;
/// Effort when the caller gives none.
pub(crate) const DEFAULT_EFFORT: u8 = 4;

/// Why libjpeg stopped: its message code and text.
struct LibjpegFailure {
    code: c_int,
    message: String,
}

extern "C" {
    fn free(ptr: *mut c_void);
}

/// libjpeg warnings that do not mean damaged image data.
fn is_benign_warning(code: c_int) -> bool {
    [
        JWRN_EXTRANEOUS_DATA,
        JWRN_ADOBE_XFORM,
        JWRN_JFIF_MAJOR,
        JWRN_BOGUS_ICC,
    ]
    .contains(&(code as J_MESSAGE_CODE))
}

fn failure_of(cinfo: &mut jpeg_common_struct) -> LibjpegFailure {
    // SAFETY: libjpeg calls this only for an object whose `err` points to the
    // boxed error manager `Decompressor::new`/`Compressor::new` set before
    // creating it, which lives (in `_err`) as long as that object.
    let err = unsafe { &*cinfo.err };
    let mut buffer = [0u8; 80];
    if let Some(format_message) = err.format_message {
        // mozjpeg-sys types the buffer `&[u8; 80]`, but libjpeg writes into it:
        // call it through the C signature, with a pointer we may write through.
        type FormatMessage = unsafe extern "C-unwind" fn(&mut jpeg_common_struct, *mut u8);
        // SAFETY: the two signatures differ only in the buffer argument, a
        // shared reference against a raw pointer to the same 80 bytes: one
        // pointer-sized argument in the C ABI either way.
        let format_message: FormatMessage = unsafe { std::mem::transmute(format_message) };
        // SAFETY: `cinfo` is the live object libjpeg handed us; libjpeg writes
        // at most JMSG_LENGTH_MAX (80) bytes into `buffer`, which is 80 bytes
        // and mutably borrowed for the call.
        unsafe { format_message(cinfo, buffer.as_mut_ptr()) };
    }
    let text = buffer.split(|&c| c == 0).next().unwrap_or_default();
    LibjpegFailure {
        code: err.msg_code,
        message: String::from_utf8_lossy(text).into_owned(),
    }
}

extern "C-unwind" fn error_exit(cinfo: &mut jpeg_common_struct) {
    resume_unwind(Box::new(failure_of(cinfo)));
}

extern "C-unwind" fn strict_emit_message(cinfo: &mut jpeg_common_struct, level: c_int) {
    // SAFETY: as in `failure_of`: `cinfo.err` is the live boxed error manager.
    let code = unsafe { (*cinfo.err).msg_code };
    if level < 0 && !is_benign_warning(code) {
        resume_unwind(Box::new(failure_of(cinfo)));
    }
}

extern "C-unwind" fn lenient_emit_message(_cinfo: &mut jpeg_common_struct, _level: c_int) {}

fn error_mgr(strict: bool) -> Box<jpeg_error_mgr> {
    // SAFETY: `jpeg_error_mgr` is a C struct of integers, raw pointers and
    // `Option` function pointers, all valid when zeroed; jpeg_std_error fills it.
    let mut err: Box<jpeg_error_mgr> = Box::new(unsafe { mem::zeroed() });
    // SAFETY: `err` is a valid, exclusively borrowed error manager; the call
    // only stores libjpeg's defaults into it and cannot fail.
    unsafe { jpeg_std_error(&mut err) };
    err.error_exit = Some(error_exit);
    err.emit_message = Some(if strict {
        strict_emit_message
    } else {
        lenient_emit_message
    });
    err
}

/// Runs libjpeg work, turning its failures into typed errors for `format`.
fn run_libjpeg<T>(work: impl FnOnce() -> Result<T>) -> Result<T> {
    match catch_unwind(AssertUnwindSafe(work)) {
        Ok(result) => result,
        Err(payload) => match payload.downcast::<LibjpegFailure>() {
            Ok(failure) => Err(classify(*failure)),
            Err(other) => Err(Error::Internal(panic_message(other.as_ref()))),
        },
    }
}

fn classify(failure: LibjpegFailure) -> Error {
    let code = failure.code as J_MESSAGE_CODE;
    let detail = format!("libjpeg: {}", failure.message);
    if [JWRN_JPEG_EOF, JERR_INPUT_EOF, JERR_INPUT_EMPTY].contains(&code) {
        Error::truncated(Format::Jpeg, detail)
    } else {
        Error::corrupt(Format::Jpeg, detail)
    }
}

/// A decompressor that is destroyed when dropped, also while unwinding.
struct Decompressor {
    cinfo: Box<jpeg_decompress_struct>,
    _err: Box<jpeg_error_mgr>,
}

impl Decompressor {
    /// Creates a decompressor over `data`, saving the APP and COM markers when asked.
    fn new(data: &[u8], strict: bool, save_markers: bool) -> Decompressor {
        let mut err = error_mgr(strict);
        // SAFETY: all-zero is a valid `jpeg_decompress_struct` (integers, raw
        // pointers, `Option` fn pointers, enums whose 0 is a variant) and the
        // documented state before jpeg_create_decompress.
        let mut cinfo: Box<jpeg_decompress_struct> = Box::new(unsafe { mem::zeroed() });
        cinfo.common.err = &mut *err;
        let mut d = Decompressor { cinfo, _err: err };
        // SAFETY: `d.cinfo` is zeroed with `err` set to the boxed manager `d`
        // owns. `jpeg_mem_src` keeps a pointer to `data` without copying: every
        // caller keeps `data` alive for as long as the `Decompressor` (it is a
        // local of the function borrowing `data`, or held in a struct with
        // that borrow's lifetime, `DecodedRows`); the type does not enforce
        // it. Errors unwind through `error_exit` (mozjpeg-sys is built with
        // unwinding and declares these "C-unwind"), and `d`, already built,
        // is destroyed by its `Drop`.
        unsafe {
            jpeg_create_decompress(&mut *d.cinfo);
            jpeg_mem_src(&mut d.cinfo, data.as_ptr(), data.len() as c_ulong);
            if save_markers {
                for marker in (APP0..APP0 + 16).chain([COM]) {
                    jpeg_save_markers(&mut d.cinfo, marker, 0xFFFF);
                }
            }
            jpeg_read_header(&mut d.cinfo, 1);
        }
        d
    }

    /// The saved markers, as (marker code, payload) pairs in file order.
    fn markers(&self) -> Vec<(u8, &[u8])> {
        let mut out = Vec::new();
        let mut node = self.cinfo.marker_list;
        while !node.is_null() {
            // SAFETY: `node` is non-null (loop condition) and a saved marker
            // in the decompressor's JPOOL_IMAGE pool, freed only by
            // jpeg_finish/abort/destroy, which all need `&mut self`: the
            // `&self` borrow the returned slices carry rules them out.
            let m = unsafe { &*node };
            // SAFETY: libjpeg saved `data_length` bytes at the non-null
            // `m.data` (right after the node), alive as `node` is (above).
            let data = unsafe { std::slice::from_raw_parts(m.data, m.data_length as usize) };
            out.push((m.marker, data));
            node = m.next;
        }
        out
    }
}

impl Drop for Decompressor {
    fn drop(&mut self) {
        // SAFETY: `self.cinfo` was created by jpeg_create_decompress in `new`
        // (before any call that can fail) and is destroyed only here, once;
        // destroying is valid in any state, also after an error unwound.
        unsafe { jpeg_destroy_decompress(&mut self.cinfo) };
    }
}

/// A compressor writing to a malloc'd memory buffer, destroyed when dropped.
struct Compressor {
    cinfo: Box<jpeg_compress_struct>,
    _err: Box<jpeg_error_mgr>,
    out: Box<(*mut u8, c_ulong)>,
}

impl Compressor {
    fn new() -> Compressor {
        let mut err = error_mgr(true);
        // SAFETY: as for the decompressor: all-zero is a valid
        // `jpeg_compress_struct` and the state before jpeg_create_compress.
        let mut cinfo: Box<jpeg_compress_struct> = Box::new(unsafe { mem::zeroed() });
        cinfo.common.err = &mut *err;
        let mut c = Compressor {
            cinfo,
            _err: err,
            out: Box::new((std::ptr::null_mut(), 0)),
        };
        // SAFETY: `c.cinfo` is zeroed with `err` set to the boxed manager `c`
        // owns. `jpeg_mem_dest` keeps pointers to both halves of `*c.out`,
        // a heap allocation that does not move when `c` does and lives as
        // long as `c.cinfo` (freed in `Drop` after the destroy).
        unsafe {
            jpeg_create_compress(&mut *c.cinfo);
            let (buf, len) = &mut *c.out;
            jpeg_mem_dest(&mut c.cinfo, buf, len);
        }
        c
    }

    fn set_bool(&mut self, param: J_BOOLEAN_PARAM, value: bool) {
        // SAFETY: `self.cinfo` is a created compressor (see `new`); the call
        // only stores a flag, erroring (an unwind) on an unknown parameter.
        unsafe { jpeg_c_set_bool_param(&mut self.cinfo, param, value as boolean) };
    }

    /// Whether mozjpeg will search its scan script (`optimize_scans`): then
    /// it picks scans by their places in the script, which must stay whole.
    fn searches_scans(&self) -> bool {
        // SAFETY: `self.cinfo` is a created compressor; the call only reads a flag.
        unsafe { jpeg_c_get_bool_param(&self.cinfo, J_BOOLEAN_PARAM::JBOOLEAN_OPTIMIZE_SCANS) != 0 }
    }

    fn write_marker(&mut self, marker: c_int, payload: &[u8]) {
        // SAFETY: `self.cinfo` is a created compressor; libjpeg copies
        // `payload` (read only during the call) and refuses, by an unwinding
        // error, a length over 65533 or a call in the wrong state; the `as
        // c_uint` cast can only shorten what it reads.
        unsafe {
            jpeg_write_marker(
                &mut self.cinfo,
                marker,
                payload.as_ptr(),
                payload.len() as c_uint,
            )
        };
    }

    /// Finishes the file and returns its bytes.
    fn finish(mut self) -> Vec<u8> {
        // SAFETY: `self.cinfo` is a created compressor whose caller started
        // it; a wrong state or an error unwinds, and `Drop` still cleans up.
        unsafe { jpeg_finish_compress(&mut self.cinfo) };
        let (buf, len) = *self.out;
        // SAFETY: after jpeg_finish_compress the memory destination's
        // term_destination set `out` to its current (non-null, malloc'd)
        // buffer and the `len` bytes written into it; the copy is made before
        // `Drop` frees it.
        unsafe { std::slice::from_raw_parts(buf, len as usize) }.to_vec()
    }
}

impl Drop for Compressor {
    fn drop(&mut self) {
        // SAFETY: `self.cinfo` was created in `new` and is destroyed only
        // here; `dest`, when set, is the memory destination `new` installed,
        // whose term_destination only stores the current buffer into `out`.
        // That buffer came from libjpeg's `malloc`, is owned by us once
        // named in `out`, and is freed once, after the destroy.
        unsafe {
            // The memory destination names its buffer in `out` only when the
            // file is finished; an encode abandoned after the buffer grew
            // would leave `out` naming the first buffer, freed when it was
            // replaced. Terminating the destination names the current one.
            if let Some(dest) = self.cinfo.dest.as_mut() {
                if let Some(term) = dest.term_destination {
                    term(&mut self.cinfo);
                }
            }
            jpeg_destroy_compress(&mut self.cinfo);
            if !self.out.0.is_null() {
                free(self.out.0.cast());
            }
        }
    }
}

/// Collects the metadata blocks from saved markers.
fn metadata_of(markers: &[(u8, &[u8])]) -> Metadata {
    let mut meta = Metadata::default();
    let mut icc_chunks: Vec<(u8, &[u8])> = Vec::new();
    for &(marker, data) in markers {
        match marker as c_int - APP0 {
            1 if data.starts_with(EXIF_PREFIX) && meta.exif.is_none() => {
                meta.exif = Metadata::normalize_exif(data)
            }
            1 if data.starts_with(XMP_PREFIX) && meta.xmp.is_none() => {
                meta.xmp = Some(data[XMP_PREFIX.len()..].to_vec())
            }
            2 if data.starts_with(ICC_PREFIX) && data.len() > ICC_PREFIX.len() + 2 => {
                icc_chunks.push((data[ICC_PREFIX.len()], &data[ICC_PREFIX.len() + 2..]))
            }
            13 if data.starts_with(IPTC_PREFIX) && meta.iptc.is_none() => {
                meta.iptc = Some(data[IPTC_PREFIX.len()..].to_vec())
            }
            _ => {}
        }
    }
    if !icc_chunks.is_empty() {
        icc_chunks.sort_by_key(|(seq, _)| *seq);
        meta.icc = Some(
            icc_chunks
                .iter()
                .flat_map(|(_, d)| d.iter().copied())
                .collect(),
        );
    }
    meta
}

fn is_adobe(markers: &[(u8, &[u8])]) -> bool {
    markers
        .iter()
        .any(|&(m, d)| m as c_int == APP0 + 14 && d.starts_with(b"Adobe"))
}

/// Reads the header and markers only.
pub(crate) fn probe(data: &[u8]) -> Result<Info> {
    markers::check(data, false)?;
    run_libjpeg(|| {
        let d = Decompressor::new(data, true, true);
        let metadata = metadata_of(&d.markers());
        let mut info = Info::new(Format::Jpeg, d.cinfo.image_width, d.cinfo.image_height)
            .with_metadata(&metadata);
        let c = &d.cinfo;
        let (x, y) = (f64::from(c.X_density), f64::from(c.Y_density));
        // libjpeg leaves density_unit 0 unless a JFIF marker states a unit.
        // Without one, the EXIF resolution, as Pillow falls back to it.
        info.dpi = match c.density_unit {
            1 => Some((x, y)),
            2 => Some((x * 2.54, y * 2.54)),
            _ => metadata.exif_dpi().map(|d| (d, d)),
        };
        Ok(info)
    })
}

/// The metadata blocks of the header, as stored or (`as_decoded`) as
/// [`decode`] gives them.
pub(crate) fn header_metadata(data: &[u8], as_decoded: bool) -> Result<Metadata> {
    markers::check(data, false)?;
    run_libjpeg(|| {
        let d = Decompressor::new(data, true, true);
        let mut metadata = metadata_of(&d.markers());
        if as_decoded
            && matches!(
                d.cinfo.jpeg_color_space,
                J_COLOR_SPACE::JCS_CMYK | J_COLOR_SPACE::JCS_YCCK
            )
        {
            // As decoded: CMYK becomes sRGB, which the CMYK profile does not describe.
            metadata.icc = None;
        }
        Ok(metadata)
    })
}

/// The DCT scale numerator (over 8) that keeps at least `min` pixels each way.
fn shrink_numerator(width: u32, height: u32, min: Option<(u32, u32)>) -> u32 {
    let Some((min_w, min_h)) = min else { return 8 };
    [1u32, 2, 4]
        .into_iter()
        .find(|&num| width.div_ceil(8 / num) >= min_w && height.div_ceil(8 / num) >= min_h)
        .unwrap_or(8)
}

pub(crate) fn decode(data: &[u8], request: &DecodeRequest) -> Result<Decoded> {
    markers::check(data, true)?;
    run_libjpeg(|| {
        let mut d = Decompressor::new(data, !request.accept_truncated, true);
        let (width, height) = (d.cinfo.image_width, d.cinfo.image_height);
        check_limit(width.into(), height.into(), request.max_pixels)?;
        let markers = d.markers();
        let mut metadata = metadata_of(&markers);
        let adobe = is_adobe(&markers);
        let cinfo = &mut *d.cinfo;
        cinfo.scale_num = shrink_numerator(width, height, request.min_size);
        cinfo.scale_denom = 8;
        let cmyk = matches!(
            cinfo.jpeg_color_space,
            J_COLOR_SPACE::JCS_CMYK | J_COLOR_SPACE::JCS_YCCK
        );
        cinfo.out_color_space = match cinfo.jpeg_color_space {
            J_COLOR_SPACE::JCS_GRAYSCALE => J_COLOR_SPACE::JCS_GRAYSCALE,
            _ if cmyk => J_COLOR_SPACE::JCS_CMYK,
            _ => J_COLOR_SPACE::JCS_RGB,
        };
        // SAFETY: `cinfo` is the decompressor `Decompressor::new` created and
        // read the header of; only output parameters were changed since.
        unsafe { jpeg_start_decompress(cinfo) };
        let (out_w, out_h, channels) = (
            cinfo.output_width as usize,
            cinfo.output_height as usize,
            cinfo.output_components as usize,
        );
        let row_len = out_w * channels;
        let mut pixels = crate::buffer_pool::zeroed::<u8>(row_len * out_h);
        read_rows(cinfo, &mut pixels, row_len)?;
        // SAFETY: `cinfo` is started and `read_rows` read every output row
        // (else it returned an error); the saved markers borrowed earlier
        // are no longer used (the borrow checker ends them at `&mut *d.cinfo`).
        unsafe { jpeg_finish_decompress(cinfo) };
        let (w, h) = (out_w as u32, out_h as u32);
        let mut dropped_icc = None;
        let image = if cmyk {
            let rgb = crate::color::cmyk_to_rgb(&pixels, metadata.icc.as_deref(), adobe)?;
            // The CMYK profile does not describe the RGB pixels, which are now sRGB.
            dropped_icc = metadata.icc.take();
            Image::from_u8(w, h, Layout::Rgb, rgb)?
        } else {
            let layout = if channels == 1 {
                Layout::Gray
            } else {
                Layout::Rgb
            };
            Image::from_u8(w, h, layout, pixels)?
        };
        let orientation = Orientation::from_exif(metadata.exif_orientation().unwrap_or(1));
        Ok(Decoded {
            image,
            metadata,
            orientation,
            dropped_icc,
        })
    })
}

/// Fills `rows` (whole rows of `row_len` bytes) with the decoder's next rows.
fn read_rows(cinfo: &mut jpeg_decompress_struct, rows: &mut [u8], row_len: usize) -> Result<()> {
    let mut pointers: Vec<*mut u8> = Vec::with_capacity(16);
    let mut filled = 0;
    while filled * row_len < rows.len() {
        pointers.clear();
        pointers.extend(
            rows[filled * row_len..]
                .chunks_exact_mut(row_len)
                .take(16)
                .map(<[u8]>::as_mut_ptr),
        );
        // SAFETY: `cinfo` is a started decompressor; each of the (at most 16)
        // pointers addresses a distinct `row_len`-byte row of `rows`, which
        // is not otherwise touched until the call returns. Every caller
        // passes `row_len` = output_width * output_components of `cinfo`,
        // exactly what libjpeg writes per row (this function cannot check it).
        let read = unsafe {
            jpeg_read_scanlines(cinfo, pointers.as_mut_ptr(), pointers.len() as JDIMENSION)
        };
        if read == 0 {
            return Err(Error::truncated(
                Format::Jpeg,
                "libjpeg returned no scanlines",
            ));
        }
        filled += read as usize;
    }
    Ok(())
}

/// The signature of an extended XMP segment.
const EXTENDED_XMP_PREFIX: &[u8] = b"http://ns.adobe.com/xmp/extension/\0";

/// XMP as APP1 segment payloads: one standard segment when the packet fits, else
/// (Adobe's XMP specification, part 3) a standard packet that names the
/// extension by the MD5 of the full packet, and the full packet in chunks.
fn xmp_segments(xmp: &[u8]) -> Vec<Vec<u8>> {
    if XMP_PREFIX.len() + xmp.len() <= MAX_MARKER_PAYLOAD {
        return vec![[XMP_PREFIX, xmp].concat()];
    }
    use md5::Digest;
    let guid: String = md5::Md5::digest(xmp)
        .iter()
        .map(|b| format!("{b:02X}"))
        .collect();
    let standard = format!(
        "<?xpacket begin=\"\u{feff}\" id=\"W5M0MpCehiHzreSzNTczkc9d\"?>\n\
         <x:xmpmeta xmlns:x=\"adobe:ns:meta/\"><rdf:RDF xmlns:rdf=\"http://www.w3.org/1999/02/22-rdf-syntax-ns#\">\
         <rdf:Description rdf:about=\"\" xmlns:xmpNote=\"http://ns.adobe.com/xmp/note/\" \
         xmpNote:HasExtendedXMP=\"{guid}\"/></rdf:RDF></x:xmpmeta>\n<?xpacket end=\"w\"?>"
    );
    let mut segments = vec![[XMP_PREFIX, standard.as_bytes()].concat()];
    let header = EXTENDED_XMP_PREFIX.len() + 32 + 8;
    let per_chunk = MAX_MARKER_PAYLOAD - header;
    for (i, chunk) in xmp.chunks(per_chunk).enumerate() {
        let mut payload = Vec::with_capacity(header + chunk.len());
        payload.extend_from_slice(EXTENDED_XMP_PREFIX);
        payload.extend_from_slice(guid.as_bytes());
        payload.extend_from_slice(&(xmp.len() as u32).to_be_bytes());
        payload.extend_from_slice(&((i * per_chunk) as u32).to_be_bytes());
        payload.extend_from_slice(chunk);
        segments.push(payload);
    }
    segments
}

/// `metadata` as APP marker segments (marker, payload), in the order
/// readers expect: EXIF, XMP (standard, then extended), ICC (chunked), IPTC.
/// A block too large for its marker is left out.
fn metadata_segments(metadata: &Metadata) -> Vec<(c_int, Vec<u8>)> {
    let mut segments = Vec::new();
    if let Some(exif) = metadata.exif.as_deref() {
        let payload = [EXIF_PREFIX, exif].concat();
        if payload.len() <= MAX_MARKER_PAYLOAD {
            segments.push((APP0 + 1, payload));
        }
    }
    if let Some(xmp) = metadata.xmp.as_deref() {
        segments.extend(xmp_segments(xmp).into_iter().map(|p| (APP0 + 1, p)));
    }
    if let Some(icc) = metadata.icc.as_deref() {
        let per_chunk = MAX_MARKER_PAYLOAD - ICC_PREFIX.len() - 2;
        let count = icc.len().div_ceil(per_chunk);
        if count <= 255 {
            for (i, chunk) in icc.chunks(per_chunk).enumerate() {
                let payload = [ICC_PREFIX, &[i as u8 + 1, count as u8], chunk].concat();
                segments.push((APP0 + 2, payload));
            }
        }
    }
    if let Some(iptc) = metadata.iptc.as_deref() {
        let payload = [IPTC_PREFIX, iptc].concat();
        if payload.len() <= MAX_MARKER_PAYLOAD {
            segments.push((APP0 + 13, payload));
        }
    }
    segments
}

/// Writes `metadata` as APP markers (see [`metadata_segments`]).
fn write_metadata(c: &mut Compressor, metadata: &Metadata) {
    for (marker, payload) in metadata_segments(metadata) {
        c.write_marker(marker, &payload);
    }
}

/// Whether an APP segment holds metadata [`replace_metadata_under`] replaces.
fn is_metadata_segment(marker: c_int, payload: &[u8]) -> bool {
    match marker - APP0 {
        1 => [EXIF_PREFIX, XMP_PREFIX, EXTENDED_XMP_PREFIX]
            .iter()
            .any(|p| payload.starts_with(p)),
        2 => payload.starts_with(ICC_PREFIX),
        13 => payload.starts_with(IPTC_PREFIX),
        _ => false,
    }
}

/// Whether a segment pixpress does not model says how to read the pixels,
/// and so stays when the policy removes the rest: the JFIF APP0 (density,
/// YCbCr), the Adobe APP14 (colour transform), and every marker that is
/// not APPn or COM (tables, frame and scan headers, restart interval).
/// COM segments and the other APPn segments (a JFXX thumbnail, MPF, FPXR,
/// DJI's APP4, JUMBF/C2PA in APP11, APP15...) are metadata.
fn is_image_segment(marker: c_int, payload: &[u8]) -> bool {
    if marker == APP0 {
        payload.starts_with(b"JFIF\0")
    } else if marker == APP0 + 14 {
        payload.starts_with(b"Adobe")
    } else {
        marker != COM && !(APP0..APP0 + 16).contains(&marker)
    }
}

/// The payload of a JFIF APP0 without its thumbnail (the header before
/// it, with the thumbnail size set to 0x0); any other payload as it is.
fn without_jfif_thumbnail(marker: c_int, payload: &[u8]) -> Cow<'_, [u8]> {
    // "JFIF\0", version, units, X and Y density: then the thumbnail size.
    const BEFORE_THUMBNAIL: usize = 12;
    let is_jfif = marker == APP0 && payload.starts_with(b"JFIF\0");
    match payload.get(BEFORE_THUMBNAIL..) {
        Some(rest) if is_jfif && rest != [0u8, 0] => {
            Cow::Owned([&payload[..BEFORE_THUMBNAIL], &[0, 0]].concat())
        }
        _ => Cow::Borrowed(payload),
    }
}

/// Appends the marker segment `marker` holding `payload` (at most
/// [`MAX_MARKER_PAYLOAD`] bytes) to `out`.
fn push_segment(out: &mut Vec<u8>, marker: c_int, payload: &[u8]) {
    out.extend_from_slice(&[0xFF, marker as u8]);
    out.extend_from_slice(&((payload.len() + 2) as u16).to_be_bytes());
    out.extend_from_slice(payload);
}

/// `file` with its EXIF, XMP, ICC and IPTC segments replaced by
/// `metadata`'s (already filtered by `policy`), written after SOI and any
/// JFIF APP0; tables and entropy-coded data are copied as they are. A
/// policy that keeps everything leaves every other byte as it is; any
/// other removes what pixpress does not model, as it is gone from
/// re-encoded pixels: COM segments, APPn segments but the JFIF APP0 and
/// the Adobe APP14 (see [`is_image_segment`]), also between the scans of a
/// progressive file, the JFIF thumbnail, and everything after EOI (MPO
/// frames, gain maps, trailers).
pub(crate) fn replace_metadata_under(
    file: &[u8],
    metadata: &Metadata,
    policy: &MetadataPolicy,
) -> Result<Vec<u8>> {
    let keep_unmodelled = policy.keeps_everything();
    let damaged = || Error::corrupt(Format::Jpeg, "marker structure is damaged");
    if !file.starts_with(&[0xFF, 0xD8]) {
        return Err(damaged());
    }
    let mut out = Vec::with_capacity(file.len());
    out.extend_from_slice(&file[..2]);
    let mut pending = Some(metadata_segments(metadata));
    let mut at = 2;
    loop {
        let marker = match file.get(at..at + 2) {
            Some([0xFF, m]) => c_int::from(*m),
            _ => return Err(damaged()),
        };
        // Metadata goes after the JFIF APP0 when the file starts with one.
        if marker != APP0 {
            if let Some(segments) = pending.take() {
                for (m, payload) in segments {
                    push_segment(&mut out, m, &payload);
                }
            }
        }
        if marker == 0xDA {
            if keep_unmodelled {
                out.extend_from_slice(&file[at..]);
            } else {
                copy_scans(&file[at..], &mut out);
            }
            return Ok(out);
        }
        let len = file.get(at + 2..at + 4).ok_or_else(damaged)?;
        let end = at + 2 + usize::from(u16::from_be_bytes([len[0], len[1]]));
        let payload = file.get(at + 4..end).ok_or_else(damaged)?;
        // Metadata segments are replaced by `metadata`'s.
        if !is_metadata_segment(marker, payload) {
            if keep_unmodelled {
                out.extend_from_slice(&file[at..end]);
            } else if is_image_segment(marker, payload) {
                push_segment(&mut out, marker, &without_jfif_thumbnail(marker, payload));
            }
        }
        at = end;
    }
}

/// Copies `scans` (a JPEG from its first SOS marker on) to `out` up to and
/// with EOI: the scans and the tables between them as they are, without
/// the segments between them that [`is_image_segment`] does not keep, and
/// without what follows EOI. Data cut short is copied as far as it goes.
fn copy_scans(scans: &[u8], out: &mut Vec<u8>) {
    // `at` is at the 0xFF of a marker.
    let mut at = 0;
    while let Some(&code) = scans.get(at + 1) {
        let marker = c_int::from(code);
        match code {
            0xD9 => {
                out.extend_from_slice(&[0xFF, 0xD9]);
                return;
            }
            // Standalone markers: no length follows.
            0x01 | 0xD0..=0xD8 => {
                out.extend_from_slice(&scans[at..at + 2]);
                at += 2;
            }
            _ => {
                let length = scans
                    .get(at + 2..at + 4)
                    .map(|l| usize::from(u16::from_be_bytes([l[0], l[1]])));
                let end = length
                    .filter(|&l| l >= 2)
                    .map(|l| at + 2 + l)
                    .filter(|&end| end <= scans.len());
                let Some(end) = end else {
                    // Cut short: the rest is this segment.
                    let payload = scans.get(at + 4..).unwrap_or_default();
                    if is_image_segment(marker, payload) {
                        out.extend_from_slice(&scans[at..]);
                    }
                    return;
                };
                if is_image_segment(marker, &scans[at + 4..end]) {
                    out.extend_from_slice(&scans[at..end]);
                }
                at = end;
            }
        }
        // Entropy-coded data (after SOS), or bytes that are no marker, up to
        // the next marker: an 0xFF followed by neither a stuffed zero, a
        // restart marker nor another (fill) 0xFF.
        let next = (at..scans.len().saturating_sub(1))
            .find(|&i| scans[i] == 0xFF && !matches!(scans[i + 1], 0x00 | 0xD0..=0xD7 | 0xFF));
        let next = next.unwrap_or(scans.len());
        out.extend_from_slice(&scans[at..next]);
        at = next;
    }
    // The data ends without EOI: what is left (at most one byte) is copied.
    out.extend_from_slice(scans.get(at..).unwrap_or_default());
}

/// Encodes 8-bit Gray or Rgb pixels, reading the caller's rows in place.
pub(crate) fn encode(
    pixels: &PixelsRef,
    metadata: &Metadata,
    options: &Options,
) -> Result<Vec<u8>> {
    let pixel_count = u64::from(pixels.width()) * u64::from(pixels.height());
    if encodes_whole(options, pixel_count) {
        encode_whole(pixels, metadata, options)
    } else {
        crate::parallel::run(|| strips::encode_parallel(pixels, metadata, options))
    }
}

/// Whether [`encode`] writes an image of `pixel_count` pixels in one piece
/// on the calling thread (else in strips on the rayon pool).
pub(crate) fn encodes_whole(options: &Options, pixel_count: u64) -> bool {
    options.effort.unwrap_or(DEFAULT_EFFORT) < TRELLIS_EFFORT || pixel_count < PARALLEL_MIN_PIXELS
}

/// [`encode`] in one piece, on the calling thread.
fn encode_whole(pixels: &PixelsRef, metadata: &Metadata, options: &Options) -> Result<Vec<u8>> {
    let gray = is_gray(pixels)?;
    run_libjpeg(|| {
        let mut c = Compressor::new();
        configure(&mut c, pixels.width(), pixels.height(), gray, options);
        set_output_scans(&mut c, options);
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
/// pixel encode makes it take. The caller has checked that `options` asks
/// for 4:2:0.
pub(crate) fn encode_ycbcr420(
    image: &Ycbcr420,
    metadata: &Metadata,
    options: &Options,
) -> Result<Vec<u8>> {
    let (width, height) = (image.width as usize, image.height as usize);
    let chroma = (width.div_ceil(2), height.div_ceil(2));
    let sizes = [(width, height), chroma, chroma];
    for ((samples, stride), (w, h)) in image.planes.iter().zip(sizes) {
        if w == 0 || h == 0 || *stride < w || samples.len() < stride * (h - 1) + w {
            return Err(Error::Internal("YCbCr plane smaller than its image".into()));
        }
    }
    run_libjpeg(|| {
        let mut c = Compressor::new();
        configure(&mut c, image.width, image.height, false, options);
        c.cinfo.in_color_space = J_COLOR_SPACE::JCS_YCbCr;
        c.cinfo.raw_data_in = 1;
        set_output_scans(&mut c, options);
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
            // caller checked `options` asks for) of padded_widths samples each,
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

/// Whether the encoder is given gray (else RGB) pixels; other layouts are refused.
fn is_gray(pixels: &PixelsRef) -> Result<bool> {
    match pixels.layout() {
        Layout::Gray => Ok(true),
        Layout::Rgb => Ok(false),
        other => Err(Error::Internal(format!("JPEG encoder given {other:?}"))),
    }
}

/// Sets up `c` for a `width` x `height` gray or RGB image: the effort's
/// compression profile, the quantization tables for `options.quality` and
/// `options.tables`, and the chroma subsampling. The result is a single
/// sequential scan with standard Huffman tables; callers switch on Huffman
/// optimization and progression.
fn configure(c: &mut Compressor, width: u32, height: u32, gray: bool, options: &Options) {
    let effort = options.effort.unwrap_or(DEFAULT_EFFORT);
    let quality = options.quality.unwrap_or(80);
    let cinfo = &mut *c.cinfo;
    cinfo.image_width = width;
    cinfo.image_height = height;
    cinfo.input_components = if gray { 1 } else { 3 };
    cinfo.in_color_space = if gray {
        J_COLOR_SPACE::JCS_GRAYSCALE
    } else {
        J_COLOR_SPACE::JCS_RGB
    };
    let profile = if effort >= TRELLIS_EFFORT {
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
        let base = options.tables.mozjpeg_index();
        jpeg_c_set_int_param(cinfo, J_INT_PARAM::JINT_BASE_QUANT_TBL_IDX, base);
        // Steps clamped to 255 (force_baseline), as Pillow and sharp ask: a
        // larger step (low qualities, or Klein's base table) would need
        // 16-bit tables, which make the file extended sequential, not baseline.
        jpeg_set_quality(cinfo, c_int::from(quality), 1);
    }
    if let QuantTables::Vision { ppd } = options.tables {
        let (luma, chroma) =
            vision_tables(ppd, options.subsampling.unwrap_or_default().chroma_span());
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
        let (h, v) = options.subsampling.unwrap_or_default().chroma_span();
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

/// Sets up the scans of a whole-image output: Huffman tables optimized for
/// the image, and, when `options.progressive`, mozjpeg's progressive script
/// (a scan search from [`SCAN_SEARCH_EFFORT`]). The compression profile is
/// set to mozjpeg's here at every effort (after the effort's defaults were
/// applied): it picks mozjpeg's scan script over libjpeg's and writes the
/// DQT and DHT tables as single segments, both smaller files.
fn set_output_scans(c: &mut Compressor, options: &Options) {
    let effort = options.effort.unwrap_or(DEFAULT_EFFORT);
    c.cinfo.optimize_coding = 1;
    // SAFETY: `c` is a created compressor; the call only stores a parameter.
    unsafe {
        jpeg_c_set_int_param(
            &mut c.cinfo,
            J_INT_PARAM::JINT_COMPRESS_PROFILE,
            JINT_COMPRESS_PROFILE_VALUE::JCP_MAX_COMPRESSION as c_int,
        )
    };
    c.set_bool(
        J_BOOLEAN_PARAM::JBOOLEAN_OPTIMIZE_SCANS,
        effort >= SCAN_SEARCH_EFFORT,
    );
    if options.progressive {
        // SAFETY: `c` is a created compressor with its components set; the
        // script is allocated in its own pool and stays with it.
        unsafe { jpeg_simple_progression(&mut c.cinfo) };
    } else {
        c.cinfo.num_scans = 0;
        c.cinfo.scan_info = std::ptr::null();
    }
}

/// Feeds `rows` to a started compressor, 16 at a time.
fn write_rows<'a>(c: &mut Compressor, rows: impl Iterator<Item = &'a [u8]>) {
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

/// Re-encodes the DCT coefficients of `data` with optimized Huffman tables and
/// (when `progressive`) progressive scans, without touching the pixels, as
/// `jpegtran -optimize -progressive` does. `keep_markers` copies every APP and
/// COM marker; otherwise only the ICC profile is kept.
pub(crate) fn optimize_lossless(
    data: &[u8],
    progressive: bool,
    keep_markers: bool,
    max_pixels: u64,
) -> Result<Vec<u8>> {
    markers::check(data, true)?;
    run_libjpeg(|| {
        let mut d = Decompressor::new(data, true, true);
        check_limit(
            d.cinfo.image_width.into(),
            d.cinfo.image_height.into(),
            max_pixels,
        )?;
        // SAFETY: `d` has read its header; with a (non-suspending) memory
        // source the call returns the arrays, owned by `d`, or unwinds.
        let coefficients = unsafe { jpeg_read_coefficients(&mut d.cinfo) };
        let mut c = Compressor::new();
        // SAFETY: `d` has read its coefficients and `c` is freshly created;
        // libjpeg copies the parameters (no pointers into `d` are kept).
        unsafe { jpeg_copy_critical_parameters(&d.cinfo, &mut c.cinfo) };
        c.cinfo.optimize_coding = 1;
        if progressive {
            // SAFETY: `c` has its components (copied above).
            unsafe { jpeg_simple_progression(&mut c.cinfo) };
        } else {
            c.cinfo.num_scans = 0;
            c.cinfo.scan_info = std::ptr::null();
        }
        // SAFETY: `coefficients` are `d`'s arrays, which `d` (declared before
        // `c`, so dropped after it) keeps alive until `c.finish()` below,
        // followed by jpeg_finish_decompress; `c` has `d`'s parameters.
        unsafe { jpeg_write_coefficients(&mut c.cinfo, coefficients) };
        let (writes_jfif, writes_adobe) = (
            c.cinfo.write_JFIF_header != 0,
            c.cinfo.write_Adobe_marker != 0,
        );
        for (marker, payload) in d.markers() {
            let code = c_int::from(marker);
            let duplicate = (writes_jfif && code == APP0 && payload.starts_with(b"JFIF"))
                || (writes_adobe && code == APP0 + 14 && payload.starts_with(b"Adobe"));
            let wanted = keep_markers || (code == APP0 + 2 && payload.starts_with(ICC_PREFIX));
            if wanted && !duplicate {
                c.write_marker(code, payload);
            }
        }
        let out = c.finish();
        // SAFETY: `d` read all its coefficients; `c`, which used them, is finished.
        unsafe { jpeg_finish_decompress(&mut d.cinfo) };
        Ok(out)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_compressor_abandoned_after_its_buffer_grew_frees_it_once() {
        run_libjpeg(|| {
            let mut c = Compressor::new();
            configure(&mut c, 16, 16, true, &Options::default());
            // SAFETY: a created, configured compressor.
            unsafe { jpeg_start_compress(&mut c.cinfo, 1) };
            // Far more than the destination's first 4096 bytes.
            c.write_marker(COM, &[b'x'; 60000]);
            drop(c);
            Ok(())
        })
        .unwrap();
    }

    /// A 64x64 gray progressive JPEG.
    fn progressive() -> Vec<u8> {
        let gray: Vec<u8> = (0..64 * 64).map(|i| (i % 251) as u8).collect();
        let pixels = PixelsRef::new(&gray, 64, 64, 64, Layout::Gray).unwrap();
        let options = Options::from_pairs([("progressive", "true")]).unwrap();
        encode_whole(&pixels, &Metadata::default(), &options).unwrap()
    }

    #[test]
    fn a_jpeg_of_too_many_scans_is_refused_before_libjpeg_decodes_it() {
        let jpeg = progressive();
        assert!(jpeg.ends_with(&[0xFF, 0xD9]));
        let request = DecodeRequest {
            max_pixels: u64::MAX,
            accept_truncated: false,
            min_size: None,
        };
        assert!(decode(&jpeg, &request).is_ok());
        // Scans of one coefficient band with one byte of data each, before EOI.
        let tiny_scan: [u8; 11] = [0xFF, 0xDA, 0, 8, 1, 1, 0x00, 1, 1, 0x00, 0x00];
        let extra = tiny_scan.repeat(markers::MAX_SCANS as usize);
        let bomb = [&jpeg[..jpeg.len() - 2], &extra, &[0xFF, 0xD9]].concat();
        for accept_truncated in [false, true] {
            let request = DecodeRequest {
                accept_truncated,
                ..request
            };
            let err = decode(&bomb, &request).unwrap_err();
            assert_eq!(err.kind(), crate::ErrorKind::LimitExceeded, "{err}");
        }
        let err = optimize_lossless(&bomb, true, true, u64::MAX).unwrap_err();
        assert_eq!(err.kind(), crate::ErrorKind::LimitExceeded, "{err}");
        // A header read stops at the first scan.
        assert!(probe(&bomb).is_ok());
    }

    #[test]
    fn a_jpeg_of_too_many_saved_markers_is_refused_before_libjpeg_reads_it() {
        let jpeg = progressive();
        let empty_comment: [u8; 4] = [0xFF, 0xFE, 0, 2];
        let flood = empty_comment.repeat(markers::MAX_SAVED_MARKERS as usize + 1);
        let bomb = [&jpeg[..2], &flood, &jpeg[2..]].concat();
        let err = probe(&bomb).unwrap_err();
        assert_eq!(err.kind(), crate::ErrorKind::LimitExceeded, "{err}");
        let err = header_metadata(&bomb, false).unwrap_err();
        assert_eq!(err.kind(), crate::ErrorKind::LimitExceeded, "{err}");
        // As many as the cap allows still read.
        let flood = empty_comment.repeat(markers::MAX_SAVED_MARKERS as usize);
        let many = [&jpeg[..2], &flood, &jpeg[2..]].concat();
        assert_eq!(probe(&many).unwrap().width, 64);
    }

    /// A marker segment: 0xFF, `marker`, the length and `payload`.
    fn segment(marker: c_int, payload: &[u8]) -> Vec<u8> {
        let mut out = Vec::new();
        push_segment(&mut out, marker, payload);
        out
    }

    /// Whether `needle` occurs in `haystack`.
    fn holds(haystack: &[u8], needle: &[u8]) -> bool {
        haystack.windows(needle.len()).any(|w| w == needle)
    }

    #[test]
    fn a_policy_that_strips_removes_unmodelled_segments_and_trailers_on_rewrite() {
        let jpeg = progressive();
        let request = DecodeRequest {
            max_pixels: u64::MAX,
            accept_truncated: false,
            min_size: None,
        };
        let jfif_header = b"JFIF\0\x01\x02\x01\0\x48\0\x48";
        let adobe = b"Adobe\0\x64\0\0\0\0\0";
        let mut header = segment(APP0, &[&jfif_header[..], &[1, 2], &[0xAB; 6]].concat());
        let unmodelled: [(c_int, &[u8]); 6] = [
            (COM, &b"a comment"[..]),
            (APP0 + 2, b"MPF\0II*\0mpf"),
            (APP0 + 4, b"DJI drone data"),
            (APP0 + 11, b"JPjumbc2pa"),
            (APP0 + 14, adobe),
            (APP0 + 15, b"private"),
        ];
        for (marker, payload) in unmodelled {
            header.extend(segment(marker, payload));
        }
        // A comment between the first scans, and a second frame after EOI.
        let second_scan = jpeg
            .windows(2)
            .enumerate()
            .filter(|(_, w)| *w == [0xFF, 0xDA])
            .nth(1)
            .map(|(i, _)| i)
            .unwrap();
        let file = [
            &jpeg[..2],
            &header,
            &jpeg[2..second_scan],
            &segment(COM, b"between scans"),
            &jpeg[second_scan..],
            &jpeg,
            b"gain map",
        ]
        .concat();
        let original = decode(&file, &request).unwrap().image;

        // `keep` changes nothing but the blocks (there are none here).
        let none = Metadata::default();
        let kept = replace_metadata_under(&file, &none, &MetadataPolicy::KEEP).unwrap();
        assert_eq!(kept, file);

        let exif = b"II*\0\x08\0\0\0\0\0\0\0\0\0".to_vec();
        let blocks = Metadata {
            exif: Some(exif.clone()),
            ..Metadata::default()
        };
        for policy in ["strip", "web", "keep,-gps"] {
            let policy = MetadataPolicy::parse(policy).unwrap();
            let out = replace_metadata_under(&file, &blocks, &policy).unwrap();
            for gone in [
                &b"a comment"[..],
                b"between scans",
                b"MPF\0",
                b"DJI",
                b"JPjumb",
                b"private",
                b"gain map",
                &[0xAB; 6],
            ] {
                assert!(!holds(&out, gone), "{policy}: {gone:?} is left");
            }
            // The JFIF APP0 stays without its thumbnail; the Adobe APP14 stays.
            let jfif = segment(APP0, &[&jfif_header[..], &[0, 0]].concat());
            assert!(out.starts_with(&[&[0xFF, 0xD8][..], &jfif].concat()));
            assert!(holds(&out, &segment(APP0 + 14, adobe)));
            // One image, ending at its EOI: the second frame is gone.
            assert!(out.ends_with(&[0xFF, 0xD9]), "{policy}");
            let eois = out.windows(2).filter(|w| *w == [0xFF, 0xD9]).count();
            assert_eq!(eois, 1, "{policy}");
            let decoded = decode(&out, &request).unwrap();
            assert_eq!(decoded.image, original, "{policy}");
            assert_eq!(decoded.metadata.exif, Some(exif.clone()));
        }
    }

    #[test]
    fn shrink_keeps_at_least_the_requested_size() {
        assert_eq!(shrink_numerator(2725, 2225, Some((720, 588))), 4);
        assert_eq!(shrink_numerator(2725, 2225, Some((340, 278))), 1);
        assert_eq!(shrink_numerator(2725, 2225, Some((2000, 100))), 8);
        assert_eq!(shrink_numerator(2725, 2225, None), 8);
    }
}
