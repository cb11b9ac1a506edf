//! Marker segments: the metadata blocks read from saved APP markers, the
//! metadata written as APP segments (EXIF, XMP standard and extended, chunked
//! ICC, IPTC), and the rewrite of a file's metadata segments in place
//! ([`replace_metadata_under`]).

use super::libjpeg::Compressor;
use crate::error::{Error, Result};
use crate::format::Format;
use crate::metadata::{Metadata, MetadataPolicy, EXIF_PREFIX};
use std::borrow::Cow;
use std::ffi::c_int;

const XMP_PREFIX: &[u8] = b"http://ns.adobe.com/xap/1.0/\0";
pub(super) const ICC_PREFIX: &[u8] = b"ICC_PROFILE\0";
const IPTC_PREFIX: &[u8] = b"Photoshop 3.0\0";
pub(super) const APP0: c_int = 0xE0;
pub(super) const COM: c_int = 0xFE;
/// Payload bytes that fit in one marker segment.
const MAX_MARKER_PAYLOAD: usize = 65533;

/// Collects the metadata blocks from saved markers.
pub(super) fn metadata_of(markers: &[(u8, &[u8])]) -> Metadata {
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

pub(super) fn is_adobe(markers: &[(u8, &[u8])]) -> bool {
    markers
        .iter()
        .any(|&(m, d)| m as c_int == APP0 + 14 && d.starts_with(b"Adobe"))
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
pub(super) fn write_metadata(c: &mut Compressor, metadata: &Metadata) {
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
pub(super) fn push_segment(out: &mut Vec<u8>, marker: c_int, payload: &[u8]) {
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
