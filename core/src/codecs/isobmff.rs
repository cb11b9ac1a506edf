//! Replacing the metadata of a finished HEIF/AVIF file ([`replace_metadata`]),
//! as the in-place rewrite and restore need, and reading the primary image's
//! rotation ([`primary_rotation`]).
//!
//! The file is first stripped: the `Exif` and XMP items leave `iinf`, `iloc`
//! and `iref` (their bytes zeroed in place, so a removed GPS position does
//! not linger), ICC `colr` properties leave `ipco` (the `ipma` indices
//! renumbered). Then the new blocks are added: EXIF as an `Exif` item, XMP as
//! a `mime` item of type `application/rdf+xml` (each described by a `cdsc`
//! reference to the primary item), both in one appended `mdat` box, and the
//! ICC profile as a `colr` property of type `prof` associated with the
//! primary item. Item locations are file offsets, so those after the grown
//! `meta` box move by its growth.

use crate::error::{Error, Result};
use crate::format::Format;

/// A box as found: its type and where its payload lies. [`boxes`] gives
/// `start + 8 <= payload <= end`, `end` within the range searched; the
/// payload may be empty or shorter than its fields, so it is read with the
/// checked accessors below.
#[derive(Debug, Clone, Copy)]
struct BoxAt {
    kind: [u8; 4],
    start: usize,
    payload: usize,
    end: usize,
}

impl BoxAt {
    /// The whole box in `file`, header included.
    fn bytes(self, file: &[u8]) -> Option<&[u8]> {
        file.get(self.start..self.end)
    }

    /// The payload in `file`: all a reader of the box's fields may see.
    fn body(self, file: &[u8]) -> Option<&[u8]> {
        file.get(self.payload..self.end)
    }
}

fn boxes(data: &[u8], from: usize, to: usize) -> Option<Vec<BoxAt>> {
    let mut found = Vec::new();
    let mut at = from;
    while at + 8 <= to {
        let size = u32::from_be_bytes(data.get(at..at + 4)?.try_into().ok()?) as usize;
        let kind: [u8; 4] = data.get(at + 4..at + 8)?.try_into().ok()?;
        let (payload, end) = match size {
            1 => {
                let large = u64::from_be_bytes(data.get(at + 8..at + 16)?.try_into().ok()?);
                (at + 16, at.checked_add(usize::try_from(large).ok()?)?)
            }
            0 => (at + 8, to),
            _ => (at + 8, at.checked_add(size)?),
        };
        if end > to || end < payload {
            return None;
        }
        found.push(BoxAt {
            kind,
            start: at,
            payload,
            end,
        });
        at = end;
    }
    Some(found)
}

/// A cursor over big-endian fields.
struct Fields<'a> {
    data: &'a [u8],
    at: usize,
}

impl Fields<'_> {
    fn take(&mut self, n: usize) -> Option<u64> {
        let bytes = self.data.get(self.at..self.at.checked_add(n)?)?;
        self.at += n;
        Some(bytes.iter().fold(0u64, |v, &b| (v << 8) | u64::from(b)))
    }
}

/// One item location: id and absolute extents `(offset, length)`.
struct Location {
    id: u32,
    extents: Vec<(u64, u64)>,
}

fn parse_iloc(payload: &[u8]) -> Option<Vec<Location>> {
    let mut f = Fields {
        data: payload,
        at: 0,
    };
    let version = f.take(1)?;
    f.take(3)?;
    let sizes = f.take(1)?;
    let (offset_size, length_size) = ((sizes >> 4) as usize, (sizes & 15) as usize);
    let sizes = f.take(1)?;
    let base_size = (sizes >> 4) as usize;
    let index_size = if version >= 1 {
        (sizes & 15) as usize
    } else {
        0
    };
    // Each size is 0, 4 or 8 bytes (ISO/IEC 14496-12).
    if ![offset_size, length_size, base_size, index_size]
        .iter()
        .all(|size| matches!(size, 0 | 4 | 8))
    {
        return None;
    }
    let count = if version < 2 { f.take(2)? } else { f.take(4)? };
    let mut items = Vec::new();
    for _ in 0..count {
        let id = if version < 2 { f.take(2)? } else { f.take(4)? } as u32;
        if version >= 1 && f.take(2)? & 15 != 0 {
            return None; // construction_method other than file offsets
        }
        f.take(2)?; // data reference index
        let base = f.take(base_size)?;
        let extent_count = f.take(2)?;
        // Extents that take no bytes cost nothing to declare: 65535 of them
        // per 6-byte item would make a small file allocate gigabytes.
        if extent_count > 1 && index_size + offset_size + length_size == 0 {
            return None;
        }
        let mut extents = Vec::new();
        for _ in 0..extent_count {
            f.take(index_size)?;
            let offset = f.take(offset_size)?;
            let length = f.take(length_size)?;
            extents.push((base.checked_add(offset)?, length));
        }
        items.push(Location { id, extents });
    }
    Some(items)
}

/// An `iloc` box (version 1 would allow more; 0 with 32-bit fields suffices).
fn write_iloc(items: &[Location]) -> Option<Vec<u8>> {
    let mut p = vec![0, 0, 0, 0, 0x44, 0x00];
    p.extend_from_slice(&u16::try_from(items.len()).ok()?.to_be_bytes());
    for item in items {
        p.extend_from_slice(&u16::try_from(item.id).ok()?.to_be_bytes());
        p.extend_from_slice(&[0, 0]);
        p.extend_from_slice(&u16::try_from(item.extents.len()).ok()?.to_be_bytes());
        for &(offset, length) in &item.extents {
            p.extend_from_slice(&u32::try_from(offset).ok()?.to_be_bytes());
            p.extend_from_slice(&u32::try_from(length).ok()?.to_be_bytes());
        }
    }
    Some(wrap(b"iloc", &p))
}

fn wrap(kind: &[u8; 4], payload: &[u8]) -> Vec<u8> {
    let mut out = ((payload.len() + 8) as u32).to_be_bytes().to_vec();
    out.extend_from_slice(kind);
    out.extend_from_slice(payload);
    out
}

/// `file` with its EXIF and XMP items and ICC profile replaced by these
/// (each `None` removes): the old items' bytes are zeroed where they lie,
/// the new ones appended; the image items are untouched.
pub(crate) fn replace_metadata(
    format: Format,
    file: &[u8],
    exif: Option<&[u8]>,
    xmp: Option<&[u8]>,
    icc: Option<&[u8]>,
) -> Result<Vec<u8>> {
    let items: Vec<NewItem> = exif
        .map(NewItem::exif)
        .into_iter()
        .chain(xmp.map(NewItem::xmp))
        .collect();
    strip(file)
        .and_then(|stripped| rewrite(&stripped, &items, icc))
        .ok_or_else(|| Error::CodecUnavailable {
            detail: format!(
                "pixpress cannot rewrite the metadata of this {format} file in place (a box layout it does not edit)"
            ),
        })
}

/// A metadata item to add: its `infe` type, MIME content type, and data.
struct NewItem {
    kind: [u8; 4],
    content_type: Option<&'static str>,
    data: Vec<u8>,
}

impl NewItem {
    fn xmp(packet: &[u8]) -> NewItem {
        NewItem {
            kind: *b"mime",
            content_type: Some("application/rdf+xml"),
            data: packet.to_vec(),
        }
    }

    /// An `Exif` item: a 4-byte offset to the TIFF header (0), then the TIFF structure.
    fn exif(tiff: &[u8]) -> NewItem {
        NewItem {
            kind: *b"Exif",
            content_type: None,
            data: [&[0, 0, 0, 0][..], tiff].concat(),
        }
    }
}

fn rewrite(file: &[u8], items: &[NewItem], icc: Option<&[u8]>) -> Option<Vec<u8>> {
    let top = boxes(file, 0, file.len())?;
    let meta = *top.iter().find(|b| &b.kind == b"meta")?;
    let children = boxes(file, meta.payload + 4, meta.end)?;
    let child = |kind: &[u8; 4]| children.iter().find(|b| &b.kind == kind).copied();
    let pitm = child(b"pitm")?;
    let primary = u16::from_be_bytes(pitm.body(file)?.get(4..6)?.try_into().ok()?);
    let locations = parse_iloc(child(b"iloc")?.body(file)?)?;
    let iinf = child(b"iinf")?;
    let first_id = locations
        .iter()
        .map(|l| l.id)
        .max()
        .unwrap_or(0)
        .checked_add(1)?;
    let ids: Vec<u16> = (0..items.len() as u32)
        .map(|i| u16::try_from(first_id.checked_add(i)?).ok())
        .collect::<Option<_>>()?;

    let mut new_children: Vec<u8> = Vec::new();
    let mut wrote_iref = false;
    for c in &children {
        let raw = c.bytes(file)?;
        match &c.kind {
            b"iloc" => new_children.extend_from_slice(b"ILOC"), // placeholder, sized later
            b"iinf" if !items.is_empty() => new_children.extend(add_infe(file, iinf, &ids, items)?),
            b"iref" if !items.is_empty() => {
                new_children.extend(add_cdsc(file, Some(*c), &ids, primary)?);
                wrote_iref = true;
            }
            b"iprp" if icc.is_some() => new_children.extend(add_colr(file, *c, primary, icc?)?),
            _ => new_children.extend_from_slice(raw),
        }
    }
    if !items.is_empty() && !wrote_iref {
        new_children.extend(add_cdsc(file, None, &ids, primary)?);
    }
    let appended: Vec<(u32, &[u8])> = ids
        .iter()
        .zip(items)
        .map(|(id, item)| (u32::from(*id), &item.data[..]))
        .collect();
    rebuild(file, meta, new_children, locations, &appended)
}

/// `file` with its `meta` box rebuilt from `children` (which hold the
/// placeholder `ILOC` where the `iloc` box goes) and `locations`: extents
/// after the `meta` box move by its growth, and each `(id, data)` of
/// `appended` goes into an `mdat` box at the end, located for that item.
fn rebuild(
    file: &[u8],
    meta: BoxAt,
    mut children: Vec<u8>,
    mut locations: Vec<Location>,
    appended: &[(u32, &[u8])],
) -> Option<Vec<u8>> {
    // The iloc box keeps its size whatever the offsets are: size it with the
    // new items, then compute the growth and the final offsets.
    for &(id, data) in appended {
        locations.push(Location {
            id,
            extents: vec![(0, data.len() as u64)],
        });
    }
    let iloc_len = write_iloc(&locations)?.len();
    let meta_len = 12 + children.len() - 4 + iloc_len;
    let growth = meta_len as i64 - (meta.end - meta.start) as i64;
    let mut appended_at = u64::try_from(file.len() as i64 + growth).ok()?;
    for loc in &mut locations {
        if let Some(&(_, data)) = appended.iter().find(|(id, _)| *id == loc.id) {
            loc.extents = vec![(appended_at + 8, data.len() as u64)];
            appended_at += 8 + data.len() as u64;
            continue;
        }
        for extent in &mut loc.extents {
            if extent.0 >= meta.end as u64 {
                extent.0 =
                    u64::try_from(i64::try_from(extent.0).ok()?.checked_add(growth)?).ok()?;
            }
        }
    }
    let at = children.windows(4).position(|w| w == b"ILOC")?;
    children.splice(at..at + 4, write_iloc(&locations)?);
    let mut meta_payload = meta.body(file)?.get(..4)?.to_vec();
    meta_payload.extend(children);
    let mut out = Vec::with_capacity(file.len() + 256);
    out.extend_from_slice(file.get(..meta.start)?);
    out.extend(wrap(b"meta", &meta_payload));
    out.extend_from_slice(file.get(meta.end..)?);
    for (_, data) in appended {
        out.extend(wrap(b"mdat", data));
    }
    Some(out)
}

/// `iinf` with an `infe` (version 2) appended for each new item.
fn add_infe(file: &[u8], iinf: BoxAt, ids: &[u16], items: &[NewItem]) -> Option<Vec<u8>> {
    let body = iinf.body(file)?;
    let version = *body.first()?;
    let count_size = if version == 0 { 2 } else { 4 };
    let mut f = Fields { data: body, at: 4 };
    let count = f.take(count_size)? + items.len() as u64;
    let mut payload = body.get(..4)?.to_vec();
    if version == 0 {
        payload.extend_from_slice(&u16::try_from(count).ok()?.to_be_bytes());
    } else {
        payload.extend_from_slice(&u32::try_from(count).ok()?.to_be_bytes());
    }
    payload.extend_from_slice(body.get(4 + count_size..)?);
    for (id, item) in ids.iter().zip(items) {
        let mut infe = vec![2, 0, 0, 0];
        infe.extend_from_slice(&id.to_be_bytes());
        infe.extend_from_slice(&[0, 0]);
        infe.extend_from_slice(&item.kind);
        match item.content_type {
            Some(content_type) => {
                infe.extend_from_slice(b"XMP\0");
                infe.extend_from_slice(content_type.as_bytes());
                infe.push(0);
            }
            None => infe.extend_from_slice(b"Exif\0"),
        }
        payload.extend(wrap(b"infe", &infe));
    }
    Some(wrap(b"iinf", &payload))
}

/// `iref` (a new one when `iref` is `None`) with a `cdsc` reference from
/// each of `from` to `to` appended (16-bit ids, version 0).
fn add_cdsc(file: &[u8], iref: Option<BoxAt>, from: &[u16], to: u16) -> Option<Vec<u8>> {
    let mut payload = match iref {
        Some(iref) => match iref.body(file)? {
            body @ [0, _, _, _, ..] => body.to_vec(),
            _ => return None,
        },
        None => vec![0, 0, 0, 0],
    };
    for id in from {
        payload.extend(wrap(
            b"cdsc",
            &[id.to_be_bytes(), 1u16.to_be_bytes(), to.to_be_bytes()].concat(),
        ));
    }
    Some(wrap(b"iref", &payload))
}

/// `iprp` with a `colr`/`prof` property in `ipco`, associated with `item` in `ipma`.
fn add_colr(file: &[u8], iprp: BoxAt, item: u16, icc: &[u8]) -> Option<Vec<u8>> {
    let children = boxes(file, iprp.payload, iprp.end)?;
    let ipco = children.iter().find(|b| &b.kind == b"ipco")?;
    let properties = boxes(file, ipco.payload, ipco.end)?.len();
    let index = properties + 1; // 1-based
    let mut payload = Vec::new();
    for c in &children {
        match &c.kind {
            b"ipco" => {
                let mut p = c.body(file)?.to_vec();
                p.extend(wrap(b"colr", &[&b"prof"[..], icc].concat()));
                payload.extend(wrap(b"ipco", &p));
            }
            b"ipma" => payload.extend(associate(file, *c, item, index)?),
            _ => payload.extend_from_slice(c.bytes(file)?),
        }
    }
    Some(wrap(b"iprp", &payload))
}

/// `ipma` with property `index` associated (not essential) with `item`.
fn associate(file: &[u8], ipma: BoxAt, item: u16, index: usize) -> Option<Vec<u8>> {
    let body = ipma.body(file)?;
    let version = *body.first()?;
    let flags = *body.get(3)?;
    let wide = flags & 1 == 1;
    if (!wide && index > 127) || index > 0x7FFF {
        return None;
    }
    let mut f = Fields { data: body, at: 4 };
    let count = f.take(4)?;
    let mut payload = body.get(..8)?.to_vec();
    let mut found = false;
    for _ in 0..count {
        let id = if version < 1 { f.take(2)? } else { f.take(4)? };
        let n = f.take(1)?;
        let entries_at = f.at;
        f.take(n as usize * if wide { 2 } else { 1 })?;
        let mut entries = body.get(entries_at..f.at)?.to_vec();
        let mut n = n;
        if id == u64::from(item) {
            found = true;
            n += 1;
            if wide {
                entries.extend_from_slice(&(index as u16).to_be_bytes());
            } else {
                entries.push(index as u8);
            }
        }
        if version < 1 {
            payload.extend_from_slice(&u16::try_from(id).ok()?.to_be_bytes());
        } else {
            payload.extend_from_slice(&u32::try_from(id).ok()?.to_be_bytes());
        }
        payload.push(u8::try_from(n).ok()?);
        payload.extend(entries);
    }
    found.then(|| wrap(b"ipma", &payload))
}

/// The ids of the metadata items (`Exif`, and `mime` items of type
/// `application/rdf+xml`) an `iinf` box lists, and the box without them.
fn strip_infe(file: &[u8], iinf: BoxAt) -> Option<(Vec<u32>, Vec<u8>)> {
    let body = iinf.body(file)?;
    let version = *body.first()?;
    let count_size = if version == 0 { 2 } else { 4 };
    // The entry count is rewritten, not used, but must be there.
    Fields { data: body, at: 4 }.take(count_size)?;
    let entries_at = iinf.payload + 4 + count_size;
    let mut ids = Vec::new();
    let mut kept = Vec::new();
    for infe in boxes(file, entries_at, iinf.end)? {
        let p = infe.body(file)?;
        let (id, rest) = match p.first()? {
            2 => (
                u32::from(u16::from_be_bytes(p.get(4..6)?.try_into().ok()?)),
                p.get(8..)?,
            ),
            3 => (
                u32::from_be_bytes(p.get(4..8)?.try_into().ok()?),
                p.get(10..)?,
            ),
            _ => {
                kept.push(infe);
                continue;
            }
        };
        let kind = rest.get(..4)?;
        let after_name = rest[4..].iter().position(|&b| b == 0).map(|n| 4 + n + 1)?;
        let is_xmp = kind == b"mime" && rest[after_name..].starts_with(b"application/rdf+xml\0");
        if kind == b"Exif" || is_xmp {
            ids.push(id);
        } else {
            kept.push(infe);
        }
    }
    let mut payload = body.get(..4)?.to_vec();
    if version == 0 {
        payload.extend_from_slice(&u16::try_from(kept.len()).ok()?.to_be_bytes());
    } else {
        payload.extend_from_slice(&u32::try_from(kept.len()).ok()?.to_be_bytes());
    }
    for infe in kept {
        payload.extend_from_slice(infe.bytes(file)?);
    }
    Some((ids, wrap(b"iinf", &payload)))
}

/// `iref` (version 0) without the references from `ids`; `None` inside when none is left.
fn strip_refs(file: &[u8], iref: BoxAt, ids: &[u32]) -> Option<Option<Vec<u8>>> {
    let mut payload = match iref.body(file)? {
        [0, a, b, c, ..] => vec![0, *a, *b, *c],
        _ => return None,
    };
    let mut left = 0;
    for reference in boxes(file, iref.payload + 4, iref.end)? {
        let from = u16::from_be_bytes(reference.body(file)?.get(..2)?.try_into().ok()?);
        if !ids.contains(&u32::from(from)) {
            payload.extend_from_slice(reference.bytes(file)?);
            left += 1;
        }
    }
    Some((left > 0).then(|| wrap(b"iref", &payload)))
}

/// `iprp` without `colr` properties of type `prof`, the `ipma` indices renumbered.
fn strip_prof(file: &[u8], iprp: BoxAt) -> Option<Vec<u8>> {
    let children = boxes(file, iprp.payload, iprp.end)?;
    let ipco = children.iter().find(|b| &b.kind == b"ipco")?;
    let properties = boxes(file, ipco.payload, ipco.end)?;
    // 1-based indices of the properties removed.
    let removed: Vec<usize> = properties
        .iter()
        .enumerate()
        .filter(|(_, p)| &p.kind == b"colr" && p.body(file).is_some_and(|b| b.starts_with(b"prof")))
        .map(|(i, _)| i + 1)
        .collect();
    if removed.is_empty() {
        return Some(iprp.bytes(file)?.to_vec());
    }
    let mut payload = Vec::new();
    for c in &children {
        match &c.kind {
            b"ipco" => {
                let mut p = Vec::new();
                for (i, property) in properties.iter().enumerate() {
                    if !removed.contains(&(i + 1)) {
                        p.extend_from_slice(property.bytes(file)?);
                    }
                }
                payload.extend(wrap(b"ipco", &p));
            }
            b"ipma" => payload.extend(renumber(file, *c, &removed)?),
            _ => payload.extend_from_slice(c.bytes(file)?),
        }
    }
    Some(wrap(b"iprp", &payload))
}

/// `ipma` without associations to the `removed` property indices, the later indices moved down.
fn renumber(file: &[u8], ipma: BoxAt, removed: &[usize]) -> Option<Vec<u8>> {
    let body = ipma.body(file)?;
    let version = *body.first()?;
    let wide = body.get(3)? & 1 == 1;
    let mut f = Fields { data: body, at: 4 };
    let count = f.take(4)?;
    let mut payload = body.get(..8)?.to_vec();
    for _ in 0..count {
        let id = if version < 1 { f.take(2)? } else { f.take(4)? };
        let n = f.take(1)?;
        let mut entries = Vec::new();
        for _ in 0..n {
            let (essential, index) = if wide {
                let v = f.take(2)?;
                (v & 0x8000, (v & 0x7FFF) as usize)
            } else {
                let v = f.take(1)?;
                (v & 0x80, (v & 0x7F) as usize)
            };
            if removed.contains(&index) {
                continue;
            }
            let index = index - removed.iter().filter(|&&r| r < index).count();
            if wide {
                entries.extend_from_slice(&((essential as u16) | index as u16).to_be_bytes());
            } else {
                entries.push((essential as u8) | index as u8);
            }
        }
        if version < 1 {
            payload.extend_from_slice(&u16::try_from(id).ok()?.to_be_bytes());
        } else {
            payload.extend_from_slice(&u32::try_from(id).ok()?.to_be_bytes());
        }
        payload.push(u8::try_from(entries.len() / if wide { 2 } else { 1 }).ok()?);
        payload.extend(entries);
    }
    Some(wrap(b"ipma", &payload))
}

/// `file` without its EXIF and XMP items (their bytes zeroed where they lie)
/// and without ICC `colr` properties; `None` for a layout this cannot edit.
fn strip(file: &[u8]) -> Option<Vec<u8>> {
    let top = boxes(file, 0, file.len())?;
    let meta = *top.iter().find(|b| &b.kind == b"meta")?;
    let children = boxes(file, meta.payload + 4, meta.end)?;
    let iinf = *children.iter().find(|b| &b.kind == b"iinf")?;
    let (ids, new_iinf) = strip_infe(file, iinf)?;
    let iloc = *children.iter().find(|b| &b.kind == b"iloc")?;
    let mut locations = parse_iloc(iloc.body(file)?)?;
    let mut out = file.to_vec();
    for location in locations.iter().filter(|l| ids.contains(&l.id)) {
        for &(offset, length) in &location.extents {
            let (start, end) = (
                usize::try_from(offset).ok()?,
                usize::try_from(offset.checked_add(length)?).ok()?,
            );
            out.get_mut(start..end)?.fill(0);
        }
    }
    locations.retain(|l| !ids.contains(&l.id));
    let mut new_children = Vec::new();
    for c in &children {
        match &c.kind {
            b"iloc" => new_children.extend_from_slice(b"ILOC"),
            b"iinf" => new_children.extend_from_slice(&new_iinf),
            b"iref" => new_children.extend(strip_refs(file, *c, &ids)?.unwrap_or_default()),
            b"iprp" => new_children.extend(strip_prof(file, *c)?),
            _ => new_children.extend_from_slice(c.bytes(file)?),
        }
    }
    rebuild(&out, meta, new_children, locations, &[])
}

/// The rotation of the primary item in quarter turns anticlockwise (its
/// `irot` property, 0 without one), when that is its only transform: `None`
/// when it is also mirrored (`imir`) or cropped (`clap`), or the boxes cannot
/// be read.
pub(crate) fn primary_rotation(file: &[u8]) -> Option<u8> {
    let top = boxes(file, 0, file.len())?;
    let meta = *top.iter().find(|b| &b.kind == b"meta")?;
    let children = boxes(file, meta.payload + 4, meta.end)?;
    let child = |kind: &[u8; 4]| children.iter().find(|b| &b.kind == kind).copied();
    let pitm = child(b"pitm")?.body(file)?;
    let primary = Fields { data: pitm, at: 4 }.take(if *pitm.first()? == 0 { 2 } else { 4 })?;
    let iprp = child(b"iprp")?;
    let parts = boxes(file, iprp.payload, iprp.end)?;
    let ipco = parts.iter().find(|b| &b.kind == b"ipco")?;
    let properties = boxes(file, ipco.payload, ipco.end)?;
    let mut rotation = 0;
    for ipma in parts.iter().filter(|b| &b.kind == b"ipma") {
        let ipma = ipma.body(file)?;
        let version = *ipma.first()?;
        let wide = ipma.get(3)? & 1 == 1;
        let mut f = Fields { data: ipma, at: 4 };
        for _ in 0..f.take(4)? {
            let id = f.take(if version < 1 { 2 } else { 4 })?;
            for _ in 0..f.take(1)? {
                let index = if wide {
                    f.take(2)? & 0x7FFF
                } else {
                    f.take(1)? & 0x7F
                };
                if id != primary || index == 0 {
                    continue;
                }
                let property = properties.get(usize::try_from(index).ok()? - 1)?;
                match &property.kind {
                    b"irot" => rotation = property.body(file)?.first()? & 3,
                    b"imir" | b"clap" => return None,
                    _ => {}
                }
            }
        }
    }
    Some(rotation)
}

#[cfg(test)]
mod tests;
