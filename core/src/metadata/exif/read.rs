//! Reading an EXIF block: the fields present, single values (integers,
//! rationals), the kind of a field, whether the block is well formed, and
//! every value as text.

use super::structure::{
    find, find_all, pointed, type_size, Entry, Tiff, ASCII, LONG, RATIONAL, SHORT, SRATIONAL,
};
use super::Ifd;

/// Every `(ifd, tag)` of the block, pointer tags left out.
pub(crate) fn fields(data: &[u8]) -> Vec<(Ifd, u16)> {
    let Some(tiff) = Tiff::new(data) else {
        return Vec::new();
    };
    tiff.ifds()
        .into_iter()
        .flat_map(|(ifd, offset)| {
            tiff.entries(offset)
                .into_iter()
                .filter(move |e| pointed(ifd, e.tag).is_none())
                .map(move |e| (ifd, e.tag))
        })
        .collect()
}

/// The first value of an integer field (BYTE, SHORT or LONG).
pub(crate) fn uint(data: &[u8], ifd: Ifd, tag: u16) -> Option<u32> {
    let (tiff, entry) = find(data, ifd, tag)?;
    tiff.uint(&entry)
}

/// The first value of a RATIONAL field.
pub(crate) fn rational(data: &[u8], ifd: Ifd, tag: u16) -> Option<f64> {
    let (tiff, entry) = find(data, ifd, tag)?;
    if entry.kind != 5 {
        return None;
    }
    let at = tiff.value_range(&entry)?.start;
    let (numerator, denominator) = (tiff.u32(at)?, tiff.u32(at + 4)?);
    (denominator != 0).then(|| f64::from(numerator) / f64::from(denominator))
}

/// What a present field holds, as far as editing it goes.
pub(crate) enum FieldKind {
    /// ASCII.
    Text,
    /// SHORT or LONG.
    Integer,
    /// Any other type.
    Other,
}

/// The kind of the field, `None` when it is absent.
pub(crate) fn kind_of(data: &[u8], ifd: Ifd, tag: u16) -> Option<FieldKind> {
    find(data, ifd, tag).map(|(_, e)| match e.kind {
        ASCII => FieldKind::Text,
        SHORT | LONG => FieldKind::Integer,
        _ => FieldKind::Other,
    })
}

/// Whether the block is a TIFF structure whose IFD0 lies inside it and
/// whose every entry has a known type and a value inside the block.
pub(crate) fn is_well_formed(data: &[u8]) -> bool {
    let Some(tiff) = Tiff::new(data) else {
        return false;
    };
    let ifds = tiff.ifds();
    !ifds.is_empty()
        && ifds.iter().all(|&(_, offset)| {
            tiff.u16(offset)
                .is_some_and(|n| usize::from(n) == tiff.entries(offset).len())
                && tiff
                    .entries(offset)
                    .iter()
                    .all(|e| tiff.value_range(e).is_some())
        })
}

/// The values of a RATIONAL field.
pub(crate) fn rationals(data: &[u8], ifd: Ifd, tag: u16) -> Option<Vec<f64>> {
    let (tiff, entry) = find(data, ifd, tag)?;
    if entry.kind != RATIONAL {
        return None;
    }
    let range = tiff.value_range(&entry)?;
    range
        .step_by(8)
        .map(|at| {
            let (n, d) = (tiff.u32(at)?, tiff.u32(at + 4)?);
            (d != 0).then(|| f64::from(n) / f64::from(d))
        })
        .collect()
}

/// The values of every entry of `tag` in `ifd`, in the order stored (a
/// crafted block may repeat a tag): for a RATIONAL or SRATIONAL entry,
/// whether it is signed and its values as numbers; `None` for an entry of
/// another type, with values outside the block or with a zero denominator.
pub(crate) fn rational_entries(data: &[u8], ifd: Ifd, tag: u16) -> Vec<Option<(bool, Vec<f64>)>> {
    let Some((tiff, entries)) = find_all(data, ifd, tag) else {
        return Vec::new();
    };
    let read = |entry: &Entry| {
        let signed = match entry.kind {
            RATIONAL => false,
            SRATIONAL => true,
            _ => return None,
        };
        let values = tiff
            .value_range(entry)?
            .step_by(8)
            .map(|at| {
                let (n, d) = (tiff.u32(at)?, tiff.u32(at + 4)?);
                if d == 0 {
                    return None;
                }
                Some(if signed {
                    f64::from(n as i32) / f64::from(d as i32)
                } else {
                    f64::from(n) / f64::from(d)
                })
            })
            .collect::<Option<Vec<f64>>>()?;
        Some((signed, values))
    };
    entries.iter().map(read).collect()
}

/// One EXIF value, typed as Pillow's `Image.Exif` gives it (one element per
/// value the entry counts).
#[derive(Debug, Clone, PartialEq)]
pub enum ExifValue {
    /// SHORT, LONG, SBYTE, SSHORT, SLONG and IFD values.
    Integers(Vec<i64>),
    /// RATIONAL and SRATIONAL (a zero denominator reads as 0), FLOAT and DOUBLE.
    Numbers(Vec<f64>),
    /// ASCII, up to its first NUL, each byte taken as Latin-1.
    Text(String),
    /// BYTE and UNDEFINED values, as stored (Pillow gives both as `bytes`).
    Bytes(Vec<u8>),
}

/// Every entry of one IFD in stored order, pointer tags included (as TIFF
/// stores them and Pillow lists them), with its typed value; entries whose
/// value lies outside the block are left out.
pub(crate) fn typed_entries(data: &[u8], which: Ifd) -> Vec<(u16, ExifValue)> {
    let Some(tiff) = Tiff::new(data) else {
        return Vec::new();
    };
    let Some(&(_, offset)) = tiff.ifds().iter().find(|(ifd, _)| *ifd == which) else {
        return Vec::new();
    };
    tiff.entries(offset)
        .into_iter()
        .filter_map(|entry| Some((entry.tag, tiff.typed(&entry)?)))
        .collect()
}

/// Values listed one by one up to this count; longer arrays are summarized.
const LISTED_VALUES: usize = 16;

/// Every field with its value as text, pointer tags left out.
pub(crate) fn values(data: &[u8]) -> Vec<(Ifd, u16, String)> {
    let Some(tiff) = Tiff::new(data) else {
        return Vec::new();
    };
    let mut out = Vec::new();
    for (ifd, offset) in tiff.ifds() {
        for entry in tiff.entries(offset) {
            if pointed(ifd, entry.tag).is_none() {
                out.push((ifd, entry.tag, tiff.text(&entry)));
            }
        }
    }
    out
}

/// One field's value as text, as [`values`] lists it (without listing them all).
pub(crate) fn text(data: &[u8], ifd: Ifd, tag: u16) -> Option<String> {
    let (tiff, entry) = find(data, ifd, tag)?;
    Some(tiff.text(&entry))
}

impl Tiff<'_> {
    /// An entry's value as text.
    fn text(&self, entry: &Entry) -> String {
        let Some(range) = self.value_range(entry) else {
            return "(outside the block)".to_string();
        };
        let bytes = &self.data[range];
        let printable =
            |b: &[u8]| !b.is_empty() && b.iter().all(|&c| c == b' ' || c.is_ascii_graphic());
        match entry.kind {
            2 => {
                let text = bytes.split(|&b| b == 0).next().unwrap_or_default();
                String::from_utf8_lossy(text).trim_end().to_string()
            }
            7 if printable(bytes) => String::from_utf8_lossy(bytes).trim_end().to_string(),
            _ if entry.count as usize > LISTED_VALUES || matches!(entry.kind, 7) => {
                format!("({} bytes)", bytes.len())
            }
            kind => {
                let size = type_size(kind).unwrap_or(1);
                bytes
                    .chunks_exact(size)
                    .map(|v| self.number(kind, v))
                    .collect::<Vec<_>>()
                    .join(" ")
            }
        }
    }

    /// One value of a numeric type as text.
    fn number(&self, kind: u16, v: &[u8]) -> String {
        match kind {
            5 => format!("{}/{}", self.long(&v[..4]), self.long(&v[4..])),
            10 => format!(
                "{}/{}",
                self.long(&v[..4]) as i32,
                self.long(&v[4..]) as i32
            ),
            11 => f32::from_bits(self.long(v)).to_string(),
            12 => self.real(kind, v).to_string(),
            1 | 3 | 4 | 6 | 8 | 9 | 13 => self.integer(kind, v).to_string(),
            _ => String::new(),
        }
    }

    /// An entry's values, typed; `None` when they lie outside the block or
    /// their type is unknown.
    fn typed(&self, entry: &Entry) -> Option<ExifValue> {
        let size = type_size(entry.kind)?;
        let bytes = &self.data[self.value_range(entry)?];
        let values = bytes.chunks_exact(size);
        Some(match entry.kind {
            ASCII => {
                let text = bytes.split(|&b| b == 0).next().unwrap_or_default();
                ExifValue::Text(text.iter().map(|&b| char::from(b)).collect())
            }
            3 | 4 | 6 | 8 | 9 | 13 => {
                ExifValue::Integers(values.map(|v| self.integer(entry.kind, v)).collect())
            }
            RATIONAL | SRATIONAL | 11 | 12 => {
                ExifValue::Numbers(values.map(|v| self.real(entry.kind, v)).collect())
            }
            _ => ExifValue::Bytes(bytes.to_vec()),
        })
    }

    /// A 16-bit value (`v` holds at least 2 bytes) in the block's byte order.
    fn word(&self, v: &[u8]) -> u16 {
        let a = [v[0], v[1]];
        if self.big_endian {
            u16::from_be_bytes(a)
        } else {
            u16::from_le_bytes(a)
        }
    }

    /// A 32-bit value (`v` holds at least 4 bytes) in the block's byte order.
    fn long(&self, v: &[u8]) -> u32 {
        let a = [v[0], v[1], v[2], v[3]];
        if self.big_endian {
            u32::from_be_bytes(a)
        } else {
            u32::from_le_bytes(a)
        }
    }

    /// One value of an integer type (BYTE, SBYTE, SHORT, SSHORT, LONG,
    /// SLONG, IFD), `v` being its bytes.
    fn integer(&self, kind: u16, v: &[u8]) -> i64 {
        match kind {
            1 => i64::from(v[0]),
            6 => i64::from(v[0] as i8),
            3 => i64::from(self.word(v)),
            8 => i64::from(self.word(v) as i16),
            9 => i64::from(self.long(v) as i32),
            _ => i64::from(self.long(v)),
        }
    }

    /// One value of a real type (RATIONAL and SRATIONAL, a zero denominator
    /// reading as 0; FLOAT; DOUBLE), `v` being its bytes.
    fn real(&self, kind: u16, v: &[u8]) -> f64 {
        let ratio = |n: f64, d: f64| if d == 0.0 { 0.0 } else { n / d };
        match kind {
            5 => ratio(f64::from(self.long(&v[..4])), f64::from(self.long(&v[4..]))),
            10 => ratio(
                f64::from(self.long(&v[..4]) as i32),
                f64::from(self.long(&v[4..]) as i32),
            ),
            11 => f64::from(f32::from_bits(self.long(v))),
            _ => {
                let (hi, lo) = (u64::from(self.long(&v[..4])), u64::from(self.long(&v[4..])));
                let bits = if self.big_endian {
                    hi << 32 | lo
                } else {
                    lo << 32 | hi
                };
                f64::from_bits(bits)
            }
        }
    }
}
