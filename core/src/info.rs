//! What `probe` reports: facts read from headers, without decoding pixels.

use crate::format::Format;

/// Header facts about an image.
#[derive(Debug, Clone, PartialEq)]
pub struct Info {
    /// The container format.
    pub format: Format,
    /// Stored width in pixels (for HEIF/AVIF: after the mandatory `irot`/`imir`).
    pub width: u32,
    /// Stored height in pixels.
    pub height: u32,
    /// Bits per sample of the source (8, 10, 12 or 16).
    pub bit_depth: u8,
    /// Whether the image has an alpha channel or transparency.
    pub has_alpha: bool,
    /// The EXIF Orientation value (1-8; 1 when absent).
    pub orientation: u16,
    /// Number of frames, pages or top-level images (1 for a still image).
    pub frames: u32,
    /// Whether an EXIF block is present.
    pub has_exif: bool,
    /// Whether an XMP packet is present.
    pub has_xmp: bool,
    /// Whether an ICC profile is present.
    pub has_icc: bool,
    /// Whether IPTC-IIM data is present.
    pub has_iptc: bool,
    /// The stated resolution in pixels per inch (x, y), when the file gives one
    /// in absolute units (JPEG: JFIF density, else EXIF XResolution; PNG: pHYs).
    pub dpi: Option<(f64, f64)>,
}

impl Info {
    /// An `Info` with only what every probe knows; the rest defaulted.
    pub(crate) fn new(format: Format, width: u32, height: u32) -> Info {
        Info {
            format,
            width,
            height,
            bit_depth: 8,
            has_alpha: false,
            orientation: 1,
            frames: 1,
            has_exif: false,
            has_xmp: false,
            has_icc: false,
            has_iptc: false,
            dpi: None,
        }
    }

    /// Fills the metadata flags and orientation from decoded blocks.
    pub(crate) fn with_metadata(mut self, metadata: &crate::metadata::Metadata) -> Info {
        self.has_exif = metadata.exif.is_some();
        self.has_xmp = metadata.xmp.is_some();
        self.has_icc = metadata.icc.is_some();
        self.has_iptc = metadata.iptc.is_some();
        self.orientation = metadata
            .exif_orientation()
            .filter(|o| (1..=8).contains(o))
            .unwrap_or(1);
        self
    }
}
