//! Metadata blocks as carried between containers: EXIF, XMP, IPTC and ICC.
//!
//! Blocks are kept as raw bytes in a container-neutral form. Field-level
//! parsing is limited to what the pipeline needs today: the EXIF and XMP
//! orientation.

/// The metadata blocks of an image, each in its container-neutral form.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Metadata {
    /// EXIF as a TIFF structure (starting `II*\0` or `MM\0*`), without the JPEG `Exif\0\0` prefix.
    pub exif: Option<Vec<u8>>,
    /// The XMP packet (UTF-8 XML).
    pub xmp: Option<Vec<u8>>,
    /// The ICC color profile.
    pub icc: Option<Vec<u8>>,
    /// The Photoshop image resource block (APP13) holding IPTC-IIM.
    pub iptc: Option<Vec<u8>>,
}

/// The prefix of EXIF in JPEG APP1 (and sometimes in WebP and HEIF).
pub(crate) const EXIF_PREFIX: &[u8] = b"Exif\0\0";

/// The Orientation tag number in IFD0.
const ORIENTATION_TAG: u16 = 0x0112;

impl Metadata {
    /// Keeps only the ICC profile: what color fidelity needs.
    pub fn stripped(self) -> Metadata {
        Metadata {
            icc: self.icc,
            ..Metadata::default()
        }
    }

    /// The EXIF Orientation value (1-8), if there is an EXIF block holding one.
    pub fn exif_orientation(&self) -> Option<u16> {
        let exif = self.exif.as_deref()?;
        let (at, big_endian) = find_ifd0_entry(exif, ORIENTATION_TAG)?;
        read_u16(exif, at + 8, big_endian)
    }

    /// The EXIF resolution in pixels per inch (IFD0 XResolution, used for both
    /// axes as Pillow does; ResolutionUnit 3, centimeters, is converted).
    pub fn exif_dpi(&self) -> Option<f64> {
        let exif = self.exif.as_deref()?;
        let (at, big_endian) = find_ifd0_entry(exif, X_RESOLUTION_TAG)?;
        let offset = read_u32(exif, at + 8, big_endian)? as usize;
        let numerator = f64::from(read_u32(exif, offset, big_endian)?);
        let denominator = f64::from(read_u32(exif, offset + 4, big_endian)?);
        let unit = find_ifd0_entry(exif, RESOLUTION_UNIT_TAG)
            .and_then(|(at, be)| read_u16(exif, at + 8, be))
            .unwrap_or(2);
        let dpi = (denominator > 0.0).then(|| numerator / denominator)?;
        Some(if unit == 3 { dpi * 2.54 } else { dpi })
    }

    /// Records that the pixels are now upright: EXIF and XMP orientation become 1.
    pub fn reset_orientation(&mut self) {
        if let Some(exif) = self.exif.as_mut() {
            if let Some((at, big_endian)) = find_ifd0_entry(exif, ORIENTATION_TAG) {
                let one = if big_endian { [0, 1] } else { [1, 0] };
                exif[at + 8..at + 10].copy_from_slice(&one);
            }
        }
        if let Some(xmp) = self.xmp.as_mut() {
            reset_xmp_orientation(xmp);
        }
    }

    /// Normalizes an EXIF payload as found in a container to the TIFF structure.
    pub(crate) fn normalize_exif(raw: &[u8]) -> Option<Vec<u8>> {
        let body = raw.strip_prefix(EXIF_PREFIX).unwrap_or(raw);
        let is_tiff = body.starts_with(b"II*\0") || body.starts_with(b"MM\0*");
        is_tiff.then(|| body.to_vec())
    }
}

/// IFD0 XResolution (RATIONAL).
const X_RESOLUTION_TAG: u16 = 0x011A;
/// IFD0 ResolutionUnit (SHORT: 2 inches, 3 centimeters).
const RESOLUTION_UNIT_TAG: u16 = 0x0128;

fn read_u16(data: &[u8], at: usize, big_endian: bool) -> Option<u16> {
    let bytes: [u8; 2] = data.get(at..at + 2)?.try_into().ok()?;
    Some(if big_endian {
        u16::from_be_bytes(bytes)
    } else {
        u16::from_le_bytes(bytes)
    })
}

fn read_u32(data: &[u8], at: usize, big_endian: bool) -> Option<u32> {
    let bytes: [u8; 4] = data.get(at..at + 4)?.try_into().ok()?;
    Some(if big_endian {
        u32::from_be_bytes(bytes)
    } else {
        u32::from_le_bytes(bytes)
    })
}

/// Finds `tag` in IFD0 of a TIFF structure: the entry's offset and the byte order.
fn find_ifd0_entry(tiff: &[u8], tag: u16) -> Option<(usize, bool)> {
    let big_endian = tiff.starts_with(b"MM");
    let ifd = read_u32(tiff, 4, big_endian)? as usize;
    let count = read_u16(tiff, ifd, big_endian)? as usize;
    (0..count).map(|i| ifd + 2 + i * 12).find_map(|entry| {
        let found = read_u16(tiff, entry, big_endian)? == tag && tiff.len() >= entry + 12;
        found.then_some((entry, big_endian))
    })
}

/// Sets `tiff:Orientation` to 1 in both XMP spellings (attribute and element).
fn reset_xmp_orientation(xmp: &mut [u8]) {
    for pattern in [&b"tiff:Orientation=\""[..], &b"<tiff:Orientation>"[..]] {
        let mut from = 0;
        while let Some(pos) = find(&xmp[from..], pattern) {
            let digit = from + pos + pattern.len();
            if let Some(d) = xmp.get_mut(digit) {
                if (b'1'..=b'8').contains(d) {
                    *d = b'1';
                }
            }
            from = digit;
        }
    }
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A little-endian TIFF structure with one IFD0 entry: Orientation = `value`.
    fn exif_with_orientation(value: u16) -> Vec<u8> {
        let mut t = b"II*\0\x08\0\0\0".to_vec();
        t.extend_from_slice(&1u16.to_le_bytes());
        t.extend_from_slice(&ORIENTATION_TAG.to_le_bytes());
        t.extend_from_slice(&3u16.to_le_bytes()); // SHORT
        t.extend_from_slice(&1u32.to_le_bytes());
        t.extend_from_slice(&value.to_le_bytes());
        t.extend_from_slice(&[0, 0, 0, 0, 0, 0]);
        t
    }

    #[test]
    fn reads_and_resets_orientation() {
        let mut m = Metadata {
            exif: Some(exif_with_orientation(6)),
            xmp: Some(
                b"<x tiff:Orientation=\"6\"/><tiff:Orientation>8</tiff:Orientation>".to_vec(),
            ),
            ..Metadata::default()
        };
        assert_eq!(m.exif_orientation(), Some(6));
        m.reset_orientation();
        assert_eq!(m.exif_orientation(), Some(1));
        assert_eq!(
            m.xmp.as_deref().unwrap(),
            b"<x tiff:Orientation=\"1\"/><tiff:Orientation>1</tiff:Orientation>"
        );
    }

    #[test]
    fn normalizes_exif_prefix() {
        let raw = [EXIF_PREFIX, &exif_with_orientation(3)[..]].concat();
        assert_eq!(
            Metadata::normalize_exif(&raw),
            Some(exif_with_orientation(3))
        );
        assert_eq!(Metadata::normalize_exif(b"garbage"), None);
    }
}
