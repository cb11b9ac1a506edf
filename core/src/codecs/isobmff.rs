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
mod tests {
    use super::*;

    #[test]
    fn refuses_what_is_not_isobmff() {
        let refused = replace_metadata(Format::Avif, b"not a file", None, Some(b"<x/>"), None);
        assert!(matches!(refused, Err(Error::CodecUnavailable { .. })));
    }

    /// The coded image the test files' one image item holds.
    const PIXELS: &[u8; 16] = b"coded image data";

    /// A full box: version, flags (the low byte), then `payload`.
    fn full(kind: &[u8; 4], version: u8, flags: u8, payload: &[u8]) -> Vec<u8> {
        wrap(kind, &[&[version, 0, 0, flags][..], payload].concat())
    }

    /// An `infe` (version 2) for item `id` of type `kind`, with an empty name.
    fn infe(id: u16, kind: &[u8; 4]) -> Vec<u8> {
        let payload = [&id.to_be_bytes()[..], &[0, 0][..], &kind[..], &b"\0"[..]].concat();
        full(b"infe", 2, 0, &payload)
    }

    fn ftyp() -> Vec<u8> {
        wrap(b"ftyp", b"avif\0\0\0\0avifmif1")
    }

    fn meta(children: &[Vec<u8>]) -> Vec<u8> {
        full(b"meta", 0, 0, &children.concat())
    }

    /// `ispe`, an ICC `colr` (`with_profile`) and a quarter turn (`irot`).
    fn properties(with_profile: bool) -> Vec<u8> {
        let mut p = full(b"ispe", 0, 0, &[0, 0, 0, 64, 0, 0, 0, 48]);
        if with_profile {
            p.extend(wrap(b"colr", b"prof\0\0\0\0"));
        }
        p.extend(wrap(b"irot", &[1]));
        p
    }

    /// An `ipma` (version 0, 8-bit indices) associating `entries` with item 1.
    fn ipma(entries: &[u8]) -> Vec<u8> {
        let payload = [&[0, 0, 0, 1, 0, 1, entries.len() as u8][..], entries].concat();
        full(b"ipma", 0, 0, &payload)
    }

    /// The `meta` children of a file whose image item (1) has its 16 bytes at `offset`.
    fn image_children(offset: u32, with_profile: bool) -> Vec<([u8; 4], Vec<u8>)> {
        let hdlr = [&[0u8; 4][..], &b"pict"[..], &[0u8; 13][..]].concat();
        let mut iloc = vec![0x44, 0x00, 0, 1, 0, 1, 0, 0, 0, 1];
        iloc.extend_from_slice(&offset.to_be_bytes());
        iloc.extend_from_slice(&(PIXELS.len() as u32).to_be_bytes());
        let iinf = [&1u16.to_be_bytes()[..], &infe(1, b"av01")[..]].concat();
        let entries: &[u8] = if with_profile {
            &[0x81, 0x82, 0x83]
        } else {
            &[0x81, 0x82]
        };
        let iprp = [wrap(b"ipco", &properties(with_profile)), ipma(entries)].concat();
        vec![
            (*b"hdlr", full(b"hdlr", 0, 0, &hdlr)),
            (*b"pitm", full(b"pitm", 0, 0, &1u16.to_be_bytes())),
            (*b"iloc", full(b"iloc", 0, 0, &iloc)),
            (*b"iinf", full(b"iinf", 0, 0, &iinf)),
            (*b"iprp", wrap(b"iprp", &iprp)),
        ]
    }

    /// A well-formed AVIF-like file: one image item, turned a quarter, its
    /// data in the `mdat` box that ends the file.
    fn image_file(with_profile: bool) -> Vec<u8> {
        let meta_at = |offset| {
            let children: Vec<Vec<u8>> = image_children(offset, with_profile)
                .into_iter()
                .map(|(_, b)| b)
                .collect();
            meta(&children)
        };
        let offset = (ftyp().len() + meta_at(0).len() + 8) as u32;
        [ftyp(), meta_at(offset), wrap(b"mdat", PIXELS)].concat()
    }

    /// [`image_file`]'s tree with its `kind` box replaced by one holding
    /// `payload` and moved to the very end of the file (an `ipma` to the end
    /// of its `iprp`, that to the end of `meta`): a read past the box runs
    /// off the end of the file.
    fn with_broken(kind: &[u8; 4], payload: &[u8], with_profile: bool) -> Vec<u8> {
        let broken = wrap(kind, payload);
        let (replaced, last) = if kind == b"ipma" {
            let iprp = [wrap(b"ipco", &properties(with_profile)), broken].concat();
            (*b"iprp", wrap(b"iprp", &iprp))
        } else {
            (*kind, broken)
        };
        let mut children: Vec<Vec<u8>> = image_children(0, with_profile)
            .into_iter()
            .filter(|(k, _)| *k != replaced)
            .map(|(_, b)| b)
            .collect();
        children.push(last);
        [ftyp(), meta(&children)].concat()
    }

    /// The first (and only) box of `file`.
    fn only_box(file: &[u8]) -> BoxAt {
        boxes(file, 0, file.len()).unwrap()[0]
    }

    /// The `meta` children of `file`.
    fn meta_children(file: &[u8]) -> Option<Vec<BoxAt>> {
        let top = boxes(file, 0, file.len())?;
        let meta = top.iter().find(|b| &b.kind == b"meta")?;
        boxes(file, meta.payload + 4, meta.end)
    }

    /// The bytes of item `id` (its first extent) as `file`'s `iloc` locates them.
    fn item_data(file: &[u8], id: u32) -> Option<&[u8]> {
        let children = meta_children(file)?;
        let iloc = children.iter().find(|b| &b.kind == b"iloc")?;
        let locations = parse_iloc(iloc.body(file)?)?;
        let &(offset, length) = locations.iter().find(|l| l.id == id)?.extents.first()?;
        file.get(usize::try_from(offset).ok()?..usize::try_from(offset + length).ok()?)
    }

    const EXIF: &[u8] = b"MM\0*\0\0\0\x08\0\0\0\0\0\0";
    const XMP: &[u8] = b"<x:xmpmeta xmlns:x='adobe:ns:meta/'/>";
    const ICC: &[u8] = b"not much of a profile";

    #[test]
    fn a_well_formed_file_is_rewritten_with_its_image_in_place() {
        let file = image_file(true);
        assert_eq!(item_data(&file, 1), Some(&PIXELS[..]));
        assert_eq!(primary_rotation(&file), Some(1));
        let out = replace_metadata(Format::Avif, &file, Some(EXIF), Some(XMP), Some(ICC)).unwrap();
        assert_eq!(item_data(&out, 1), Some(&PIXELS[..]));
        assert_eq!(
            item_data(&out, 2),
            Some(&[&[0, 0, 0, 0][..], EXIF].concat()[..])
        );
        assert_eq!(item_data(&out, 3), Some(XMP));
        // The old profile went, the new one follows the rotation in `ipco`.
        assert_eq!(primary_rotation(&out), Some(1));
        let stripped = replace_metadata(Format::Avif, &out, None, None, None).unwrap();
        assert_eq!(item_data(&stripped, 1), Some(&PIXELS[..]));
        assert_eq!(item_data(&stripped, 2), None);
        assert_eq!(primary_rotation(&stripped), Some(1));
    }

    #[test]
    fn empty_and_short_boxes_are_refused_not_read_past() {
        let cases: [(&[u8; 4], &[u8]); 16] = [
            (b"pitm", &[]),
            (b"pitm", &[0, 0, 0, 0, 0]),
            (b"iinf", &[]),
            (b"iinf", &[0, 0, 0]),
            (b"iinf", &[0, 0, 0, 0, 0]),
            // Version 1: a 32-bit count, cut.
            (b"iinf", &[1, 0, 0, 0, 0, 0, 0]),
            (b"iref", &[]),
            (b"iref", &[0, 0]),
            (b"iloc", &[]),
            (b"iloc", &[0, 0, 0, 0, 0x44]),
            (b"ipma", &[]),
            (b"ipma", &[0, 0, 0]),
            (b"ipma", &[0, 0, 0, 0, 0, 0]),
            // 1000 entries declared, one present.
            (b"ipma", &[0, 0, 0, 0, 0, 0, 0x03, 0xE8, 0, 1, 1, 0x81]),
            // Nine associations declared, one present.
            (b"ipma", &[0, 0, 0, 0, 0, 0, 0, 1, 0, 1, 9, 0x81]),
            // Wide (16-bit) indices, the last one cut.
            (
                b"ipma",
                &[0, 0, 0, 1, 0, 0, 0, 1, 0, 1, 2, 0x80, 0x01, 0x80],
            ),
        ];
        let blocks = [
            (None, None, None),
            (Some(EXIF), None, None),
            (None, Some(XMP), None),
            (None, None, Some(ICC)),
        ];
        for (kind, payload) in cases {
            for with_profile in [false, true] {
                let file = with_broken(kind, payload, with_profile);
                let what = format!(
                    "{} {payload:?}, profile {with_profile}",
                    String::from_utf8_lossy(kind)
                );
                for (exif, xmp, icc) in blocks {
                    // Some of these edits never read the broken box; none may panic.
                    let _ = replace_metadata(Format::Avif, &file, exif, xmp, icc);
                }
                let all = replace_metadata(Format::Avif, &file, Some(EXIF), Some(XMP), Some(ICC));
                assert!(all.is_err(), "{what}");
                let rotation = primary_rotation(&file);
                if kind == b"pitm" || kind == b"ipma" {
                    assert_eq!(rotation, None, "{what}");
                }
            }
        }
    }

    #[test]
    fn empty_meta_boxes_are_refused() {
        let empty = |kind: &[u8; 4]| wrap(kind, &[]);
        let iprp = wrap(b"iprp", &[wrap(b"ipco", &[]), empty(b"ipma")].concat());
        let all_empty = meta(&[
            empty(b"pitm"),
            empty(b"iloc"),
            empty(b"iinf"),
            empty(b"iref"),
            iprp,
        ]);
        for meta_box in [
            wrap(b"meta", &[]),
            wrap(b"meta", &[0, 0]),
            wrap(b"meta", &[0, 0, 0, 0]),
            all_empty,
        ] {
            let file = [ftyp(), meta_box].concat();
            let out = replace_metadata(Format::Avif, &file, Some(EXIF), Some(XMP), Some(ICC));
            assert!(out.is_err());
            assert!(replace_metadata(Format::Heic, &file, None, None, None).is_err());
            assert_eq!(primary_rotation(&file), None);
        }
    }

    #[test]
    fn an_item_count_beyond_the_entries_is_rewritten_to_what_is_there() {
        // `iinf` says 1000 entries and holds none.
        let children: Vec<Vec<u8>> = image_children(0, false)
            .into_iter()
            .map(|(kind, b)| match &kind {
                b"iinf" => full(b"iinf", 0, 0, &1000u16.to_be_bytes()),
                _ => b,
            })
            .collect();
        let file = [ftyp(), meta(&children), wrap(b"mdat", PIXELS)].concat();
        let out = replace_metadata(Format::Avif, &file, None, Some(XMP), None).unwrap();
        let children = meta_children(&out).unwrap();
        let iinf = children.iter().find(|b| &b.kind == b"iinf").unwrap();
        let body = iinf.body(&out).unwrap();
        assert_eq!(body[4..6], 1u16.to_be_bytes());
        assert_eq!(boxes(&out, iinf.payload + 6, iinf.end).unwrap().len(), 1);
        assert_eq!(item_data(&out, 2), Some(XMP));
    }

    #[test]
    fn item_info_counts_that_cannot_be_read_or_grown_are_refused() {
        let xmp = [NewItem::xmp(XMP)];
        // 1000 declared, none present: the count grows, nothing is read.
        let iinf = full(b"iinf", 0, 0, &1000u16.to_be_bytes());
        let grown = add_infe(&iinf, only_box(&iinf), &[2], &xmp).unwrap();
        assert_eq!(grown[12..14], 1001u16.to_be_bytes());
        // A 16-bit count that is already full.
        let iinf = full(b"iinf", 0, 0, &u16::MAX.to_be_bytes());
        assert!(add_infe(&iinf, only_box(&iinf), &[2], &xmp).is_none());
        for payload in [&[][..], &[0, 0, 0, 0, 0][..], &[1, 0, 0, 0, 0, 0, 0][..]] {
            let iinf = wrap(b"iinf", payload);
            assert!(add_infe(&iinf, only_box(&iinf), &[2], &xmp).is_none());
            assert!(strip_infe(&iinf, only_box(&iinf)).is_none());
        }
    }

    #[test]
    fn cut_references_and_associations_are_refused() {
        for payload in [&[][..], &[0][..], &[0, 0, 0][..], &[1, 0, 0, 0][..]] {
            let iref = wrap(b"iref", payload);
            assert!(strip_refs(&iref, only_box(&iref), &[2]).is_none());
            assert!(add_cdsc(&iref, Some(only_box(&iref)), &[2], 1).is_none());
        }
        let whole = [0, 0, 0, 0, 0, 0, 0, 1, 0, 1, 2, 0x81, 0x82];
        for cut in 0..whole.len() {
            let ipma = wrap(b"ipma", &whole[..cut]);
            assert!(associate(&ipma, only_box(&ipma), 1, 3).is_none(), "{cut}");
            assert!(renumber(&ipma, only_box(&ipma), &[2]).is_none(), "{cut}");
        }
        let ipma = wrap(b"ipma", &whole);
        assert!(associate(&ipma, only_box(&ipma), 1, 3).is_some());
        assert!(renumber(&ipma, only_box(&ipma), &[2]).is_some());
    }

    #[test]
    fn item_locations_that_cost_nothing_or_overflow_are_refused() {
        // 65535 extents of no bytes each: refused before any is stored.
        let mut free = vec![0, 0, 0, 0, 0x00, 0x00, 0, 1, 0, 1, 0, 0];
        free.extend_from_slice(&u16::MAX.to_be_bytes());
        assert!(parse_iloc(&free).is_none());
        let one = [0, 0, 0, 0, 0x00, 0x00, 0, 1, 0, 1, 0, 0, 0, 1];
        assert_eq!(parse_iloc(&one).map(|items| items.len()), Some(1));
        // A field size ISO/IEC 14496-12 does not have.
        assert!(parse_iloc(&[0, 0, 0, 0, 0x33, 0x00, 0, 0]).is_none());

        // An Exif item whose extent would end past 2^64.
        let mut iloc = vec![0x88, 0x00, 0, 1, 0, 2, 0, 0, 0, 1];
        iloc.extend_from_slice(&(u64::MAX - 7).to_be_bytes());
        iloc.extend_from_slice(&16u64.to_be_bytes());
        let children: Vec<Vec<u8>> = image_children(0, false)
            .into_iter()
            .map(|(kind, b)| match &kind {
                b"iloc" => full(b"iloc", 0, 0, &iloc),
                b"iinf" => full(
                    b"iinf",
                    0,
                    0,
                    &[&[0, 1][..], &infe(2, b"Exif")[..]].concat(),
                ),
                _ => b,
            })
            .collect();
        let file = [ftyp(), meta(&children)].concat();
        assert!(replace_metadata(Format::Avif, &file, None, None, None).is_err());

        // The largest item id (iloc version 2): no id is left for a new item.
        let mut iloc = vec![0x44, 0x00, 0, 0, 0, 1];
        iloc.extend_from_slice(&u32::MAX.to_be_bytes());
        iloc.extend_from_slice(&[0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0]);
        let children: Vec<Vec<u8>> = image_children(0, false)
            .into_iter()
            .map(|(kind, b)| match &kind {
                b"iloc" => full(b"iloc", 2, 0, &iloc),
                _ => b,
            })
            .collect();
        let file = [ftyp(), meta(&children)].concat();
        assert!(rewrite(&file, &[NewItem::xmp(XMP)], None).is_none());
    }
}
