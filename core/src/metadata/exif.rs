//! EXIF: the TIFF structure of IFDs, walked and edited in place.
//!
//! Edits never move a byte that stays: a removed entry is taken out of its
//! IFD's entry list and its value bytes are zeroed, so every offset that
//! remains (the MakerNote's own, above all, which many cameras write relative
//! to the TIFF header) still points where it did. Zeroing matters: a removed
//! GPS position or thumbnail must not linger as unreferenced bytes.

mod edit;
mod read;
mod structure;
mod tiff_file;

use super::exif_tags;

pub(crate) use edit::{retain, set_ascii, set_rational_entry, set_uint};
pub use read::ExifValue;
pub(crate) use read::{
    fields, is_well_formed, kind_of, rational, rational_entries, rationals, text, typed_entries,
    uint, values, FieldKind,
};
pub(crate) use structure::{GPS_POINTER, PIXEL_X_DIMENSION, PIXEL_Y_DIMENSION};
pub(crate) use tiff_file::{from_tiff_file, tiff_tag_bytes};
#[cfg(test)]
pub(crate) use tiff_file::{test_block, TestEntry};

/// The IFDs of an EXIF block.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Ifd {
    /// The primary image's IFD.
    Ifd0,
    /// The Exif IFD (capture settings), linked from IFD0.
    Exif,
    /// The GPS IFD, linked from IFD0.
    Gps,
    /// The interoperability IFD, linked from the Exif IFD.
    Interop,
    /// IFD1: the thumbnail's IFD.
    Thumbnail,
}

impl Ifd {
    /// Every IFD, in the order an EXIF block links them.
    pub const ALL: [Ifd; 5] = [Ifd::Ifd0, Ifd::Exif, Ifd::Gps, Ifd::Interop, Ifd::Thumbnail];

    /// The group name exiftool gives the IFD (`IFD0`, `ExifIFD`, `GPS`, `InteropIFD`, `IFD1`).
    pub fn name(self) -> &'static str {
        match self {
            Ifd::Ifd0 => "IFD0",
            Ifd::Exif => "ExifIFD",
            Ifd::Gps => "GPS",
            Ifd::Interop => "InteropIFD",
            Ifd::Thumbnail => "IFD1",
        }
    }

    /// The tag-name table of the IFD.
    fn names(self) -> &'static [(u16, &'static str)] {
        match self {
            Ifd::Ifd0 | Ifd::Thumbnail => exif_tags::IFD0,
            Ifd::Exif => exif_tags::EXIF_IFD,
            Ifd::Gps => exif_tags::GPS,
            Ifd::Interop => exif_tags::INTEROP,
        }
    }

    /// The name of `tag` in this IFD, or `Tag0x1234` for one outside the tables.
    pub fn tag_name(self, tag: u16) -> String {
        self.names()
            .iter()
            .find(|(t, _)| *t == tag)
            .map_or_else(|| format!("Tag{tag:#06x}"), |(_, n)| (*n).to_string())
    }

    /// The tag a name stands for in this IFD (case-insensitive).
    pub fn tag_of(self, name: &str) -> Option<u16> {
        self.names()
            .iter()
            .find(|(_, n)| n.eq_ignore_ascii_case(name))
            .map(|(t, _)| *t)
    }
}

#[cfg(test)]
mod tests;
