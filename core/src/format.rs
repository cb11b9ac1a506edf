//! Image formats and their detection from magic bytes.

use crate::error::{Error, Result};
use std::fmt;

/// An image container format pixpress reads or writes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Format {
    /// JPEG (JFIF, Exif, Adobe; baseline and progressive).
    Jpeg,
    /// PNG.
    Png,
    /// WebP (lossy VP8, lossless VP8L, extended VP8X).
    WebP,
    /// AVIF (AV1 in HEIF).
    Avif,
    /// HEIC/HEIF (HEVC in HEIF).
    Heic,
    /// GIF 87a/89a.
    Gif,
    /// TIFF and BigTIFF.
    Tiff,
    /// Windows bitmap.
    Bmp,
}

impl Format {
    /// Every format, in a fixed order.
    pub const ALL: [Format; 8] = [
        Format::Jpeg,
        Format::Png,
        Format::WebP,
        Format::Avif,
        Format::Heic,
        Format::Gif,
        Format::Tiff,
        Format::Bmp,
    ];

    /// The lower-case name used in options and reports: `jpeg`, `png`, ...
    pub fn name(self) -> &'static str {
        match self {
            Format::Jpeg => "jpeg",
            Format::Png => "png",
            Format::WebP => "webp",
            Format::Avif => "avif",
            Format::Heic => "heic",
            Format::Gif => "gif",
            Format::Tiff => "tiff",
            Format::Bmp => "bmp",
        }
    }

    /// The usual file extension, without a dot.
    pub fn extension(self) -> &'static str {
        match self {
            Format::Jpeg => "jpg",
            other => other.name(),
        }
    }

    /// The IANA media type.
    pub fn mime_type(self) -> &'static str {
        match self {
            Format::Jpeg => "image/jpeg",
            Format::Png => "image/png",
            Format::WebP => "image/webp",
            Format::Avif => "image/avif",
            Format::Heic => "image/heic",
            Format::Gif => "image/gif",
            Format::Tiff => "image/tiff",
            Format::Bmp => "image/bmp",
        }
    }

    /// Parses a format name as users write it (`jpg` and `jpeg`, `heif` and `heic`, any case).
    pub fn from_name(name: &str) -> Option<Format> {
        Some(match name.to_ascii_lowercase().as_str() {
            "jpeg" | "jpg" => Format::Jpeg,
            "png" => Format::Png,
            "webp" => Format::WebP,
            "avif" => Format::Avif,
            "heic" | "heif" => Format::Heic,
            "gif" => Format::Gif,
            "tiff" | "tif" => Format::Tiff,
            "bmp" => Format::Bmp,
            _ => return None,
        })
    }
}

impl fmt::Display for Format {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// ISO-BMFF `ftyp` brands that mean AV1 still images or sequences.
const AVIF_BRANDS: [&[u8; 4]; 2] = [b"avif", b"avis"];
/// ISO-BMFF `ftyp` brands that mean HEIF with HEVC (or generic HEIF).
const HEIF_BRANDS: [&[u8; 4]; 8] = [
    b"heic", b"heix", b"heim", b"heis", b"hevc", b"hevx", b"mif1", b"msf1",
];

/// Detects the format from the first bytes of `data`, never from a file name.
///
/// Unknown or empty input gives [`Error::UnsupportedFormat`] naming the bytes seen.
pub fn sniff(data: &[u8]) -> Result<Format> {
    let starts = |magic: &[u8]| data.starts_with(magic);
    if starts(&[0xFF, 0xD8, 0xFF]) {
        return Ok(Format::Jpeg);
    }
    if starts(b"\x89PNG\r\n\x1a\n") {
        return Ok(Format::Png);
    }
    if data.len() >= 12 && starts(b"RIFF") && &data[8..12] == b"WEBP" {
        return Ok(Format::WebP);
    }
    if starts(b"GIF87a") || starts(b"GIF89a") {
        return Ok(Format::Gif);
    }
    if starts(b"II*\0") || starts(b"MM\0*") || starts(b"II+\0") || starts(b"MM\0+") {
        return Ok(Format::Tiff);
    }
    if starts(b"BM") && data.len() >= 26 {
        return Ok(Format::Bmp);
    }
    if let Some(format) = sniff_isobmff(data) {
        return Ok(format);
    }
    Err(Error::UnsupportedFormat {
        detail: describe_unknown(data),
    })
}

/// Reads the `ftyp` box: major brand first, then the compatible brands.
fn sniff_isobmff(data: &[u8]) -> Option<Format> {
    if data.len() < 16 || &data[4..8] != b"ftyp" {
        return None;
    }
    let box_len = u32::from_be_bytes(data[0..4].try_into().ok()?) as usize;
    let end = box_len.clamp(16, data.len().min(4096));
    let major = &data[8..12];
    // Compatible brands start after the major brand and minor version.
    let brands = std::iter::once(major).chain(data[16..end].chunks_exact(4));
    let mut heif = false;
    for brand in brands {
        if AVIF_BRANDS.iter().any(|b| &b[..] == brand) {
            return Some(Format::Avif);
        }
        heif |= HEIF_BRANDS.iter().any(|b| &b[..] == brand);
    }
    heif.then_some(Format::Heic)
}

fn describe_unknown(data: &[u8]) -> String {
    if data.is_empty() {
        return "empty input (0 bytes)".to_string();
    }
    let head: Vec<String> = data.iter().take(12).map(|b| format!("{b:02x}")).collect();
    format!(
        "no known image signature in the first bytes ({}) of {} bytes",
        head.join(" "),
        data.len()
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sniffs_signatures() {
        assert_eq!(sniff(b"\xFF\xD8\xFF\xE0rest").unwrap(), Format::Jpeg);
        assert_eq!(sniff(b"\x89PNG\r\n\x1a\nxxxx").unwrap(), Format::Png);
        assert_eq!(sniff(b"RIFF\0\0\0\0WEBPVP8 ").unwrap(), Format::WebP);
        assert_eq!(sniff(b"GIF89a....").unwrap(), Format::Gif);
        assert_eq!(sniff(b"II*\0\x08\0\0\0").unwrap(), Format::Tiff);
        let avif = b"\0\0\0\x1cftypavif\0\0\0\0avifmif1miaf";
        assert_eq!(sniff(avif).unwrap(), Format::Avif);
        let heic = b"\0\0\0\x18ftypheic\0\0\0\0mif1heic";
        assert_eq!(sniff(heic).unwrap(), Format::Heic);
        // mif1 major brand with an AV1 compatible brand is AVIF.
        let mif1_avif = b"\0\0\0\x1cftypmif1\0\0\0\0mif1avifmiaf";
        assert_eq!(sniff(mif1_avif).unwrap(), Format::Avif);
    }

    #[test]
    fn unknown_input_names_what_was_seen() {
        let err = sniff(b"hello world, not an image").unwrap_err();
        assert!(err.to_string().contains("68 65 6c 6c"), "{err}");
        let empty = sniff(b"").unwrap_err();
        assert!(empty.to_string().contains("empty"), "{empty}");
    }
}
