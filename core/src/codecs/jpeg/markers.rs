//! Caps on what a JPEG's marker structure makes libjpeg do or keep, checked
//! by walking the markers before libjpeg is given the file.
//!
//! Each scan of a progressive file makes libjpeg pass over every
//! coefficient block of its components again, so a file of thousands of
//! tiny scans is a CPU bomb; and libjpeg keeps every APPn and COM marker it
//! is asked to save, however many there are, for as long as the decompressor
//! lives. libjpeg itself caps neither.

use crate::codecs::limit_exceeded;
use crate::error::Result;

/// Most scans a JPEG may have. Encoders write a few (sequential) to a few
/// dozen (progressive scripts, mozjpeg's searched ones included).
pub(crate) const MAX_SCANS: u64 = 1000;
/// Most APPn and COM markers (those the decoder saves) a JPEG may have.
/// ICC profiles take at most 255, extended XMP a few hundred.
pub(crate) const MAX_SAVED_MARKERS: u64 = 65_536;
/// Most payload bytes the saved APPn and COM markers may hold, summed.
pub(crate) const MAX_SAVED_MARKER_BYTES: u64 = 64 << 20;

/// What the marker walk of a JPEG counted.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Census {
    /// Start-of-scan (SOS) markers.
    pub(crate) scans: u64,
    /// APPn and COM markers.
    pub(crate) saved_markers: u64,
    /// Their payload bytes (after the length field), summed.
    pub(crate) saved_bytes: u64,
}

impl Census {
    /// Counts the markers of `data` as libjpeg meets them: to the end of the
    /// image (EOI) when `whole`, else (a header read, `jpeg_read_header`) up
    /// to the first scan. Entropy-coded data is skipped to the next marker
    /// that is not a stuffed zero or a restart, garbage and fill bytes
    /// between markers as libjpeg skips them. A damaged structure ends the
    /// walk quietly: libjpeg reports it.
    pub(crate) fn of(data: &[u8], whole: bool) -> Census {
        let mut census = Census::default();
        if !data.starts_with(&[0xFF, 0xD8]) {
            return census;
        }
        let mut at = 2;
        while let Some(marker) = next_marker(data, &mut at) {
            match marker {
                0xD9 => break,
                // Standalone markers (TEM, RSTn, SOI): no length follows.
                0x01 | 0xD0..=0xD8 => continue,
                _ => {}
            }
            let Some(&[high, low]) = data.get(at..at + 2) else {
                break;
            };
            let length = u16::from_be_bytes([high, low]);
            if length < 2 {
                break;
            }
            match marker {
                0xDA => {
                    census.scans += 1;
                    if !whole {
                        break;
                    }
                }
                0xE0..=0xEF | 0xFE => {
                    census.saved_markers += 1;
                    census.saved_bytes += u64::from(length - 2);
                }
                _ => {}
            }
            at += usize::from(length);
        }
        census
    }

    /// Refuses counts above [`MAX_SCANS`], [`MAX_SAVED_MARKERS`] or
    /// [`MAX_SAVED_MARKER_BYTES`] with [`crate::Error::LimitExceeded`].
    pub(crate) fn check(&self) -> Result<()> {
        let caps = [
            ("scans in the JPEG", self.scans, MAX_SCANS),
            (
                "APPn and COM markers saved from the JPEG",
                self.saved_markers,
                MAX_SAVED_MARKERS,
            ),
            (
                "bytes of APPn and COM markers saved from the JPEG",
                self.saved_bytes,
                MAX_SAVED_MARKER_BYTES,
            ),
        ];
        match caps.into_iter().find(|&(_, amount, limit)| amount > limit) {
            Some((what, amount, limit)) => Err(limit_exceeded(what, amount, limit)),
            None => Ok(()),
        }
    }
}

/// Refuses a JPEG whose markers exceed a cap (see [`Census`]): `whole` for
/// a decode, else for a header read.
pub(crate) fn check(data: &[u8], whole: bool) -> Result<()> {
    Census::of(data, whole).check()
}

/// The code of the next marker at or after `*at`, with `*at` moved past it:
/// bytes before an 0xFF, fill bytes (0xFF) and stuffed zeros (0xFF 0x00)
/// are skipped. `None` at the end of the data.
fn next_marker(data: &[u8], at: &mut usize) -> Option<u8> {
    loop {
        let ff = *at + data.get(*at..)?.iter().position(|&b| b == 0xFF)?;
        let code_at = ff + 1 + data.get(ff + 1..)?.iter().position(|&b| b != 0xFF)?;
        *at = code_at + 1;
        if data[code_at] != 0 {
            return Some(data[code_at]);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::ErrorKind;

    /// A marker segment: 0xFF, `marker`, the length and `payload`.
    fn segment(marker: u8, payload: &[u8]) -> Vec<u8> {
        let length = (payload.len() + 2) as u16;
        [&[0xFF, marker][..], &length.to_be_bytes(), payload].concat()
    }

    /// A scan: its header, then entropy-coded data with a stuffed zero, a
    /// restart marker and fill bytes, as a marker walk must step over.
    fn scan() -> Vec<u8> {
        let header = segment(0xDA, &[1, 1, 0x00, 0, 63, 0]);
        let data: [u8; 9] = [0x12, 0xFF, 0x00, 0x34, 0xFF, 0xD0, 0x56, 0xFF, 0xFF];
        [&header[..], &data].concat()
    }

    /// SOI, `body`, EOI.
    fn jpeg(body: &[u8]) -> Vec<u8> {
        [&[0xFF, 0xD8][..], body, &[0xFF, 0xD9]].concat()
    }

    #[test]
    fn the_walk_counts_scans_and_saved_markers_through_entropy_coded_data() {
        let mut body = segment(0xE1, b"Exif\0\0abcd");
        body.extend(segment(0xDB, &[0; 65])); // DQT: not saved
        body.extend(scan());
        body.extend(segment(0xFE, b"a comment"));
        body.extend(scan());
        body.extend(scan());
        let file = jpeg(&body);
        let whole = Census::of(&file, true);
        assert_eq!(
            whole,
            Census {
                scans: 3,
                saved_markers: 2,
                saved_bytes: 10 + 9,
            }
        );
        let header = Census::of(&file, false);
        assert_eq!(
            header,
            Census {
                scans: 1,
                saved_markers: 1,
                saved_bytes: 10,
            }
        );
        // Nothing after EOI counts; a cut file ends the walk without a panic.
        let mut after = file.clone();
        after.extend(scan());
        assert_eq!(Census::of(&after, true), whole);
        for cut in 0..file.len() {
            let _ = Census::of(&file[..cut], true);
        }
        assert_eq!(Census::of(b"not a jpeg", true), Census::default());
    }

    #[test]
    fn more_scans_than_the_cap_are_refused_when_decoding() {
        let at_cap = jpeg(&scan().repeat(MAX_SCANS as usize));
        assert!(check(&at_cap, true).is_ok());
        let over = jpeg(&scan().repeat(MAX_SCANS as usize + 1));
        let err = check(&over, true).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::LimitExceeded, "{err}");
        assert!(err.to_string().contains("scans"), "{err}");
        // A header read stops at the first scan.
        assert!(check(&over, false).is_ok());
    }

    #[test]
    fn too_many_saved_markers_or_bytes_are_refused() {
        let empty_comments = segment(0xFE, &[]).repeat(MAX_SAVED_MARKERS as usize + 1);
        let err = check(&jpeg(&empty_comments), false).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::LimitExceeded, "{err}");
        assert!(err.to_string().contains("markers"), "{err}");
        let full = Census {
            saved_bytes: MAX_SAVED_MARKER_BYTES,
            ..Census::default()
        };
        assert!(full.check().is_ok());
        let over = Census {
            saved_bytes: MAX_SAVED_MARKER_BYTES + 1,
            ..full
        };
        let err = over.check().unwrap_err();
        assert_eq!(err.kind(), ErrorKind::LimitExceeded, "{err}");
        assert!(err.to_string().contains("bytes"), "{err}");
    }
}
