//! IPTC-IIM: datasets inside a Photoshop image resource block (JPEG APP13).
//!
//! The block is a list of `8BIM` resources; resource 0x0404 holds the IIM
//! stream, a list of datasets `0x1C record number length data`.

/// One IIM dataset.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Dataset {
    pub record: u8,
    pub number: u8,
    pub data: Vec<u8>,
}

/// The Photoshop resource that holds IPTC-IIM.
const IPTC_RESOURCE: u16 = 0x0404;

/// One resource of a Photoshop image resource block.
struct Resource<'a> {
    id: u16,
    /// The whole resource as stored (signature to padding), to copy it unchanged.
    raw: &'a [u8],
    data: &'a [u8],
}

fn resources(block: &[u8]) -> Vec<Resource<'_>> {
    let mut found = Vec::new();
    let mut at = 0usize;
    while block.len() >= at + 12 && &block[at..at + 4] == b"8BIM" {
        let id = u16::from_be_bytes([block[at + 4], block[at + 5]]);
        let name_len = usize::from(block[at + 6]);
        let name_end = at + 6 + ((1 + name_len + 1) & !1);
        let Some(size) = block
            .get(name_end..name_end + 4)
            .map(|b| u32::from_be_bytes(b.try_into().expect("4 bytes")) as usize)
        else {
            break;
        };
        let data_start = name_end + 4;
        let Some(data) = data_start
            .checked_add(size)
            .and_then(|end| block.get(data_start..end))
        else {
            break;
        };
        let end = (data_start + size + (size & 1)).min(block.len());
        found.push(Resource {
            id,
            raw: &block[at..end],
            data,
        });
        at = end;
    }
    found
}

/// The IIM datasets of a Photoshop resource block.
pub(crate) fn datasets(block: &[u8]) -> Vec<Dataset> {
    let Some(iim) = resources(block).into_iter().find(|r| r.id == IPTC_RESOURCE) else {
        return Vec::new();
    };
    parse_iim(iim.data)
}

fn parse_iim(iim: &[u8]) -> Vec<Dataset> {
    let mut found = Vec::new();
    let mut at = 0usize;
    while iim.len() >= at + 5 && iim[at] == 0x1C {
        let (record, number) = (iim[at + 1], iim[at + 2]);
        let length = u16::from_be_bytes([iim[at + 3], iim[at + 4]]);
        let (length, start) = if length & 0x8000 != 0 {
            // Extended length: the low bits say how many bytes hold it.
            let n = usize::from(length & 0x7FFF);
            let Some(bytes) = iim.get(at + 5..at + 5 + n).filter(|_| n <= 4) else {
                break;
            };
            let value = bytes.iter().fold(0usize, |v, &b| (v << 8) | usize::from(b));
            (value, at + 5 + n)
        } else {
            (usize::from(length), at + 5)
        };
        let Some(data) = start
            .checked_add(length)
            .and_then(|end| iim.get(start..end))
        else {
            break;
        };
        found.push(Dataset {
            record,
            number,
            data: data.to_vec(),
        });
        at = start + length;
    }
    found
}

/// The IIM stream of `datasets`.
pub(crate) fn write_iim(datasets: &[Dataset]) -> Vec<u8> {
    let mut out = Vec::new();
    for d in datasets {
        out.extend_from_slice(&[0x1C, d.record, d.number]);
        if d.data.len() < 0x8000 {
            out.extend_from_slice(&(d.data.len() as u16).to_be_bytes());
        } else {
            out.extend_from_slice(&0x8004u16.to_be_bytes());
            out.extend_from_slice(&(d.data.len() as u32).to_be_bytes());
        }
        out.extend_from_slice(&d.data);
    }
    out
}

/// A resource block holding one resource: the IIM stream `iim`.
pub(crate) fn block_of(iim: &[u8]) -> Vec<u8> {
    resource(IPTC_RESOURCE, iim)
}

/// One Photoshop image resource (`8BIM`, no name) holding `data`, padded to
/// even length.
pub(crate) fn resource(id: u16, data: &[u8]) -> Vec<u8> {
    let mut out = b"8BIM".to_vec();
    out.extend_from_slice(&id.to_be_bytes());
    out.extend_from_slice(&[0, 0]);
    out.extend_from_slice(&(data.len() as u32).to_be_bytes());
    out.extend_from_slice(data);
    if data.len() % 2 == 1 {
        out.push(0);
    }
    out
}

/// `block` with its IIM stream replaced by `iim` (the other resources kept).
pub(crate) fn replace_iim(block: &[u8], iim: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(block.len() + iim.len());
    let mut wrote = false;
    for resource in resources(block) {
        match resource.id {
            IPTC_RESOURCE | IPTC_DIGEST_RESOURCE => {
                if !wrote {
                    out.extend_from_slice(&block_of(iim));
                    wrote = true;
                }
            }
            _ => out.extend_from_slice(resource.raw),
        }
    }
    if !wrote {
        out.extend_from_slice(&block_of(iim));
    }
    out
}

/// `block` (the Photoshop resources of a TIFF's tag 34377) with the IIM
/// stream `iim` (of its tag 33723) in it, unless the block holds datasets of
/// its own (which win): in place of an empty IIM resource, else at the end.
/// Every other resource stays as stored, the IPTC digest included.
pub(crate) fn with_iim(block: &[u8], iim: &[u8]) -> Vec<u8> {
    if !datasets(block).is_empty() || parse_iim(iim).is_empty() {
        return block.to_vec();
    }
    let mut out = Vec::with_capacity(block.len() + iim.len() + 12);
    let mut wrote = false;
    for resource in resources(block) {
        match resource.id {
            IPTC_RESOURCE if !wrote => {
                out.extend_from_slice(&block_of(iim));
                wrote = true;
            }
            IPTC_RESOURCE => {}
            _ => out.extend_from_slice(resource.raw),
        }
    }
    if !wrote {
        out.extend_from_slice(&block_of(iim));
    }
    out
}

/// Whether `block` starts with a Photoshop resource.
pub(crate) fn has_resources(block: &[u8]) -> bool {
    !resources(block).is_empty()
}

/// The report names of the resources of `block` other than the IIM stream
/// (`Photoshop:Resource0x03ED`, `Photoshop:Thumbnail`...), each once.
pub(crate) fn resource_names(block: &[u8]) -> Vec<String> {
    let mut names: Vec<String> = Vec::new();
    for resource in resources(block) {
        let name = resource_name(resource.id);
        if resource.id != IPTC_RESOURCE && !names.contains(&name) {
            names.push(name);
        }
    }
    names
}

/// What a raw profile holds for `block` (PNG's `Raw profile type iptc`):
/// the bare IIM stream when the block holds no other resource, as
/// ImageMagick writes it, else the whole resource block, as exiftool writes
/// it (readers tell the two apart by the first byte), so that the other
/// resources (resolution, IPTC digest...) are kept. `None` when there is
/// nothing to write.
pub(crate) fn raw_profile(block: &[u8]) -> Option<Vec<u8>> {
    if resource_names(block).is_empty() {
        iim(block)
    } else {
        Some(block.to_vec())
    }
}

/// Whether `block` is a list of Photoshop resources from end to end, and
/// its IIM stream (if any) a list of datasets from end to end.
pub(crate) fn is_well_formed(block: &[u8]) -> bool {
    let found = resources(block);
    let covered: usize = found.iter().map(|r| r.raw.len()).sum();
    let iim_ok = found
        .iter()
        .filter(|r| r.id == IPTC_RESOURCE)
        .all(|r| write_iim(&parse_iim(r.data)).len() == r.data.len());
    !found.is_empty() && covered == block.len() && iim_ok
}

/// Photoshop's thumbnail resources (stale once the pixels change).
const THUMBNAIL_RESOURCES: [u16; 2] = [0x0409, 0x040C];
/// The MD5 of the IIM stream, stale once a dataset changes.
const IPTC_DIGEST_RESOURCE: u16 = 0x0425;

/// Keeps the datasets `keep_dataset` accepts and the other Photoshop
/// resources `keep_resource` accepts; Photoshop's thumbnails always go (the
/// pixels they show are about to change), and so does the IPTC digest when
/// a dataset goes. Returns the new block (`None` when nothing is left) and
/// the name of each field removed.
pub(crate) fn retain(
    block: &[u8],
    keep_dataset: &dyn Fn(u8, u8) -> bool,
    keep_resource: &dyn Fn(u16) -> bool,
) -> (Option<Vec<u8>>, Vec<String>) {
    let (kept, dropped): (Vec<Dataset>, Vec<Dataset>) = datasets(block)
        .into_iter()
        .partition(|d| keep_dataset(d.record, d.number));
    let mut removed: Vec<String> = dropped
        .iter()
        .map(|d| dataset_name(d.record, d.number))
        .collect();
    // Record 1:90 (character set) and 2:00 (version) alone say nothing.
    let meaningful = kept
        .iter()
        .any(|d| !matches!((d.record, d.number), (1, 90) | (2, 0)));
    let mut out = Vec::new();
    for resource in resources(block) {
        let stays = match resource.id {
            IPTC_RESOURCE => meaningful || dropped.is_empty(),
            id if THUMBNAIL_RESOURCES.contains(&id) => false,
            IPTC_DIGEST_RESOURCE if !dropped.is_empty() => false,
            id => keep_resource(id),
        };
        match (stays, resource.id) {
            (true, IPTC_RESOURCE) if !dropped.is_empty() => {
                out.extend_from_slice(&block_of(&write_iim(&kept)))
            }
            (true, _) => out.extend_from_slice(resource.raw),
            (false, IPTC_RESOURCE) => {
                // Only 1:90 and 2:00 were left: they go with the stream.
                for d in &kept {
                    let name = dataset_name(d.record, d.number);
                    if !removed.contains(&name) {
                        removed.push(name);
                    }
                }
            }
            (false, id) => removed.push(resource_name(id)),
        }
    }
    (Some(out).filter(|o| !o.is_empty()), removed)
}

/// A Photoshop resource's name in reports.
fn resource_name(id: u16) -> String {
    match id {
        0x0409 | 0x040C => "Photoshop:Thumbnail".to_string(),
        IPTC_DIGEST_RESOURCE => "Photoshop:IPTCDigest".to_string(),
        id => format!("Photoshop:Resource{id:#06X}"),
    }
}

/// Record 2 (application) dataset names, as exiftool prints them.
const NAMES: &[(u8, u8, &str)] = &[
    (1, 90, "CodedCharacterSet"),
    (2, 0, "ApplicationRecordVersion"),
    (2, 3, "ObjectTypeReference"),
    (2, 4, "ObjectAttributeReference"),
    (2, 5, "ObjectName"),
    (2, 7, "EditStatus"),
    (2, 10, "Urgency"),
    (2, 12, "SubjectReference"),
    (2, 15, "Category"),
    (2, 20, "SupplementalCategories"),
    (2, 22, "FixtureIdentifier"),
    (2, 25, "Keywords"),
    (2, 26, "ContentLocationCode"),
    (2, 27, "ContentLocationName"),
    (2, 30, "ReleaseDate"),
    (2, 35, "ReleaseTime"),
    (2, 37, "ExpirationDate"),
    (2, 38, "ExpirationTime"),
    (2, 40, "SpecialInstructions"),
    (2, 42, "ActionAdvised"),
    (2, 45, "ReferenceService"),
    (2, 47, "ReferenceDate"),
    (2, 50, "ReferenceNumber"),
    (2, 55, "DateCreated"),
    (2, 60, "TimeCreated"),
    (2, 62, "DigitalCreationDate"),
    (2, 63, "DigitalCreationTime"),
    (2, 65, "OriginatingProgram"),
    (2, 70, "ProgramVersion"),
    (2, 75, "ObjectCycle"),
    (2, 80, "By-line"),
    (2, 85, "By-lineTitle"),
    (2, 90, "City"),
    (2, 92, "Sub-location"),
    (2, 95, "Province-State"),
    (2, 100, "Country-PrimaryLocationCode"),
    (2, 101, "Country-PrimaryLocationName"),
    (2, 103, "OriginalTransmissionReference"),
    (2, 105, "Headline"),
    (2, 110, "Credit"),
    (2, 115, "Source"),
    (2, 116, "CopyrightNotice"),
    (2, 118, "Contact"),
    (2, 120, "Caption-Abstract"),
    (2, 121, "LocalCaption"),
    (2, 122, "Writer-Editor"),
    (2, 130, "ImageType"),
    (2, 131, "ImageOrientation"),
    (2, 135, "LanguageIdentifier"),
];

/// The name of a dataset (`Record:Number` for one outside the table).
pub(crate) fn dataset_name(record: u8, number: u8) -> String {
    NAMES
        .iter()
        .find(|(r, n, _)| (*r, *n) == (record, number))
        .map_or_else(
            || format!("{record}:{number}"),
            |(_, _, name)| (*name).to_string(),
        )
}

/// The dataset a name stands for (case-insensitive).
pub(crate) fn dataset_of(name: &str) -> Option<(u8, u8)> {
    NAMES
        .iter()
        .find(|(_, _, n)| n.eq_ignore_ascii_case(name))
        .map(|(r, n, _)| (*r, *n))
}

/// Place names: city, sublocation, state, country, content location.
pub(crate) fn is_location(record: u8, number: u8) -> bool {
    record == 2 && matches!(number, 26 | 27 | 90 | 92 | 95 | 100 | 101)
}

/// Whether record 1:90 declares UTF-8 (`ESC % G`).
pub(crate) fn is_utf8(datasets: &[Dataset]) -> bool {
    datasets
        .iter()
        .any(|d| (d.record, d.number) == (1, 90) && d.data == b"\x1b%G")
}

/// The text of a dataset: UTF-8 when the block says so (or the bytes are
/// valid UTF-8), else Windows-1252 as exiftool reads it.
pub(crate) fn text(dataset: &Dataset, utf8: bool) -> String {
    match std::str::from_utf8(&dataset.data) {
        Ok(s) if utf8 || s.is_ascii() => s.to_string(),
        _ => dataset.data.iter().map(|&b| cp1252(b)).collect(),
    }
}

fn cp1252(b: u8) -> char {
    const HIGH: [u16; 32] = [
        0x20AC, 0x81, 0x201A, 0x0192, 0x201E, 0x2026, 0x2020, 0x2021, 0x02C6, 0x2030, 0x0160,
        0x2039, 0x0152, 0x8D, 0x017D, 0x8F, 0x90, 0x2018, 0x2019, 0x201C, 0x201D, 0x2022, 0x2013,
        0x2014, 0x02DC, 0x2122, 0x0161, 0x203A, 0x0153, 0x9D, 0x017E, 0x0178,
    ];
    match b {
        0x80..=0x9F => char::from_u32(u32::from(HIGH[usize::from(b - 0x80)])).unwrap_or('?'),
        _ => char::from(b),
    }
}

/// How an IPTC dataset is written in XMP (IPTC Core, as exiftool's
/// `iptc2xmp.args` maps it).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum XmpShape {
    /// A simple text value.
    Text,
    /// An ordered array (`rdf:Seq`).
    Seq,
    /// An unordered array (`rdf:Bag`).
    Bag,
    /// A language alternative (`rdf:Alt`, `x-default`).
    Alt,
    /// A date (`YYYY-MM-DD`, with the time dataset joined when present).
    Date,
}

/// Where a dataset goes in XMP: prefix, property and shape.
type XmpTarget = (&'static str, &'static str, XmpShape);

/// `(record, number) -> (prefix, property, shape)`: the IPTC Core mapping.
pub(crate) const TO_XMP: &[((u8, u8), XmpTarget)] = &[
    ((2, 80), ("dc", "creator", XmpShape::Seq)),
    ((2, 120), ("dc", "description", XmpShape::Alt)),
    ((2, 116), ("dc", "rights", XmpShape::Alt)),
    ((2, 25), ("dc", "subject", XmpShape::Bag)),
    ((2, 5), ("dc", "title", XmpShape::Alt)),
    ((2, 85), ("photoshop", "AuthorsPosition", XmpShape::Text)),
    ((2, 122), ("photoshop", "CaptionWriter", XmpShape::Text)),
    ((2, 15), ("photoshop", "Category", XmpShape::Text)),
    ((2, 90), ("photoshop", "City", XmpShape::Text)),
    ((2, 101), ("photoshop", "Country", XmpShape::Text)),
    ((2, 110), ("photoshop", "Credit", XmpShape::Text)),
    ((2, 55), ("photoshop", "DateCreated", XmpShape::Date)),
    ((2, 105), ("photoshop", "Headline", XmpShape::Text)),
    ((2, 40), ("photoshop", "Instructions", XmpShape::Text)),
    ((2, 115), ("photoshop", "Source", XmpShape::Text)),
    ((2, 95), ("photoshop", "State", XmpShape::Text)),
    (
        (2, 20),
        ("photoshop", "SupplementalCategories", XmpShape::Bag),
    ),
    (
        (2, 103),
        ("photoshop", "TransmissionReference", XmpShape::Text),
    ),
    ((2, 10), ("photoshop", "Urgency", XmpShape::Text)),
    ((2, 100), ("Iptc4xmpCore", "CountryCode", XmpShape::Text)),
    ((2, 92), ("Iptc4xmpCore", "Location", XmpShape::Text)),
    ((2, 62), ("xmp", "CreateDate", XmpShape::Date)),
];

/// One XMP property made from IPTC datasets.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct XmpValue {
    pub prefix: String,
    pub name: String,
    pub shape: XmpShape,
    pub values: Vec<String>,
}

/// The XMP properties the datasets of `block` map to.
pub(crate) fn to_xmp(block: &[u8]) -> Vec<XmpValue> {
    let all = datasets(block);
    let utf8 = is_utf8(&all);
    let find = |number: u8| all.iter().find(|d| (d.record, d.number) == (2, number));
    TO_XMP
        .iter()
        .filter_map(|&((record, number), (prefix, name, shape))| {
            let values: Vec<String> = all
                .iter()
                .filter(|d| (d.record, d.number) == (record, number))
                .map(|d| text(d, utf8))
                .collect();
            let first = values.first()?;
            let values = match shape {
                XmpShape::Date => {
                    // DateCreated + TimeCreated, DigitalCreationDate + DigitalCreationTime.
                    let time = find(number + 5).map(|d| text(d, utf8));
                    vec![xmp_date(first, time.as_deref())?]
                }
                _ => values,
            };
            Some(XmpValue {
                prefix: prefix.to_string(),
                name: name.to_string(),
                shape,
                values,
            })
        })
        .collect()
}

/// What becomes of the datasets of `block` carried into XMP for a container
/// without an IPTC slot, judged on the top-level properties of the packet
/// written (`xmp`, as `(prefix, name, value)`, see `xmp::values`): a dataset
/// whose property holds its value is moved there, whether it was added or
/// already in the packet (a time, `TimeCreated`, is moved into its date's
/// property when that holds the date and the time of day); every other
/// dataset is removed: those XMP has no property for (`DocumentNotes`, the
/// record versions, the character set) and those whose property holds
/// another value. Returns `(name, prefix:Property)` for each dataset name
/// moved, and each name removed; a name is moved when every dataset of it is.
pub(crate) fn fate_in_xmp(
    block: &[u8],
    xmp: &[(String, String, String)],
) -> (Vec<(String, String)>, Vec<String>) {
    let all = datasets(block);
    let utf8 = is_utf8(&all);
    // Each dataset name, with where every dataset of it arrived (if they did).
    let mut fate: Vec<(String, Option<String>)> = Vec::new();
    for d in &all {
        let name = dataset_name(d.record, d.number);
        let arrived = arrival(d, &all, utf8, xmp);
        match fate.iter_mut().find(|(n, _)| *n == name) {
            Some((_, to)) => {
                if arrived.is_none() {
                    *to = None;
                }
            }
            None => fate.push((name, arrived)),
        }
    }
    let mut moved = Vec::new();
    let mut removed = Vec::new();
    for (name, to) in fate {
        match to {
            Some(to) => moved.push((name, to)),
            None => removed.push(name),
        }
    }
    (moved, removed)
}

/// The property (`prefix:Property`) of `xmp` that holds dataset `d` of
/// `all`, if one does: for a date its day, for a time (2:60, 2:63) its date's
/// day and the time of day, for anything else the text as the whole value
/// or as one item of it (white space aside).
fn arrival(
    d: &Dataset,
    all: &[Dataset],
    utf8: bool,
    xmp: &[(String, String, String)],
) -> Option<String> {
    let (key, time) = match (d.record, d.number) {
        (2, 60 | 63) => ((2, d.number - 5), Some(text(d, utf8))),
        key => (key, None),
    };
    let &(_, (prefix, name, shape)) = TO_XMP.iter().find(|(k, _)| *k == key)?;
    let found: Vec<&str> = xmp
        .iter()
        .filter(|(p, n, _)| p == prefix && n == name)
        .map(|(_, _, v)| v.as_str())
        .collect();
    let holds = match shape {
        XmpShape::Date => {
            let date = match time {
                Some(_) => all
                    .iter()
                    .find(|x| (x.record, x.number) == key)
                    .map(|x| text(x, utf8))?,
                None => text(d, utf8),
            };
            let expected = xmp_date(&date, time.as_deref())?;
            // `YYYY-MM-DD`, and for a time `YYYY-MM-DDTHH:MM:SS`.
            let end = if time.is_some() { 19 } else { 10 };
            let wanted = expected.get(..end)?;
            found.iter().any(|v| v.starts_with(wanted))
        }
        _ => {
            let value = text(d, utf8);
            let same = |a: &str| a.split_whitespace().eq(value.split_whitespace());
            found.iter().any(|v| same(v) || v.split("; ").any(&same))
        }
    };
    holds.then(|| format!("{prefix}:{name}"))
}

/// Whether `s` is ASCII digits only.
fn all_digits(s: &str) -> bool {
    s.bytes().all(|b| b.is_ascii_digit())
}

/// `YYYYMMDD` (+ `HHMMSS±HHMM`) as an XMP date. The text comes from the
/// file, so every slice is checked: a multi-byte char where a digit or the
/// zone belongs drops the date (or the time, or the zone), never panics.
fn xmp_date(date: &str, time: Option<&str>) -> Option<String> {
    if date.len() != 8 || !all_digits(date) {
        return None;
    }
    let mut out = format!("{}-{}-{}", &date[0..4], &date[4..6], &date[6..8]);
    let hms = time.and_then(|t| t.get(..6).map(|hms| (t, hms)));
    if let Some((t, hms)) = hms.filter(|(_, hms)| all_digits(hms)) {
        out += &format!("T{}:{}:{}", &hms[0..2], &hms[2..4], &hms[4..6]);
        // The zone: a sign and HHMM, as `±HH:MM`.
        let zone = t
            .get(6..)
            .filter(|z| z.len() == 5 && (z.starts_with('+') || z.starts_with('-')))
            .filter(|z| all_digits(&z[1..]));
        if let Some(zone) = zone {
            out += &format!("{}:{}", &zone[..3], &zone[3..]);
        }
    }
    Some(out)
}

/// The IIM stream alone (for PNG's `Raw profile type iptc`).
pub(crate) fn iim(block: &[u8]) -> Option<Vec<u8>> {
    let all = datasets(block);
    (!all.is_empty()).then(|| write_iim(&all))
}

#[cfg(test)]
mod tests;
