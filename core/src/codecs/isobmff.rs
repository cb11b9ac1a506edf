//! Adding metadata to a finished HEIF/AVIF file: an XMP item (`mime`,
//! `application/rdf+xml`, described by a `cdsc` reference to the primary
//! item) and an ICC profile (a `colr` property of type `prof` associated with
//! the primary item).
//!
//! ravif's serializer writes only EXIF; this rewrites its `meta` box and
//! appends one `mdat` box holding the XMP packet. Item locations are file
//! offsets, so those after the grown `meta` box move by its growth.

use crate::error::{Error, Result};
use crate::format::Format;

/// A box as found: its type and where its payload lies.
#[derive(Debug, Clone, Copy)]
struct BoxAt {
    kind: [u8; 4],
    start: usize,
    payload: usize,
    end: usize,
}

fn boxes(data: &[u8], from: usize, to: usize) -> Option<Vec<BoxAt>> {
    let mut found = Vec::new();
    let mut at = from;
    while at + 8 <= to {
        let size = u32::from_be_bytes(data[at..at + 4].try_into().ok()?) as usize;
        let kind: [u8; 4] = data[at + 4..at + 8].try_into().ok()?;
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
        let bytes = self.data.get(self.at..self.at + n)?;
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

/// Adds `xmp` as an item and `icc` as the primary item's `prof` color
/// property. Files this cannot edit (other `iloc` forms, 32-bit overflow)
/// are refused with an encode error naming the reason.
pub(crate) fn add_metadata(
    format: Format,
    file: Vec<u8>,
    xmp: Option<&[u8]>,
    icc: Option<&[u8]>,
) -> Result<Vec<u8>> {
    if xmp.is_none() && icc.is_none() {
        return Ok(file);
    }
    rewrite(&file, xmp, icc).ok_or_else(|| {
        Error::encode(
            format,
            "cannot add XMP or ICC to the file the encoder wrote (unexpected box layout)",
        )
    })
}

fn rewrite(file: &[u8], xmp: Option<&[u8]>, icc: Option<&[u8]>) -> Option<Vec<u8>> {
    let top = boxes(file, 0, file.len())?;
    let meta = *top.iter().find(|b| &b.kind == b"meta")?;
    let children = boxes(file, meta.payload + 4, meta.end)?;
    let child = |kind: &[u8; 4]| children.iter().find(|b| &b.kind == kind).copied();
    let pitm = child(b"pitm")?;
    let primary = u16::from_be_bytes(
        file.get(pitm.payload + 4..pitm.payload + 6)?
            .try_into()
            .ok()?,
    );
    let mut locations = parse_iloc(&file[child(b"iloc")?.payload..child(b"iloc")?.end])?;
    let iinf = child(b"iinf")?;
    let next_id = locations.iter().map(|l| l.id).max().unwrap_or(0) + 1;
    let xmp_id = u16::try_from(next_id).ok()?;

    let mut new_children: Vec<u8> = Vec::new();
    let mut wrote_iref = false;
    for c in &children {
        let raw = &file[c.start..c.end];
        match &c.kind {
            b"iloc" => new_children.extend_from_slice(b"ILOC"), // placeholder, sized later
            b"iinf" if xmp.is_some() => new_children.extend(add_infe(file, iinf, xmp_id)?),
            b"iref" if xmp.is_some() => {
                new_children.extend(add_cdsc(file, *c, xmp_id, primary)?);
                wrote_iref = true;
            }
            b"iprp" if icc.is_some() => new_children.extend(add_colr(file, *c, primary, icc?)?),
            _ => new_children.extend_from_slice(raw),
        }
    }
    if xmp.is_some() && !wrote_iref {
        let mut p = vec![0, 0, 0, 0];
        p.extend(wrap(
            b"cdsc",
            &[
                xmp_id.to_be_bytes(),
                1u16.to_be_bytes(),
                primary.to_be_bytes(),
            ]
            .concat(),
        ));
        new_children.extend(wrap(b"iref", &p));
    }
    // The iloc box keeps its size whatever the offsets are: size it with the
    // new item, then compute the growth and the final offsets.
    if let Some(xmp) = xmp {
        locations.push(Location {
            id: next_id,
            extents: vec![(0, xmp.len() as u64)],
        });
    }
    let iloc_len = write_iloc(&locations)?.len();
    let meta_len = 12 + new_children.len() - 4 + iloc_len;
    let growth = meta_len as i64 - (meta.end - meta.start) as i64;
    let xmp_offset = (file.len() as i64 + growth + 8) as u64;
    for loc in &mut locations {
        if loc.id == next_id && xmp.is_some() {
            loc.extents = vec![(xmp_offset, xmp.map_or(0, |x| x.len() as u64))];
            continue;
        }
        for extent in &mut loc.extents {
            if extent.0 >= meta.end as u64 {
                extent.0 = (extent.0 as i64 + growth) as u64;
            }
        }
    }
    let iloc = write_iloc(&locations)?;
    let at = new_children.windows(4).position(|w| w == b"ILOC")?;
    new_children.splice(at..at + 4, iloc);

    let mut meta_payload = file[meta.payload..meta.payload + 4].to_vec();
    meta_payload.extend(new_children);
    let mut out = Vec::with_capacity(file.len() + 256);
    out.extend_from_slice(&file[..meta.start]);
    out.extend(wrap(b"meta", &meta_payload));
    out.extend_from_slice(&file[meta.end..]);
    if let Some(xmp) = xmp {
        out.extend(wrap(b"mdat", xmp));
    }
    Some(out)
}

/// `iinf` with an `infe` (version 2) for the XMP item appended.
fn add_infe(file: &[u8], iinf: BoxAt, id: u16) -> Option<Vec<u8>> {
    let version = file[iinf.payload];
    let count_size = if version == 0 { 2 } else { 4 };
    let count_at = iinf.payload + 4;
    let mut f = Fields {
        data: file,
        at: count_at,
    };
    let count = f.take(count_size)? + 1;
    let mut payload = file[iinf.payload..count_at].to_vec();
    if version == 0 {
        payload.extend_from_slice(&u16::try_from(count).ok()?.to_be_bytes());
    } else {
        payload.extend_from_slice(&u32::try_from(count).ok()?.to_be_bytes());
    }
    payload.extend_from_slice(&file[count_at + count_size..iinf.end]);
    let mut infe = vec![2, 0, 0, 0];
    infe.extend_from_slice(&id.to_be_bytes());
    infe.extend_from_slice(&[0, 0]);
    infe.extend_from_slice(b"mime");
    infe.extend_from_slice(b"XMP\0application/rdf+xml\0");
    payload.extend(wrap(b"infe", &infe));
    Some(wrap(b"iinf", &payload))
}

/// `iref` with `cdsc` from `from` to `to` appended (16-bit ids, version 0).
fn add_cdsc(file: &[u8], iref: BoxAt, from: u16, to: u16) -> Option<Vec<u8>> {
    if file[iref.payload] != 0 {
        return None;
    }
    let mut payload = file[iref.payload..iref.end].to_vec();
    payload.extend(wrap(
        b"cdsc",
        &[from.to_be_bytes(), 1u16.to_be_bytes(), to.to_be_bytes()].concat(),
    ));
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
                let mut p = file[c.payload..c.end].to_vec();
                p.extend(wrap(b"colr", &[&b"prof"[..], icc].concat()));
                payload.extend(wrap(b"ipco", &p));
            }
            b"ipma" => payload.extend(associate(file, *c, item, index)?),
            _ => payload.extend_from_slice(&file[c.start..c.end]),
        }
    }
    Some(wrap(b"iprp", &payload))
}

/// `ipma` with property `index` associated (not essential) with `item`.
fn associate(file: &[u8], ipma: BoxAt, item: u16, index: usize) -> Option<Vec<u8>> {
    let version = file[ipma.payload];
    let flags = file[ipma.payload + 3];
    let wide = flags & 1 == 1;
    if (!wide && index > 127) || index > 0x7FFF {
        return None;
    }
    let mut f = Fields {
        data: file,
        at: ipma.payload + 4,
    };
    let count = f.take(4)?;
    let mut payload = file[ipma.payload..ipma.payload + 8].to_vec();
    let mut found = false;
    for _ in 0..count {
        let id = if version < 1 { f.take(2)? } else { f.take(4)? };
        let n = f.take(1)?;
        let entries_at = f.at;
        f.take(n as usize * if wide { 2 } else { 1 })?;
        let mut entries = file[entries_at..f.at].to_vec();
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refuses_what_is_not_isobmff() {
        assert!(add_metadata(Format::Avif, b"not a file".to_vec(), Some(b"<x/>"), None).is_err());
        let same = add_metadata(Format::Avif, b"x".to_vec(), None, None).unwrap();
        assert_eq!(same, b"x");
    }
}
